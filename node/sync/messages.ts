/**
 * The sync protocol's messages and their wire form. Each frame on a Link carries one message:
 * a one-byte type tag, then either canonical JSON (control messages) or raw bytes (Automerge
 * sync messages, so the bulk of replication is never base64-inflated). Decoding validates the
 * shape with zod and throws E_MALFORMED on anything else.
 *
 * @example
 * link.send(encodeMessage({ t: 'hello', v: 1, team, head: { seq: 3, hash } }))
 * const msg = decodeMessage(frame)
 */
import { z } from 'zod'
import { canonicalBytes, deepFreeze, parseCanonical } from '../../crdt/canonical.js'
import { MalformedError } from '../../crdt/errors.js'

/**
 * Protocol version spoken by this code. 2: a `chain` message may carry the beacon that vouches
 * for its entries (sent so only to peers whose hello said 2 or more).
 */
export const PROTOCOL_VERSION = 2

const head = z.object({ seq: z.number().int().min(0), hash: z.string().regex(/^[0-9a-f]{64}$/) }).strict()
const b64u = z.string().regex(/^[A-Za-z0-9_-]*$/)

const hello = z.object({
  t: z.literal('hello'),
  v: z.number().int(),
  team: z.string().max(200),
  head,
  beacon: b64u.nullable()
}).strict()

/**
 * Authority chain entries (canonical bytes, base64url), oldest first; from version 2 with the
 * Mothership's beacon naming them, so a revocation travels as one frame per hop, not two.
 */
const chain = z.object({ t: z.literal('chain'), entries: z.array(b64u).max(100_000), beacon: b64u.optional() }).strict()

/** Periodic anti-entropy announcement of heads; the receiver answers with what is missing. */
const heads = z.object({ t: z.literal('heads'), head, beacon: b64u.nullable() }).strict()

/** A Mothership beacon (freshness), relayed peer to peer. */
const beacon = z.object({ t: z.literal('beacon'), beacon: b64u }).strict()

/** The receiver refused a batch of records for a non-hostile reason (lockdown, stale): both
 * sides reset their Automerge sync state for this link and retry on the next anti-entropy. */
// E_FORK names the change's actor and seq, so a writer whose actor another holder of its key
// took can give it up (IntentLog.leaveActor).
const refused = z.object({ t: z.literal('refused'), code: z.string().max(40), message: z.string().max(500), actor: z.string().regex(/^[0-9a-f]{64}$/).optional(), seq: z.number().int().min(1).max(2 ** 40).optional() }).strict()

const controlSchema = z.discriminatedUnion('t', [hello, chain, heads, beacon, refused])

export type HelloMsg = z.infer<typeof hello>
export type ChainMsg = z.infer<typeof chain>
export type HeadsMsg = z.infer<typeof heads>
export type BeaconMsg = z.infer<typeof beacon>
export type RefusedMsg = z.infer<typeof refused>
/** An Automerge sync message for the intent log (or the end of one sent in pieces). */
export interface AutomergeMsg { t: 'am', data: Uint8Array }
/** A piece of an Automerge sync message too large for one frame; the next `am` completes it. */
export interface AutomergePartMsg { t: 'amp', data: Uint8Array }
export type SyncMessage = HelloMsg | ChainMsg | HeadsMsg | BeaconMsg | RefusedMsg | AutomergeMsg | AutomergePartMsg

const TAG_CONTROL = 0x01
const TAG_AUTOMERGE = 0x02
const TAG_AUTOMERGE_PART = 0x03

/**
 * Largest piece of an Automerge sync message in one frame. A fresh peer's first message holds
 * the whole log (~8.9 MB per 10,000 records), which must not depend on the frame limit of either
 * side: it goes as pieces of this size (every `max_frame_bytes` allowed is larger), bounded as a
 * whole by the receiver's `max_message_bytes`.
 */
export const AM_PIECE_BYTES = 60 * 1024

/** The frames that carry one Automerge sync message: pieces (`amp`), then the rest (`am`). */
export function automergeFrames (data: Uint8Array): Array<AutomergeMsg | AutomergePartMsg> {
  const out: Array<AutomergeMsg | AutomergePartMsg> = []
  let at = 0
  for (; data.length - at > AM_PIECE_BYTES; at += AM_PIECE_BYTES) out.push({ t: 'amp', data: data.subarray(at, at + AM_PIECE_BYTES) })
  out.push({ t: 'am', data: data.subarray(at) })
  return out
}

