/**
 * RFC 8785 canonical JSON: golden vectors (test/fixtures/canonical-vectors.json, hashes computed
 * outside this code base) pin the bytes of everything hashed or signed.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import canonicalizeLib from 'canonicalize'
import {
  bytesEqual, canonicalBytes, canonicalString, fromB64u, fromHex, hashOf, parseCanonical, sha256, toB64u, toHex, utf8
} from '../../crdt/canonical.js'

interface Vector { name: string, input: string, canonical: string, sha256: string }
interface Fixture {
  vectors: Vector[]
  rejectValue: Array<{ name: string, input: string }>
  rejectParse: Array<{ name: string, text?: string, hex?: string }>
}

const fixture: Fixture = JSON.parse(readFileSync(new URL('../fixtures/canonical-vectors.json', import.meta.url), 'utf8'))
const malformed = expect.objectContaining({ code: 'E_MALFORMED' })

describe('golden vectors', () => {
  it('the fixture holds every kind of vector', () => {
    expect(fixture.vectors.length).toBeGreaterThanOrEqual(20)
    expect(fixture.rejectValue.length).toBeGreaterThanOrEqual(8)
    expect(fixture.rejectParse.length).toBeGreaterThanOrEqual(30)
  })

  it.each(fixture.vectors)('$name', (v) => {
    const value = JSON.parse(v.input)
    expect(canonicalString(value)).toBe(v.canonical)
    expect(toHex(canonicalBytes(value))).toBe(toHex(utf8(v.canonical)))
    expect(hashOf(value)).toBe(v.sha256)
    expect(toHex(sha256(utf8(v.canonical)))).toBe(v.sha256)
    expect(parseCanonical(utf8(v.canonical))).toEqual(JSON.parse(v.canonical))
    if (v.input !== v.canonical) expect(() => parseCanonical(utf8(v.input))).toThrow(malformed)
  })

  it.each(fixture.rejectValue)('refuses to encode $name', (v) => {
    expect(() => canonicalBytes(JSON.parse(v.input))).toThrow(malformed)
    expect(() => parseCanonical(utf8(v.input))).toThrow(malformed)
  })

  it.each(fixture.rejectParse)('parseCanonical refuses $name', (v) => {
    const bytes = v.hex !== undefined ? fromHex(v.hex) : utf8(v.text ?? '')
    expect(() => parseCanonical(bytes)).toThrow(malformed)
  })
})

describe('values with no JSON form', () => {
  const cases: Array<[string, unknown]> = [
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', [-Infinity]],
    ['undefined', undefined],
    ['undefined property', { a: undefined }],
    ['undefined in array', [undefined]],
    // eslint-disable-next-line no-sparse-arrays -- the hole is the case under test
    ['array hole', [, 1]],
    ['bigint', 1n],
    ['function', () => 1],
    ['symbol', Symbol('x')],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['Uint8Array', new Uint8Array(1)],
    ['null-prototype object', Object.create(null)],
    ['class instance', new (class Thing { a = 1 })()],
    ['unsafe integer deep inside', { a: [{ b: 2 ** 53 }] }],
    ['lone surrogate deep inside', { a: ['ok', '\udfff'] }]
  ]
  it.each(cases)('%s is refused with E_MALFORMED', (_, value) => {
    expect(() => canonicalBytes(value)).toThrow(malformed)
  })

  it('-0 encodes as 0 (RFC 8785) but its spelling -0 is not canonical', () => {
    expect(canonicalString(-0)).toBe('0')
    expect(() => parseCanonical(utf8('-0'))).toThrow(malformed)
  })

  it('a "__proto__" key from the wire is an ordinary key', () => {
    const bytes = utf8('{"__proto__":{"a":1},"b":2}')
    const value = parseCanonical(bytes) as Record<string, unknown>
    expect(Object.keys(value)).toEqual(['__proto__', 'b'])
    expect(bytesEqual(canonicalBytes(value), bytes)).toBe(true)
  })
})

describe('property: canonical form is a fixed point', () => {
  const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => {
    try { canonicalBytes(v); return true } catch { return false }
  })

  it('parse(canonical(v)) re-encodes to the same bytes, and reordering keys changes nothing', () => {
    fc.assert(fc.property(json, (v) => {
      const bytes = canonicalBytes(v)
      expect(bytesEqual(canonicalBytes(parseCanonical(bytes)), bytes)).toBe(true)
      expect(hashOf(JSON.parse(JSON.stringify(v, null, 2)))).toBe(hashOf(v))
    }), { numRuns: 300 })
  })
})

describe('hex and base64url', () => {
  it('round-trip and refuse other spellings', () => {
    const b = new Uint8Array([0, 1, 0xfe, 0xff, 0x3e, 0x3f])
    expect(toHex(b)).toBe('0001feff3e3f')
    expect(toHex(fromHex('0001feff3e3f'))).toBe('0001feff3e3f')
    expect(toB64u(b)).toBe('AAH-_z4_')
    expect(toHex(fromB64u('AAH-_z4_'))).toBe('0001feff3e3f')
    for (const bad of ['0001FEFF', '001', 'zz', ' 00']) expect(() => fromHex(bad)).toThrow(malformed)
    for (const bad of ['AAH+/z4/', 'AA==', 'AB', 'A', 'AAH-_z4_\n']) expect(() => fromB64u(bad)).toThrow(malformed)
  })

  it('hashOf is lower-case hex SHA-256 of the canonical bytes', () => {
    expect(hashOf({ b: 1, a: 'x' })).toBe(toHex(sha256(utf8('{"a":"x","b":1}'))))
    expect(hashOf({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')
  })
})

describe('hostile nesting', () => {
  it('a frame nested ten thousand levels deep is E_MALFORMED, not a stack overflow', () => {
    const text = '{"t":"hello","v":1,"x":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}'
    expect(() => parseCanonical(new TextEncoder().encode(text))).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })
})

describe('canonicalString fast path', () => {
  const reference = (v: unknown): string => (canonicalizeLib as unknown as (x: unknown) => string)(v)

  it('gives exactly what the canonicalize library gives, for any JSON and any key order', () => {
    const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => {
      try { canonicalBytes(v); return true } catch { return false } // e.g. -0 or unsafe integers are refused
    })
    fc.assert(fc.property(json, (v) => {
      expect(canonicalString(v)).toBe(reference(v))
      // The same value parsed from its canonical text (keys in sorted order) takes the fast path.
      const again = JSON.parse(reference(v))
      expect(canonicalString(again)).toBe(reference(v))
    }), { numRuns: 500 })
  })

  it('sorts keys the engine lists in another order (integer-like keys) and out-of-order literals', () => {
    const v = { 10: 'a', 9: 'b', b: { y: 1, x: [{ d: 1, c: 2 }] }, a: null }
    expect(canonicalString(v)).toBe('{"10":"a","9":"b","a":null,"b":{"x":[{"c":2,"d":1}],"y":1}}')
    expect(canonicalString(v)).toBe(reference(v))
  })
})
