import { describe, expect, it } from 'vitest'
import { RandomStream, seededBytes } from '../../sim/random.js'
import { Scheduler } from '../../sim/scheduler.js'
import { eccentricity, percentiles } from '../../sim/metrics.js'

describe('scheduler', () => {
  it('runs events by time, and same-time events in the order they were scheduled', () => {
    const s = new Scheduler()
    const seen: string[] = []
    s.at(20, () => seen.push('c'))
    s.at(10, () => seen.push('a'))
    s.at(10, () => { seen.push('b'); s.after(0, () => seen.push('b2')) })
    const t = s.at(15, () => seen.push('cancelled'))
    t.cancel()
    s.runUntil(100)
    expect(seen).toEqual(['a', 'b', 'b2', 'c'])
    expect(s.now).toBe(100)
  })

  it('stops early when asked', () => {
    const s = new Scheduler()
    let n = 0
    for (let i = 1; i <= 10; i++) s.at(i, () => { n++ })
    s.runUntil(100, () => n === 3)
    expect(n).toBe(3)
    expect(s.now).toBe(3)
  })
})

describe('random streams', () => {
  it('are reproducible per (seed, name) and independent across names', () => {
    const a = new RandomStream(1, 'network'); const b = new RandomStream(1, 'network'); const c = new RandomStream(1, 'faults')
    const xs = Array.from({ length: 5 }, () => a.float())
    expect(Array.from({ length: 5 }, () => b.float())).toEqual(xs)
    expect(Array.from({ length: 5 }, () => c.float())).not.toEqual(xs)
    expect(seededBytes(1, 'key/alice')).toEqual(seededBytes(1, 'key/alice'))
    expect(seededBytes(1, 'key/alice')).not.toEqual(seededBytes(2, 'key/alice'))
  })
})

describe('metrics', () => {
  it('eccentricity and percentiles', () => {
    // A path 0-1-2-3 with 3 left out of the graph, and 4 unreachable.
    const edges = [[1], [0, 2], [1, 3], [2], []]
    expect(eccentricity(edges, 0, new Set([0, 1, 2, 4]))).toBe(2)
    expect(eccentricity(edges, 0, new Set([0, 1, 2, 3]))).toBe(3)
    expect(eccentricity(edges, 4, new Set([0, 1, 2, 3, 4]))).toBe(0)
    expect(percentiles([3, 1, 2, 10])).toMatchObject({ n: 4, p50: 2, max: 10 })
  })
})
