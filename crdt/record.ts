/**
 * Signed records: the entries of the intent log. A record is RFC 8785 JSON signed under the
 * `record` domain; its id is the hex SHA-256 of its full canonical bytes (signature included),
 * so the id names exactly one byte string and a record can never be edited in place.
 *
 * @example
 * const first = signRecord({ ...nextRecordFields(undefined), kind: 'intent', actor: 'alice',
 *   host: 'laptop', ts: 1700000000000, auth: { seq: 3, hash }, text: 'fix login' }, key)
 * const again = decodeRecord(first.bytes)     // { id: first.id, record }
 * verifyRecord(again.record)                  // true
 * decodeVerified(bytesFromAPeer)              // both at once: E_MALFORMED / E_BAD_SIGNATURE
 * decodeVerifiedAll(manyBytes, pool.batch())  // the same over many, signatures on a worker
 * const second = signRecord({ ...nextRecordFields(first), ... }, key) // seq 2, prev first.id
 */
import { z } from 'zod'
import { canonicalBytes, canonicalString, deepFreeze, fromB64u, parseCanonical, sha256Hex, toB64u, utf8, type Json } from './canonical.js'
import { sign, signedMessage, verify, type KeyPair } from './crypto.js'
import { type AuraError, BadSignatureError, MalformedError } from './errors.js'
import { keyIdOf, type KeyId, type RecordId } from './ids.js'

/**
 * Every record kind. A `blob` record carries content-addressed bytes (snapshot files, large unit
 * texts) in `data`, so they replicate with the log; a `zone` record claims or releases a zone
 * (crdt/zones.ts).
 */
export const RECORD_KINDS = ['intent', 'incident', 'rewind', 'snapshot', 'receipt', 'audit', 'blob', 'message', 'zone'] as const
/** What a record is about. */
export type RecordKind = typeof RECORD_KINDS[number]

/** Largest canonical record accepted; a snapshot delta is the biggest honest record. */
export const MAX_RECORD_BYTES = 4 * 1024 * 1024

/** The authority chain head a signer held when writing. */
export interface AuthRef {
  readonly seq: number
  readonly hash: string
}

/** A parsed, structurally valid record (its signature is checked by `verifyRecord`). */
export interface SignedRecord {
  readonly v: 1
  readonly kind: RecordKind
  readonly signer: KeyId
  /** The signer's public key, base64url, so a record verifies on its own. */
  readonly pub: string
  /** On whose behalf: a user name or an agent id. */
  readonly actor: string
  readonly host: string
  /** Position in the signer's own hash chain, from 1. */
  readonly seq: number
  /**
   * Id of the signer's newest record before this one (usually seq - 1); null at seq 1. A seq
   * may be skipped (a node never reuses a seq its crash may have used, docs/storage.md), and a
   * signer that lost every record it had starts again with null at a seq above 1.
   */
  readonly prev: RecordId | null
  /** Claimed write time in ms. Never trusted for authority decisions. */
  readonly ts: number
  readonly auth: AuthRef
  readonly text: string
  readonly delta: Json
  readonly data: Json
  readonly refs: readonly RecordId[]
  readonly sig: string
}

/** What a writer supplies; `signer`, `pub` and `sig` come from the key. */
export interface RecordFields {
  kind: RecordKind
  actor: string
  host: string
  seq: number
  prev: RecordId | null
  ts: number
  auth: AuthRef
  text: string
  delta?: Json
  data?: Json
  refs?: RecordId[]
}

