// Per-link base latency (`[link] latency_spread`, sim/link-model.ts): each pair of nodes has a
// factor of its own on every latency draw between them, drawn from the seed and the pair.
import { describe, expect, it } from 'vitest'
import type { KeyId } from '../../crdt/ids.js'
import { pairLatencyFactor, resolveLinkModel } from '../../sim/link-model.js'
import { SimNetwork, type SimLink } from '../../sim/network.js'
import { RandomStream } from '../../sim/random.js'
import { runScenario } from '../../sim/run.js'
import { parseScenario } from '../../sim/scenario.js'
import { Scheduler } from '../../sim/scheduler.js'
import { islandScenario } from './helpers.js'

// alice dials bob and carol over constant 10 ms links; how long one frame takes to each.
function oneWayUs (spread: number, seed: number): { bob: number, carol: number } {
  const sched = new Scheduler()
  const model = resolveLinkModel({ latency: { dist: 'constant', ms: 10 }, latencySpread: spread })
  const net = new SimNetwork(sched, model, new RandomStream(seed, 'network'), { seed })
  const at: Record<string, number> = {}
  const listen = (name: string) => (link: SimLink): void => { link.onFrame = () => { at[name] = sched.now } }
  const a = net.addEndpoint('alice' as KeyId, () => {})
  const links: Record<string, SimLink> = {}
  for (const name of ['bob', 'carol']) {
    const b = net.addEndpoint(name as KeyId, listen(name))
    net.dial(a, b, (l) => { if (l !== null) links[name] = l })
  }
  sched.runUntil(1_000_000)
  const t0 = sched.now
  for (const l of Object.values(links)) l.send(new Uint8Array(10))
  sched.runUntil(t0 + 10_000_000)
  return { bob: at.bob - t0, carol: at.carol - t0 }
}

describe('per-link base latency', () => {
  it('each pair of nodes has its own factor: the same both ways, the same every run, around 1', () => {
    expect(pairLatencyFactor(7, 2, 5, 0.5)).toBe(pairLatencyFactor(7, 5, 2, 0.5))
    expect(pairLatencyFactor(7, 2, 5, 0.5)).not.toBe(pairLatencyFactor(7, 2, 6, 0.5))
    expect(pairLatencyFactor(7, 2, 5, 0)).toBe(1)
    const logs = Array.from({ length: 400 }, (_, i) => Math.log(pairLatencyFactor(1, i, i + 1, 0.5)))
    const mean = logs.reduce((x, y) => x + y, 0) / logs.length
    const sd = Math.sqrt(logs.reduce((x, y) => x + (y - mean) ** 2, 0) / logs.length)
    expect(Math.abs(mean)).toBeLessThan(0.1)
    expect(sd).toBeGreaterThan(0.4)
    expect(sd).toBeLessThan(0.6)
  })

  it('frames on two links of one constant-latency model take different times, each its pair\'s factor', () => {
    const d = oneWayUs(0.5, 3)
    expect(d.bob).toBe(Math.round(10_000 * pairLatencyFactor(3, 0, 1, 0.5)))
    expect(d.carol).toBe(Math.round(10_000 * pairLatencyFactor(3, 0, 2, 0.5)))
    expect(Math.abs(d.bob - d.carol)).toBeGreaterThan(500)
  })

  it('without a spread every link is the model alone', () => {
    expect(oneWayUs(0, 3)).toEqual({ bob: 10_000, carol: 10_000 })
  })

  it('a run with a spread keeps every property', () => {
    const r = runScenario(islandScenario({ latency_spread: 0.7 }), { seed: 3 })
    expect(r.violations).toEqual([])
    expect(r.trace.hash()).not.toBe(runScenario(islandScenario(), { seed: 3 }).trace.hash())
  }, 120_000)

  it('latency_spread is read from [link], and a bad one is refused with its key and line', () => {
    const base = 'duration = "5m"\n[peers]\ncount = 3\n'
    expect(parseScenario(`${base}[link]\nlatency_spread = 0.5\n`).link.latencySpread).toBe(0.5)
    expect(parseScenario(base).link.latencySpread).toBe(0)
    expect(() => parseScenario(`${base}[link]\nlatency_spread = -0.1\n`, 'x.toml')).toThrow(/x\.toml:5: link\.latency_spread/)
    expect(() => parseScenario(`${base}[link]\nlatency_spread = "wide"\n`, 'x.toml')).toThrow(/x\.toml:5: link\.latency_spread/)
    expect(() => parseScenario(`${base}[link]\nlatency_spread = 5\n`, 'x.toml')).toThrow(/link\.latency_spread/)
  })
})
