/**
 * Identifiers: key ids, the short forms people see, unique-prefix resolution (as git does with
 * commit hashes), and `tk_` + ULID token ids. Everything here is pure: time and randomness for
 * ULIDs are passed in.
 *
 * @example
 * const id = keyIdOf(publicKey)        // 64 hex digits
 * shortId(id)                          // 'peer-5f3a'
 * resolvePrefix('peer-5f3a', allIds)   // the one full id, or E_AMBIGUOUS / E_NOT_FOUND
 */
import { AmbiguousError, MalformedError, NotFoundError } from './errors.js'
import { sha256, toHex } from './canonical.js'

/** Full key id: hex SHA-256 of an ed25519 public key. */
export type KeyId = string & { readonly __brand: 'KeyId' }
/** A join token id: `tk_` + 26-character ULID. */
export type Jti = string & { readonly __brand: 'Jti' }
/** A record id: hex SHA-256 of the record's canonical signed bytes. */
export type RecordId = string & { readonly __brand: 'RecordId' }

const KEY_ID = /^[0-9a-f]{64}$/
const JTI = /^tk_[0-9A-HJKMNP-TV-Z]{26}$/
const SHORT_LEN = 4

/** The key id of a public key. */
export function keyIdOf (publicKey: Uint8Array): KeyId {
  return toHex(sha256(publicKey)) as KeyId
}

/** Brands a string as a KeyId after checking its form. */
export function parseKeyId (s: string): KeyId {
  if (!KEY_ID.test(s)) throw new MalformedError(`not a key id: ${s}`, { value: s })
  return s as KeyId
}

/** Brands a string as a Jti after checking its form. */
export function parseJti (s: string): Jti {
  if (!JTI.test(s)) throw new MalformedError(`not a token id (tk_ + ULID): ${s}`, { value: s })
  return s as Jti
}

/** Brands a string as a RecordId after checking its form. */
export function parseRecordId (s: string): RecordId {
  if (!KEY_ID.test(s)) throw new MalformedError(`not a record id: ${s}`, { value: s })
  return s as RecordId
}

/** The short form people see: `peer-5f3a` for peers, `<name>-7f3a` for agents. */
export function shortId (id: string, label = 'peer'): string {
  return `${label}-${id.slice(0, SHORT_LEN)}`
}

/**
 * Resolves what a person typed (a full id, `peer-5f3a`, `claude-7f3a`, or a bare hex prefix of
 * at least 4 digits) to the one candidate it names. Labels are matched when given.
 */
export function resolvePrefix<T extends string> (
  input: string,
  candidates: Iterable<T>,
  labelOf?: (id: T) => string
): T {
  const m = /^(?:([A-Za-z][A-Za-z0-9_.]*)-)?([0-9a-fA-F]+)$/.exec(input.trim())
  if (m === null || m[2].length < SHORT_LEN) {
    throw new MalformedError(`'${input}' is not an id: use a short id such as peer-5f3a or at least ${SHORT_LEN} hex digits`, { input })
  }
  // Ids are lower-case hex; people copy them from anywhere, so any case is accepted.
  const label = m[1]
  const hex = m[2].toLowerCase()
  const matches: T[] = []
  for (const c of candidates) {
    if (!c.startsWith(hex)) continue
    if (label !== undefined && labelOf !== undefined && label !== 'peer' && labelOf(c) !== label) continue
    matches.push(c)
  }
  if (matches.length === 0) throw new NotFoundError(`no known id matches '${input}'`, { input })
  if (matches.length > 1) {
    // Show each candidate with enough digits to tell them all apart, as the advice says to type.
    let n = Math.max(hex.length + 2, 8)
    while (n < 64 && new Set(matches.map((c) => c.slice(0, n))).size < matches.length) n += 2
    const shown = matches.map((c) => `${labelOf?.(c) ?? 'peer'}-${c.slice(0, n)}`)
    throw new AmbiguousError(`'${input}' matches ${matches.length} ids: ${shown.join(', ')}; type more digits`, { input, candidates: shown })
  }
  return matches[0]
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const ULID_TIME_MAX = 2 ** 48 - 1

/**
 * A `tk_` + ULID token id from a millisecond time and 10 random bytes, both passed in.
 */
export function makeJti (timeMs: number, random: Uint8Array): Jti {
  if (random.length < 10) throw new MalformedError('a ULID needs 10 random bytes')
  let t = Math.floor(timeMs)
  // Outside ULID's 48-bit range the digits below would be garbage or wrap, breaking time order.
  if (!(t >= 0 && t <= ULID_TIME_MAX)) throw new MalformedError(`a ULID time is 0..2^48-1 ms, got ${timeMs}`)
  let timePart = ''
  for (let i = 0; i < 10; i++) { timePart = CROCKFORD[t % 32] + timePart; t = Math.floor(t / 32) }
  let bits = 0n
  for (let i = 0; i < 10; i++) bits = (bits << 8n) | BigInt(random[i])
  let randPart = ''
  for (let i = 0; i < 16; i++) { randPart = CROCKFORD[Number(bits & 31n)] + randPart; bits >>= 5n }
  return `tk_${timePart}${randPart}` as Jti
}
