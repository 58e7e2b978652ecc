import { describe, expect, it } from 'vitest'
import { canonicalBytes } from '../../crdt/canonical.js'
import { decodeBeacon, encodeBeacon, makeBeacon, verifyBeacon, type Beacon } from '../../crdt/beacon.js'
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
