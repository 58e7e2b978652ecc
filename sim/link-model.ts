/**
 * What a simulated link does to frames: a latency distribution, loss, duplication, reordering,
 * a bandwidth cap and corruption. Every draw comes from the network stream, so a link model plus
 * a seed fixes every delivery time. With a latency spread, each pair of nodes also has a factor
 * of its own on every latency draw between them (real paths differ), drawn from the seed and the
 * pair alone, so it does not depend on when the pair first talks.
 *
 * Links carry the protocol's contract (node/sync/link.ts: ordered, reliable, or closed), so by
 * default (`delivery = "reliable"`) the faults are those a reliable transport turns them into:
 * a lost frame is retransmitted after `rto` (it arrives later, never not at all), a duplicate is
 * sent twice (bytes counted) and discarded by the receiving transport, a reordered frame is held
 * back and delays the frames behind it (head-of-line blocking). With `delivery = "raw"`
 * duplicates and reorders reach the protocol itself: a stress mode beyond the Link contract.
 * Corruption always reaches the protocol (a flipped byte in the frame): it must fail decoding or
 * signature verification, never crash, never store anything.
 *
 * @example
 * const m = resolveLinkModel({ latency: { dist: 'constant', ms: 20 } })
 * sampleLatencyUs(m.latency, stream) // 20000
 * pairLatencyFactor(42, 3, 7, 0.5)    // e.g. 1.31: this pair's links are 31% slower
 */
import { RandomStream } from './random.js'

/** A one-way latency distribution, in milliseconds. */
export type LatencyModel =
  | { dist: 'constant', ms: number }
  | { dist: 'uniform', min: number, max: number }
  | { dist: 'normal', mean: number, stddev: number }
  | { dist: 'lognormal', median: number, sigma: number }
  | { dist: 'exponential', mean: number }

/** The fault and capacity model of every link (scenario `[link]`). */
export interface LinkModel {
  latency: LatencyModel
  /** Sigma of each node pair's lognormal factor on its latency draws; 0: every pair alike. */
  latencySpread: number
  /** Probability a frame is lost on the wire (then retransmitted after `rtoMs`). */
  loss: number
  /** Probability a frame is duplicated. */
  duplicate: number
  /** Probability a frame is held back by up to `reorderMs`. */
  reorder: number
  reorderMs: number
  /** Probability one byte of a frame is flipped. */
  corrupt: number
  /** Bytes per second each direction can carry; null: unlimited. */
  bandwidth: number | null
  /** Retransmission timeout after a loss. */
  rtoMs: number
  /** How long a broken connection (a frame dropped by a partition) takes to be noticed. */
  detectMs: number
  /** How long a dial to an unreachable peer takes to fail. */
  dialTimeoutMs: number
  delivery: 'reliable' | 'raw'
}

/** Defaults: a 30 ms median LAN/WAN mix, no faults. */
export const DEFAULT_LINK_MODEL: LinkModel = {
  latency: { dist: 'lognormal', median: 30, sigma: 0.4 },
  latencySpread: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderMs: 50,
  corrupt: 0,
  bandwidth: null,
  rtoMs: 200,
  detectMs: 5_000,
  dialTimeoutMs: 3_000,
  delivery: 'reliable'
}

/** A full link model from a partial one. */
export function resolveLinkModel (partial: Partial<LinkModel>): LinkModel {
  return { ...DEFAULT_LINK_MODEL, ...partial }
}

/** One latency draw in whole microseconds (at least 1). */
export function sampleLatencyUs (m: LatencyModel, r: RandomStream): number {
  let ms: number
  switch (m.dist) {
    case 'constant': ms = m.ms; break
    case 'uniform': ms = m.min + r.float() * (m.max - m.min); break
    case 'normal': ms = m.mean + r.normal() * m.stddev; break
    case 'lognormal': ms = m.median * Math.exp(r.normal() * m.sigma); break
    case 'exponential': ms = r.exponential(m.mean); break
  }
  return Math.max(1, Math.round(ms * 1000))
}

/** The median of a latency model in ms (for reports). */
export function medianLatencyMs (m: LatencyModel): number {
  switch (m.dist) {
    case 'constant': return m.ms
    case 'uniform': return (m.min + m.max) / 2
    case 'normal': return m.mean
    case 'lognormal': return m.median
    case 'exponential': return m.mean * Math.LN2
  }
}

/**
 * The factor on every latency draw between nodes `a` and `b` (either order): lognormal with
 * median 1 and sigma `spread`, from its own stream of the seed and the pair; 1 when spread is 0.
 */
export function pairLatencyFactor (seed: number, a: number, b: number, spread: number): number {
  if (spread === 0) return 1
  const pair = a < b ? `${a}-${b}` : `${b}-${a}`
  return Math.exp(new RandomStream(seed, `link-spread/${pair}`).normal() * spread)
}
