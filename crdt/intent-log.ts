/**
 * The intent log: a grow-only map of signed records in an Automerge document, replicated with
 * Automerge's sync protocol through a staged merge. Nothing reaches the live document unless
 * every record it would add decodes, verifies and passes the caller's `check` (lockdown,
 * staleness); a rejected message leaves the document exactly as it was.
 *
 * Writers are authenticated (crdt/change-auth.ts): this log writes as an actor bound to the key
 * that signs its changes (`append`'s key), and accepts a change only if its writer's signature
 * covers it and every record it puts is that writer's (or one `useCarrierRule` allows). A change
 * whose dependencies are neither held nor in the same message is refused (E_MISSING_DEPS):
 * nothing ever waits in Automerge's own queue, which would stop its sync from offering what
 * this log holds to every peer.
 *
 * Actor ids and change times are passed in, so the simulator replays byte for byte. Use a fresh
 * actor suffix per process start: reusing one after a crash can reissue a (actor, seq) pair.
 *
 * @example
 * const alice = IntentLog.create('aa'.repeat(16))
 * const bob = IntentLog.create('bb'.repeat(16))
 * alice.append([signRecord(fields, aliceKey)], nowMs, aliceKey)
 * let sa = alice.initSyncState(); let sb = bob.initSyncState(); let msg
 * ;[sa, msg] = alice.generateSyncMessage(sa)
 * ;({ state: sb } = bob.receiveSyncMessage(sb, msg!, (incoming) => node.admit(incoming), nowMs))
 */
import * as A from '@automerge/automerge'
import { decodeBackendSyncState, encodeBackendSyncState, exportSyncState, importSyncState, initBackendSyncState, MESSAGE_V2, type Backend, type BackendSyncState } from './automerge-sync.js'
import { badChangeSignature, changeSignatureCheck, ownsActor, signChange, writerActor } from './change-auth.js'
import { verifyRaw, type KeyPair } from './crypto.js'
import { AuraError, BadSignatureError, ForkError, MalformedError, MissingDepsError, QuotaError } from './errors.js'
import { keyIdOf, shortId, type KeyId, type RecordId } from './ids.js'
import { documentPuts, GENESIS_HASH, genesisDoc, parseActor, RECORDS_OBJ, type IntentDoc, type RecordPut } from './intent-doc.js'
import { capChanges, ChangeIndex, changeLimit, changeSize, changeTooHeavy, documentInflatedBytes, inflateBudget, PER_RECORD_BYTES, recordsByChange, stageSyncMessage, stagedChange, wholeDocumentOf, type ChangeRef, type StagedChange, type StagedMessage, MAX_MESSAGE_CHANGE_BYTES, nextSlice, type PendingChange } from './intent-staging.js'
import { decodeRecord, decodeVerified, decodeVerifiedAll, MAX_RECORD_BYTES, recordIdOf, type SignatureBatch, type SignedRecord } from './record.js'
import { addNeeds, readEnvelope, replaceChanges, SYNC_MESSAGE_V2 } from './sync-envelope.js'

/** A record a sync message would add, decoded and verified, as handed to `check`. */
export interface IncomingRecord {
  readonly id: RecordId
  readonly bytes: Uint8Array
  readonly record: SignedRecord
}

/** Whether a change written by `writer` may carry a record signed by `signer` (default: only its own). */
export type CarrierRule = (writer: KeyId, signer: KeyId) => boolean

/**
 * Throws (E_LOCKDOWN, E_STALE, …) to refuse a batch of incoming records whole; not called when
 * a message brings none. Or returns the records it refuses one by one (E_QUOTA: each judged on
 * its own content), and the log takes the rest of a sync message: every change that carries
 * none of them and depends on none that does.
 */
export type IncomingCheck = (incoming: IncomingRecord[]) => RecordRefusal | undefined | void

/** Records refused one by one, and the error that says why (answered to the sender). */
export interface RecordRefusal {
  readonly refuse: readonly RecordId[]
  readonly error: AuraError
}

// A check whose refusal cannot be partial here (a document, a backup): throws it.
function wholly (check: IncomingCheck, incoming: IncomingRecord[]): void {
  const verdict = check(incoming)
  if (verdict !== undefined && verdict !== null) throw verdict.error
}

/** Automerge sync state for one peer (the backend's; treat as opaque, never shared between logs). */
export type SyncState = BackendSyncState

/** A grow-only, replicated set of signed records. */
export class IntentLog {
  private doc: A.Doc<IntentDoc>
  private readonly bytes = new Map<RecordId, Uint8Array>()
  private readonly decoded = new Map<RecordId, SignedRecord>()
  private index: ChangeIndex | undefined
  private persisted: A.Heads
  private actor: string
  // Genesis only, as created, and no change received yet.
  private pristine: boolean
  private batches: (() => SignatureBatch) | undefined
  private carries: CarrierRule = (writer, signer) => writer === signer
  // Records held but in no change of the document: those of changes dropped when a stored
  // document was rebuilt (unsigned changes of an older version). Kept and shown; their writers
  // offer them again in signed changes.
  private readonly orphans = new Set<RecordId>()
  // The whole document a pristine log received, with the heads it produced.
  private received: { document: Uint8Array, heads: A.Heads } | undefined
  private maxWholeDocument = WHOLE_DOCUMENT_MAX_BYTES
  private maxMessageBytes = MAX_MESSAGE_CHANGE_BYTES
  // Per sync state: the changes a capped message left out, in order (see generateSyncMessage).
  private readonly pending = new WeakMap<SyncState, PendingChange[]>()
  private wholeDocuments = false
  private maxRecordBytes = MAX_RECORD_BYTES
  /**
   * Changes a refused message lacked (E_MISSING_DEPS: its missing dependencies; not the refused
   * changes themselves, whose hashes a damaged message can invent), asked for in the `need` of the next NEED_SENDS
   * messages: Automerge would have queued the change and asked by itself; a bloom filter's false positive (the sender
   * wrongly thinks we hold the dependency) otherwise repeats on every resync. Bounded.
   */
  private readonly needs = new Map<string, number>()
  // The whole document as this log saved it without DEFLATE and, once asked for, every change
  // hash, at the heads it was saved at (document null: too large to send so); dropped when the
  // heads move. See wholeDocumentMessage.
  private snapshotMemo: { heads: string, document: Uint8Array | null, sent?: Record<string, true> } | undefined

