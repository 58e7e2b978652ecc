/**
 * What the peer core does on a sync engine's events (PeerCore.engineEvents) and on records
 * written here (PeerCore.recordsWritten), wired the same way by the daemon and the simulator:
 * the owner's handler first, then a receipt due, the dialer woken, revoked keys hung up.
 */
import { describe, expect, it } from 'vitest'
import { keyIdOf } from '../../crdt/ids.js'
import { DIAL_LOOP_MS } from '../../node/peer/index.js'
import { keyNamed } from '../sync/engine-fixture.js'
import { peerHarness } from './harness.js'

const alice = keyIdOf(keyNamed('alice').publicKey)

describe('peer core: engine events', () => {
  it("runs the owner's handler, then makes a receipt due when records or entries arrive", () => {
    const h = peerHarness(['self', 'alice'])
    h.peer.start()
    const heard: string[] = []
    const events = h.peer.engineEvents({ recordsAdded: (ids) => heard.push(`records ${ids.length}`), chainApplied: (from) => heard.push(`chain ${from}`) })
    h.hold('alice', 1)
    events.recordsAdded?.([], alice)
    expect(heard).toEqual(['records 0'])
    h.advance(250)
    expect(h.receipts.map((r) => r.data)).toEqual([{ auth: h.chain.head, heads: { [alice]: 1 } }])
    h.hold('alice', 2)
    events.chainApplied?.(1, alice)
    h.advance(250)
    expect(heard).toEqual(['records 0', 'chain 1'])
    expect(h.receipts).toHaveLength(2)
    h.peer.stop()
  })

  it('hangs up a revoked key and wakes the dialer when a session closes', () => {
    const h = peerHarness(['self', 'alice', 'mallory'])
    const addr = `addr/${h.id('alice')}`
    h.peer.dialer.add(addr)
    h.peer.start()
    const events = h.peer.engineEvents({})
    h.revoke('mallory')
    events.revoked?.([h.id('mallory')])
    expect(h.calls).toEqual(['hangUp mallory E_REVOKED', 'forget mallory'])
    h.answer(addr, new Error('unreachable'))
    h.advance(DIAL_LOOP_MS * 4)
    const dials = h.dials.length
    h.answer(addr, null)
    h.connected.clear()
    events.sessionClosed?.(h.id('alice'))
    h.advance(DIAL_LOOP_MS)
    expect(h.dials).toHaveLength(dials + 1)
    h.peer.stop()
  })

  it('pushes records written here to the engines at once and makes a receipt due', () => {
    const h = peerHarness(['self'])
    h.peer.start()
    h.peer.recordsWritten()
    expect(h.calls).toEqual(['recordsAdded'])
    h.advance(250)
    expect(h.receipts).toHaveLength(1)
    h.peer.stop()
  })
})
