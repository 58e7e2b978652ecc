/**
 * Staging for the intent log's sync: read what an incoming Automerge sync message would apply,
 * without applying it. Each entry of a sync message is one or more concatenated chunks (the
 * Automerge binary format: magic, checksum, type, uLEB128 length, body): change chunks are
 * decoded directly and must pass `recordPuts`; a document chunk (Automerge sends one when a
 * peer is missing more than a few changes) is loaded into a separate document and must pass
 * `documentPuts`, or else every change in its history must pass `recordPuts`.
 *
 * `ChangeIndex` remembers which change each (actor, seq) pair names: a second, different change
 * for a pair the live document already holds would make Automerge throw "duplicate seq" on
 * every later sync, so such a change is refused up front. Actors are bound to their writers'
 * keys (crdt/change-auth.ts), so only a writer can fork its own actor.
 *
 * @example
 * const { changes, puts } = stageSyncMessage(msg, actor) // E_MALFORMED on anything but record puts
 * index.status(c.actor, c.seq, c.hash)                    // 'known' | 'new' | 'fork'
 * wholeDocumentOf(msg)                            // the one document chunk, if that is all it carries
 */
import { inflateRawSync } from 'node:zlib'
import * as A from '@automerge/automerge'
import { sha256, toHex } from './canonical.js'
import { changePuts, type ChangePuts } from './change-puts.js'
import { MalformedError, QuotaError } from './errors.js'
import type { Backend } from './automerge-sync.js'
import { documentPuts, RECORDS_OBJ, recordPuts, type IntentDoc, type RecordPut } from './intent-doc.js'
import { recordIdOf } from './record.js'
import { skip, uleb, ulebBytes, type Cursor } from './leb128.js'
import { readEnvelope, replaceChanges } from './sync-envelope.js'

/** Which change a sync message carries: its hash and (actor, seq). */
export interface ChangeRef {
  readonly hash: string
  readonly actor: string
  readonly seq: number
}

/**
 * A change as its writer's signature covers it (crdt/change-auth.ts):
 * header, message, and the record ids it puts in op order.
 */
export interface StagedChange extends ChangeRef {
  readonly startOp: number
  readonly time: number
  readonly deps: string[]
  readonly message: string | null
  readonly records: string[]
  /** The change chunk it came in (uncompressed), when it came as one rather than inside a document. */
  readonly chunk?: Uint8Array
}

/** What a sync message would apply: its changes, every record they put, and any whole documents it carries. */
export interface StagedMessage {
  readonly changes: StagedChange[]
  readonly puts: RecordPut[]
  /** Whole documents the message carries, loaded (as `actor`) and checked like everything else. */
  readonly documents: Array<A.Doc<IntentDoc>>
}

/**
 * How large a change may be: one largest record (the team's `max_record_bytes`) and a change's
 * overhead. Judged on what the change puts, never on how it travelled (a change chunk or a
 * whole document), so every peer refuses the same changes (E_QUOTA): each record counts its
 * bytes and PER_RECORD_BYTES, each dependency 32 bytes, the header CHANGE_HEADER_BYTES. These
 * bound the encoded change from above, so a change within the limit also encodes within it.
 */
export function changeLimit (maxRecordBytes: number): number {
  return maxRecordBytes + CHANGE_OVERHEAD_BYTES
}

/** What a change weighs against `changeLimit`. */
export function changeSize (change: Pick<StagedChange, 'records' | 'deps'>, bytesOf: (id: string) => number): number {
  let size = CHANGE_HEADER_BYTES + 32 * change.deps.length
  for (const id of change.records) size += bytesOf(id) + PER_RECORD_BYTES
  return size
}