  private constructor (doc: A.Doc<IntentDoc>, pristine: boolean) {
    this.doc = doc
    this.persisted = pristine ? [] : A.getHeads(doc)
    this.actor = A.getActorId(doc)
    this.pristine = pristine
    for (const [id, value] of Object.entries(doc.records)) {
      if (value instanceof Uint8Array) this.bytes.set(id as RecordId, value)
    }
  }

  /** An empty log (genesis only) writing as `actorHex`. */
  static create (actorHex: string): IntentLog {
    return new IntentLog(genesisDoc(actorHex), true)
  }

  /** A log from `save()` output, optionally followed by `saveIncremental()` chunks. */
  static load (data: Uint8Array, actorHex: string): IntentLog {
    if (data.length === 0) return IntentLog.create(actorHex)
    let doc: A.Doc<IntentDoc>
    try {
      doc = A.load<IntentDoc>(data, { actor: parseActor(actorHex) })
    } catch (err) {
      if (err instanceof MalformedError) throw err
      throw new MalformedError(`intent log data does not load: ${(err as Error).message}`)
    }
    if (A.getObjectId(doc, 'records') !== RECORDS_OBJ) throw new MalformedError('intent log data lacks the genesis records map')
    const log = new IntentLog(doc, false)
    log.healOnLoad()
    return log
  }

  /**
   * Stored data may hold what this version never lets in: changes Automerge queued for deps
   * that never came (older versions let them in, and Automerge saves its queue), and unsigned
   * changes of older versions. The document is then rebuilt from the signed changes it applied
   * (dependencies first), which leaves both behind; the records of the changes left out stay
   * held, as orphans (`orphaned()`), until their writers offer them again in signed changes.
   * Signatures are not checked again here: every stored change was checked when it arrived.
   */
  private healOnLoad (): void {
    const backend = A.getBackend(this.doc)
    const metas = backend.getChangesMeta([])
    const queued = backend.getMissingDeps([]).length > 0
    const unsigned = metas.some((m) => m.hash !== GENESIS_HASH && m.message === null)
    if (!queued && !unsigned) {
      // Read anyway: the index of (actor, seq) is built from them, once.
      const index = new ChangeIndex()
      for (const m of metas) index.add(m.actor, m.seq, m.hash)
      this.index = index
      return
    }
    const rebuilt = genesisDoc(this.actor)
    const kept = new Set([GENESIS_HASH])
    const changes: Uint8Array[] = []
    // getChanges lists what the document applied, dependencies first; the queue is not in it.
    for (const change of backend.getChanges([])) {
      const meta = A.decodeChange(change)
      if (meta.hash === GENESIS_HASH || meta.message === null || !meta.deps.every((d) => kept.has(d))) continue
      kept.add(meta.hash)
      changes.push(change)
    }
    A.getBackend(rebuilt).applyChanges(changes)
    const visible = A.getBackend(rebuilt)
    for (const id of this.bytes.keys()) if (visible.getWithType(RECORDS_OBJ, id) === null) this.orphans.add(id)
    this.doc = rebuilt
    // Nothing of the rebuilt document is on disk as such: the next save writes all of it.
    this.persisted = []
  }

  /**
   * Another holder of this writer's key took this log's actor at `fromSeq` (a peer refused our
   * change there, E_FORK): the actor is given up. The document is rebuilt without this actor's
   * changes from `fromSeq` on and everything that depends on them, writing from now on as the
   * same writer with `suffixHex` (a new life); the records they carried stay held as orphans,
   * for the writer to offer again in a change of the new actor (records are the truth; Automerge
   * is transport). Returns the orphaned record ids.
   */
  leaveActor (fromSeq: number, suffixHex: string): RecordId[] {
    const old = this.actor
    const backend = A.getBackend(this.doc)
    const actor = writerActor(old.slice(0, 32) as KeyId, suffixHex)
    const rebuilt = genesisDoc(actor)
    const kept = new Set([GENESIS_HASH])
    const changes: Uint8Array[] = []
    for (const change of backend.getChanges([])) {
      const meta = A.decodeChange(change)
      if (meta.hash === GENESIS_HASH ||
        (meta.actor === old && meta.seq >= fromSeq) ||
        !meta.deps.every((d) => kept.has(d))) continue
      kept.add(meta.hash)
      changes.push(change)
    }
    A.getBackend(rebuilt).applyChanges(changes)
    const visible = A.getBackend(rebuilt)
    const orphaned: RecordId[] = []
    for (const id of this.bytes.keys()) {
      if (visible.getWithType(RECORDS_OBJ, id) !== null || this.orphans.has(id)) continue
      this.orphans.add(id)
      orphaned.push(id)
    }
    this.doc = rebuilt
    this.actor = actor
    this.index = undefined
    this.snapshotMemo = undefined
    this.persisted = []
    return orphaned
  }

  /** Records held that no change of the document carries (see `load`), in no particular order. */
  orphaned (): RecordId[] {
    return [...this.orphans]
  }

  /** Holds records kept apart from the document (a store's orphans); each must decode and verify. */
  holdOrphans (entries: ReadonlyArray<{ id: RecordId, bytes: Uint8Array }>): void {
    for (const { id, bytes } of entries) {
      if (this.bytes.has(id)) continue
      if (recordIdOf(bytes) !== id) throw new MalformedError(`record ${id.slice(0, 12)} is not the hash of its bytes`, { record: id })
      this.hold(id, bytes, decodeVerified(bytes, id).record)
      this.orphans.add(id)
    }
  }

  /** Which records, besides a writer's own, its changes may carry (the node: its agents'). */
  useCarrierRule (rule: CarrierRule): void {
    this.carries = rule
  }

  /** This log's Automerge actor: the writer key's, once `append` has written. */
  get actorId (): string {
    return this.actor
  }

  /** Number of records held. */
  get size (): number {
    return this.bytes.size
  }

  /** Whether the record `id` is held. */
  has (id: RecordId): boolean {
    return this.bytes.has(id)
  }

