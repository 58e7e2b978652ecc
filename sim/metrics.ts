/**
 * Numbers a run reports: percentiles, and the graph eccentricity a revocation's relay hops are
 * measured against. A revocation is pushed and relayed at once, so its spread is judged in hops
 * (against how far the farthest honest peer is from the Mothership) and in time (against the
 * median link latency), not in anti-entropy rounds: counting a round as one anti-entropy period
 * made any spread under it "one round" by construction (issue 16).
 *
 * @example
 * eccentricity([[1], [0, 2], [1]], 0, new Set([0, 1, 2]))  // 2
 * percentiles([3, 1, 2])                 // { p50: 2, p90: 3, p99: 3, max: 3, n: 3 }
 */

/** Summary of a sample: nearest-rank percentiles. */
export interface Percentiles { n: number, p50: number, p90: number, p99: number, max: number, mean: number }

/** Nearest-rank percentiles of `values` (all zeros when empty). */
export function percentiles (values: readonly number[]): Percentiles {
  if (values.length === 0) return { n: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 }
  const s = [...values].sort((a, b) => a - b)
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]
  const mean = s.reduce((a, b) => a + b, 0) / s.length
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1], mean: round3(mean) }
}

/**
 * The eccentricity of `from` in an undirected graph restricted to `nodes`: the most hops any node
 * of `nodes` reachable from it is away (0 when none is). `edges[i]` lists i's neighbours.
 */
export function eccentricity (edges: readonly (readonly number[])[], from: number, nodes: ReadonlySet<number>): number {
  const dist = new Map<number, number>([[from, 0]])
  const queue = [from]
  let max = 0
  for (let at = 0; at < queue.length; at++) {
    const i = queue[at]
    const d = dist.get(i) as number
    max = Math.max(max, d)
    for (const j of edges[i] ?? []) {
      if (dist.has(j) || !nodes.has(j)) continue
      dist.set(j, d + 1)
      queue.push(j)
    }
  }
  return max
}

/** Rounds a number to three decimals (stable JSON). */
export function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}
