/**
 * The intent log: a grow-only map of signed records in an Automerge document, replicated with
 * Automerge's sync protocol through a staged merge. Nothing reaches the live document unless
 * every record it would add decodes, verifies and passes the caller's `check` (lockdown,
 * staleness); a rejected message leaves the document exactly as it was.
 *
 * Actor ids and change times are passed in, so the simulator replays byte for byte. Use a fresh
 * actor id per process start: reusing one after a crash can reissue a (actor, seq) pair.
 *
 * @example
 * const alice = IntentLog.create('aa'.repeat(16))
 * const bob = IntentLog.create('bb'.repeat(16))
 * alice.append([signRecord(fields, aliceKey)], nowMs)
 * let sa = alice.initSyncState(); let sb = bob.initSyncState(); let msg
 * ;[sa, msg] = alice.generateSyncMessage(sa)
 * ;({ state: sb } = bob.receiveSyncMessage(sb, msg!, (incoming) => node.admit(incoming), nowMs))
 */
import * as A from '@automerge/automerge'
import { exportSyncState, initBackendSyncState, type Backend, type BackendSyncState } from './automerge-sync.js'
import { ForkError, MalformedError } from './errors.js'
import type { RecordId } from './ids.js'
import { documentPuts, GENESIS_HASH, genesisDoc, parseActor, RECORDS_OBJ, type IntentDoc, type RecordPut } from './intent-doc.js'
import { ChangeIndex, stageSyncMessage, wholeDocumentOf, type ChangeRef, type StagedMessage } from './intent-staging.js'
import { decodeRecord, decodeVerified, decodeVerifiedAll, recordIdOf, type SignatureBatch, type SignedRecord } from './record.js'
import { readEnvelope, replaceChanges, SYNC_MESSAGE_V2 } from './sync-envelope.js'

/** A record a sync message would add, decoded and verified, as handed to `check`. */
export interface IncomingRecord {
  readonly id: RecordId
  readonly bytes: Uint8Array
  readonly record: SignedRecord
}

/** Throws (E_LOCKDOWN, E_STALE, …) to refuse a batch of incoming records; not called when a message brings none. */
export type IncomingCheck = (incoming: IncomingRecord[]) => void

/** Automerge sync state for one peer (the backend's; treat as opaque, never shared between logs). */
export type SyncState = BackendSyncState

/** A grow-only, replicated set of signed records. */
export class IntentLog {
  private doc: A.Doc<IntentDoc>
  private readonly bytes = new Map<RecordId, Uint8Array>()
  private readonly decoded = new Map<RecordId, SignedRecord>()
  private index: ChangeIndex | undefined
  private persisted: A.Heads
  private readonly actor: string
  // Genesis only, as created, and no change received yet (so none waits for its deps either).
  private pristine: boolean
  private batches: (() => SignatureBatch) | undefined
  // Verified records whose change Automerge holds back until its deps arrive.
  private readonly waiting = new Map<RecordId, IncomingRecord>()
  // Changes received but held back by Automerge (deps missing), by hash: not indexed until applied.
  private readonly queued = new Map<string, ChangeRef>()
  // The whole document a pristine log received, with the heads it produced.
  private received: { document: Uint8Array, heads: A.Heads } | undefined
  private maxQueued = DEFAULT_MAX_QUEUED_CHANGES
  private maxWholeDocument = WHOLE_DOCUMENT_MAX_BYTES
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
    return new IntentLog(doc, false)
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
   * Adds records in ONE Automerge change (group commit), skipping ids already held. Each must
   * decode and verify: peers refuse a change with a bad record, and every later change of ours
   * depends on it, so one bad record would stop this log from ever syncing again.
   */
  append (entries: ReadonlyArray<{ id: RecordId, bytes: Uint8Array }>, timeMs: number): void {
    const fresh = new Map<RecordId, IncomingRecord>()
    for (const { id, bytes } of entries) {
      if (this.bytes.has(id) || fresh.has(id)) continue
      if (recordIdOf(bytes) !== id) throw new MalformedError(`record id ${id.slice(0, 12)} is not the hash of its bytes`, { record: id })
      fresh.set(id, { id, bytes, record: decodeVerified(bytes, id).record })
    }
    this.commitFresh(fresh.values(), timeMs)
  }

  // Puts verified records not held yet into the document as one change of ours.
  private commitFresh (records: Iterable<IncomingRecord>, timeMs: number): void {
    const fresh = [...records]
    if (fresh.length === 0) return
    // Written through the document's backend, not `A.change`: the JS view of the document would
    // copy the whole records map on every change (milliseconds per append at 10,000 records),
    // and nothing reads records from that view (this class holds them in `bytes`). The view
    // stays usable: Automerge reads heads, saves and sync from the backend, and the next
    // received message patches the view up to date.
    const backend = A.getBackend(this.doc)
    const before = backend.getHeads()
    for (const { id, bytes } of fresh) backend.put(RECORDS_OBJ, id, bytes, 'bytes')
    backend.commit(null, changeTime(timeMs))
    this.snapshotMemo = undefined
    this.pristine = false
    for (const { id, bytes, record } of fresh) this.hold(id, bytes, record)
    if (this.index !== undefined) {
      for (const meta of backend.getChangesMeta(before)) this.index.add(meta.actor, meta.seq, meta.hash)
    }
  }