  /** The canonical bytes of record `id`. */
  get (id: RecordId): Uint8Array | undefined {
    return this.bytes.get(id)
  }

  /** Every record id held, in no particular order. */
  ids (): RecordId[] {
    return [...this.bytes.keys()]
  }

  /** Every record held, decoded (decoding is cached). Entries that do not decode are left out; see `unreadable`. */
  records (): Array<{ id: RecordId, record: SignedRecord }> {
    const out: Array<{ id: RecordId, record: SignedRecord }> = []
    for (const id of this.bytes.keys()) {
      const record = this.record(id)
      if (record !== undefined) out.push({ id, record })
    }
    return out
  }

  /**
   * The records held after the first `n`, in the order they were taken in (records are only ever
   * added), decoded; entries that do not decode are left out. `recordsFrom(0)` is `records()`.
   */
  * recordsFrom (n: number): Generator<{ id: RecordId, record: SignedRecord }, void, undefined> {
    let at = 0
    for (const id of this.bytes.keys()) {
      if (at++ < n) continue
      const record = this.record(id)
      if (record !== undefined) yield { id, record }
    }
  }

  /** The decoded record `id`, if held and well formed. */
  record (id: RecordId): SignedRecord | undefined {
    const cached = this.decoded.get(id)
    if (cached !== undefined) return cached
    const bytes = this.bytes.get(id)
    if (bytes === undefined) return undefined
    try {
      const { record } = decodeRecord(bytes)
      this.decoded.set(id, record)
      return record
    } catch {
      return undefined
    }
  }

  /** Ids whose stored bytes do not decode: only possible if storage was damaged. */
  unreadable (): RecordId[] {
    return this.ids().filter((id) => this.record(id) === undefined)
  }

  /**
   * Adds records in ONE Automerge change (group commit) written and signed by `key`, skipping
   * ids the document holds. Each must decode and verify and be `key`'s (or one the carrier rule
   * allows): peers refuse a change with a bad or foreign record, and every later change of ours
   * depends on it, so one bad record would stop this log from ever syncing again. The change's
   * signature covers its header as it will be committed (seq, startOp, deps = the heads now),
   * and that is checked once committed.
   */
  append (entries: ReadonlyArray<{ id: RecordId, bytes: Uint8Array }>, timeMs: number, key: KeyPair): void {
    // Receivers refuse a change larger than one largest record and a change's overhead
    // (intent-staging.ts changeLimit): a batch goes out as as many changes as that takes, each
    // counted as receivers count it, leaving the overhead's room for the header and deps.
    let batch: Array<{ id: RecordId, bytes: Uint8Array }> = []
    let size = 0
    for (const e of entries) {
      const cost = e.bytes.length + PER_RECORD_BYTES
      if (batch.length > 0 && size + cost > this.maxRecordBytes) {
        this.appendChange(batch, timeMs, key)
        batch = []
        size = 0
      }
      batch.push(e)
      size += cost
    }
    if (batch.length > 0) this.appendChange(batch, timeMs, key)
  }

  private appendChange (
    entries: ReadonlyArray<{ id: RecordId, bytes: Uint8Array }>,
    timeMs: number,
    key: KeyPair
  ): void {
    const writer = keyIdOf(key.publicKey)
    const fresh = new Map<RecordId, IncomingRecord>()
    for (const { id, bytes } of entries) {
      if ((this.bytes.has(id) && !this.orphans.has(id)) || fresh.has(id)) continue
      if (recordIdOf(bytes) !== id) throw new MalformedError(`record id ${id.slice(0, 12)} is not the hash of its bytes`, { record: id })
      const record = decodeVerified(bytes, id).record
      if (!this.carries(writer, record.signer)) throw new MalformedError(`record ${id.slice(0, 12)} is signed by ${shortId(record.signer)}, which ${shortId(writer)} does not write for`, { record: id })
      fresh.set(id, { id, bytes, record })
    }
    if (fresh.size === 0) return
    this.bindTo(writer)
    // Written through the document's backend, not `A.change`: the JS view of the document would
    // copy the whole records map on every change (milliseconds per append at 10,000 records),
    // and nothing reads records from that view (this class holds them in `bytes`). The view
    // stays usable: Automerge reads heads, saves and sync from the backend, and the next
    // received message patches the view up to date.
    const backend = A.getBackend(this.doc)
    const index = this.changeIndex()
    const heads = backend.getHeads()
    const seq = index.lastSeq(this.actor) + 1
    // Automerge's own rule: a local change depends on the heads and on its actor's last change.
    const own = index.held(this.actor, seq - 1)
    const deps = own === undefined || heads.includes(own) ? heads : [...heads, own]
    const header = { actor: this.actor, seq, startOp: maxOpOf(backend, heads) + 1, time: changeTime(timeMs), deps }
    const ids = [...fresh.keys()]
    const message = signChange(header, ids, key)
    for (const { id, bytes } of fresh.values()) backend.put(RECORDS_OBJ, id, bytes, 'bytes')
    const hash = backend.commit(message, header.time)
    const meta = hash === null ? null : backend.getChangeMetaByHash(hash)
    // Peers would refuse a change whose signature does not cover it as committed.
    if (meta === null ||
      meta.seq !== header.seq ||
      meta.startOp !== header.startOp ||
      meta.actor !== header.actor ||
      [...meta.deps].sort().join() !== [...deps].sort().join()) {
      throw new AuraError('E_INTERNAL', `the change committed is not the one signed (deps ${JSON.stringify(meta?.deps)} for ${JSON.stringify(deps)}, actor ${meta?.actor} for ${header.actor}, seq ${meta?.seq ?? '?'} for ${header.seq}, startOp ${meta?.startOp ?? '?'} for ${header.startOp})`)
    }
    this.snapshotMemo = undefined
    this.pristine = false
    for (const { id, bytes, record } of fresh.values()) {
      this.hold(id, bytes, record)
      this.orphans.delete(id)
    }
    index.add(meta.actor, meta.seq, meta.hash)
  }

  // Writes as an actor of `writer` from now on: a document loaded or created under another
  // actor is cloned once under the writer's, keeping the suffix chosen for this life.
  private bindTo (writer: KeyId): void {
    if (ownsActor(writer, this.actor)) return
    const actor = writerActor(writer, this.actor.slice(-32))
    this.doc = A.clone(this.doc, { actor })
    this.actor = actor
  }