/** E_QUOTA for a change heavier than `changeLimit`: one wording wherever the rule is checked. */
export function changeTooHeavy (c: ChangeRef, records: number, size: number, limit: number): Error {
  return new QuotaError(`change ${c.hash.slice(0, 12)} (actor ${c.actor.slice(0, 8)}, seq ${c.seq}) weighs ${size} bytes in ${records} records; a member may sign at most ${limit} bytes per change (max_record_bytes and a change's overhead)`, { change: c.hash, limit })
}

/** What a record adds to a change beyond its bytes (its key, op and value metadata), generously. */
export const PER_RECORD_BYTES = 256
/** A change's header and signature, generously. */
export const CHANGE_HEADER_BYTES = 1024
/** The headroom above `max_record_bytes` for a change's header and dependencies. */
export const CHANGE_OVERHEAD_BYTES = 64 * 1024

/**
 * What a sync message may inflate to before any of it is decoded: a DEFLATE-compressed chunk
 * can hold a thousand times its size (30 records of 4 MiB of one letter arrive as ~135 KB), and
 * decoding is where memory goes. Checked chunk by chunk, inflating with a cap, before Automerge
 * sees anything: E_QUOTA. A memory guard only, set well above `changeLimit` (which decides).
 */
export interface InflateBudget {
  /** Largest change chunk, uncompressed. */
  readonly changeBytes: number
  /** `changeLimit`: a decoded change that weighs more is refused before the next is read. */
  readonly changeLimit: number
  /** Largest total a message's chunks may inflate to: this floor, or `ratio` times the message's own size. */
  readonly messageFloorBytes: number
  readonly ratio: number
}

/** The budget for `maxRecordBytes` (the team's `max_record_bytes`). */
export function inflateBudget (maxRecordBytes: number): InflateBudget {
  return {
    changeBytes: 4 * changeLimit(maxRecordBytes),
    changeLimit: changeLimit(maxRecordBytes),
    messageFloorBytes: 64 * 1024 * 1024,
    ratio: 16
  }
}

/**
 * Reads a sync message without applying it; E_MALFORMED if any change is not pure record puts,
 * E_QUOTA if a chunk inflates past `budget`. Whole documents are loaded writing as `actor`, so
 * the caller may adopt one. A change chunk whose hash `held` knows (the log applied it already:
 * a copy pushed by another neighbour) is left out unread; Automerge ignores it too.
 */
