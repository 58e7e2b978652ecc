/**
 * Named partition shapes, turned into a "who cannot send to whom" predicate over node indices.
 * Shapes follow the usual fault-injection vocabulary (Jepsen's nemeses) plus the one this
 * product cares about most: the attacker island, where a revoked (or leaked) identity shares a
 * partition with chosen victims cut off from the Mothership.
 *
 * @example
 * const p = buildPartition('p1', { shape: 'isolate', nodes: [3] }, ctx)
 * p.blocks(3, 0) // true: nothing leaves node 3
 */
import type { RandomStream } from './random.js'

/** The named shapes a scenario can ask for. */
export const PARTITION_SHAPES = [
  'isolate', 'halves', 'random-halves', 'majority-minority', 'majorities-ring', 'bridge',
  'attacker-island', 'mothership-isolated', 'one-way', 'groups'
] as const
export type PartitionShape = typeof PARTITION_SHAPES[number]

/** A shape with its parameters, names already resolved to node indices. */
export interface PartitionSpec {
  shape: PartitionShape
  /** isolate: the nodes cut off (each from everyone, together as one group). */
  nodes?: number[]
  /** attacker-island: the attacker and the victims that share its island. */
  attacker?: number
  victims?: number[]
  /** majority-minority: share of nodes in the minority (0 < f < 0.5). */
  minority?: number
  /** one-way: frames from `from` to `to` are dropped; the other direction flows. */
  from?: number[]
  to?: number[]
  /** groups: explicit groups; unlisted nodes form one more group. */
  groups?: number[][]
}

/** What building a shape needs to know about the run. */
export interface PartitionContext {
  /** Every node index, in a stable order. */
  nodes: readonly number[]
  /** Index of the Mothership node (kept on the majority side where a shape has one). */
  mothership: number
  /** Draws for random shapes (the faults stream). */
  random: RandomStream
}

/** An active partition: `blocks(a, b)` is true when frames from a to b are dropped. */
export interface Partition {
  readonly id: string
  readonly shape: PartitionShape
  /** Group label per node for group-shaped partitions (for the report), else null. */
  readonly groupOf: ReadonlyMap<number, number> | null
  blocks: (from: number, to: number) => boolean
}

/** Builds the predicate of a shape. */
export function buildPartition (id: string, spec: PartitionSpec, ctx: PartitionContext): Partition {
  const byGroups = (groups: number[][]): Partition => {
    const groupOf = new Map<number, number>()
    groups.forEach((g, i) => { for (const n of g) groupOf.set(n, i) })
    const rest = groups.length
    const label = (n: number): number => groupOf.get(n) ?? rest
    for (const n of ctx.nodes) if (!groupOf.has(n)) groupOf.set(n, rest)
    return { id, shape: spec.shape, groupOf, blocks: (a, b) => label(a) !== label(b) }
  }
  const others = ctx.nodes.filter((n) => n !== ctx.mothership)
  switch (spec.shape) {
    case 'isolate':
      return byGroups([spec.nodes ?? []])
    case 'mothership-isolated':
      return byGroups([[ctx.mothership]])
    case 'halves': {
      const half = Math.ceil(ctx.nodes.length / 2)
      return byGroups([ctx.nodes.slice(0, half)])
    }
    case 'random-halves': {
      const shuffled = ctx.random.shuffle(ctx.nodes)
      return byGroups([shuffled.slice(0, Math.ceil(shuffled.length / 2))])
    }
    case 'majority-minority': {
      const f = spec.minority ?? 0.3
      const size = Math.max(1, Math.min(Math.floor(ctx.nodes.length * f), Math.ceil(ctx.nodes.length / 2) - 1))
      return byGroups([ctx.random.shuffle(others).slice(0, size)])
    }
    case 'bridge': {
      const shuffled = ctx.random.shuffle(others)
      const bridge = shuffled[0]
      const side = new Set([ctx.mothership, ...shuffled.slice(1, Math.ceil(ctx.nodes.length / 2))])
      const groupOf = new Map<number, number>()
      for (const n of ctx.nodes) groupOf.set(n, n === bridge ? 2 : side.has(n) ? 0 : 1)
      return {
        id,
        shape: spec.shape,
        groupOf,
        blocks: (a, b) => a !== bridge && b !== bridge && side.has(a) !== side.has(b)
      }
    }
    case 'majorities-ring': {
      // Each node sees a majority (itself and its nearest ceil(floor(n/2)/2) on each side of a shuffled
      // ring), but no two nodes see the same majority.
      const ring = ctx.random.shuffle(ctx.nodes)
      const pos = new Map<number, number>()
      ring.forEach((n, i) => pos.set(n, i))
      const n = ring.length
      const reach = Math.max(1, Math.ceil(Math.floor(n / 2) / 2))
      return {
        id,
        shape: spec.shape,
        groupOf: null,
        blocks: (a, b) => {
          const pa = pos.get(a); const pb = pos.get(b)
          if (pa === undefined || pb === undefined) return false
          const d = Math.abs(pa - pb)
          return Math.min(d, n - d) > reach
        }
      }
    }
    case 'attacker-island':
      return byGroups([[...(spec.attacker === undefined ? [] : [spec.attacker]), ...(spec.victims ?? [])]])
    case 'one-way': {
      const from = new Set(spec.from ?? [ctx.mothership])
      const to = new Set(spec.to ?? ctx.nodes.filter((x) => !from.has(x)))
      return { id, shape: spec.shape, groupOf: null, blocks: (a, b) => from.has(a) && to.has(b) }
    }
    case 'groups':
      return byGroups(spec.groups ?? [])
  }
}