  /**
   * Records from outside any sync session (a backup file carried to this node): the same
   * verify-first merge as a peer's sync message, entered with bare record bytes instead of
   * Automerge changes. Every new record must decode and verify (E_MALFORMED, E_BAD_SIGNATURE
   * naming it) and the batch must pass `check` (the engine's lockdown, staleness and admission
   * rule) before anything is added; then the new records are held as orphans (see below; the
   * store persists them at its next commit). Records held already are skipped. Returns the ids
   * that became visible; the caller persists them (IntentWriter.ingest).
   */
  mergeRecords (list: readonly Uint8Array[], check: IncomingCheck): RecordId[] {
    const fresh = new Map<RecordId, Uint8Array>()
    for (const bytes of list) {
      const id = recordIdOf(bytes)
      if (!this.bytes.has(id)) fresh.set(id, bytes)
    }
    if (fresh.size === 0) return []
    const ids = [...fresh.keys()]
    const decoded = decodeVerifiedAll([...fresh.values()], fresh.size > 1 ? this.batches?.() : undefined, ids)
    const incoming = ids.map((id, i) => ({ id, bytes: fresh.get(id)!, record: decoded[i].record }))
    wholly(check, incoming)
    // Kept apart from the document, as orphans: a change carries only its writer's records (the
    // writer rule), so records of other members cannot go into one of ours. They count in the
    // view at once; this node's own (and its agents') are offered again in signed changes of its
    // own when the runtime next opens (`reofferOrphans`); others' reach peers from their writers.
    for (const { id, bytes, record } of incoming) {
      this.hold(id, bytes, record)
      this.orphans.add(id)
    }
    return ids
  }

  /** Changes since the last `save` or `saveIncremental` (or the load), to append to stored data. */
  saveIncremental (): Uint8Array {
    // Tracked here rather than by Automerge, which counts from when its document was loaded:
    // after merging into a peer's document that would silently skip what the merge brought.
    const out = A.saveSince(this.doc, this.persisted)
    this.persisted = A.getHeads(this.doc)
    this.received = undefined
    return out
  }

  /**
   * The document a pristine log received whole, if the log is still exactly that document and
   * has not been saved since: it loads to this log as it is, so it can be stored as the base
   * without `save()` re-encoding it (or `saveIncremental()` writing every change uncompressed).
   * Call `savedAs(document)` once it is stored.
   */
  receivedDocument (): Uint8Array | undefined {
    const r = this.received
    if (r === undefined) return undefined
    const heads = A.getHeads(this.doc)
    if (heads.length !== r.heads.length || heads.some((h, i) => h !== r.heads[i])) {
      this.received = undefined
      return undefined
    }
    return r.document
  }

  /** Marks the log as saved in full by `receivedDocument()`'s bytes. */
  savedAs (document: Uint8Array): void {
    if (this.received?.document !== document) throw new Error('savedAs: not the received document')
    this.persisted = this.received.heads
    this.received = undefined
  }

  /**
   * The whole document, compacted into one document chunk, with its columns left uncompressed:
   * DEFLATE is ~85% of a `save()` (at 15,000 records 0.5-0.6 s against 0.06 s without it) and
   * bought ~4x on disk, while loading either takes the same time. `load` reads both forms.
   */
  save (): Uint8Array {
    this.persisted = A.getHeads(this.doc)
    this.received = undefined
    const backend = A.getBackend(this.doc)
    const memo = this.snapshotMemo
    return memo?.document != null && memo.heads === backend.getHeads().join() ? memo.document : backend.saveNoCompress()
  }

  /**
   * Checks the signatures of incoming records in batches from `make` (node/verify/'s worker
   * pool, so they are checked beside the decoding), or on this thread when undefined.
   */
  useSignatureBatches (make: (() => SignatureBatch) | undefined): void {
    this.batches = make
  }

  /** Changes Automerge holds back for missing deps: always 0, since such changes are refused (kept to prove it). */
  get queuedChanges (): number {
    return A.getBackend(this.doc).getMissingDeps([]).length
  }

  /**
   * Largest record accepted from a sync message (the team's `max_record_bytes`, write-rules.ts),
   * checked before anything is decoded or verified: E_QUOTA. Default MAX_RECORD_BYTES.
   */
  limitRecordBytes (max: number): void {
    this.maxRecordBytes = max
  }

  /**
   * Lets Automerge send a peer that lacks a third of our changes the whole document, as other
   * Automerge implementations do (off: such a peer gets the changes, `capChanges` at a time).
   * For tests of the receiving side.
   */
  sendWholeDocuments (on: boolean): void {
    this.wholeDocuments = on
  }

  /** Most bytes of changes per sync message (default MAX_MESSAGE_CHANGE_BYTES; for tests). */
  limitMessageBytes (max: number): void {
    this.maxMessageBytes = max
  }

  /** Largest whole document sent saved without DEFLATE (default 64 MiB; for tests). */
  limitWholeDocumentBytes (max: number): void {
    this.maxWholeDocument = max
    this.snapshotMemo = undefined
  }

  private askFor (hashes: readonly string[]): void {
    for (const h of hashes) {
      if (this.needs.size >= MAX_NEEDS && !this.needs.has(h)) break
      this.needs.set(h, NEED_SENDS)
    }
  }

  /** A fresh sync state for a peer. */
  initSyncState (): SyncState {
    return initBackendSyncState()
  }

  /** What to keep of a peer's sync state between its connections (Automerge's persisted form). */
  keepSyncState (state: SyncState): Uint8Array {
    return encodeBackendSyncState(state)
  }

  /**
   * A peer's sync state resumed from `keepSyncState`: its first message says which heads the two
   * shared, so the peer sends only the changes since (without it Automerge sends a peer it shares
   * nothing with the whole document). A fresh state if the bytes do not decode.
   */
  resumeSyncState (kept: Uint8Array): SyncState {
    try {
      return decodeBackendSyncState(kept)
    } catch {
      return initBackendSyncState()
    }
  }