export function stageSyncMessage (
  message: Uint8Array,
  actor: string,
  held: (hash: string) => boolean = () => false,
  budget: InflateBudget = inflateBudget(4 * 1024 * 1024)
): StagedMessage {
  let entries: Uint8Array[]
  try {
    // The envelope alone first: Automerge's decoder copies every entry out.
    entries = readEnvelope(message)?.changes ?? A.decodeSyncMessage(message).changes
  } catch (err) {
    throw new MalformedError(`not an Automerge sync message: ${(err as Error).message}`)
  }
  let left = Math.max(budget.messageFloorBytes, budget.ratio * message.length)
  const changes = new Map<string, StagedChange>()
  const puts = new Map<string, RecordPut>()
  const documents: Array<A.Doc<IntentDoc>> = []
  const addChange = (c: A.ChangeMetadata | A.DecodedChange, records: string[], chunk?: Uint8Array): void => {
    if (!changes.has(c.hash)) {
      changes.set(
        c.hash,
        chunk === undefined ? stagedChange(c, records) : { ...stagedChange(c, records), chunk }
      )
    }
  }
  const addDecoded = (decoded: A.DecodedChange, chunk?: Uint8Array): void => {
    if (changes.has(decoded.hash)) return
    const own = recordPuts(decoded)
    const sizes = new Map(own.map((p) => [p.id as string, p.bytes.length]))
    const size = changeSize({ records: own.map((p) => p.id), deps: decoded.deps }, (id) => sizes.get(id) ?? 0)
    if (size > budget.changeLimit) throw changeTooHeavy(decoded, own.length, size, budget.changeLimit)
    for (const p of own) puts.set(p.id, p)
    addChange(decoded, own.map((p) => p.id), chunk)
  }
  // A change read from its columns (change-puts.ts), its puts checked as `recordPuts` does;
  // false when the caller must read it with Automerge instead.
  const addFast = (fast: ChangePuts, chunk: Uint8Array): boolean => {
    if (changes.has(fast.hash)) return true
    if (fast.puts.some((p) => recordIdOf(p.bytes) !== p.id)) return false
    const sizes = new Map(fast.puts.map((p) => [p.id, p.bytes.length]))
    const size = changeSize({ records: fast.puts.map((p) => p.id), deps: fast.deps }, (id) => sizes.get(id) ?? 0)
    if (size > budget.changeLimit) throw changeTooHeavy(fast, fast.puts.length, size, budget.changeLimit)
    for (const p of fast.puts) puts.set(p.id, p as RecordPut)
    changes.set(fast.hash, { ...stagedChange(fast, fast.puts.map((p) => p.id)), chunk })
    return true
  }
  for (const entry of entries) {
    for (const chunk of splitChunks(entry)) {
      if (chunk.type !== DOCUMENT_CHUNK) {
        const plain = inflatedChange(chunk, Math.min(budget.changeBytes, left))
        left -= plain.length
        const fast = changePuts(plain)
        if (held(fast?.hash ?? changeHashOf(plain))) continue
        if (fast === undefined || !addFast(fast, plain)) addDecoded(decodeChangeChunk(plain), plain)
        continue
      }
      const bytes = chunk.bytes
      left -= documentInflatedBytes(bytes, left)
      const doc = loadDocument(bytes, actor)
      documents.push(doc)
      const metas = A.getChangesMetaSince(doc, [])
      const fast = documentPuts(A.getBackend(doc), metas, { chunk: bytes, values: doc.records })
      if (fast === undefined) {
        // Not provably pure puts from the state alone (or honestly conflicting duplicate puts):
        // read every change, which also names the offending op.
        for (const change of A.getAllChanges(doc)) addDecoded(A.decodeChange(change))
        continue
      }
      for (const p of fast) puts.set(p.id, p)
      const records = recordsByChange(A.getBackend(doc), metas, fast)
      for (const m of metas) addChange(m, records.get(m.hash) ?? [])
    }
  }
  return { changes: [...changes.values()], puts: [...puts.values()], documents }
}

/**
 * The document chunk of a sync message that carries exactly one whole document and nothing
 * else: what a peer sends to a log that holds only genesis. Undefined for anything else,
 * including what does not decode.
 */
export function wholeDocumentOf (message: Uint8Array): Uint8Array | undefined {
  try {
    // The envelope alone: Automerge's decoder would copy the whole document out.
    const entries = readEnvelope(message)?.changes
    if (entries?.length !== 1) return undefined
    const chunks = splitChunks(entries[0])
    return chunks.length === 1 && chunks[0].type === DOCUMENT_CHUNK ? chunks[0].bytes : undefined
  } catch {
    return undefined
  }
}

/** Which change each (actor, seq) pair of a document names. */
export class ChangeIndex {
  private readonly byActor = new Map<string, Map<number, string>>()
  private readonly maxSeq = new Map<string, number>()

  /** The index of everything `doc` holds. */
  static of (doc: A.Doc<IntentDoc>): ChangeIndex {
    const index = new ChangeIndex()
    for (const meta of A.getChangesMetaSince(doc, [])) index.add(meta.actor, meta.seq, meta.hash)
    return index
  }

  /** Records that (actor, seq) names the change `hash`. */
  add (actor: string, seq: number, hash: string): void {
    let seqs = this.byActor.get(actor)
    if (seqs === undefined) { seqs = new Map(); this.byActor.set(actor, seqs) }
    seqs.set(seq, hash)
    if (seq > (this.maxSeq.get(actor) ?? 0)) this.maxSeq.set(actor, seq)
  }

