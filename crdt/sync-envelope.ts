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

import { skip, uleb, ulebBytes, type Cursor } from './leb128.js'

/** A sync message's change entries and where the changes field lies in it. */
export interface Envelope {
  /** The type byte: 0x42 (v1) or 0x43 (v2, whose one entry may be a whole document). */
  readonly version: number
  readonly changes: Uint8Array[]
  /** Byte range of the changes field (its count and every entry). */
  readonly changesAt: number
  readonly changesEnd: number
  /** How many change hashes the message's need field asks for. */
  readonly needs: number
}

export const SYNC_MESSAGE_V1 = 0x42
export const SYNC_MESSAGE_V2 = 0x43
const HASH_BYTES = 32

/** The envelope of `m`; null when it is not one as read here. */
export function readEnvelope (m: Uint8Array): Envelope | null {
  if (m.length === 0 || (m[0] !== SYNC_MESSAGE_V1 && m[0] !== SYNC_MESSAGE_V2)) return null
  const c: Cursor = { d: m, at: 1, end: m.length }
  try {
    skipHashes(c) // heads
    const needs = skipHashes(c)
    const haves = uleb(c)
    if (haves > m.length - c.at) return null
    for (let i = 0; i < haves; i++) {
      skipHashes(c) // lastSync
      skip(c, uleb(c)) // bloom
    }
    const changesAt = c.at
    const count = uleb(c)
    if (count > m.length - c.at) return null
    const changes: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const len = uleb(c)
      changes.push(m.subarray(c.at, c.at + len))
      skip(c, len)
    }
    return { version: m[0], changes, changesAt, changesEnd: c.at, needs }
  } catch {
    return null
  }
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

// Skips a list of hashes; how many it held.
function skipHashes (c: Cursor): number {
  const n = uleb(c)
  skip(c, n * HASH_BYTES)
  return n
}

/**
 * `m` with `hashes` (hex) added to its need field, so the peer sends those changes: how a
 * receiver that refused a change for a missing dependency asks for what it lacks (Automerge
 * would have queued the change and asked by itself). Null when `m` is not an envelope.
 */
export function addNeeds (m: Uint8Array, hashes: readonly string[]): Uint8Array | null {
  if (m.length === 0 || (m[0] !== SYNC_MESSAGE_V1 && m[0] !== SYNC_MESSAGE_V2)) return null
  const c: Cursor = { d: m, at: 1, end: m.length }
  try {
    skipHashes(c) // heads
    const needAt = c.at
    const count = uleb(c)
    const listAt = c.at
    skip(c, count * HASH_BYTES)
    const held = new Set<string>()
    for (let i = 0; i < count; i++) held.add(Buffer.from(m.subarray(listAt + i * HASH_BYTES, listAt + (i + 1) * HASH_BYTES)).toString('hex'))
    const extra = [...new Set(hashes)].filter((h) => /^[0-9a-f]{64}$/.test(h) && !held.has(h))
    if (extra.length === 0) return m
    const head = ulebBytes(count + extra.length)
    const out = new Uint8Array(m.length - (listAt - needAt) + head.length + extra.length * HASH_BYTES)
    out.set(m.subarray(0, needAt), 0)
    let at = needAt
    out.set(head, at); at += head.length
    out.set(m.subarray(listAt, c.at), at); at += c.at - listAt
    for (const h of extra) { out.set(Buffer.from(h, 'hex'), at); at += HASH_BYTES }
    out.set(m.subarray(c.at), at)
    return out
  } catch {
    return null
  }
}
