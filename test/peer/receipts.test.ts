/**
 * The peer core's receipt schedule (node/peer/receipts.ts), which the daemon runs on Node's
 * timers and the simulator on its event queue: a receipt every interval and 250 ms after a
 * change, only when it says something new, never while revoked, unadmitted or locked.
 */
import { describe, expect, it } from 'vitest'
import { keyIdOf } from '../../crdt/ids.js'
import { keyNamed } from '../sync/engine-fixture.js'
import { peerHarness } from './harness.js'

const alice = keyIdOf(keyNamed('alice').publicKey)

describe('peer core: receipts', () => {
  it('are due every interval and written only when they say something new', () => {
    const h = peerHarness(['self', 'alice'], { init: { receiptIntervalMs: 60_000 } })
    const t0 = h.clock.now
    h.peer.start()
    h.hold('alice', 1)
    h.advance(59_999)
    expect(h.receipts).toEqual([])
    h.advance(1)
    expect(h.receipts).toEqual([{ at: t0 + 60_000, data: { auth: h.chain.head, heads: { [alice]: 1 } } }])
    // Nothing changed: the next interval writes nothing, although the node now holds its own receipt.
    h.advance(60_000)
    expect(h.receipts).toHaveLength(1)
    // A record nobody announced is still covered by the next periodic one.
    h.hold('alice', 2)
    h.advance(60_000)
    expect(h.receipts.map((r) => [r.at - t0, r.data])).toEqual([
      [60_000, { auth: h.chain.head, heads: { [alice]: 1 } }],
      [180_000, { auth: h.chain.head, heads: { [alice]: 2 } }]
    ])
    h.peer.stop()
  })

  it('follow a change by 250 ms; changes in between share it; arriving receipts make none', () => {
    const h = peerHarness(['self', 'alice'])
    h.peer.start()
    const t = h.clock.now
    h.hold('alice', 1)
    h.peer.holdingsChanged()
    h.advance(100)
    h.hold('alice', 2)
    h.peer.holdingsChanged()
    h.advance(149)
    expect(h.receipts).toEqual([])
    h.advance(1)
    expect(h.receipts).toEqual([{ at: t + 250, data: { auth: h.chain.head, heads: { [alice]: 2 } } }])
    // The second change joined the first: no second receipt 250 ms after it, even with news.
    h.advance(50)
    h.hold('alice', 3)
    h.advance(1_000)
    expect(h.receipts).toHaveLength(1)
    h.peer.holdingsChanged()
    h.advance(250)
    expect(h.receipts.map((r) => r.data)).toEqual([
      { auth: h.chain.head, heads: { [alice]: 2 } },
      { auth: h.chain.head, heads: { [alice]: 3 } }
    ])
    // Receipts are left out of what a receipt covers, or each would make one on every peer.
    h.hold('alice', 4, 'receipt')
    h.peer.holdingsChanged()
    h.advance(1_000)
    expect(h.receipts).toHaveLength(2)
    h.peer.stop()
  })

  it('are not written during a lockdown; the unlock, appended here, brings one naming it', () => {
    const h = peerHarness(['self', 'alice'], { isMothership: true })
    h.peer.start()
    h.hold('alice', 1)
    h.appendLocally('lockdown')
    h.hold('alice', 2)
    h.peer.holdingsChanged()
    h.advance(120_000)
    expect(h.receipts).toEqual([])
    const t = h.clock.now
    h.appendLocally('unlock')
    h.advance(250)
    expect(h.receipts).toEqual([{ at: t + 250, data: { auth: h.chain.head, heads: { [alice]: 2 } } }])
    h.peer.stop()
  })

  it('are never written by a revoked node, a node that is no member, or one without a team', () => {
    const revoked = peerHarness(['self', 'alice'])
    revoked.revoke('self')
    const stranger = peerHarness(['alice'])
    const teamless = peerHarness(['self'], { noTeam: true })
    for (const h of [revoked, stranger, teamless]) {
      h.peer.start()
      h.hold('alice', 1)
      h.peer.holdingsChanged()
      h.advance(180_000)
      expect(h.receipts).toEqual([])
      h.peer.stop()
    }
  })

  it('stop drops a due receipt and the loop; none are written with no interval', () => {
    const h = peerHarness(['self', 'alice'])
    h.peer.start()
    h.hold('alice', 1)
    h.peer.holdingsChanged()
    h.peer.stop()
    h.advance(180_000)
    expect(h.receipts).toEqual([])
    const off = peerHarness(['self', 'alice'], { init: { receiptIntervalMs: null } })
    off.peer.start()
    off.hold('alice', 1)
    off.peer.holdingsChanged()
    off.advance(180_000)
    expect(off.receipts).toEqual([])
    off.peer.stop()
  })

  it('carry the workspace backlog read before writing (the daemon), and report a failed write', async () => {
    let backlog = { apply: 'manual' as const, unapplied: ['r2', 'r1'], more: 0 }
    const h = peerHarness(['self', 'alice'], { workspace: async () => backlog })
    h.peer.start()
    h.hold('alice', 1)
    h.peer.holdingsChanged()
    h.advance(250)
    await Promise.resolve()
    expect(h.receipts.map((r) => r.data)).toEqual([
      { auth: h.chain.head, heads: { [alice]: 1 }, ws: { apply: 'manual', unapplied: ['r1', 'r2'], more: 0 } }
    ])
    // The workspace applied them: a new receipt, though the records held are the same.
    backlog = { apply: 'manual', unapplied: [], more: 0 }
    h.failWrites(true)
    h.peer.holdingsChanged()
    h.advance(250)
    await Promise.resolve()
    expect(h.receipts).toHaveLength(1)
    expect(h.receiptFailures.map((e) => (e as Error).message)).toEqual(['refused by the write path'])
    h.peer.stop()
  })
})
