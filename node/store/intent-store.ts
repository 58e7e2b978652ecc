/**
 * Persistence of the intent log (an Automerge document): one base (`doc/base`, a full save)
 * plus incremental chunks (`doc/inc/<n>`, each `saveIncremental()` since the previous write),
 * and the record index `rec/<signer>/<seq>/<id>`. Loading concatenates base and chunks, which
 * Automerge reads as one document. Each commit writes the new chunk together with the caller's
 * index and meta ops in ONE batch, so a crash leaves either all of it or none; commits run one
 * at a time, because a document loaded with a chunk missing silently drops every later change.
 *
 * The tail of chunks is bounded (docs/storage.md has the figures): loading chunks on top of a
 * base replays each change, so compaction (a fresh base replacing base and chunks, in the same
 * single batch) runs after `maxChunks` chunks or `maxBytes` of chunks, on close (so a clean
 * restart loads only a base), and on open when a crash left chunks. Automerge is pinned to
 * 3.2.6: from 3.3 on, replaying changes onto a loaded document costs ~15 ms per change at
 * 10,000 records and a long tail can abort the WebAssembly module.
 *
 * @example
 * const s = await IntentStore.open(kv, actorHex)
 * s.log.append([{ id, bytes }], now)
 * await s.commit(s.indexOps([{ id, record }]))
 */
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import { StoreCorruptError, toAuraError } from '../../crdt/errors.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import { warmUpLoad } from '../../crdt/automerge-sync.js'
import { IntentLog } from '../../crdt/intent-log.js'
import type { SignedRecord } from '../../crdt/record.js'
import type { KV, KVOp } from './kv.js'
import { layout, parseRecKey, parseTrailingNumber } from './layout.js'
import { WriteQueue } from './write-queue.js'

/** When incremental chunks are folded into a fresh base. */
export interface CompactionPolicy {
  /** Compact once this many chunks are stored (default 8192). */
  readonly maxChunks: number
  /** Compact once the chunks hold this many bytes (default 4 MiB)... */
  readonly maxBytes: number
  /**
   * ...or this many times the base's bytes, whichever is more (default 2): a compaction costs
   * a `save()` of the whole log, so letting the tail grow with the base keeps its cost per
   * record constant as the log grows (base and chunks are both uncompressed, so 2x the base
   * is about twice as many records as the base holds).
   */
  readonly tailRatio: number
}

/** A signer's newest record as the store knows it. */
export interface SignerHead {
  readonly seq: number
  readonly id: RecordId
}

const DEFAULT_POLICY: CompactionPolicy = { maxChunks: 8192, maxBytes: 4 * 1024 * 1024, tailRatio: 2 }
const EMPTY = new Uint8Array(0)

/** The intent log and its durable form. */
export class IntentStore {
  private readonly queue = new WriteQueue()
  // After a failed write the chunk it carried is gone from Automerge's incremental state, so
  // the next commit must write a whole base to be sure nothing is missing.
  private needsBase = false
  // Orphans (records held apart from the document) already under doc/orphan/.
  private readonly storedOrphans = new Set<RecordId>()

  private constructor (
    private readonly kv: KV,
    /** The live document; changes made to it reach disk at the next commit. */
    readonly log: IntentLog,
    private readonly policy: CompactionPolicy,
    private chunks: number[],
    private chunkBytes: number,
    private baseBytes: number
  ) {}

  /**
   * Loads base and chunks (an empty log if none), repairs the record index if needed, and
   * folds any chunks left by a crash into a fresh base, so the slow load is paid only once.
   */
  static async open (kv: KV, actor: string, policy: Partial<CompactionPolicy> = {}): Promise<IntentStore> {
    const base = await kv.get(layout.docBase)
    const parts: Uint8Array[] = base === undefined ? [] : [base]
    const chunks: number[] = []
    let chunkBytes = 0
    for await (const [key, value] of kv.iterator({ prefix: layout.docIncPrefix })) {
      chunks.push(parseTrailingNumber(key))
      chunkBytes += value.length
      parts.push(value)
    }
    warmUpLoad(parts.reduce((n, p) => n + p.length, 0))
    let log: IntentLog
    try {
      log = parts.length === 0 ? IntentLog.create(actor) : IntentLog.load(Buffer.concat(parts), actor)
    } catch (err) {
      throw new StoreCorruptError(`the stored intent log does not load: ${toAuraError(err).message}`, { chunks: chunks.length })
    }
    const store = new IntentStore(kv, log, { ...DEFAULT_POLICY, ...policy }, chunks, chunkBytes, base?.length ?? 0)
    await store.repairIndex()
    const unsaved = await store.holdOrphans()
    // Records the load left out of the document (unsigned changes of an older version) are
    // stored apart in the same batch as the rebuilt base, so none is ever lost.
    if (chunks.length > 0 || unsaved.length > 0) await store.write(unsaved, true)
    return store
  }

  // Holds the stored orphans; returns the puts of those the load just made (not stored yet).
  private async holdOrphans (): Promise<KVOp[]> {
    const stored: Array<{ id: RecordId, bytes: Uint8Array }> = []
    for await (const [key, value] of this.kv.iterator({ prefix: layout.docOrphanPrefix })) {
      stored.push({ id: key.slice(layout.docOrphanPrefix.length) as RecordId, bytes: value })
    }
    this.log.holdOrphans(stored)
    const known = new Set(stored.map((o) => o.id))
    const unsaved = this.log.orphaned().filter((id) => !known.has(id))
    for (const id of [...known, ...unsaved]) this.storedOrphans.add(id)
    return unsaved.map((id) => ({ type: 'put', key: layout.docOrphan(id), value: this.log.get(id) ?? EMPTY }))
  }