  /**
   * Records from outside any sync session (a backup file carried to this node): the same
   * verify-first merge as a peer's sync message, entered with bare record bytes instead of
   * Automerge changes. Every new record must decode and verify (E_MALFORMED, E_BAD_SIGNATURE
   * naming it) and the batch must pass `check` (the engine's lockdown, staleness and admission
   * rule) before anything is added; then the new records join the log as ONE change of ours,
   * as `append` adds them, and replicate like it. Records held already are skipped. Returns the
   * ids that became visible; the caller persists them (IntentWriter.ingest).
   */
  mergeRecords (list: readonly Uint8Array[], check: IncomingCheck, timeMs: number): RecordId[] {
    const fresh = new Map<RecordId, Uint8Array>()
    for (const bytes of list) {
      const id = recordIdOf(bytes)
      if (!this.bytes.has(id)) fresh.set(id, bytes)
    }
    if (fresh.size === 0) return []
    const ids = [...fresh.keys()]
    const decoded = decodeVerifiedAll([...fresh.values()], fresh.size > 1 ? this.batches?.() : undefined, ids)
    const incoming = ids.map((id, i) => ({ id, bytes: fresh.get(id)!, record: decoded[i].record }))
    check(incoming)
    this.commitFresh(incoming, timeMs)
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

  /** Changes received whose deps have not arrived (Automerge holds them back). */
  get queuedChanges (): number {
    return this.queued.size
  }

  /** Most changes held back for missing deps before they are dropped (default 10,000; for tests). */
  limitQueuedChanges (max: number): void {
    this.maxQueued = max
  }

  /** Largest whole document sent saved without DEFLATE (default 64 MiB; for tests). */
  limitWholeDocumentBytes (max: number): void {
    this.maxWholeDocument = max
    this.snapshotMemo = undefined
  }

  /** A fresh sync state for a peer. */
  initSyncState (): SyncState {
    return initBackendSyncState()
  }

  /** The next message for a peer, or null when there is nothing to say. `state` is left as it was. */
  generateSyncMessage (state: SyncState): [SyncState, Uint8Array | null] {
    const backend = A.getBackend(this.doc)
    const whole = this.wholeDocumentMessage(state, backend)
    if (whole !== undefined) return whole
    const next = state.clone()
    const message = backend.generateSyncMessage(next)
    return [next, message ?? null]
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
   * whole message (E_MALFORMED, E_FORK, E_BAD_SIGNATURE naming the record, or whatever `check`
   * throws) unless all are pure record puts whose new records decode and verify; only then
   * applies it. Returns the new sync state and the ids that became visible. `_timeMs` is
   * accepted for symmetry with `append`; receiving makes no change of ours, so it is unused.
   */
  receiveSyncMessage (state: SyncState, message: Uint8Array, check: IncomingCheck, _timeMs: number): { state: SyncState, added: RecordId[] } {
    const whole = this.pristine ? wholeDocumentOf(message) : undefined
    if (whole !== undefined) {
      const received = this.receiveWholeDocument(state, message, whole, check)
      if (received !== undefined) return received
    }
    const live = A.getBackend(this.doc)
    const staged = stageSyncMessage(message, this.actor, (hash) => live.getChangeMetaByHash(hash) !== null)
    this.checkForks(staged.changes)
    const incoming = this.newRecords(staged.puts)
    if (incoming.length > 0) check(incoming)
    const base = this.mergeBase(staged, incoming.length)
    // Through the backend, not `A.receiveSyncMessage`, which would also patch the document's
    // JS view (a copy of the whole records map per message).
    let target = base ?? this.doc
    let backend = A.getBackend(target)
    let nextState = state.clone()
    try {
      backend.receiveSyncMessage(nextState, message)
    } catch (err) {
      // A change Automerge queued (deps missing) holds its (actor, seq) there even though it
      // never applied: a forged one with an invented dependency would make Automerge refuse the
      // genuine change for ever. The queue survives save/load and fork, so rebuild the document
      // from the changes it applied, which leaves the queue behind, and try once more (the
      // staged checks above have passed).
      if (!/duplicate seq/.test((err as Error).message)) throw new MalformedError(`automerge refused a staged sync message: ${(err as Error).message}`)
      target = this.withoutQueued(backend)
      backend = A.getBackend(target)
      nextState = state.clone()
      try {
        backend.receiveSyncMessage(nextState, message)
      } catch (again) {
        throw new MalformedError(`automerge refused a staged sync message: ${(again as Error).message}`)
      }
    }
    // A record can become visible later than it arrives (its change waits for its deps), so
    // every verified record not yet visible waits here and is looked up after each message;
    // a lookup costs a map seek, where a diff of the document would scan every record.
    for (const r of incoming) this.waiting.set(r.id, r)
    const became: IncomingRecord[] = []
    for (const [id, r] of this.waiting) {
      if (backend.getWithType(RECORDS_OBJ, id) === null) continue
      became.push(r)
      this.waiting.delete(id)
    }
    // Likewise changes: only one Automerge applied holds its (actor, seq). One it queued (its
    // deps missing) may never apply — a member can send a change under another's actor and seq
    // that depends on an invented hash — and indexed now it would refuse the genuine change as a
    // fork for ever. So queued changes wait here, and are indexed once they apply.
    const index = this.changeIndex()
    for (const c of staged.changes) if (index.status(c.actor, c.seq, c.hash) === 'new') this.queued.set(c.hash, c)
    const applied: ChangeRef[] = []
    for (const [hash, c] of this.queued) {
      if (backend.getChangeMetaByHash(hash) === null) continue
      applied.push(c)
      this.queued.delete(hash)
    }
    // Changes whose deps never come (a member inventing them) would wait for good, here and in
    // Automerge's own queue: past the bound, the document is rebuilt from the changes it applied,
    // which drops both queues, and this peer's sync starts afresh. An honest change dropped so
    // is asked for again by the next sync.
    if (this.queued.size > this.maxQueued) {
      target = this.withoutQueued(backend)
      nextState = this.initSyncState()
      this.queued.clear()
      this.waiting.clear()
    }
    this.doc = target
    if (staged.changes.length > 0) {
      this.pristine = false
      this.snapshotMemo = undefined
    }
    return { state: nextState, added: this.adopt(applied, became, new Map(became.map((r) => [r.id, r.bytes]))) }
  }

  /**
   * A new peer's first sync: the whole document, loaded once and, if it passes, adopted as the
   * live document (which held only genesis, so nothing of ours is lost). The checks are the
   * staged path's, in its order; a refusal leaves the live document untouched. Undefined when
   * the document does not load or is not provably pure record puts: the staged path then reads
   * every change and names the fault.
   */
  private receiveWholeDocument (state: SyncState, message: Uint8Array, document: Uint8Array, check: IncomingCheck): { state: SyncState, added: RecordId[] } | undefined {
    // Fork checks compare against what was held before: index the genesis document first.
    this.changeIndex()
    // Loaded into a document of its own: Automerge loads a whole document into an empty one
    // in one pass, but applies it change by change to one that holds genesis (2-3x slower).
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
    const nextState = state.clone()
    const lastSent = nextState.lastSentHeads
    try {
      backend.receiveSyncMessage(nextState, replaceChanges(message, env, []))
    } catch {
      return undefined
    }
    nextState.lastSentHeads = lastSent
    const metas = backend.getChangesMeta([])
    const puts = documentPuts(backend, metas, { chunk: document, values: loaded.records })
    if (puts === undefined) return undefined
    this.checkForks(metas)
    const incoming = this.newRecords(puts)
    if (incoming.length > 0) check(incoming)
    this.doc = loaded
    this.pristine = false
    this.received = { document: document.slice(), heads: backend.getHeads() }
    // The log held genesis only, so every record of the document became visible.
    const visible = new Map(puts.map((p) => [p.id, p.bytes]))
    return { state: nextState, added: this.adopt(metas, incoming, visible) }
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
      if (this.bytes.has(id)) continue
      this.hold(id, bytes, byId.get(id))
      added.push(id)
    }
    return added
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

  private newRecords (puts: RecordPut[]): IncomingRecord[] {
    const fresh = puts.filter((p) => !this.bytes.has(p.id))
    // Every put's key was checked to be the hash of its bytes (recordPuts, documentPuts).
    const decoded = decodeVerifiedAll(fresh.map((p) => p.bytes), fresh.length > 1 ? this.batches?.() : undefined, fresh.map((p) => p.id))
    return fresh.map(({ id, bytes }, i) => ({ id, bytes, record: decoded[i].record }))
  }

  // A document holding exactly the changes `backend` applied: Automerge's queue of changes whose
  // deps are missing (which survives save, load and fork) is left behind.
  private withoutQueued (backend: Backend): A.Doc<IntentDoc> {
    const rebuilt = genesisDoc(this.actor)
    A.getBackend(rebuilt).applyChanges(backend.getChanges([]))
    return rebuilt
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

/** Changes held back for missing deps, at most; past it they are dropped (see receiveSyncMessage). */
export const DEFAULT_MAX_QUEUED_CHANGES = 10_000

/** Largest whole document sent saved without DEFLATE (wholeDocumentMessage); a larger one goes as Automerge compresses it. */
export const WHOLE_DOCUMENT_MAX_BYTES = 64 * 1024 * 1024

// New records from which merging into the peer's whole document beats applying it to ours.
const MERGE_FROM_THEIRS_AT = 32


function hashSet (changes: ReadonlyArray<{ hash: string }>): Record<string, true> {
  const out: Record<string, true> = {}
  for (const c of changes) out[c.hash] = true
  return out
}

// Automerge change times are whole seconds.
function changeTime (timeMs: number): number {
  return Math.floor(timeMs / 1000)
}
