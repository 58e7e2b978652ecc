/**
 * The peer core's dialling (node/peer/dialer.ts, PeerCore.isBarred / sessionClosed): what the
 * daemon's reconnect loop and the simulator's nodes both run, on a hand-moved clock.
 */
import { describe, expect, it } from 'vitest'
import { DIAL_LOOP_MS } from '../../node/peer/index.js'
import { peerHarness, type PeerHarness } from './harness.js'

const addr = (h: PeerHarness, name: string): string => `addr/${h.id(name)}`

describe('peer core: dialling', () => {
  it('dials a known peer at once and not again while its session is open', () => {
    const h = peerHarness(['alice'])
    h.peer.dialer.add(addr(h, 'alice'))
    h.peer.start()
    expect(h.dials).toEqual([addr(h, 'alice')])
    h.answer(addr(h, 'alice'), null)
    h.advance(10_000)
    expect(h.dials).toHaveLength(1)
    h.peer.stop()
  })

  it('does not dial an address again while a dial of it is under way', () => {
    const h = peerHarness(['alice'])
    h.peer.dialer.add(addr(h, 'alice'))
    h.peer.start()
    h.advance(10_000)
    expect(h.dials).toHaveLength(1)
    h.peer.stop()
  })

  it('backs off 1 s doubling to 30 s after failures, on the 500 ms loop', () => {
    const h = peerHarness(['alice'])
    const a = addr(h, 'alice')
    h.peer.dialer.add(a)
    h.peer.start()
    const times: number[] = []
    const t0 = h.clock.now
    for (let i = 0; i < 8; i++) {
      times.push(h.clock.now - t0)
      h.answer(a, new Error('unreachable'))
      const n = h.dials.length
      while (h.dials.length === n) h.advance(DIAL_LOOP_MS)
    }
    // Failed at 0: due at 1 s; at 1 s: due at 3 s; 3 -> 7; 7 -> 15; 15 -> 31; then 30 s apart.
    expect(times).toEqual([0, 1000, 3000, 7000, 15_000, 31_000, 61_000, 91_000])
    expect(h.peer.dialer.list()[0].lastError).toBe('unreachable')
    h.peer.stop()
  })

  it('redials at the next loop once a session closes, whatever the backoff', () => {
    const h = peerHarness(['alice'])
    const a = addr(h, 'alice')
    h.peer.dialer.add(a)
    h.peer.start()
    for (let i = 0; i < 5; i++) { h.answer(a, new Error('unreachable')); h.advance(20_000) }
    h.answer(a, null)
    const n = h.dials.length
    h.connected.clear()
    h.peer.sessionClosed()
    h.advance(DIAL_LOOP_MS)
    expect(h.dials.length).toBe(n + 1)
    h.peer.stop()
  })

  it('never dials a revoked key, nor anyone once this node is revoked; forgets a revoked key', () => {
    const h = peerHarness(['alice', 'bob', 'mallory', 'self'])
    for (const p of ['alice', 'bob', 'mallory']) h.peer.dialer.add(addr(h, p))
    h.revoke('mallory')
    h.peer.revoked([h.id('mallory')])
    h.peer.start()
    expect(h.dials).toEqual([addr(h, 'alice'), addr(h, 'bob')])
    expect(h.peer.dialer.list().map((t) => t.addr)).toEqual([addr(h, 'alice'), addr(h, 'bob')])
    h.answer(addr(h, 'alice'), new Error('unreachable'))
    h.answer(addr(h, 'bob'), new Error('unreachable'))
    h.revoke('self')
    h.advance(60_000)
    expect(h.dials).toHaveLength(2)
    expect(h.peer.isBarred(h.id('alice'))).toBe(true)
    h.peer.stop()
  })

  it('never dials its own address; stop ends the loop', () => {
    const h = peerHarness(['alice'])
    h.peer.dialer.add(addr(h, 'self'))
    h.peer.dialer.add(addr(h, 'alice'))
    h.peer.start()
    h.peer.stop()
    h.answer(addr(h, 'alice'), new Error('unreachable'))
    h.advance(60_000)
    expect(h.dials).toEqual([addr(h, 'alice')])
  })
})