  /** The next message for a peer, or null when there is nothing to say. `state` is left as it was. */
  generateSyncMessage (state: SyncState): [SyncState, Uint8Array | null] {
    const backend = A.getBackend(this.doc)
    const whole = this.wholeDocumentMessage(state, backend)
    if (whole !== undefined) return whole
    const narrowed = this.wholeDocuments ? undefined : changesOnly(state)
    const next = narrowed?.probe ?? state.clone()
    // The changes this peer still lacked after the last capped message: everything past the
    // next slice counts as sent while Automerge writes this message, so it encodes only that
    // slice (encoding all of them for every slice of a 20,000-record backlog cost a second each).
    const { rest } = nextSlice(this.pending.get(state) ?? [], this.maxMessageBytes)
    // Read the state only when something is deferred: this runs for every message sent.
    const before = rest.length === 0 ? {} : exportSyncState(next).sentHashes
    const deferred = rest.map((c) => c.hash).filter((h) => !(h in before))
    setSent(next, deferred, true)
    let message = backend.generateSyncMessage(next)
    setSent(next, deferred, false)
    let left = rest
    const capped = message == null ? undefined : capChanges(message, this.maxMessageBytes)
    if (capped !== undefined) {
      message = capped.message
      setSent(next, capped.left.map((c) => c.hash), false)
      left = [...capped.left, ...rest]
    }
    const out = narrowed === undefined ? next : withCapabilities(next, narrowed.caps)
    if (left.length > 0) this.pending.set(out, left)
    return [out, message === null || message === undefined ? null : this.withNeeds(message, backend)]
  }

  // Asks, in the next few messages, for what a refused change lacked (see `needs`).
  private withNeeds (message: Uint8Array, backend: Backend): Uint8Array {
    if (this.needs.size === 0) return message
    for (const [hash, left] of [...this.needs]) {
      if (backend.getChangeMetaByHash(hash) !== null || left <= 0) this.needs.delete(hash)
      else this.needs.set(hash, left - 1)
    }
    return this.needs.size === 0 ? message : addNeeds(message, [...this.needs.keys()]) ?? message
  }

  /**
   * The first message to a peer that holds only genesis: the whole document, as Automerge sends
   * it, but saved without DEFLATE. Automerge's own message carries a compressed `save()`, redone
   * for every fresh peer (~0.33 s at 10,000 records, DEFLATE in WebAssembly); this one is saved
   * in ~0.04 s, once per heads, and the link compresses frames anyway. Automerge still writes
   * everything else: a probe of the state that counts every change as sent makes it say heads,
   * have and need with no changes, and the document takes their place. The probe is then the
   * state Automerge itself leaves after sending a whole document (every change sent, in
   * flight). Undefined: Automerge's own message (a peer that holds more than genesis or sent no
   * have, an old peer without v2 messages, a document too large).
   */
  private wholeDocumentMessage (state: SyncState, backend: Backend): [SyncState, Uint8Array] | undefined {
    if (this.bytes.size === 0) return undefined
    const shared = state.sharedHeads
    if (shared.length !== 1 || shared[0] !== GENESIS_HASH) return undefined
    const peer = exportSyncState(state)
    if (peer.theirHeads?.length !== 1 || peer.theirHeads[0] !== GENESIS_HASH) return undefined
    // Without a have, Automerge would send only the changes asked for by hash.
    if (peer.theirHave === null || peer.theirHave.length === 0) return undefined
    for (const _ in peer.sentHashes) return undefined
    const snapshot = this.snapshot(backend)
    if (snapshot.document === null) return undefined
    snapshot.sent ??= hashSet(backend.getChangesMeta([]))
    const probe = state.clone()
    // The backend's setter takes the set as an object keyed by hash, as exportSyncState shows it.
    probe.sentHashes = snapshot.sent as unknown as A.Heads
    const bare = backend.generateSyncMessage(probe)
    const env = bare == null ? null : readEnvelope(bare)
    if (bare == null || env === null || env.version !== SYNC_MESSAGE_V2 || env.changes.length !== 0) return undefined
    return [probe, replaceChanges(bare, env, [snapshot.document])]
  }

  // The document saved without DEFLATE, and every change hash, at the current heads.
  private snapshot (backend: Backend): { document: Uint8Array | null, sent?: Record<string, true> } {
    const heads = backend.getHeads().join()
    if (this.snapshotMemo?.heads !== heads) {
      const saved = backend.saveNoCompress()
      const document = saved.length <= this.maxWholeDocument ? saved : null
      this.snapshotMemo = { heads, document }
    }
    return this.snapshotMemo
  }

  /**
   * Staged merge of a peer's sync message. Reads every change the message carries, refuses the
   * whole message unless all are pure record puts whose new records decode and verify
   * (E_MALFORMED, E_BAD_SIGNATURE naming the record), each is signed by the writer that owns
   * its actor and carries only that writer's records (E_BAD_SIGNATURE), none collides with a
   * held change (E_FORK), and every dependency is held or in the message (E_MISSING_DEPS: a
   * change never waits in Automerge's queue), and `check` passes; only then applies it. Returns
   * the new sync state and the ids that became visible. `_timeMs` is accepted for symmetry with
   * `append`; receiving makes no change of ours, so it is unused.
   */
  receiveSyncMessage (
    state: SyncState,
    message: Uint8Array,
    check: IncomingCheck,
    timeMs: number
  ): { state: SyncState, added: RecordId[], refused?: AuraError } {
    const result = this.receive(state, message, check, timeMs)
    // What a capped message left out is still to send on the state that follows.
    const pending = this.pending.get(state)
    if (pending !== undefined) this.pending.set(result.state, pending)
    return result
  }

