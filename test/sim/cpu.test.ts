// The CPU model (scenario `[node]`, sim/cpu-model.ts): a node works through its inbound frames
// one at a time, so a burst reaches its protocol spread over the burst's cost, a close notice
// waits behind the frames sent before it, and without a model nothing changes at all.
import { describe, expect, it } from 'vitest'
import type { KeyId } from '../../crdt/ids.js'
import { cpuCostUs, NO_CPU, type CpuModel } from '../../sim/cpu-model.js'
import { resolveLinkModel } from '../../sim/link-model.js'
import { SimNetwork, type SimLink } from '../../sim/network.js'
import { RandomStream } from '../../sim/random.js'
import { runScenario } from '../../sim/run.js'
import { parseScenario } from '../../sim/scenario.js'
import { Scheduler } from '../../sim/scheduler.js'
import { islandScenario } from './helpers.js'

// alice dials bob over a 10 ms link; bob's protocol records when each frame reaches it.
interface Pair {
  sched: Scheduler
  net: SimNetwork
  alice: () => SimLink
  got: Array<{ us: number, len: number }>
  closedAt: number[]
}

function pair (cpu: CpuModel): Pair {
  const sched = new Scheduler()
  const net = new SimNetwork(sched, resolveLinkModel({ latency: { dist: 'constant', ms: 10 } }), new RandomStream(1, 'network'), { cpu })
  const got: Array<{ us: number, len: number }> = []
  const closedAt: number[] = []
  const a = net.addEndpoint('alice' as KeyId, () => {})
  const b = net.addEndpoint('bob' as KeyId, (link) => {
    link.onFrame = (f) => { got.push({ us: sched.now, len: f.length }) }
    link.onClose = () => { closedAt.push(sched.now) }
  })
  let out: SimLink | null = null
  net.dial(a, b, (l) => { out = l })
  sched.runUntil(1_000_000)
  if (out === null) throw new Error('the dial failed')
  return { sched, net, alice: () => out as SimLink, got, closedAt }
}

describe('CPU cost per message', () => {
  const cpu = { perMessageUs: 200, perKibUs: 40 }

  it('a burst of N frames to one node reaches its protocol one cost apart, in order', () => {
    const { sched, net, alice, got } = pair(cpu)
    const t0 = sched.now
    for (let i = 0; i < 10; i++) alice().send(new Uint8Array(100 + i))
    sched.runUntil(t0 + 1_000_000)
    const arrival = t0 + 10_000
    expect(got.map((g) => g.len)).toEqual(Array.from({ length: 10 }, (_, i) => 100 + i))
    let done = arrival
    for (const g of got) { done += cpuCostUs(cpu, g.len); expect(g.us).toBe(done) }
    // 10 frames of ~100 bytes at 200 µs + 40 µs/KiB: the last one ~2 ms after the wire delivered it.
    expect(got[9].us - arrival).toBeGreaterThan(10 * 200)
    const q = net.cpuOf(1)
    expect(q.waitsUs).toEqual(got.map((g, i) => i === 0 ? 0 : got[i - 1].us - arrival))
    expect(q.busyUs).toBe(done - arrival)
  })

  it('the cost per KiB counts the frame\'s size', () => {
    const { sched, alice, got } = pair({ perMessageUs: 0, perKibUs: 100 })
    const t0 = sched.now
    alice().send(new Uint8Array(4096))
    sched.runUntil(t0 + 1_000_000)
    expect(got[0].us - (t0 + 10_000)).toBe(400)
  })

  it('a close notice waits behind the frames sent before it (none is lost to it)', () => {
    const { sched, alice, got, closedAt } = pair(cpu)
    const t0 = sched.now
    for (let i = 0; i < 5; i++) alice().send(new Uint8Array(50))
    alice().close()
    sched.runUntil(t0 + 1_000_000)
    expect(got.length).toBe(5)
    expect(closedAt.length).toBe(1)
    expect(closedAt[0]).toBeGreaterThanOrEqual(got[4].us)
  })

  it('without a model every frame of a burst reaches the protocol when the wire delivers it', () => {
    const { sched, net, alice, got } = pair(NO_CPU)
    const t0 = sched.now
    for (let i = 0; i < 10; i++) alice().send(new Uint8Array(100))
    sched.runUntil(t0 + 1_000_000)
    expect(got.map((g) => g.us)).toEqual(Array(10).fill(t0 + 10_000))
    expect(net.cpuOf(1).waitsUs).toEqual([])
  })

  it('a whole run under load: still every property, frames queued, and the same trace twice', () => {
    const s = { ...islandScenario(), node: { perMessageUs: 2_000, perKibUs: 200 } }
    const r = runScenario(s, { seed: 3 })
    expect(r.violations).toEqual([])
    const c = r.metrics.cpu
    expect(c?.perMessageUs).toBe(2_000)
    expect(c?.queueDelayMs.n).toBeGreaterThan(100)
    expect(c?.queueDelayMs.max).toBeGreaterThan(2)
    expect(c?.busiest[0].busyFraction).toBeGreaterThan(0)
    expect(c?.busiest.length).toBe(5)
    expect(runScenario(s, { seed: 3 }).trace.hash()).toBe(r.trace.hash())
  }, 120_000)

  it('off (the default, or 0 written out) is the same run as before, byte for byte', () => {
    const s = islandScenario()
    const off = runScenario(s, { seed: 3 })
    expect(off.metrics.cpu).toBeNull()
    const zero = runScenario({ ...s, node: { perMessageUs: 0, perKibUs: 0 } }, { seed: 3 })
    expect(zero.trace.hash()).toBe(off.trace.hash())
  }, 120_000)
})

describe('[node] in scenario files', () => {
  const base = 'duration = "5m"\n[peers]\ncount = 3\n'

  it('reads costs in µs, ms, s or a number of seconds', () => {
    expect(parseScenario(`${base}[node]\ncpu_per_message = "50us"\ncpu_per_kib = "0.02ms"\n`).node).toEqual({ perMessageUs: 50, perKibUs: 20 })
    expect(parseScenario(`${base}[node]\ncpu_per_message = 0.0002\n`).node).toEqual({ perMessageUs: 200, perKibUs: 0 })
    expect(parseScenario(base).node).toEqual(NO_CPU)
  })

  it('refuses a negative cost, a unit that is no time, a cost over a second, and unknown keys, naming key and line', () => {
    expect(() => parseScenario(`${base}[node]\ncpu_per_message = "-5us"\n`, 'x.toml')).toThrow(/x\.toml:5: node\.cpu_per_message: expected a cost from 0 to 1s/)
    expect(() => parseScenario(`${base}[node]\ncpu_per_message = -1\n`, 'x.toml')).toThrow(/x\.toml:5: node\.cpu_per_message/)
    expect(() => parseScenario(`${base}[node]\ncpu_per_kib = "5 parsecs"\n`, 'x.toml')).toThrow(/x\.toml:5: node\.cpu_per_kib: expected a cost/)
    expect(() => parseScenario(`${base}[node]\ncpu_per_kib = "2s"\n`, 'x.toml')).toThrow(/node\.cpu_per_kib: expected a cost from 0 to 1s/)
    expect(() => parseScenario(`${base}[node]\ncpu = "5us"\n`, 'x.toml')).toThrow(/node/)
  })
})
