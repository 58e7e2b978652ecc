/**
 * Group commit of the node's own records. Callers append concurrently; requests that queue up
 * while a commit is in flight are signed in order (continuing this signer's seq/prev chain),
 * added to the intent log as ONE Automerge change, persisted in ONE batch (incremental chunk,
 * index entries, meta head) and acknowledged together, only once durable; the next batch is
 * signed while the previous one is written. Records received by sync take the same path
 * through `ingest`, so chunks reach disk in the order they were made.
 *
 * No seq is ever signed twice, whatever the store lost: before a record is signed its seq is
 * reserved in the signer's high-water mark (seq-reserve.ts, a synced file outside LevelDB, in
 * blocks), and a writer starts above max(store head, mark). After a crash that is a gap: the
 * first new record's `prev` is the newest record actually held, its seq is past the mark. A
 * clean `close()` lowers the mark to the head, so only a crash leaves a gap. A failed write
 * stops the writer (every later call rejects): the records it signed are in memory but not on
 * disk — restart the node, which resumes above the mark.
 *
 * @example
 * const w = await IntentWriter.open({ intent: store.intent, key, clock, seqs }, { host: 'laptop' })
 * const { id, seq } = await w.append({ kind: 'intent', actor: 'alice', auth, text: 'fix login' })
 */