  private receive (
    state: SyncState,
    message: Uint8Array,
    check: IncomingCheck,
    _timeMs: number
  ): { state: SyncState, added: RecordId[], refused?: AuraError } {
    const whole = this.pristine ? wholeDocumentOf(message) : undefined
    if (whole !== undefined) {
      const received = this.receiveWholeDocument(state, message, whole, check)
      if (received !== undefined) return received
    }
    const live = A.getBackend(this.doc)
    let staged = stageSyncMessage(
      message,
      this.actor,
      (hash) => live.getChangeMetaByHash(hash) !== null,
      inflateBudget(this.maxRecordBytes)
    )
    let fresh = staged.changes.filter((c) => c.hash !== GENESIS_HASH && live.getChangeMetaByHash(c.hash) === null)
    const writers = this.writersOf(fresh)
    this.checkForks(fresh)
    try {
      this.checkDeps(fresh, (hash) => live.getChangeMetaByHash(hash) !== null)
    } catch (err) {
      if (err instanceof MissingDepsError) this.askFor(err.context.missing as string[] ?? [])
      throw err
    }
    this.checkChangeSizes(fresh, staged.puts)
    // Decoded, not yet verified: the carrier rule and the receipt check read only what the
    // change's writer signed for (its signature covers every record id), and what they refuse
    // is never verified. What is kept is verified below, before anything is applied.
    let incoming = this.newRecords(staged.puts, false)
    this.checkCarried(fresh, writers, incoming)
    const verdict = incoming.length > 0 ? check(incoming) ?? undefined : undefined
    let refused: AuraError | undefined
    let puts = staged.puts
    if (verdict !== undefined) {
      // Refused record by record: take every change that carries none of them and depends on
      // none that does, so what a peer holds never depends on how a sender cut its messages.
      const keep = keptChanges(fresh, verdict.refuse)
      // A change that came inside a document travels on as its own chunk.
      const chunks = keep.map(
        (c) => c.chunk ?? staged.documents.map(
          (d) => A.getBackend(d).getChangeByHash(c.hash)
        ).find((x) => x !== null && x !== undefined)
      )
      if (keep.length === 0 || chunks.some((x) => x === undefined)) throw verdict.error
      const kept = new Set(keep.flatMap((c) => c.records))
      incoming = incoming.filter((r) => kept.has(r.id))
      wholly(check, incoming)
      puts = puts.filter((p) => kept.has(p.id))
      const env = readEnvelope(message)
      if (env === null) throw verdict.error
      message = replaceChanges(message, env, chunks as Uint8Array[])
      staged = { changes: keep, puts, documents: [] }
      fresh = keep
      refused = verdict.error
    }
    incoming = this.verified(incoming)
    const base = this.mergeBase(staged, incoming.length)
    // Through the backend, not `A.receiveSyncMessage`, which would also patch the document's
    // JS view (a copy of the whole records map per message).
    const target = base ?? this.doc
    const backend = A.getBackend(target)
    let nextState = state.clone()
    try {
      backend.receiveSyncMessage(nextState, message)
    } catch (err) {
      throw new MalformedError(`automerge refused a staged sync message: ${(err as Error).message}`)
    }
    nextState = answerableNeeds(nextState, message, backend)
    this.doc = target
    if (staged.changes.length > 0) {
      this.pristine = false
      this.snapshotMemo = undefined
    }
    // Every change passed the dependency check, so Automerge applied them all: what they put
    // is visible now (a map seek each, where a diff of the document would scan every record).
    const visible = new Map<RecordId, Uint8Array>()
    for (const p of puts) if (backend.getWithType(RECORDS_OBJ, p.id) !== null) visible.set(p.id, p.bytes)
    return {
      state: nextState,
      added: this.adopt(fresh, incoming, visible),
      ...(refused === undefined ? {} : { refused })
    }
  }

  /**
   * A new peer's first sync: the whole document, loaded once and, if it passes, adopted as the
   * live document (which held only genesis, so nothing of ours is lost). The checks are the
   * staged path's, in its order; a refusal leaves the live document untouched. Undefined when
   * the document does not load or is not provably pure record puts: the staged path then reads
   * every change and names the fault.
   */
  private receiveWholeDocument (
    state: SyncState,
    message: Uint8Array,
    document: Uint8Array,
    check: IncomingCheck
  ): { state: SyncState, added: RecordId[] } | undefined {
    // Fork checks compare against what was held before: index the genesis document first.
    this.changeIndex()
    // Loaded into a document of its own: Automerge loads a whole document into an empty one
    // in one pass, but applies it change by change to one that holds genesis (2-3x slower).
    const budget = inflateBudget(this.maxRecordBytes)
    documentInflatedBytes(document, Math.max(budget.messageFloorBytes, budget.ratio * message.length))
    let loaded: A.Doc<IntentDoc>
    try {
      loaded = A.load<IntentDoc>(document, { actor: this.actor })
    } catch {
      return undefined
    }
    const backend = A.getBackend(loaded)
    // The sync state then learns the message's heads, have and need as it would with the
    // document inside: the same message without it, and the heads we last sent kept (an empty
    // message whose heads equal ours would set them).
    const env = readEnvelope(message)
    if (env === null) return undefined
    let nextState = state.clone()
    const lastSent = nextState.lastSentHeads
    try {
      backend.receiveSyncMessage(nextState, replaceChanges(message, env, []))
    } catch {
      return undefined
    }
    nextState.lastSentHeads = lastSent
    nextState = answerableNeeds(nextState, message, backend)
    const metas = backend.getChangesMeta([])
    const puts = documentPuts(backend, metas, { chunk: document, values: loaded.records })
    if (puts === undefined) return undefined
    const records = recordsByChange(backend, metas, puts)
    const changes = metas.filter((m) => m.hash !== GENESIS_HASH).map((m) => stagedChange(m, records.get(m.hash) ?? []))
    const writers = this.writersOf(changes)
    this.checkForks(changes)
    this.checkChangeSizes(changes, puts)
    const incoming = this.newRecords(puts)
    this.checkCarried(changes, writers, incoming)
    if (incoming.length > 0) wholly(check, incoming)
    this.doc = loaded
    this.pristine = false
    this.received = { document: document.slice(), heads: backend.getHeads() }
    // The log held genesis only, so every record of the document became visible.
    const visible = new Map(puts.map((p) => [p.id, p.bytes]))
    return { state: nextState, added: this.adopt(changes, incoming, visible) }
  }