  /** 'known': held already; 'fork': another change holds this (actor, seq); 'new' otherwise. */
  status (actor: string, seq: number, hash: string): 'known' | 'new' | 'fork' {
    const held = this.byActor.get(actor)?.get(seq)
    if (held === undefined) return 'new'
    return held === hash ? 'known' : 'fork'
  }

  /** The highest seq held for `actor` (0 if none). */
  lastSeq (actor: string): number {
    return this.maxSeq.get(actor) ?? 0
  }

  /** The change held for (actor, seq), if any. */
  held (actor: string, seq: number): string | undefined {
    return this.byActor.get(actor)?.get(seq)
  }
}

const MAGIC = [0x85, 0x6f, 0x4a, 0x83]
/** Chunk types: a whole document, a change, a deflate-compressed change. */
export const DOCUMENT_CHUNK = 0
export const CHANGE_CHUNK = 1
export const COMPRESSED_CHANGE_CHUNK = 2
const CHANGE_CHUNKS = new Set([CHANGE_CHUNK, COMPRESSED_CHANGE_CHUNK])

/** One Automerge chunk of a sync message entry: its type, its bytes and where it starts. */
export interface Chunk {
  readonly type: number
  readonly bytes: Uint8Array
  readonly at: number
}

/** Splits concatenated chunks by their headers; E_MALFORMED on anything that is not one. */
export function splitChunks (bytes: Uint8Array): Chunk[] {
  const out: Chunk[] = []
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < 10 || MAGIC.some((m, i) => bytes[at + i] !== m)) throw new MalformedError(`sync message entry is not an Automerge chunk at byte ${at}`)
    const type = bytes[at + 8]
    if (type !== DOCUMENT_CHUNK && !CHANGE_CHUNKS.has(type)) throw new MalformedError(`unknown Automerge chunk type ${type}`)
    const c: Cursor = { d: bytes, at: at + 9, end: bytes.length }
    let length: number
    try {
      length = uleb(c)
    } catch {
      throw new MalformedError('bad chunk length in Automerge chunk header')
    }
    const next = c.at
    const end = next + length
    if (end > bytes.length) throw new MalformedError('truncated Automerge chunk')
    out.push({ type, bytes: bytes.subarray(at, end), at })
    at = end
  }
  return out
}

/**
 * A change chunk uncompressed, refused (E_QUOTA) if it would pass `max` bytes: a compressed
 * chunk is inflated with that cap and rebuilt as the plain chunk it stands for (same hash).
 */
export function inflatedChange (chunk: Chunk, max: number): Uint8Array {
  if (chunk.type === CHANGE_CHUNK) {
    if (chunk.bytes.length > max) throw tooLarge(max)
    return chunk.bytes
  }
  const c: Cursor = { d: chunk.bytes, at: 9, end: chunk.bytes.length }
  uleb(c)
  let body: Uint8Array
  try {
    body = inflateCapped(chunk.bytes.subarray(c.at), max, max)
  } catch (err) {
    if (err instanceof QuotaError) throw err
    throw new MalformedError(`a compressed change ${(err as Error).message}`)
  }
  const head = concat([Uint8Array.of(CHANGE_CHUNK), ulebBytes(body.length)])
  const checksum = sha256(concat([head, body])).subarray(0, 4)
  const plain = concat([Uint8Array.from(MAGIC), checksum, head, body])
  if (plain.length > max) throw tooLarge(max)
  return plain
}

/**
 * What a document chunk inflates to, read from its column metadata (DEFLATE'd columns are
 * inflated with a cap): E_QUOTA past `max`. A chunk this cannot read is left to Automerge's
 * loader to refuse.
 */