/** A record with its id and canonical bytes, as stored in the intent log. */
export interface EncodedRecord {
  readonly id: RecordId
  readonly bytes: Uint8Array
  readonly record: SignedRecord
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const b64u = (bytes: number) => z.string().length(Math.ceil(bytes * 4 / 3)).regex(/^[A-Za-z0-9_-]+$/)

export const recordShape = z.strictObject({
  v: z.literal(1),
  kind: z.enum(RECORD_KINDS),
  signer: hex64,
  pub: b64u(32),
  actor: z.string().min(1).max(256),
  host: z.string().max(256),
  seq: count.min(1),
  prev: hex64.nullable(),
  ts: count,
  auth: z.strictObject({ seq: count, hash: hex64 }),
  text: z.string(),
  delta: z.json(),
  data: z.json(),
  refs: z.array(hex64).max(1024),
  sig: b64u(64)
}).refine((r) => r.seq !== 1 || r.prev === null, { message: 'prev must be null at seq 1' })

// Verification is the expensive step (see FIELD-NOTES), and a record is verified again by every
// effective-view computation; the result is kept for records this module decoded (deep-frozen,
// so the answer cannot go stale).
const verified = new WeakMap<SignedRecord, boolean>()
const decoded = new WeakSet<SignedRecord>()
// The signed message of a decoded record, cut from its bytes at decode time (re-encoding the
// record costs as much as the signature check); dropped once verified.
const unsignedOf = new WeakMap<SignedRecord, Uint8Array>()
// Bytes this process signed, so appending them does not decode and verify them again. Keyed by
// the array object and confirmed by id, because a Uint8Array can be changed after signing.
const signedHere = new WeakMap<Uint8Array, { id: RecordId, record: SignedRecord }>()
// Key ids of the `pub` strings seen: a team has few signers and each of their records carries
// the same key, so hashing it again per record is wasted. The value is a function of the key
// alone, so the cache is never wrong; it is cleared when full to stay bounded.
const keyIdOfPub = new Map<string, KeyId>()
// Canonical byte length of records signed or decoded here (known then for free): the quotas count it.
const sizeOf = new WeakMap<SignedRecord, number>()
const MAX_CACHED_KEYS = 4096

/** The `seq` and `prev` of the record that follows `head` (the signer's newest record), or of a first record. */
export function nextRecordFields (
  head: { id: RecordId, record: SignedRecord } | undefined
): { seq: number, prev: RecordId | null } {
  return head === undefined ? { seq: 1, prev: null } : { seq: head.record.seq + 1, prev: head.id }
}

// A signing key's `pub` and `signer` fields, worked out once per key.
const keyIds = new WeakMap<KeyPair, { pub: string, signer: KeyId }>()
function idsOfKey (key: KeyPair): { pub: string, signer: KeyId } {
  let ids = keyIds.get(key)
  if (ids === undefined) {
    ids = { pub: toB64u(key.publicKey), signer: keyIdOf(key.publicKey) }
    keyIds.set(key, ids)
  }
  return ids
}

/** Signs a record with `key`: the signature covers the canonical bytes of everything but `sig`. */
export function signRecord (fields: RecordFields, key: KeyPair): EncodedRecord {
  const ids = idsOfKey(key)
  // Keys in canonical (sorted) order, so canonicalString takes its JSON.stringify fast path.
  const unsigned = {
    actor: fields.actor,
    auth: { hash: fields.auth.hash, seq: fields.auth.seq },
    data: fields.data ?? null,
    delta: fields.delta ?? null,
    host: fields.host,
    kind: fields.kind,
    prev: fields.prev,
    pub: ids.pub,
    refs: fields.refs ?? [],
    seq: fields.seq,
    signer: ids.signer,
    text: fields.text,
    ts: fields.ts,
    v: 1
  }
  const unsignedText = canonicalString(unsigned)
  const sig = toB64u(sign('record', utf8(unsignedText), key))
  const signed = { ...unsigned, sig }
  // The signed record's canonical form is the unsigned one with `"sig"` inserted before
  // `"signer"`, its neighbour in sorted order: no second encoding. `,"signer":"` occurs at the top
  // level once and last (only `text`, `ts` and `v` follow, and a string cannot hold an unescaped
  // quote), so lastIndexOf finds it whatever `data` or `delta` hold.
  const at = unsignedText.lastIndexOf(',"signer":"')
  const bytes = utf8(`${unsignedText.slice(0, at)},"sig":"${sig}"${unsignedText.slice(at)}`)
  // The schema that decodes peers' records checks what we built, so a writer can never produce
  // a record its peers would refuse (the bytes are the canonical encoding of exactly this object,
  // so parsing them back would only repeat the work).
  if (bytes.length > MAX_RECORD_BYTES) throw new MalformedError(`record of ${bytes.length} bytes exceeds ${MAX_RECORD_BYTES}`)
  const id = recordIdOf(bytes)
  const record = checkShape(id, signed)
  decoded.add(record)
  verified.set(record, true)
  sizeOf.set(record, bytes.length)
  signedHere.set(bytes, { id, record })
  return { id, bytes, record }
}

/**
 * Decodes and verifies record bytes in one step: E_MALFORMED, or E_BAD_SIGNATURE naming the
 * record. Bytes from `signRecord` in this process are recognised without verifying again.
 * `idOfBytes` is `recordIdOf(bytes)` when the caller has just computed it (saves a hash).
 */
export function decodeVerified (bytes: Uint8Array, idOfBytes?: RecordId): { id: RecordId, record: SignedRecord } {
  const known = signedHere.get(bytes)
  if (known !== undefined && (idOfBytes ?? recordIdOf(bytes)) === known.id) return known
  const { id, record } = decodeRecord(bytes, idOfBytes)
  if (!verifyRecord(record)) throw badSignature(id, record)
  return { id, record }
}

function badSignature (id: RecordId, record: SignedRecord): AuraError {
  return new BadSignatureError(`record ${id} has a bad signature`, { record: id, signer: record.signer })
}

/**
 * One signature to check under the rule of `verifyRaw`: the signed message (domain tag included), signature and key.
 */
export interface SignatureCheck {
  readonly message: Uint8Array
  readonly sig: Uint8Array
  readonly pub: Uint8Array
}

/**
 * Checks many signatures, perhaps on other threads (node/verify/ has a worker pool): `add`
 * hands over each check as soon as it is known, `finish` returns every answer in `add` order.
 */
export interface SignatureBatch {
  add: (check: SignatureCheck) => void
  finish: () => boolean[]
}

/**
 * `decodeVerified` over many records, throwing the first failure it would throw. With a
 * `batch`, signatures are checked there while the records after them are still decoding; the
 * answers are kept as `verifyRecord` keeps its own. `ids[i]`, when given, is `recordIdOf(list[i])`
 * as the caller has just checked it (the staged merge checks every put's key against it).
 */
export function decodeVerifiedAll (
  list: readonly Uint8Array[],
  batch?: SignatureBatch,
  ids?: readonly RecordId[]
): Array<{ id: RecordId, record: SignedRecord }> {
  if (batch === undefined) return list.map((bytes, i) => decodeVerified(bytes, ids?.[i]))
  const out: Array<{ id: RecordId, record: SignedRecord }> = []
  const batched: number[] = []
  let failure: { at: number, err: unknown } | undefined
  for (const [i, bytes] of list.entries()) {
    const id = ids?.[i]
    const known = signedHere.get(bytes)
    if (known !== undefined && (id ?? recordIdOf(bytes)) === known.id) { out.push(known); continue }
    let next: { id: RecordId, record: SignedRecord }
    try {
      next = decodeRecord(bytes, id)
    } catch (err) {
      failure = { at: out.length, err }
      break
    }
    const message = unsignedOf.get(next.record)
    if (message === undefined) {
      if (!verifyRecord(next.record)) { failure = { at: out.length, err: badSignature(next.id, next.record) }; break }
    } else {
      batch.add({ message: signedMessage('record', message), sig: Buffer.from(next.record.sig, 'base64url'), pub: Buffer.from(next.record.pub, 'base64url') })
      batched.push(out.length)
    }
    out.push(next)
  }
  const answers = batch.finish()
  let bad: number | undefined
  batched.forEach((at, i) => {
    const { record } = out[at]
    verified.set(record, answers[i])
    unsignedOf.delete(record)
    if (!answers[i] && bad === undefined) bad = at
  })
  if (bad !== undefined && (failure === undefined || bad < failure.at)) throw badSignature(out[bad].id, out[bad].record)
  if (failure !== undefined) throw failure.err
  return out
}

/**
 * Checks in `batch` the signatures of decoded records not checked yet and keeps the answers as
 * `verifyRecord` keeps its own, so its later calls on them cost nothing (a daemon does this in
 * the background after start, on its worker pool, before the first query needs every answer).
 */
export function verifyRecordsAhead (records: readonly SignedRecord[], batch: SignatureBatch): void {
  const pending: SignedRecord[] = []
  for (const record of records) {
    const message = unsignedOf.get(record)
    if (message === undefined || verified.has(record)) continue
    batch.add({ message: signedMessage('record', message), sig: Buffer.from(record.sig, 'base64url'), pub: Buffer.from(record.pub, 'base64url') })
    pending.push(record)
  }
  const answers = batch.finish()
  pending.forEach((record, i) => {
    verified.set(record, answers[i])
    unsignedOf.delete(record)
  })
}

/**
 * Parses canonical record bytes and checks their shape and that `signer` is the key id of
 * `pub`. Throws E_MALFORMED; does not check the signature (`verifyRecord` does).
 */
export function decodeRecord (bytes: Uint8Array, idOfBytes?: RecordId): { id: RecordId, record: SignedRecord } {
  if (bytes.length > MAX_RECORD_BYTES) throw new MalformedError(`record of ${bytes.length} bytes exceeds ${MAX_RECORD_BYTES}`)
  const id = idOfBytes ?? recordIdOf(bytes)
  const record = checkShape(id, parseCanonical(bytes))
  decoded.add(record)
  sizeOf.set(record, bytes.length)
  const unsigned = cutSignature(bytes, record)
  if (unsigned !== undefined) unsignedOf.set(record, unsigned)
  return { id, record }
}

// The schema, canonical base64url `sig`, and `signer` being the key id of `pub`; deep-frozen.
function checkShape (id: RecordId, value: unknown): SignedRecord {
  let shaped = shapeOf(value)
  if (shaped === undefined) {
    // The schema names what is wrong (and is the definition shapeOf follows).
    const parsed = recordShape.safeParse(value)
    if (parsed.success) shaped = parsed.data as unknown as SignedRecord
    else {
      const issue = parsed.error.issues[0]
      throw new MalformedError(`record ${id.slice(0, 12)} is malformed: ${issue.path.join('.') || '(root)'}: ${issue.message}`, { record: id })
    }
  }
  const record = deepFreeze(shaped)
  fromB64u(record.sig)
  if (signerOf(record.pub) !== record.signer) throw new MalformedError(`record ${id.slice(0, 12)}: signer is not the key id of pub`, { record: id })
  return record
}

const RECORD_KEYS = 15
const HEX64 = /^[0-9a-f]{64}$/
const B64U = /^[A-Za-z0-9_-]+$/
const KINDS: ReadonlySet<unknown> = new Set(RECORD_KINDS)

/**
 * `recordShape` by hand, without zod's copy (the hot path of every append and every record a
 * peer sends): the record in the schema's key order, or undefined when the schema would refuse
 * it (the caller then asks the schema why). test/crdt/record.test.ts checks the two agree.
 */
export function shapeOf (value: unknown): SignedRecord | undefined {
  if (!isPlainObject(value)) return undefined
  const o = value as Record<string, unknown>
  if (Object.keys(o).length !== RECORD_KEYS) return undefined
  const { v, kind, signer, pub, actor, host, seq, prev, ts, auth, text, delta, data, refs, sig } = o
  if (v !== 1 || !KINDS.has(kind) || !isHex64(signer)) return undefined
  if (typeof pub !== 'string' || pub.length !== 43 || !B64U.test(pub)) return undefined
  if (typeof actor !== 'string' || actor.length < 1 || actor.length > 256) return undefined
  if (typeof host !== 'string' || host.length > 256) return undefined
  if (!isCount(seq) || seq < 1 || (prev !== null && !isHex64(prev)) || !isCount(ts)) return undefined
  if (!isPlainObject(auth) || Object.keys(auth).length !== 2) return undefined
  const { seq: authSeq, hash: authHash } = auth as Record<string, unknown>
  if (!isCount(authSeq) || !isHex64(authHash)) return undefined
  if (typeof text !== 'string' || !isJson(delta) || !isJson(data)) return undefined
  if (!Array.isArray(refs) || refs.length > 1024 || !refs.every(isHex64)) return undefined
  if (typeof sig !== 'string' || sig.length !== 86 || !B64U.test(sig)) return undefined
  if (seq === 1 && prev !== null) return undefined
  return {
    v,
    kind,
    signer,
    pub,
    actor,
    host,
    seq,
    prev,
    ts,
    auth: { seq: authSeq, hash: authHash },
    text,
    delta,
    data,
    refs,
    sig
  } as unknown as SignedRecord
}

function isPlainObject (v: unknown): v is object {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

function isHex64 (v: unknown): v is string {
  return typeof v === 'string' && v.length === 64 && HEX64.test(v)
}

function isCount (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

// What z.json() accepts: null, booleans, finite numbers, strings, and arrays and plain objects of those.
function isJson (v: unknown, depth = 0): boolean {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return true
  if (typeof v === 'number') return Number.isFinite(v)
  if (depth > 1000) return false
  if (Array.isArray(v)) return v.every((x) => isJson(x, depth + 1))
  if (!isPlainObject(v)) return false
  return Object.values(v).every((x) => isJson(x, depth + 1))
}

/** Whether the record's signature verifies under its own `pub` (memoised per decoded record). */
export function verifyRecord (record: SignedRecord): boolean {
  const known = verified.get(record)
  if (known !== undefined) return known
  let ok: boolean
  const message = unsignedOf.get(record)
  if (message !== undefined) {
    // Decoded here: `pub` and `sig` are canonical base64url and `signer` is the key id of `pub`.
    ok = verify('record', message, Buffer.from(record.sig, 'base64url'), Buffer.from(record.pub, 'base64url'))
  } else {
    try {
      const pub = fromB64u(record.pub)
      const { sig, ...unsigned } = record
      ok = keyIdOf(pub) === record.signer && verify('record', canonicalBytes(unsigned), fromB64u(sig), pub)
    } catch {
      ok = false
    }
  }
  if (decoded.has(record)) { verified.set(record, ok); unsignedOf.delete(record) }
  return ok
}

// The key id of a base64url public key; E_MALFORMED unless it is canonical base64url.
function signerOf (pub: string): KeyId {
  let id = keyIdOfPub.get(pub)
  if (id === undefined) {
    id = keyIdOf(fromB64u(pub))
    if (keyIdOfPub.size >= MAX_CACHED_KEYS) keyIdOfPub.clear()
    keyIdOfPub.set(pub, id)
  }
  return id
}

const SIG_OPEN = utf8(',"sig":"')
const SIG_CLOSE = utf8('","signer":"')

/**
 * The canonical bytes of a record without `sig`, cut from its canonical bytes. RFC 8785 sorts
 * members and the schema fixes them, so the top-level `sig` member is followed only by `signer`
 * (hex), `text` (a string: every quote inside it is escaped), `ts` and `v`. Its `,"sig":"` is
 * therefore the last in the bytes, however `data` or `delta` might spell one. The cut is
 * confirmed against the parsed `sig` and `signer`; a mismatch (never expected) means
 * re-encoding instead.
 */
function cutSignature (bytes: Uint8Array, record: SignedRecord): Uint8Array | undefined {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const at = buf.lastIndexOf(SIG_OPEN)
  const end = at + SIG_OPEN.length + record.sig.length
  if (at < 1 || buf.toString('latin1', at + SIG_OPEN.length, end) !== record.sig || !bytesAt(bytes, end, SIG_CLOSE)) return undefined
  if (buf.toString('latin1', end + SIG_CLOSE.length, end + SIG_CLOSE.length + record.signer.length) !== record.signer) return undefined
  const out = new Uint8Array(bytes.length - (end + 1 - at))
  out.set(bytes.subarray(0, at))
  out.set(bytes.subarray(end + 1), at)
  return out
}

function bytesAt (bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false
  return true
}

/**
 * An upper bound of the canonical size of the record `fields` will sign to, whatever its seq,
 * prev and ts (each at its longest): what the write gate checks before the writer signs.
 */
export function signedSizeBound (fields: Omit<RecordFields, 'seq' | 'prev' | 'ts'>): number {
  return canonicalBytes({
    actor: fields.actor,
    auth: { hash: fields.auth.hash, seq: fields.auth.seq },
    data: fields.data ?? null,
    delta: fields.delta ?? null,
    host: fields.host,
    kind: fields.kind,
    prev: 'f'.repeat(64),
    pub: 'A'.repeat(43),
    refs: fields.refs ?? [],
    seq: Number.MAX_SAFE_INTEGER,
    sig: 'A'.repeat(86),
    signer: 'f'.repeat(64),
    text: fields.text,
    ts: Number.MAX_SAFE_INTEGER,
    v: 1
  }).length
}

/** The length of a record's canonical bytes (remembered for records signed or decoded here). */
export function recordSize (record: SignedRecord): number {
  let size = sizeOf.get(record)
  if (size === undefined) {
    size = canonicalBytes(record).length
    if (Object.isFrozen(record)) sizeOf.set(record, size)
  }
  return size
}

/** The id of canonical record bytes: their hex SHA-256. */
export function recordIdOf (bytes: Uint8Array): RecordId {
  return sha256Hex(bytes) as RecordId
}