  /**
   * Automerge applies a remote change at a cost that grows with the whole document (with
   * record-sized values, about a millisecond per op per thousand records held), so a big batch
   * that arrives as a whole document is merged the other way round: start from that document,
   * already loaded in one pass by staging, and apply to it the few changes only we hold. The
   * result holds exactly what applying the message to ours would. Undefined: apply as usual.
   */
  private mergeBase (staged: StagedMessage, newRecords: number): A.Doc<IntentDoc> | undefined {
    if (staged.documents.length !== 1 || newRecords < MERGE_FROM_THEIRS_AT) return undefined
    const theirs = staged.documents[0]
    const onlyOurs = A.getBackend(theirs).getChangesAdded(A.getBackend(this.doc))
    if (onlyOurs.length >= newRecords) return undefined
    const [merged] = A.applyChanges(theirs, onlyOurs)
    return merged
  }

  // Indexes the applied changes and holds the records that became visible.
  private adopt (changes: ChangeRef[], incoming: IncomingRecord[], visible: Map<RecordId, Uint8Array>): RecordId[] {
    const index = this.changeIndex()
    for (const c of changes) index.add(c.actor, c.seq, c.hash)
    const byId = new Map(incoming.map((r) => [r.id, r.record]))
    const added: RecordId[] = []
    for (const [id, bytes] of visible) {
      this.orphans.delete(id)
      if (this.bytes.has(id)) continue
      this.hold(id, bytes, byId.get(id))
      added.push(id)
    }
    return added
  }

  /**
   * The writer of each change: signed by the key that owns its actor, over exactly its header
   * and the ids it puts (E_BAD_SIGNATURE), and putting at least one record (E_MALFORMED). Many
   * signatures (a whole document) are checked in a batch, on worker threads in the daemon.
   */
  private writersOf (changes: readonly StagedChange[]): KeyId[] {
    const checks = changes.map((c) => changeSignatureCheck(c, c.records))
    const batch = checks.length > 1 ? this.batches?.() : undefined
    if (batch === undefined) {
      checks.forEach(({ check }, i) => {
        if (!verifyRaw(check.message, check.sig, check.pub)) throw badChangeSignature(changes[i])
      })
    } else {
      for (const { check } of checks) batch.add(check)
      const bad = batch.finish().indexOf(false)
      if (bad >= 0) throw badChangeSignature(changes[bad])
    }
    return checks.map((c) => c.writer)
  }

  /**
   * A change larger than one largest record and a change's overhead
   * is E_QUOTA, whether it came as a change or inside a document.
   */
  private checkChangeSizes (changes: readonly StagedChange[], puts: readonly RecordPut[]): void {
    const sizes = new Map<string, number>(puts.map((p) => [p.id as string, p.bytes.length]))
    const limit = changeLimit(this.maxRecordBytes)
    for (const c of changes) {
      const size = changeSize(c, (id) => sizes.get(id) ?? this.bytes.get(id as RecordId)?.length ?? 0)
      if (size > limit) throw changeTooHeavy(c, c.records.length, size, limit)
    }
  }

  /** Every record a change puts must be its writer's, or one the carrier rule lets it carry: else E_BAD_SIGNATURE. */
  private checkCarried (
    changes: readonly StagedChange[],
    writers: readonly KeyId[],
    incoming: readonly IncomingRecord[]
  ): void {
    const decoded = new Map(incoming.map((r) => [r.id, r.record]))
    changes.forEach((c, i) => {
      const writer = writers[i]
      for (const id of c.records) {
        const signer = (decoded.get(id as RecordId) ?? this.record(id as RecordId))?.signer
        if (signer === undefined || !this.carries(writer, signer)) {
          throw new BadSignatureError(`change ${c.hash.slice(0, 12)} of ${shortId(writer)} carries record ${id.slice(0, 12)} of ${signer === undefined ? 'an unknown signer' : shortId(signer)}`, { change: c.hash, record: id })
        }
      }
    })
  }

  /**
   * Every dependency of every change must be held, or be a change of the same message whose
   * own dependencies are met: Automerge would queue the change otherwise, and a queued change
   * whose dependency never comes stops its sync from offering anything to any peer.
   */
  private checkDeps (changes: readonly StagedChange[], held: (hash: string) => boolean): void {
    const met = new Set<string>()
    const pending = new Map(changes.map((c) => [c.hash, c]))
    // Each round meets at least one change or stops, so at most one round per change.
    for (let round = 0; round <= changes.length && pending.size > 0; round++) {
      let progress = false
      for (const [hash, c] of pending) {
        if (!c.deps.every((d) => held(d) || met.has(d))) continue
        met.add(hash)
        pending.delete(hash)
        progress = true
      }
      if (!progress) break
    }
    const stuck = pending.values().next().value
    if (stuck !== undefined) {
      const missing = stuck.deps.filter((d) => !held(d) && !met.has(d))
      throw new MissingDepsError(`change ${stuck.hash.slice(0, 12)} (actor ${stuck.actor.slice(0, 8)}, seq ${stuck.seq}) depends on ${missing.length} change(s) neither held nor sent with it (${missing[0]?.slice(0, 12) ?? '?'})`, { change: stuck.hash, actor: stuck.actor, seq: stuck.seq, missing: missing.slice(0, 8) })
    }
  }

  private checkForks (changes: ChangeRef[]): void {
    const index = this.changeIndex()
    const inBatch = new ChangeIndex()
    const self = this.actor
    for (const c of changes) {
      const status = index.status(c.actor, c.seq, c.hash)
      if (status === 'known') continue
      // Only this log writes as its actor, so an unknown change under it is forged (or from a
      // lost earlier life of a reused actor id) and would collide with our next change.
      if (status === 'fork' || c.actor === self || inBatch.status(c.actor, c.seq, c.hash) === 'fork') {
        const held = index.held(c.actor, c.seq) ?? inBatch.held(c.actor, c.seq) ?? null
        const why = held === null ? 'claims this log\'s own actor' : `collides with held change ${held.slice(0, 12)}`
        throw new ForkError(`change ${c.hash.slice(0, 12)} (actor ${c.actor.slice(0, 8)}, seq ${c.seq}) ${why}`, { actor: c.actor, seq: c.seq, change: c.hash, held })
      }
      inBatch.add(c.actor, c.seq, c.hash)
    }
  }