/** Encodes a message into one frame payload. */
export function encodeMessage (msg: SyncMessage): Uint8Array {
  if (msg.t === 'am' || msg.t === 'amp') {
    // From Node's buffer pool (small frames share one 8 KiB slab): a fresh ArrayBuffer per frame
    // costs far more, most of all in a process whose external memory is large (a simulated team's
    // Automerge documents), where every new backing store weighs on the garbage collector.
    const out = Buffer.allocUnsafe(1 + msg.data.length)
    out[0] = msg.t === 'am' ? TAG_AUTOMERGE : TAG_AUTOMERGE_PART
    out.set(msg.data, 1)
    return out
  }
  const body = canonicalBytes(sortedKeys(msg))
  const out = new Uint8Array(1 + body.length)
  out[0] = TAG_CONTROL
  out.set(body, 1)
  return out
}

// The same message with its keys in sorted order, which canonicalBytes writes straight through
// JSON.stringify (the library's general sort is several times slower); anything else, such as a
// message with extra fields, goes through unchanged and is sorted there.
function sortedKeys (msg: Exclude<SyncMessage, AutomergeMsg | AutomergePartMsg>): unknown {
  const head = (h: { seq: number, hash: string }): unknown => ({ hash: h.hash, seq: h.seq })
  switch (msg.t) {
    case 'hello': return Object.keys(msg).length === 5 ? { beacon: msg.beacon, head: head(msg.head), t: msg.t, team: msg.team, v: msg.v } : msg
    case 'heads': return Object.keys(msg).length === 3 ? { beacon: msg.beacon, head: head(msg.head), t: msg.t } : msg
    case 'chain': return Object.keys(msg).length === 2 ? { entries: msg.entries, t: msg.t } : msg.beacon !== undefined && Object.keys(msg).length === 3 ? { beacon: msg.beacon, entries: msg.entries, t: msg.t } : msg
    case 'beacon': return Object.keys(msg).length === 2 ? { beacon: msg.beacon, t: msg.t } : msg
    case 'refused': return Object.keys(msg).length === 3 ? { code: msg.code, message: msg.message, t: msg.t } : msg
    default: return msg
  }
}

const HASH = /^[0-9a-f]{64}$/
const B64U = /^[A-Za-z0-9_-]*$/

// Exactly what the `heads` schema accepts (strict: no other keys).
function isHeads (v: unknown): v is HeadsMsg {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const o = v as Record<string, unknown>
  if (o.t !== 'heads' || Object.keys(o).length !== 3 || !('beacon' in o) || !('head' in o)) return false
  if (o.beacon !== null && (typeof o.beacon !== 'string' || !B64U.test(o.beacon))) return false
  const h = o.head
  if (typeof h !== 'object' || h === null || Array.isArray(h) || Object.keys(h).length !== 2) return false
  const { seq, hash } = h as Record<string, unknown>
  return typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 && typeof hash === 'string' && HASH.test(hash)
}

// Control frames decoded lately, by their bytes (latin1, one char per byte). Peers send the
// same few control frames over and over (every session's heads carry one chain head and one
// beacon, and each beacon is relayed to every session), so most frames were decoded before.
// The messages are frozen: a hit hands out the very object decoded the first time.
const DECODED_MAX = 256
const DECODED_MAX_BYTES = 4096
const decoded = new Map<string, SyncMessage>()

/** Decodes one frame payload; throws E_MALFORMED on an unknown tag or a bad shape. */
export function decodeMessage (frame: Uint8Array): SyncMessage {
  if (frame.length === 0) throw new MalformedError('empty sync frame')
  if (frame[0] === TAG_AUTOMERGE) return { t: 'am', data: frame.subarray(1) }
  if (frame[0] === TAG_AUTOMERGE_PART) return { t: 'amp', data: frame.subarray(1) }
  if (frame[0] !== TAG_CONTROL) throw new MalformedError(`unknown sync frame tag ${frame[0]}`)
  if (frame.length > DECODED_MAX_BYTES) return decodeControl(frame)
  const key = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('latin1')
  let msg = decoded.get(key)
  if (msg === undefined) {
    msg = deepFreeze(decodeControl(frame))
    if (decoded.size >= DECODED_MAX) decoded.delete(decoded.keys().next().value as string)
    decoded.set(key, msg)
  }
  return msg
}

function decodeControl (frame: Uint8Array): SyncMessage {
  const value = parseCanonical(frame.subarray(1))
  // The most frequent message (anti-entropy heads, every round on every link), checked by hand;
  // anything this does not accept goes through the schema, which names the problem.
  if (isHeads(value)) return value
  const parsed = controlSchema.safeParse(value)
  if (!parsed.success) throw new MalformedError(`bad sync message: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  return parsed.data
}
