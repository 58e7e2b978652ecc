/**
 * The envelope of an Automerge sync message, read and rewritten without decoding it into
 * objects: a type byte (0x42 v1, 0x43 v2), heads, need, have (last-sync hashes and a bloom
 * filter each), the length-prefixed change entries, then optional fields (capabilities).
 * Reading it costs far less than Automerge's decoder; whatever it does not recognise is left to
 * that decoder, so nothing is refused here that Automerge would read.
 *
 * @example
 * const env = readEnvelope(msg)                  // null: not an envelope as read here
 * env.changes                                    // the change entries, as subarrays of msg
 * replaceChanges(msg, env, [document])           // the same message carrying other entries
 */

/** A sync message's change entries and where the changes field lies in it. */
export interface Envelope {
  /** The type byte: 0x42 (v1) or 0x43 (v2, whose one entry may be a whole document). */
  readonly version: number
  readonly changes: Uint8Array[]
  /** Byte range of the changes field (its count and every entry). */
  readonly changesAt: number
  readonly changesEnd: number
}

export const SYNC_MESSAGE_V1 = 0x42
export const SYNC_MESSAGE_V2 = 0x43
const HASH_BYTES = 32

/** The envelope of `m`; null when it is not one as read here. */
export function readEnvelope (m: Uint8Array): Envelope | null {
  if (m.length === 0 || (m[0] !== SYNC_MESSAGE_V1 && m[0] !== SYNC_MESSAGE_V2)) return null
  // Module-level readers over one cursor: no closures made per message.
  const c: Cursor = { m, at: 1 }
  if (!skipHashes(c) || !skipHashes(c)) return null // heads, need
  const haves = uleb(c)
  if (haves === null || haves > m.length - c.at) return null
  for (let i = 0; i < haves; i++) {
    if (!skipHashes(c)) return null // lastSync
    const bloom = uleb(c)
    if (bloom === null || bloom > m.length - c.at) return null
    c.at += bloom
  }
  const changesAt = c.at
  const count = uleb(c)
  if (count === null || count > m.length - c.at) return null
  const changes: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const len = uleb(c)
    if (len === null || len > m.length - c.at) return null
    changes.push(m.subarray(c.at, c.at + len))
    c.at += len
  }
  return { version: m[0], changes, changesAt, changesEnd: c.at }
}

/** `m` with its change entries replaced by `entries`; everything else byte for byte as it was. */
export function replaceChanges (m: Uint8Array, env: Envelope, entries: readonly Uint8Array[]): Uint8Array {
  const head = [ulebBytes(entries.length)]
  for (const e of entries) head.push(ulebBytes(e.length), e)
  const size = head.reduce((n, b) => n + b.length, 0)
  const out = new Uint8Array(env.changesAt + size + (m.length - env.changesEnd))
  out.set(m.subarray(0, env.changesAt), 0)
  let at = env.changesAt
  for (const b of head) { out.set(b, at); at += b.length }
  out.set(m.subarray(env.changesEnd), at)
  return out
}

interface Cursor { readonly m: Uint8Array, at: number }

function uleb (c: Cursor): number | null {
  const m = c.m
  let value = 0
  for (let i = 0; i < 8 && c.at < m.length; i++) {
    const b = m[c.at++]
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return value
  }
  return null
}

function ulebBytes (n: number): Uint8Array {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Uint8Array.from(out)
}

function skipHashes (c: Cursor): boolean {
  const n = uleb(c)
  if (n === null || n > (c.m.length - c.at) / HASH_BYTES) return false
  c.at += n * HASH_BYTES
  return true
}
