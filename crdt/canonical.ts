/**
 * Canonical encoding: RFC 8785 (JSON Canonicalization Scheme) for everything that is hashed
 * or signed, plus the byte helpers that go with it. Bytes travel as unpadded base64url strings.
 * Golden vectors in test/crdt/canonical.test.ts pin the format: changing them is a decision.
 *
 * @example
 * canonicalBytes({ b: 1, a: 'x' }) // utf8 of '{"a":"x","b":1}'
 */
import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { MalformedError } from './errors.js'

/** A JSON value that has exactly one canonical encoding. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const enc = new TextEncoder()
// ignoreBOM keeps a leading BOM in the text, so the comparison below refuses it.
const dec = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** RFC 8785 canonical UTF-8 bytes of a JSON value. Rejects values without a JSON form. */
export function canonicalBytes (value: unknown): Uint8Array {
  return enc.encode(canonicalString(value))
}

/** RFC 8785 canonical string of a JSON value. */
export function canonicalString (value: unknown): string {
  const scanned = scanJson(value, 0)
  if (scanned === SORTED) return JSON.stringify(value)
  if (scanned === BAD) assertJson(value, '$')
  const s = (canonicalize as unknown as (v: unknown) => string | undefined)(value)
  if (s === undefined) throw new MalformedError('value has no canonical JSON form')
  return s
}

// What scanJson found: JSON whose objects all list their keys in sorted order (for those,
// JSON.stringify is RFC 8785's form: it writes numbers and strings exactly as the canonicalize
// library does, and keys in their own order); JSON with some keys out of order (integer-like
// keys are listed by the engine in numeric order, for one); or not JSON at all.
const SORTED = 0
const UNSORTED = 1
const BAD = 2

// assertJson's checks without building paths, plus the key order: the common case allocates
// nothing. On BAD, assertJson runs to name the place.
function scanJson (v: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return BAD
  if (v === null || typeof v === 'boolean') return SORTED
  if (typeof v === 'string') return LONE_SURROGATE.test(v) ? BAD : SORTED
  if (typeof v === 'number') return Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v)) ? SORTED : BAD
  let out = SORTED
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = scanJson(v[i], depth + 1)
      if (r === BAD) return BAD
      out = Math.max(out, r)
    }
    return out
  }
  if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return BAD
  const o = v as Record<string, unknown>
  let prev: string | undefined
  for (const k of Object.keys(o)) {
    const x = o[k]
    if (x === undefined || LONE_SURROGATE.test(k)) return BAD
    if (prev !== undefined && !(prev < k)) out = UNSORTED
    prev = k
    const r = scanJson(x, depth + 1)
    if (r === BAD) return BAD
    out = Math.max(out, r)
  }
  return out
}

/**
 * Parses bytes that must already be canonical: parse, re-encode, compare. A peer that sends
 * the same object in another spelling would otherwise give it two hashes.
 */
export function parseCanonical (bytes: Uint8Array): Json {
  let text: string
  let value: unknown
  try {
    text = dec.decode(bytes)
    value = JSON.parse(text)
  } catch (err) {
    throw new MalformedError(`not valid UTF-8 JSON: ${(err as Error).message}`)
  }
  // Comparing text is comparing bytes: the decoding was exact (fatal on invalid UTF-8, BOM
  // kept), and UTF-8 spells each string one way.
  if (canonicalString(value) !== text) throw new MalformedError('JSON is not in canonical (RFC 8785) form')
  return value as Json
}

// RFC 8785 3.2.2.2: lone surrogates have no UTF-8 form, so they must be refused, not escaped.
const LONE_SURROGATE = /\p{Cs}/u

// Nothing Aura signs nests deeper than a few levels; a bound keeps a hostile frame of ten
// thousand brackets from overflowing the stack (E_MALFORMED, not a RangeError).
const MAX_DEPTH = 64

function assertJson (v: unknown, path: string, depth = 0): void {
  if (depth > MAX_DEPTH) throw new MalformedError(`JSON nested deeper than ${MAX_DEPTH} levels`)
  if (v === null || typeof v === 'boolean') return
  if (typeof v === 'string') {
    if (LONE_SURROGATE.test(v)) throw new MalformedError(`lone surrogate in string at ${path}`)
    return
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new MalformedError(`non-finite number at ${path}`)
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) throw new MalformedError(`unsafe integer at ${path}`)
    return
  }
  if (Array.isArray(v)) {
    // An index loop, not forEach: a hole must be refused, and canonicalize would emit '[,1]'.
    for (let i = 0; i < v.length; i++) assertJson(v[i], `${path}[${i}]`, depth + 1)
    return
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as object)) {
      if (LONE_SURROGATE.test(k)) throw new MalformedError(`lone surrogate in key at ${path}`)
      if (x === undefined) throw new MalformedError(`undefined at ${path}.${k}`)
      assertJson(x, `${path}.${k}`, depth + 1)
    }
    return
  }
  throw new MalformedError(`value at ${path} is not JSON (${typeof v})`)
}

/** SHA-256 of bytes. */
export function sha256 (bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** SHA-256 of bytes, as lower-case hex. */
export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Lower-case hex of bytes. */
export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

/** Bytes from lower-case hex; throws E_MALFORMED on anything else. */
export function fromHex (hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new MalformedError('not lower-case hex')
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

/** Unpadded base64url of bytes. */
export function toB64u (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url')
}

/** Bytes from unpadded base64url; throws E_MALFORMED on anything that does not round-trip. */
export function fromB64u (s: string): Uint8Array {
  const b = Buffer.from(s, 'base64url')
  if (b.toString('base64url') !== s) throw new MalformedError('not canonical base64url')
  return new Uint8Array(b)
}

/** Hex SHA-256 of a value's canonical bytes: the id of anything signed. */
export function hashOf (value: unknown): string {
  return toHex(sha256(canonicalBytes(value)))
}

/** UTF-8 bytes of a string. */
export function utf8 (s: string): Uint8Array {
  return enc.encode(s)
}

/** Byte-wise equality. */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Freezes a JSON-like value and everything in it; returns it. */
export function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

/** Whether a JSON-like value and everything in it is frozen. */
export function isDeepFrozen (value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true
  if (!Object.isFrozen(value)) return false
  for (const v of Object.values(value)) if (!isDeepFrozen(v)) return false
  return true
}
