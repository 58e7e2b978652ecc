import { describe, expect, it } from 'vitest'
import { buildPartition, PARTITION_SHAPES, type PartitionSpec } from '../../sim/partitions.js'
import { RandomStream } from '../../sim/random.js'

const nodes = Array.from({ length: 10 }, (_, i) => i)
const ctx = () => ({ nodes, mothership: 0, random: new RandomStream(7, 'faults') })
const reach = (spec: PartitionSpec) => {
  const p = buildPartition('p', spec, ctx())
  return (a: number, b: number) => !p.blocks(a, b) && !p.blocks(b, a)
}
const component = (
  ok: (a: number, b: number) => boolean,
  from: number
) => nodes.filter((n) => n === from || ok(from, n))

describe('partition shapes', () => {
  it('isolate cuts the listed nodes off from everyone else', () => {
    const ok = reach({ shape: 'isolate', nodes: [3] })
    expect(component(ok, 3)).toEqual([3])
    expect(component(ok, 0)).toEqual(nodes.filter((n) => n !== 3))
  })

  it('halves and random halves split into two sides that cannot talk', () => {
    const ok = reach({ shape: 'halves' })
    expect(component(ok, 0)).toEqual([0, 1, 2, 3, 4])
    const r = reach({ shape: 'random-halves' })
    const side = component(r, 0)
    expect(side.length).toBe(5)
    for (const a of side) for (const b of nodes.filter((n) => !side.includes(n))) expect(r(a, b)).toBe(false)
  })

  it('majority-minority keeps the Mothership on the majority side', () => {
    const ok = reach({ shape: 'majority-minority', minority: 0.3 })
    expect(component(ok, 0).length).toBe(7)
  })

  it('majorities ring: every node sees a majority, and no two see the same one', () => {
    const ok = reach({ shape: 'majorities-ring' })
    const views = nodes.map((n) => component(ok, n))
    for (const v of views) expect(v.length).toBeGreaterThan(nodes.length / 2)
    expect(new Set(views.map((v) => v.join(','))).size).toBe(nodes.length)
  })

  it('bridge: one node talks to both sides, the sides do not talk to each other', () => {
    const ok = reach({ shape: 'bridge' })
    const bridge = nodes.find((n) => component(ok, n).length === nodes.length)
    expect(bridge).toBeDefined()
    const sideA = component(ok, 0).filter((n) => n !== bridge)
    const sideB = nodes.filter((n) => !sideA.includes(n) && n !== bridge)
    expect(sideB.length).toBeGreaterThan(0)
    for (const a of sideA) for (const b of sideB) expect(ok(a, b)).toBe(false)
  })

  it('attacker island: the attacker and its victims, cut off from the Mothership and the rest', () => {
    const ok = reach({ shape: 'attacker-island', attacker: 9, victims: [2, 4] })
    expect(component(ok, 9)).toEqual([2, 4, 9])
    expect(ok(2, 0)).toBe(false)
    expect(component(ok, 0)).toEqual([0, 1, 3, 5, 6, 7, 8])
  })

  it('mothership isolated', () => {
    const ok = reach({ shape: 'mothership-isolated' })
    expect(component(ok, 0)).toEqual([0])
    expect(component(ok, 1).length).toBe(9)
  })

  it('one-way drops only the given direction', () => {
    const p = buildPartition('p', { shape: 'one-way', from: [0], to: [1, 2] }, ctx())
    expect(p.blocks(0, 1)).toBe(true)
    expect(p.blocks(1, 0)).toBe(false)
    expect(p.blocks(0, 3)).toBe(false)
  })

  it('every named shape builds', () => {
    for (const shape of PARTITION_SHAPES) expect(() => buildPartition('p', { shape, nodes: [1], attacker: 9, victims: [2] }, ctx())).not.toThrow()
  })
})