  /**
   * The records of `puts` not held yet, decoded; verified too unless `verify` is false (the
   * caller then verifies what it keeps with `verified`: a flood's records past its signer's
   * quota are refused without paying for their signatures).
   */
  private newRecords (puts: RecordPut[], verify = true): IncomingRecord[] {
    const fresh = puts.filter((p) => !this.bytes.has(p.id))
    // Parsing and hashing a flood of oversized records is the cost to avoid: refuse them unread.
    const big = fresh.find((p) => p.bytes.length > this.maxRecordBytes)
    if (big !== undefined) throw new QuotaError(`record ${big.id.slice(0, 12)} is ${big.bytes.length} bytes; a member may sign at most ${this.maxRecordBytes}`, { record: big.id })
    // Every put's key was checked to be the hash of its bytes (recordPuts, documentPuts).
    if (!verify) return fresh.map(({ id, bytes }) => ({ id, bytes, record: decodeRecord(bytes, id).record }))
    return this.verified(fresh)
  }

  /** `list` decoded and every signature checked (E_BAD_SIGNATURE naming the first that fails). */
  private verified (list: ReadonlyArray<{ id: RecordId, bytes: Uint8Array }>): IncomingRecord[] {
    const decoded = decodeVerifiedAll(
      list.map((p) => p.bytes),
      list.length > 1 ? this.batches?.() : undefined,
      list.map((p) => p.id)
    )
    return list.map(({ id, bytes }, i) => ({ id, bytes, record: decoded[i].record }))
  }

  private changeIndex (): ChangeIndex {
    this.index ??= ChangeIndex.of(this.doc)
    return this.index
  }

  private hold (id: RecordId, bytes: Uint8Array, record: SignedRecord | undefined): void {
    this.bytes.set(id, bytes)
    if (record !== undefined) this.decoded.set(id, record)
  }
}

/**
 * Largest whole document sent saved without DEFLATE
 * (wholeDocumentMessage); a larger one goes as Automerge compresses it.
 */
/**
 * The state with the peer's need cut to the changes `backend` holds. Automerge answers a need
 * it cannot meet with nothing at all (its generateSyncMessage gives up on the whole message), so
 * one hash the peer asked for and we lack (a dependency a refused change named, which the peer
 * asks every neighbour for: `needs`) silenced the link for good while the peer waited for our
 * answer (swarm seeds 510 and 597: peers never converged). Read from the envelope first: a
 * message with no need costs nothing here.
 */
function answerableNeeds (state: SyncState, message: Uint8Array, backend: Backend): SyncState {
  if ((readEnvelope(message)?.needs ?? 0) === 0) return state
  const plain = exportSyncState(state)
  const need = (plain.theirNeed ?? []) as string[]
  const held = need.filter((h) => backend.getChangeMetaByHash(h) !== null)
  return held.length === need.length ? state : importSyncState({ ...plain, theirNeed: held })
}

/**
 * For a peer that holds more than genesis: its state as if it read only v1 messages, and its
 * real capabilities to put back; undefined when nothing is to change. Automerge sends a peer
 * that lacks more than a third of our changes the whole document, DEFLATE'd in WebAssembly: at
 * 20,000 records ~2 s of CPU and ~150 MB of WebAssembly memory that is never given back, and
 * again on every session that starts afresh (a quota refusal resyncs), and the receiver loads
 * all of it at once. Told the peer reads v1, it sends the changes the peer lacks, which
 * `capChanges` can send a slice at a time. A peer holding only genesis still gets the document,
 * saved without DEFLATE (`wholeDocumentMessage`) or, past that limit, as Automerge sends it.
 */
function changesOnly (state: SyncState): { probe: SyncState, caps: string[] } | undefined {
  const plain = exportSyncState(state)
  const caps = plain.theirCapabilities
  const heads = plain.theirHeads
  if (!Array.isArray(caps) || !caps.includes(MESSAGE_V2) || heads === null) return undefined
  if (heads.length === 1 && heads[0] === GENESIS_HASH) return undefined
  const v1 = caps.filter((c) => c !== MESSAGE_V2)
  return { probe: importSyncState({ ...plain, theirCapabilities: v1 }), caps: caps as string[] }
}

// Marks `hashes` sent (or not) in `state`, through the backend's setter (an import would drop capabilities).
function setSent (state: SyncState, hashes: readonly string[], sent: boolean): void {
  if (hashes.length === 0) return
  const all: Record<string, unknown> = { ...exportSyncState(state).sentHashes }
  for (const h of hashes) {
    if (sent) all[h] = true
    else delete all[h]
  }
  state.sentHashes = all as unknown as A.Heads
}

function withCapabilities (state: SyncState, caps: string[]): SyncState {
  return importSyncState({ ...exportSyncState(state), theirCapabilities: caps })
}

export const WHOLE_DOCUMENT_MAX_BYTES = 64 * 1024 * 1024
// Changes asked for at once after refusals for missing dependencies, and in how many messages.
const MAX_NEEDS = 256
const NEED_SENDS = 8

// The changes of `changes` (message order) that carry none of `refuse` and depend on none that does.
function keptChanges (changes: readonly StagedChange[], refuse: readonly RecordId[]): StagedChange[] {
  const bad = new Set<string>(refuse)
  const dropped = new Set<string>()
  // Message order is causal order as Automerge sends it; passes repeat (bounded) in case not.
  for (let pass = 0; pass <= changes.length; pass++) {
    const before = dropped.size
    for (const c of changes) {
      if (dropped.has(c.hash)) continue
      if (c.records.some((id) => bad.has(id)) || c.deps.some((d) => dropped.has(d))) dropped.add(c.hash)
    }
    if (dropped.size === before) break
  }
  return changes.filter((c) => !dropped.has(c.hash))
}

// New records from which merging into the peer's whole document beats applying it to ours.
const MERGE_FROM_THEIRS_AT = 32

// The highest op counter of the document at `heads` (every op is below some head's maxOp).
function maxOpOf (backend: Backend, heads: readonly string[]): number {
  let max = 0
  for (const h of heads) max = Math.max(max, backend.getChangeMetaByHash(h)?.maxOp ?? 0)
  return max
}

function hashSet (changes: ReadonlyArray<{ hash: string }>): Record<string, true> {
  const out: Record<string, true> = {}
  for (const c of changes) out[c.hash] = true
  return out
}

// Automerge change times are whole seconds.
function changeTime (timeMs: number): number {
  return Math.floor(timeMs / 1000)
}
