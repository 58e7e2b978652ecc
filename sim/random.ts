/**
 * Seeded random streams. One run seed is split into independent named streams (network,
 * faults, workload, one per node, ...): each stream's state is derived from SHA-256 of the seed
 * and the stream's name, so adding draws to one stream never shifts another, and the same seed
 * gives the same run byte for byte.
 *
 * @example
 * const net = new RandomStream(42, 'network')
 * net.float()        // uniform in [0, 1)
 * net.int(1, 6)      // a die roll
 * net.bytes(32)      // a key seed
 */
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus'
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64'
import { uniformInt } from 'pure-rand/distribution/uniformInt'
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator'
import { sha256, utf8 } from '../crdt/canonical.js'

/** Deterministic bytes for a purpose: SHA-256(seed, label), extended by counter when longer. */
export function seededBytes (seed: number, label: string, length = 32): Uint8Array {
  const out = new Uint8Array(length)
  for (let i = 0, block = 0; i < length; block++) {
    const h = sha256(utf8(`aura-sim/${seed}/${label}/${block}`))
    out.set(h.subarray(0, Math.min(32, length - i)), i)
    i += 32
  }
  return out
}

/** One independent stream of pseudo-random numbers (xoroshiro128+, state from the seed and name). */
export class RandomStream {
  private readonly rng: RandomGenerator
  readonly name: string

  constructor (seed: number, name: string) {
    const h = seededBytes(seed, `stream/${name}`, 16)
    const view = new DataView(h.buffer, h.byteOffset, h.byteLength)
    // xoroshiro's all-zero state is a fixed point; `| 1` rules it out at no cost to quality.
    const state: number[] = [view.getInt32(0) | 1, view.getInt32(4), view.getInt32(8), view.getInt32(12)]
    this.rng = xoroshiro128plusFromState(state)
    this.name = name
  }

  /** Uniform in [0, 1). */
  float (): number {
    return uniformFloat64(this.rng)
  }

  /** Uniform integer in [from, to], both included. */
  int (from: number, to: number): number {
    return uniformInt(this.rng, from, to)
  }

  /** True with probability p. */
  chance (p: number): boolean {
    return p > 0 && this.float() < p
  }

  /** `n` random bytes. */
  bytes (n: number): Uint8Array {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255)
    return out
  }

  /** One element of a non-empty array. */
  pick<T> (items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffle<T> (items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const t = out[i]; out[i] = out[j]; out[j] = t
    }
    return out
  }

  /** Standard normal draw (Box-Muller). */
  normal (): number {
    const u = 1 - this.float()
    const v = this.float()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Exponential draw with the given mean. */
  exponential (mean: number): number {
    return -Math.log(1 - this.float()) * mean
  }

  /** A function returning uniform [0, 1) draws, as SyncEngine's `random` component expects. */
  asFunction (): () => number {
    return () => this.float()
  }
}
