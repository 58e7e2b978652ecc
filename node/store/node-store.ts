/**
 * The node store: everything a node keeps on disk, in one LevelDB directory with one key
 * layout (layout.ts, docs/storage.md). Opening checks the format version, loads the intent
 * log (base + incremental chunks), repairs its index and folds chunks a crash left into a
 * base; reopening gives exactly the state that was acknowledged before. A store found damaged
 * is E_STORE_CORRUPT naming its folder and the way to recover (docs/storage.md).
 *
 * @example
 * const store = await NodeStore.open(join(home, 'store'), { actor: randomActorHex })
 * const entries = await store.chain.load()
 * store.intent.log.size
 * await store.audit.append({ ts: clock.now(), type: 'lockdown', reason: 'incident 42' })
 * await store.close()
 */
import { MalformedError, type AuraError } from '../../crdt/errors.js'
import { randomBytes } from 'node:crypto'
import { ChainStore } from './chain-store.js'
import { AuditStore, EventCounter, JoinStore } from './event-store.js'
import { IntentStore, type CompactionPolicy } from './intent-store.js'
import type { KV } from './kv.js'
import { FORMAT_VERSION, layout } from './layout.js'
import { LevelKV } from './level-kv.js'
import { PeerStore } from './peer-store.js'
import { isCorruption, storeCorrupt } from './store-errors.js'
import { WriteQueue } from './write-queue.js'

/** Options of NodeStore.open. */
export interface NodeStoreInit {
  /** Use this KV instead of opening LevelDB at `dir` (tests, the simulator). The store closes it. */
  readonly kv?: KV
  /** fsync each write (LevelKV only; default true). */
  readonly sync?: boolean
  /**
   * Automerge actor (hex) for this process's changes. Default: fresh random bytes, so a change
   * made but lost in a crash can never collide with the next run's change of the same number.
   */
  readonly actor?: string
  /** When the intent log's chunks are folded into a fresh base (docs/storage.md). */
  readonly compaction?: Partial<CompactionPolicy>
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/** All of a node's persistent state. */
export class NodeStore {
  private closed = false

  private constructor (
    /** The underlying KV, for subsystems that add their own documented prefixes. */
    readonly kv: KV,
    readonly chain: ChainStore,
    readonly intent: IntentStore,
    readonly audit: AuditStore,
    readonly joins: JoinStore,
    readonly peers: PeerStore,
    private readonly queue: WriteQueue,
    /** Write-ahead-log records LevelDB skipped as damaged while opening (LevelKV only). */
    readonly droppedOnRecovery: readonly string[]
  ) {}

  /** Opens (creating if empty) the store at `dir`; E_MALFORMED for an unknown format. */
  static async open (dir: string, init: NodeStoreInit = {}): Promise<NodeStore> {
    const kv = init.kv ?? await LevelKV.open(dir, { sync: init.sync })
    try {
      await checkFormat(kv, dir)
      const queue = new WriteQueue()
      const counter = await EventCounter.open(kv)
      const intent = await IntentStore.open(kv, init.actor ?? randomBytes(16).toString('hex'), init.compaction)
      return new NodeStore(kv, await ChainStore.open(kv, queue), intent,
        new AuditStore(kv, queue, counter), new JoinStore(kv, queue, counter), new PeerStore(kv), queue,
        kv instanceof LevelKV ? kv.droppedOnRecovery : [])
    } catch (err) {
      await kv.close()
      const found = err as AuraError
      throw isCorruption(err) && found.context?.path === undefined ? storeCorrupt(dir, err) : err
    }
  }

  /**
   * Waits for queued writes, folds the intent log's chunks into a fresh base (so the next
   * open is fast), then closes the KV. Idempotent.
   */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.queue.idle()
    try {
      await this.intent.compact()
    } finally {
      await this.kv.close()
    }
  }
}

async function checkFormat (kv: KV, dir: string): Promise<void> {
  const v = await kv.get(layout.format)
  if (v === undefined) {
    for await (const [key] of kv.iterator({ limit: 1 })) {
      throw new MalformedError(`the store at ${dir} has data (${key}) but no format version`, { dir, key })
    }
    await kv.put(layout.format, enc.encode(String(FORMAT_VERSION)))
    return
  }
  const format = dec.decode(v)
  if (format !== String(FORMAT_VERSION)) {
    throw new MalformedError(`the store at ${dir} has format ${format}; this build reads format ${FORMAT_VERSION}`, { dir, format })
  }
}
