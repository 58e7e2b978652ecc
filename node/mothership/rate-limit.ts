/**
 * Token buckets by key (a source address, a token's jti): each key may take `perMinute`
 * attempts in a burst, refilled evenly over a minute. Keys are forgotten oldest first past
 * `maxKeys`, so a flood of fresh keys costs bounded memory (a forgotten key starts full again,
 * which the per-key limit of the other dimension still bounds). The clock is injected.
 *
 * @example
 * const perSource = new RateLimiter({ perMinute: 60, now: () => Date.now() })
 * const wait = perSource.take('10.0.0.7')   // 0: allowed; > 0: refused, retry in `wait` ms
 */

/** Options of a RateLimiter. */
export interface RateLimiterInit {
  /** Attempts a key may make in a minute (and at once). */
  perMinute: number
  /** The clock, in ms. */
  now: () => number
  /** Most keys remembered. Default 4,096. */
  maxKeys?: number
}

const MINUTE_MS = 60_000

/** Token buckets by key. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number, at: number }>()
  private readonly perMinute: number
  private readonly now: () => number
  private readonly maxKeys: number

  constructor (init: RateLimiterInit) {
    this.perMinute = init.perMinute
    this.now = init.now
    this.maxKeys = init.maxKeys ?? 4096
  }

  /** Takes one attempt for `key`: 0 when allowed, else the ms until one would be. */
  take (key: string): number {
    const now = this.now()
    const held = this.buckets.get(key)
    const elapsed = held === undefined ? 0 : Math.max(0, now - held.at)
    const tokens = held === undefined
      ? this.perMinute
      : Math.min(this.perMinute, held.tokens + elapsed * this.perMinute / MINUTE_MS)
    // Re-inserted, so the map's order is least recently used first.
    this.buckets.delete(key)
    const allowed = tokens >= 1
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now })
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string)
    return allowed ? 0 : Math.ceil((1 - tokens) * MINUTE_MS / this.perMinute)
  }
}