  /** Index ops for records now in the log: write them in the same commit. */
  indexOps (records: ReadonlyArray<{ id: RecordId, record: SignedRecord }>): KVOp[] {
    return records.map(({ id, record }) => ({ type: 'put', key: layout.rec(record.signer, record.seq, id), value: EMPTY }))
  }

  /** The op that records `head` as a local signer's newest record. */
  headOp (signer: KeyId, head: SignerHead): KVOp {
    return { type: 'put', key: layout.head(signer), value: canonicalBytes({ seq: head.seq, id: head.id }) }
  }

  /**
   * The newest record of `signer` the store knows: the higher of its meta head and its index,
   * because its own records can come back through sync (a restored node) and a seq must never
   * be used twice.
   */
  async head (signer: KeyId): Promise<SignerHead | undefined> {
    let best: SignerHead | undefined
    const meta = await this.kv.get(layout.head(signer))
    if (meta !== undefined) best = parseCanonical(meta) as unknown as SignerHead
    for await (const [key] of this.kv.iterator({ prefix: layout.recSigner(signer), reverse: true, limit: 1 })) {
      const { seq, id } = parseRecKey(key)
      if (best === undefined || seq > best.seq) best = { seq, id }
    }
    return best
  }

  /** Record ids of one signer, by seq (two ids at one seq are an equivocation). */
  async idsOf (signer: KeyId): Promise<Array<{ seq: number, id: RecordId }>> {
    const out: Array<{ seq: number, id: RecordId }> = []
    for await (const [key] of this.kv.iterator({ prefix: layout.recSigner(signer) })) {
      const { seq, id } = parseRecKey(key)
      out.push({ seq, id })
    }
    return out
  }

  /**
   * Writes every change the log gained since the last commit, plus `extra`, in one batch.
   * Commits run in call order, one at a time.
   */
  async commit (extra: readonly KVOp[] = []): Promise<void> {
    await this.write(extra, false)
  }

  /** Replaces base and chunks with a fresh base, if there are chunks (or a failed write). */
  async compact (): Promise<void> {
    await this.write([], true)
  }

  private async write (extra: readonly KVOp[], force: boolean): Promise<void> {
    await this.queue.run(async () => {
      // A document received whole (a fresh peer's first sync) is stored as it came, as the base.
      const received = this.needsBase ? undefined : this.log.receivedDocument()
      const chunk = this.needsBase || received !== undefined ? EMPTY : this.log.saveIncremental()
      const maxTail = Math.max(this.policy.maxBytes, this.policy.tailRatio * this.baseBytes)
      const full = this.chunks.length + 1 > this.policy.maxChunks || this.chunkBytes + chunk.length > maxTail
      const compact = this.needsBase ||
        received !== undefined ||
        (force && (this.chunks.length > 0 || chunk.length > 0)) ||
        (chunk.length > 0 && full)
      // Records merged from outside the document since (a backup import) are stored apart too.
      const orphans = this.log.orphaned().filter((id) => !this.storedOrphans.has(id))
      if (!compact && chunk.length === 0 && extra.length === 0 && orphans.length === 0) return
      const ops: KVOp[] = orphans.map((id) => ({ type: 'put', key: layout.docOrphan(id), value: this.log.get(id) ?? EMPTY }))
      const next = this.chunks.length === 0 ? 0 : this.chunks[this.chunks.length - 1] + 1
      const base = compact ? received ?? this.log.save() : undefined
      if (base !== undefined) {
        ops.push({ type: 'put', key: layout.docBase, value: base })
        for (const n of this.chunks) ops.push({ type: 'del', key: layout.docInc(n) })
      } else if (chunk.length > 0) {
        ops.push({ type: 'put', key: layout.docInc(next), value: chunk })
      }
      ops.push(...extra)
      try {
        await this.kv.batch(ops)
      } catch (err) {
        this.needsBase = true
        throw toAuraError(err)
      }
      this.needsBase = false
      for (const id of orphans) this.storedOrphans.add(id)
      if (received !== undefined) this.log.savedAs(received)
      if (base !== undefined) {
        this.chunks = []
        this.chunkBytes = 0
        this.baseBytes = base.length
      } else if (chunk.length > 0) {
        this.chunks.push(next)
        this.chunkBytes += chunk.length
      }
    })
  }

  /** Number of incremental chunks now on disk (for tests and `aura status`). */
  get chunkCount (): number {
    return this.chunks.length
  }

  // The index is derived data: records that reached the document but not the index (sync
  // changes persisted by a local commit just before a crash) are indexed again here.
  private async repairIndex (): Promise<void> {
    const indexed = new Set<string>()
    for await (const [key] of this.kv.iterator({ prefix: layout.recPrefix })) indexed.add(parseRecKey(key).id)
    if (indexed.size === this.log.size) return
    const missing: Array<{ id: RecordId, record: SignedRecord }> = []
    for (const id of this.log.ids()) {
      // A record that does not decode has no signer or seq to index it by (IntentLog lists
      // it in `unreadable()`); the index leaves it out.
      const record = indexed.has(id) ? undefined : this.log.record(id)
      if (record !== undefined) missing.push({ id, record })
    }
    if (missing.length > 0) await this.kv.batch(this.indexOps(missing))
  }
}
