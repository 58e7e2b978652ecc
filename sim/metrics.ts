/**
 * Numbers a run reports: percentiles, the push-pull gossip bound, and the per-peer propagation
 * summary. A "gossip round" is one anti-entropy interval of the protocol: a peer that first holds
 * the revocation `t` ms after it was issued took ceil(t / interval) rounds (at least 1). Relay
 * hops (how many peers the entry passed through) are reported beside it, since live push relays
 * a new entry on first receipt, well inside one round whenever the peers are connected.
 *
 * @example
 * pushPullBound(1000)                    // log3(1000) + ln(ln(1000)) ≈ 8.22 rounds
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
 * Rounds within which push-pull gossip reaches all N peers with high probability
 * (Karp, Schindelhauer, Shenker, Vöcking 2000): log3 N + ln ln N.
 */
export function pushPullBound (n: number): number {
  if (n < 2) return 1
  return Math.log(n) / Math.log(3) + Math.log(Math.max(Math.log(n), 1))
}

/** Rounds for a delay of `ms` with an anti-entropy interval of `intervalMs` (at least 1). */
export function roundsFor (ms: number, intervalMs: number): number {
  return Math.max(1, Math.ceil(ms / intervalMs))
}

/** Rounds a number to three decimals (stable JSON). */
export function round3 (x: number): number {
  return Math.round(x * 1000) / 1000
}
