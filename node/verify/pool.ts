/**
 * node/verify: checking the signatures of incoming records on more than one thread. A
 * SignaturePool owns worker threads; each `batch()` is a crdt `SignatureBatch` that ships checks
 * to the workers in chunks as they are added (while the caller is still decoding the records
 * after them), and at `finish` verifies on the calling thread every chunk no worker has
 * started, then waits (Atomics.wait: the caller is inside a synchronous sync step) for the
 * rest. A worker that stops answering is given up on and its chunk verified here.
 *
 * @example
 * const pool = SignaturePool.start()
 * log.useSignatureBatches(() => pool.batch())
 * await pool.close()
 */
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { SignatureBatch, SignatureCheck } from '../../crdt/record.js'
import { claim, DONE, packChunk, readAnswers, TAKEN, verifyCheck, WORKER_SOURCE } from './chunk.js'

/** Options of a pool. */
export interface SignaturePoolInit {
  /** Worker threads (default: one fewer than the cores, at least one, at most four). */
  workers?: number
  /** Checks per chunk handed to a worker (default 64); a batch smaller than this stays here. */
  chunkSize?: number
  /** How long to wait for a chunk a worker took before verifying it here (default 10 s). */
  giveUpMs?: number
}

const WAIT_SLICE_MS = 50

/** Worker threads that verify signatures beside the caller. */
export class SignaturePool {
  readonly chunkSize: number
  readonly giveUpMs: number
  /** Checks answered so far by the workers, and by the calling thread. */
  readonly stats = { workers: 0, here: 0 }
  private workers: Worker[]
  private next = 0

  private constructor (workers: Worker[], init: SignaturePoolInit) {
    this.workers = workers
    this.chunkSize = init.chunkSize ?? 64
    this.giveUpMs = init.giveUpMs ?? 10_000
  }

  /** Starts the workers; they never keep the process alive on their own. */
  static start (init: SignaturePoolInit = {}): SignaturePool {
    const count = init.workers ?? Math.min(4, Math.max(1, availableParallelism() - 1))
    const sodium = createRequire(import.meta.url).resolve('sodium-native')
    const workers = Array.from(
      { length: count },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium } })
    )
    const pool = new SignaturePool(workers, init)
    for (const w of workers) {
      w.unref()
      // A broken worker is dropped; its chunks are verified by the caller.
      w.on('error', () => { pool.workers = pool.workers.filter((x) => x !== w) })
    }
    return pool
  }

  /** A new batch of checks. */
  batch (): SignatureBatch {
    return new PooledBatch(this)
  }

  /** Hands a packed chunk to a worker (round robin); false when none is left. */
  post (checks: readonly SignatureCheck[]): SharedArrayBuffer | undefined {
    if (this.workers.length === 0) return undefined
    const chunk = packChunk(checks)
    this.workers[this.next++ % this.workers.length].postMessage(chunk, [chunk.data])
    return chunk.status
  }

  /** Stops using every worker: a chunk outlived the wait, so they may be stuck. */
  giveUp (): void {
    const stuck = this.workers
    this.workers = []
    for (const w of stuck) void w.terminate()
  }

  /** Stops the workers; batches made afterwards verify on the calling thread. */
  async close (): Promise<void> {
    const workers = this.workers
    this.workers = []
    await Promise.all(workers.map(async (w) => await w.terminate()))
  }
}

class PooledBatch implements SignatureBatch {
  private pending: SignatureCheck[] = []
  private readonly shipped: Array<{ checks: readonly SignatureCheck[], status: SharedArrayBuffer | undefined }> = []

  constructor (private readonly pool: SignaturePool) {}

  add (check: SignatureCheck): void {
    this.pending.push(check)
    if (this.pending.length < this.pool.chunkSize) return
    this.shipped.push({ checks: this.pending, status: this.pool.post(this.pending) })
    this.pending = []
  }

  finish (): boolean[] {
    const answers: Array<boolean[] | undefined> = this.shipped.map(() => undefined)
    // Workers take chunks from the front; take back from the end what none has started.
    for (let i = this.shipped.length - 1; i >= 0; i--) {
      const { checks, status } = this.shipped[i]
      if (status === undefined || claim(status)) answers[i] = this.here(checks)
    }
    const tail = this.here(this.pending)
    const all: boolean[] = []
    this.shipped.forEach((s, i) => all.push(...(answers[i] ?? this.await(s.checks, s.status as SharedArrayBuffer))))
    return [...all, ...tail]
  }

  private here (checks: readonly SignatureCheck[]): boolean[] {
    this.pool.stats.here += checks.length
    return checks.map(verifyCheck)
  }

  private await (checks: readonly SignatureCheck[], status: SharedArrayBuffer): boolean[] {
    const words = new Int32Array(status)
    for (let waited = 0; Atomics.load(words, 0) !== DONE; waited += WAIT_SLICE_MS) {
      if (waited >= this.pool.giveUpMs) {
        this.pool.giveUp()
        return this.here(checks)
      }
      Atomics.wait(words, 0, TAKEN, WAIT_SLICE_MS)
    }
    this.pool.stats.workers += checks.length
    return readAnswers(status, checks.length)
  }
}
