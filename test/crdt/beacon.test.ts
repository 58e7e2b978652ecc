import { describe, expect, it } from 'vitest'
import { canonicalBytes } from '../../crdt/canonical.js'
import { decodeBeacon, encodeBeacon, holdsBeaconHead, isStaleAt, makeBeacon, verifyBeacon, vouchedTime, type Beacon } from '../../crdt/beacon.js'
import { keyOf, T0 } from './authority-chain-fixture.js'

const mothership = keyOf(1)
const fields = { team: 'acme', headSeq: 4, headHash: 'ab'.repeat(32), ts: T0 }

describe('beacons', () => {
  it('make, encode, decode, verify (bytes or object)', () => {
    const b = makeBeacon(fields, mothership)
    expect(b).toMatchObject({ ...fields, v: 1 })
    expect(decodeBeacon(encodeBeacon(b))).toEqual(b)
    expect(verifyBeacon(encodeBeacon(b), mothership.publicKey)).toEqual(b)
    expect(verifyBeacon(b, mothership.publicKey)).toEqual(b)
  })

  it('refuses another key, altered fields, and malformed bytes', () => {
    const b = makeBeacon(fields, mothership)
    expect(() => verifyBeacon(makeBeacon(fields, keyOf(666)), mothership.publicKey)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    const bumped: Beacon = { ...b, headSeq: 5 }
    expect(() => verifyBeacon(canonicalBytes(bumped), mothership.publicKey)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    expect(() => verifyBeacon({ ...b, ts: T0 + 1 }, mothership.publicKey)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    expect(() => verifyBeacon(new TextEncoder().encode('{"v":1}'), mothership.publicKey)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => makeBeacon({ ...fields, headHash: 'nope' }, mothership)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })
})

describe('freshness from what a beacon says', () => {
  const limits = { maxStalenessMs: 300_000, maxClockSkewMs: 60_000 }
  const now = T0 + 86_400_000

  it('a beacon vouches for its signed time, wherever and whenever it arrives', () => {
    expect(vouchedTime({ ts: now - 5_000 }, now, limits)).toBe(now - 5_000)
    // Stockpiled: signed a day ago, fed now: stale at once, not fresh for max_staleness.
    const stockpiled = vouchedTime({ ts: T0 }, now, limits)
    expect(isStaleAt(stockpiled, now, limits)).toBe(true)
  })

  it('is stale exactly when more than max_staleness + skew passed since the newest signed time', () => {
    const asOf = now - limits.maxStalenessMs - limits.maxClockSkewMs
    expect(isStaleAt(asOf, now, limits)).toBe(false)
    expect(isStaleAt(asOf - 1, now, limits)).toBe(true)
    expect(isStaleAt(null, now, limits)).toBe(true)
    expect(isStaleAt(now, now, { maxStalenessMs: 1000, maxClockSkewMs: 0 })).toBe(false)
    expect(isStaleAt(now - 1001, now, { maxStalenessMs: 1000, maxClockSkewMs: 0 })).toBe(true)
  })

  it('a beacon dated in the future vouches for no later than now + skew, so it keeps nobody fresh for ever', () => {
    expect(vouchedTime({ ts: now + 30_000 }, now, limits)).toBe(now + 30_000)
    const far = vouchedTime({ ts: now + 365 * 86_400_000 }, now, limits)
    expect(far).toBe(now + limits.maxClockSkewMs)
    // Fresh for at most max_staleness + 2 x skew after it arrived.
    expect(isStaleAt(far, now + limits.maxStalenessMs + 2 * limits.maxClockSkewMs, limits)).toBe(false)
    expect(isStaleAt(far, now + limits.maxStalenessMs + 2 * limits.maxClockSkewMs + 1, limits)).toBe(true)
  })

  it('holds the head a beacon names only with the same hash at that seq', () => {
    const hashes = ['aa'.repeat(32), 'bb'.repeat(32), 'cc'.repeat(32)]
    const chain = { entryHash: (seq: number) => hashes[seq] }
    expect(holdsBeaconHead({ headSeq: 2, headHash: hashes[2] }, chain)).toBe(true)
    expect(holdsBeaconHead({ headSeq: 1, headHash: hashes[1] }, chain)).toBe(true)
    expect(holdsBeaconHead({ headSeq: 3, headHash: 'dd'.repeat(32) }, chain)).toBe(false)
    expect(holdsBeaconHead({ headSeq: 2, headHash: hashes[1] }, chain)).toBe(false)
  })
})
