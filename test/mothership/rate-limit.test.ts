// Token buckets by key on an injected clock: a burst of `perMinute`, refilled evenly, the wait
// until the next attempt reported, and a bounded number of keys remembered.
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../../node/mothership/rate-limit.js'

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then one attempt per 60/perMinute s, saying how long to wait', () => {
    const clock = { now: 1_000_000 }
    const r = new RateLimiter({ perMinute: 6, now: () => clock.now })
    expect(Array.from({ length: 6 }, () => r.take('127.0.0.7'))).toEqual([0, 0, 0, 0, 0, 0])
    expect(r.take('127.0.0.7')).toBe(10_000)
    expect(r.take('127.0.0.8')).toBe(0)
    clock.now += 9_000
    expect(r.take('127.0.0.7')).toBeGreaterThan(0)
    clock.now += 1_000
    expect(r.take('127.0.0.7')).toBe(0)
    clock.now += 3_600_000
    expect(Array.from({ length: 7 }, () => r.take('127.0.0.7')).filter((w) => w === 0).length).toBe(6)
  })

  it('remembers at most maxKeys keys, forgetting the least recently used', () => {
    const r = new RateLimiter({ perMinute: 1, now: () => 0, maxKeys: 2 })
    expect(r.take('a')).toBe(0)
    expect(r.take('b')).toBe(0)
    expect(r.take('a')).toBeGreaterThan(0)
    expect(r.take('c')).toBe(0)
    // 'b' was the least recently used: forgotten, so it starts full again; 'a' is still limited.
    expect(r.take('b')).toBe(0)
    expect(r.take('c')).toBeGreaterThan(0)
  })
})
