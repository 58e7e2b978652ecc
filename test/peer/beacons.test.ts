/**
 * The peer core's beacon schedule (node/peer/beacons.ts): what the daemon's Mothership and the
 * simulator's both run: a beacon at start, every interval, and at once when the chain grows here.
 */
import { describe, expect, it } from 'vitest'
import { peerHarness } from './harness.js'

describe('peer core: the Mothership\'s beacons', () => {
  it('signs one at start and one every interval, naming the head, at the node\'s clock', () => {
    const h = peerHarness(['alice'], { isMothership: true, init: { beaconIntervalMs: 30_000 } })
    const t0 = h.clock.now
    h.peer.start()
    h.advance(95_000)
    expect(h.beacons.map((b) => b.ts - t0)).toEqual([0, 30_000, 60_000, 90_000])
    const head = h.chain.head
    const team = h.chain.team
    expect(h.beacons.every((b) => b.headSeq === head.seq && b.headHash === head.hash && b.team === team)).toBe(true)
    h.peer.stop()
    h.advance(60_000)
    expect(h.beacons).toHaveLength(4)
  })

  it('vouches at once for an entry appended here, in the same call that pushes it', () => {
    const h = peerHarness(['alice'], { isMothership: true })
    h.peer.start()
    h.advance(10_000)
    const seq = h.chain.head.seq + 1
    h.appendLocally()
    expect(h.calls).toEqual([`chainAppended ${seq} with a beacon`])
    expect(h.beacons.map((b) => b.headSeq)).toEqual([seq - 1, seq])
    h.peer.stop()
  })

  it('signs nothing on a node without the team key', () => {
    const h = peerHarness(['alice'])
    h.peer.start()
    h.advance(120_000)
    h.appendLocally()
    expect(h.beacons).toEqual([])
    h.peer.stop()
  })
})