export function documentInflatedBytes (chunk: Uint8Array, max: number): number {
  try {
    const head: Cursor = { d: chunk, at: 9, end: chunk.length }
    const length = uleb(head)
    const c: Cursor = { d: chunk, at: head.at, end: Math.min(chunk.length, head.at + length) }
    const actors = uleb(c)
    for (let i = 0; i < actors; i++) skip(c, uleb(c))
    skip(c, 32 * uleb(c))
    const columns: Array<{ spec: number, length: number }> = []
    for (let group = 0; group < 2; group++) {
      const n = uleb(c)
      for (let i = 0; i < n; i++) columns.push({ spec: uleb(c), length: uleb(c) })
    }
    let total = chunk.length
    for (const col of columns) {
      const data = chunk.subarray(c.at, c.at + col.length)
      skip(c, col.length)
      if ((col.spec & DEFLATE_BIT) === 0) continue
      total += inflateCapped(data, max - total + 1, max).length
      if (total > max) throw tooLarge(max)
    }
    return total
  } catch (err) {
    if (err instanceof QuotaError) throw err
    return chunk.length
  }
}

// Raw DEFLATE with a cap on what it writes: E_QUOTA past it, a RangeError for bad data.
function inflateCapped (data: Uint8Array, cap: number, max: number): Uint8Array {
  try {
    return inflateRawSync(data, { maxOutputLength: Math.max(1, cap) })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(max)
    throw new RangeError(`does not inflate: ${(err as Error).message}`)
  }
}

const DEFLATE_BIT = 0x08

function tooLarge (max: number): Error {
  return new QuotaError(`a sync message carries a change or document that inflates past ${max} bytes: refused unread (a member may sign at most max_record_bytes per change, and writers split changes to stay under it)`, { limit: max })
}

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** The hash of an uncompressed change chunk: SHA-256 of everything after magic and checksum. */
export function changeHashOf (chunk: Uint8Array): string {
  return toHex(sha256(chunk.subarray(8)))
}

function decodeChangeChunk (bytes: Uint8Array): A.DecodedChange {
  try {
    return A.decodeChange(bytes)
  } catch (err) {
    throw new MalformedError(`sync message carries a change that does not decode: ${(err as Error).message}`)
  }
}

function loadDocument (bytes: Uint8Array, actor: string): A.Doc<IntentDoc> {
  try {
    return A.load<IntentDoc>(bytes, { actor })
  } catch (err) {
    throw new MalformedError(`sync message carries a document that does not load: ${(err as Error).message}`)
  }
}

/** The staged form of a change read from a chunk or from a document's metadata. */
export function stagedChange (c: A.ChangeMetadata | A.DecodedChange | ChangePuts, records: string[]): StagedChange {
  return {
    hash: c.hash,
    actor: c.actor,
    seq: c.seq,
    startOp: c.startOp,
    time: c.time,
    deps: [...c.deps],
    message: c.message ?? null,
    records
  }
}

/**
 * The record ids each change of a document puts, in op order, from the op id of each visible
 * value (`documentPuts` proved every value is the one op that put it). A change owns the op
 * counters from its startOp to its maxOp under its actor.
 */
export function recordsByChange (
  backend: Backend,
  metas: readonly A.ChangeMetadata[],
  puts: readonly RecordPut[]
): Map<string, string[]> {
  const byActor = new Map<string, A.ChangeMetadata[]>()
  for (const m of metas) {
    let list = byActor.get(m.actor)
    if (list === undefined) { list = []; byActor.set(m.actor, list) }
    list.push(m)
  }
  for (const list of byActor.values()) list.sort((a, b) => a.startOp - b.startOp)
  const found = new Map<string, Array<{ ctr: number, id: string }>>()
  for (const { id } of puts) {
    const all = backend.getAll(RECORDS_OBJ, id)
    if (all.length !== 1) throw new MalformedError(`record ${id.slice(0, 12)} is put more than once in a document`, { record: id })
    const opId = String(all[0][2])
    const at = opId.indexOf('@')
    const ctr = Number(opId.slice(0, at))
    const change = changeOfOp(byActor.get(opId.slice(at + 1)) ?? [], ctr)
    if (change === undefined) throw new MalformedError(`record ${id.slice(0, 12)} belongs to no change of the document`, { record: id })
    let list = found.get(change.hash)
    if (list === undefined) { list = []; found.set(change.hash, list) }
    list.push({ ctr, id })
  }
  const out = new Map<string, string[]>()
  for (const [hash, list] of found) out.set(hash, list.sort((a, b) => a.ctr - b.ctr).map((r) => r.id))
  return out
}

