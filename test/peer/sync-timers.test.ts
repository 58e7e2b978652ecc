/**
 * The peer core's anti-entropy and keep-alive loops (node/peer/sync-timers.ts), which the daemon
 * runs on Node's timers (`[sync] anti_entropy_interval`, a quarter of `idle_timeout`) and the
 * simulator on its event queue (`[protocol] anti_entropy`, no keep-alive).
 */
import { describe, expect, it } from 'vitest'
import { peerHarness } from './harness.js'

describe('peer core: anti-entropy and keep-alive', () => {
  it('ticks first at a random point of the first interval, then every interval; keeps alive every period', () => {
    const h = peerHarness(['self'], { random: () => 0.25, init: { antiEntropyMs: 10_000, keepAliveMs: 30_000 } })
    h.peer.start()
    h.advance(60_000)
    expect(h.engineWork).toEqual([
      'tick 2500', 'tick 12500', 'tick 22500', 'keepAlive 30000',
      'tick 32500', 'tick 42500', 'tick 52500', 'keepAlive 60000'
    ])
    h.peer.stop()
  })

  it('stop ends both loops; a start after it draws a new phase', () => {
    const draws = [0.9, 0.1]
    const h = peerHarness(['self'], { random: () => draws.shift() ?? 0, init: { antiEntropyMs: 10_000, keepAliveMs: 30_000 } })
    h.peer.start()
    h.advance(20_000)
    h.peer.stop()
    h.advance(60_000)
    expect(h.engineWork).toEqual(['tick 9000', 'tick 19000'])
    h.peer.start()
    h.advance(25_000)
    expect(h.engineWork.slice(2)).toEqual(['tick 81000', 'tick 91000', 'tick 101000'])
    h.peer.stop()
  })

  it('keeps nothing alive without a keep-alive period (links that never idle out)', () => {
    const h = peerHarness(['self'], { random: () => 0, init: { antiEntropyMs: 20_000, keepAliveMs: null } })
    h.peer.start()
    h.advance(100_000)
    expect(h.engineWork).toEqual(['tick 0', 'tick 20000', 'tick 40000', 'tick 60000', 'tick 80000', 'tick 100000'])
    h.peer.stop()
  })
})