import { MalformedError, NotFoundError, toAuraError, type AuraError } from '../../crdt/errors.js'
import type { KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { nextInChain, signNext, type IntentFields } from '../peer/writer.js'
import type { KVOp } from './kv.js'
import type { IntentStore, SignerHead } from './intent-store.js'
import type { SeqReserve } from './seq-reserve.js'

/** What a caller supplies; seq, prev, ts and host are the writer's (node/peer/writer.ts). */
export type { IntentFields }

/** Dependencies of the writer. */
export interface IntentWriterComponents {
  readonly intent: IntentStore
  /** The signing key of the records written here (the node's, or an agent's). */
  readonly key: KeyPair
  /** The key that writes and signs the Automerge changes carrying them: the node's (default `key`). */
  readonly changeKey?: KeyPair
  /** Milliseconds since the epoch; a virtual clock in tests and the simulator. */
  readonly clock: { now: () => number }
  /** The signer's seq high-water mark (a FileSeqReserve for a node's keys). */
  readonly seqs: SeqReserve
}

/** Options of the writer. */
export interface IntentWriterInit {
  /** The `host` field of every record (the machine's name). */
  readonly host: string
  /** Most requests in one commit (default 1024). */
  readonly maxBatch?: number
  /** How many seqs to reserve past what a batch needs (default 1024): one fsynced file write per block. */
  readonly reserveBlock?: number
}

/** An acknowledged append: durable when this is returned. */
export interface Appended {
  readonly id: RecordId
  readonly seq: number
}

type Request =
  | { readonly type: 'append', readonly fields: IntentFields, resolve: (a: Appended) => void, reject: (e: AuraError) => void }
  | { readonly type: 'ingest', readonly ids: readonly RecordId[], resolve: () => void, reject: (e: AuraError) => void }

/** The one writer of a signer's records into a store. */
export class IntentWriter {
  private queue: Request[] = []
  private running: Promise<void> | undefined
  private failed: AuraError | undefined
  private readonly signer: KeyId
  private readonly maxBatch: number
  private readonly block: number
  // The head after every staged batch: ahead of `current` while a write is in flight.
  private staged: SignerHead | undefined
  // Seqs up to here may have been signed by an earlier run (the mark found on open).
  private readonly floor: number

  private constructor (
    private readonly c: IntentWriterComponents,
    private readonly host: string,
    init: IntentWriterInit,
    private current: SignerHead | undefined
  ) {
    this.signer = keyIdOf(c.key.publicKey)
    this.maxBatch = init.maxBatch ?? 1024
    this.block = init.reserveBlock ?? 1024
    this.staged = current
    this.floor = c.seqs.reserved
  }

  /** A writer continuing the signer's chain above both the store's head and the seq mark. */
  static async open (components: IntentWriterComponents, init: IntentWriterInit): Promise<IntentWriter> {
    const head = await components.intent.head(keyIdOf(components.key.publicKey))
    return new IntentWriter(components, init.host, init, head)
  }

  /** The seq the next append gets (before any queued request is staged). */
  get nextSeq (): number {
    return nextInChain(this.staged, this.floor).seq
  }

  /**
   * Waits for every queued request, then lowers the seq mark to what was really used, so a
   * clean restart continues with no gap. Leaves the mark alone after a failed write (records
   * signed then may have reached peers). The writer stays usable.
   */
  async close (): Promise<void> {
    await this.flush()
    if (this.failed !== undefined || this.staged !== this.current) return
    await this.c.seqs.release(Math.max(this.floor, this.current?.seq ?? 0))
  }

  /** The signer's newest durable record, if any. */
  get head (): SignerHead | undefined {
    return this.current
  }

  /** Signs and stores one record; resolves once it is durable. */
  async append (fields: IntentFields): Promise<Appended> {
    return await new Promise<Appended>((resolve, reject) => this.enqueue({ type: 'append', fields, resolve, reject }))
  }

  /**
   * Persists records that sync already added to the live log (and anything else the log
   * gained), indexing `ids`. Resolves once durable.
   */
  async ingest (ids: Iterable<RecordId>): Promise<void> {
    const list = [...ids]
    await new Promise<void>((resolve, reject) => this.enqueue({ type: 'ingest', ids: list, resolve, reject }))
  }

  /** Waits until every request queued so far is settled. */
  async flush (): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  private enqueue (req: Request): void {
    if (this.failed !== undefined) { req.reject(this.failed); return }
    this.queue.push(req)
    if (this.running === undefined) this.running = this.drain()
  }

  /**
   * Stages batches (sign, add to the log) and writes them, one write at a time, in order. The
   * next batch is staged while the previous one is being written, so the CPU signs while the
   * disk syncs: at most one written batch and one staged batch are outstanding. (Splitting a
   * burst in two to force that overlap was tried: it cost more in per-batch work than the
   * overlap gained, ~5% fewer appends/s at 10,000 records on the idle machine.)
   */
  private async drain (): Promise<void> {
    // Yield once, so every append made in the same tick joins the first commit.
    await Promise.resolve()
    let last: Promise<void> | undefined
    try {
      while (this.queue.length > 0 || last !== undefined) {
        if (this.queue.length === 0) {
          // Requests made while this write is in flight (its acks wake them) queue up here.
          await last
          last = undefined
          continue
        }
        const reserve = this.failed === undefined ? this.reservationFor(this.queue.slice(0, this.maxBatch)) : undefined
        if (reserve !== undefined) {
          try {
            await this.c.seqs.reserve(reserve)
          } catch (err) {
            // Nothing above the mark may be signed: stop, as after a failed write.
            this.failed = toAuraError(err)
          }
        }
        const batch = this.queue.splice(0, this.maxBatch)
        if (this.failed !== undefined) { for (const r of batch) r.reject(this.failed); continue }
        let staged: Staged
        try {
          staged = this.stage(batch)
        } catch (err) {
          this.failed = toAuraError(err)
          for (const r of batch) r.reject(this.failed)
          continue
        }
        // Appends past the mark (our own records came back in an ingest of the same batch and
        // moved the head) wait at the front of the queue for the next reservation.
        this.queue.unshift(...staged.rest)
        if (staged.ops.length === 0 && staged.acks.length === 0) continue
        const write = this.persist(staged, last)
        if (last !== undefined) await last
        last = write
        // Let that write reach the disk before signing the next batch: until the event loop
        // turns, it is only a queued promise, and the next batch would join its chunk.
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      // Cleared in the same step as the last empty-queue check: an append arriving after
      // this starts a new drain, one arriving before it was taken by the loop.
      this.running = undefined
    }
  }

  // The seq mark to reserve, durably, before any append of `next` is signed; undefined when the
  // mark already covers them (the common case: no await, so batching is as without a mark).
  private reservationFor (next: readonly Request[]): number | undefined {
    const appends = next.reduce((n, r) => n + (r.type === 'append' ? 1 : 0), 0)
    const need = this.nextSeq - 1 + appends
    return appends > 0 && need > this.c.seqs.reserved ? need + this.block : undefined
  }

  // Writes a staged batch once `before` (the previous write) settled, and settles its requests.
  private async persist (staged: Staged, before: Promise<void> | undefined): Promise<void> {
    await before
    if (this.failed !== undefined) { staged.reject(this.failed); return }
    try {
      await this.c.intent.commit(staged.ops)
    } catch (err) {
      this.failed = toAuraError(err)
      staged.reject(this.failed)
      return
    }
    if (staged.head !== undefined) this.current = staged.head
    for (const ack of staged.acks) ack()
  }

  // Signs the batch's appends in order (continuing the staged chain), adds them to the log as
  // one change, and gathers the ops of its commit; requests from the first append past the seq
  // mark on are returned unstaged. Throws only if the log refuses the change.
  private stage (batch: Request[]): Staged {
    const ts = this.c.clock.now()
    const log = this.c.intent.log
    const before = this.staged
    let head = before
    const toIndex: Array<{ id: RecordId, record: SignedRecord }> = []
    const entries: Array<{ id: RecordId, bytes: Uint8Array }> = []
    const acks: Array<() => void> = []
    const live: Request[] = []
    let rest: Request[] = []
    for (const [i, req] of batch.entries()) {
      if (req.type === 'append' && nextInChain(head, this.floor).seq > this.c.seqs.reserved) { rest = batch.slice(i); break }
      try {
        if (req.type === 'append') {
          const next = signNext(head, this.floor, { ...req.fields, host: this.host, ts }, this.c.key)
          const r = next.record
          head = next.head
          entries.push({ id: r.id, bytes: r.bytes })
          toIndex.push(r)
          const ack = { id: r.id, seq: r.record.seq }
          acks.push(() => req.resolve(ack))
        } else {
          for (const id of req.ids) {
            if (!log.has(id)) throw new NotFoundError(`record ${id.slice(0, 12)} is not in the intent log`, { record: id })
            const record = log.record(id)
            if (record === undefined) throw new MalformedError(`record ${id.slice(0, 12)} does not decode`, { record: id })
            toIndex.push({ id, record })
            // Our own records coming back (a restored node) move the head: never reuse a seq.
            if (record.signer === this.signer && record.seq > (head?.seq ?? 0)) head = { seq: record.seq, id }
          }
          acks.push(() => req.resolve())
        }
        live.push(req)
      } catch (err) {
        req.reject(toAuraError(err))
      }
    }
    const ops: KVOp[] = this.c.intent.indexOps(toIndex)
    if (head !== undefined && head !== before) ops.push(this.c.intent.headOp(this.signer, head))
    if (entries.length > 0) log.append(entries, ts, this.c.changeKey ?? this.c.key)
    this.staged = head
    const reject = (e: AuraError): void => { for (const r of live) r.reject(e) }
    return { ops, head: head !== before ? head : undefined, acks, reject, rest }
  }
}

/** A batch signed and added to the log, waiting for its write. */
interface Staged {
  readonly ops: KVOp[]
  /** The signer's head after this batch, if it moved. */
  readonly head: SignerHead | undefined
  readonly acks: Array<() => void>
  readonly reject: (e: AuraError) => void
  /** Requests not staged: they wait for a higher seq mark. */
  readonly rest: Request[]
}
