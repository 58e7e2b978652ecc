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
import * as A from '@automerge/automerge'
import { sha256, toHex } from './canonical.js'
import { MalformedError } from './errors.js'
import type { Backend } from './automerge-sync.js'
import { documentPuts, RECORDS_OBJ, recordPuts, type IntentDoc, type RecordPut } from './intent-doc.js'
import { uleb, type Cursor } from './leb128.js'
import { readEnvelope } from './sync-envelope.js'

/** Which change a sync message carries: its hash and (actor, seq). */
export interface ChangeRef {
  readonly hash: string
  readonly actor: string
  readonly seq: number
}

/** A change as its writer's signature covers it (crdt/change-auth.ts): header, message, and the record ids it puts in op order. */
export interface StagedChange extends ChangeRef {
  readonly startOp: number
  readonly time: number
  readonly deps: string[]
  readonly message: string | null
  readonly records: string[]
}

/** What a sync message would apply: its changes, every record they put, and any whole documents it carries. */
export interface StagedMessage {
  readonly changes: StagedChange[]
  readonly puts: RecordPut[]
  /** Whole documents the message carries, loaded (as `actor`) and checked like everything else. */
  readonly documents: Array<A.Doc<IntentDoc>>
}

/**
 * Reads a sync message without applying it; E_MALFORMED if any change is not pure record puts.
 * Whole documents are loaded writing as `actor`, so the caller may adopt one. A change chunk
 * whose hash `held` knows (the log applied it already: a copy pushed by another neighbour) is
 * left out unread; Automerge ignores it too.
 */
export function stageSyncMessage (message: Uint8Array, actor: string, held: (hash: string) => boolean = () => false): StagedMessage {
  let entries: Uint8Array[]
  try {
    entries = A.decodeSyncMessage(message).changes
  } catch (err) {
    throw new MalformedError(`not an Automerge sync message: ${(err as Error).message}`)
  }
  const changes = new Map<string, StagedChange>()
  const puts = new Map<string, RecordPut>()
  const documents: Array<A.Doc<IntentDoc>> = []
  const addChange = (c: A.ChangeMetadata | A.DecodedChange, records: string[]): void => {
    if (!changes.has(c.hash)) changes.set(c.hash, stagedChange(c, records))
  }
  const addDecoded = (decoded: A.DecodedChange): void => {
    if (changes.has(decoded.hash)) return
    const own = recordPuts(decoded)
    for (const p of own) puts.set(p.id, p)
    addChange(decoded, own.map((p) => p.id))
  }
  for (const entry of entries) {
    for (const { type, bytes } of splitChunks(entry)) {
      if (type === CHANGE_CHUNK && held(changeHashOf(bytes))) continue
      if (type !== DOCUMENT_CHUNK) { addDecoded(decodeChangeChunk(bytes)); continue }
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
export function stagedChange (c: A.ChangeMetadata | A.DecodedChange, records: string[]): StagedChange {
  return { hash: c.hash, actor: c.actor, seq: c.seq, startOp: c.startOp, time: c.time, deps: [...c.deps], message: c.message ?? null, records }
}

/**
 * The record ids each change of a document puts, in op order, from the op id of each visible
 * value (`documentPuts` proved every value is the one op that put it). A change owns the op
 * counters from its startOp to its maxOp under its actor.
 */
export function recordsByChange (backend: Backend, metas: readonly A.ChangeMetadata[], puts: readonly RecordPut[]): Map<string, string[]> {
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