// The change of one actor (sorted by startOp) whose op counters hold `ctr`.
function changeOfOp (list: readonly A.ChangeMetadata[], ctr: number): A.ChangeMetadata | undefined {
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const m = list[mid]
    if (ctr < m.startOp) hi = mid - 1
    else if (ctr > m.maxOp) lo = mid + 1
    else return m
  }
  return undefined
}

/**
 * A message carrying at most `max` bytes of changes (at least one change), and the hashes of
 * the changes left out; undefined when it is sent as it is (within `max`, or not a list of
 * plain change chunks whose kept prefix needs none of those left out). The receiver's staged
 * merge is synchronous and costs about a millisecond per record: a flood pushed in one message
 * would hold a peer's event loop for seconds. Left out, the changes are not marked sent, so
 * Automerge offers them in the next message, once the peer has answered this one.
 */
export function capChanges (
  message: Uint8Array,
  max: number
): { message: Uint8Array, left: PendingChange[] } | undefined {
  const env = readEnvelope(message)
  if (env === null || env.changesEnd - env.changesAt <= max || env.changes.length < 2) return undefined
  const keep: Uint8Array[] = []
  const left: PendingChange[] = []
  let bytes = 0
  const needed = new Set<string>()
  for (const entry of env.changes) {
    const head = plainChangeHead(entry)
    if (head === undefined) return undefined
    if (left.length === 0 && (keep.length === 0 || bytes + entry.length <= max)) {
      keep.push(entry)
      bytes += entry.length
      for (const d of head.deps) needed.add(d)
    } else {
      left.push({ hash: head.hash, bytes: entry.length })
    }
  }
  if (left.some((c) => needed.has(c.hash))) return undefined
  return { message: replaceChanges(message, env, keep), left }
}

/** A change left out of a capped message, still to send: its hash and size. */
export interface PendingChange {
  readonly hash: string
  readonly bytes: number
}

/** What is left of `pending` once its first changes within `max` bytes (at least one) are sent. */
export function nextSlice (pending: readonly PendingChange[], max: number): { rest: PendingChange[] } {
  let bytes = 0
  let n = 0
  while (n < pending.length && (n === 0 || bytes + pending[n].bytes <= max)) bytes += pending[n++].bytes
  return { rest: pending.slice(n) }
}

// The hash and dependencies of an entry that is one plain change chunk; undefined otherwise.
function plainChangeHead (entry: Uint8Array): { hash: string, deps: string[] } | undefined {
  try {
    const chunks = splitChunks(entry)
    if (chunks.length !== 1 || chunks[0].type !== CHANGE_CHUNK) return undefined
    const c: Cursor = { d: entry, at: 9, end: entry.length }
    uleb(c)
    const count = uleb(c)
    if (c.at + 32 * count > entry.length) return undefined
    const deps: string[] = []
    for (let i = 0; i < count; i++) deps.push(toHex(entry.subarray(c.at + 32 * i, c.at + 32 * (i + 1))))
    return { hash: changeHashOf(entry), deps }
  } catch {
    return undefined
  }
}

/**
 * Most bytes of changes in one sync message (`capChanges`): ~400 small records, or one larger
 * change. At 512 KiB a slice cost a receiver ~0.7-2 s on a loaded 2-core machine, and with
 * slices from four peers queued `aura status` waited up to 10 s.
 */
export const MAX_MESSAGE_CHANGE_BYTES = 128 * 1024
