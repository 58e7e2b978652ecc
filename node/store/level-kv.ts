/**
 * The KV on disk: LevelDB through `level` (classic-level), binary keys and values.
 *
 * Durability: with `sync: true` (the default) every write and batch is fsync'ed before its
 * promise resolves, so an acknowledged write survives power loss and OS crashes. With
 * `sync: false` LevelDB hands the write to the OS and returns: it still survives the process
 * being killed (the data is in the kernel's page cache), not a machine crash. Either way a
 * batch is atomic: LevelDB writes it as one record of its write-ahead log, and a torn record
 * is discarded on recovery, so after any crash a batch is wholly present or wholly absent.
 *
 * @example
 * const kv = await LevelKV.open('/home/me/.aura/store')
 * await kv.put('meta/format', utf8('1'))
 * await kv.close()
 */
import { Level } from 'level'
import { DaemonRunningError, toAuraError } from '../../crdt/errors.js'
import { closedError, keyBytes, normaliseRange, rangeIsEmpty, type KV, type KVOp, type KVRange } from './kv.js'

/** Options of LevelKV.open. */
export interface LevelKVInit {
  /** fsync every write before acknowledging it (default true); see the module comment. */
  readonly sync?: boolean
}

type Db = Level<Uint8Array, Uint8Array>

const dec = new TextDecoder()
const ENC = { keyEncoding: 'view', valueEncoding: 'view' } as const

/** A KV backed by a LevelDB directory. */
export class LevelKV implements KV {
  private closed = false

  private constructor (private readonly db: Db, private readonly sync: boolean, readonly location: string) {}

  /** Opens (creating if missing) the LevelDB directory `dir`; E_DAEMON_RUNNING if another process holds it. */
  static async open (dir: string, init: LevelKVInit = {}): Promise<LevelKV> {
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, ENC)
    try {
      await db.open()
    } catch (err) {
      if (isLocked(err)) {
        throw new DaemonRunningError(`the store at ${dir} is in use by another process (is the node running?)`, { dir })
      }
      throw toAuraError(err)
    }
    return new LevelKV(db, init.sync ?? true, dir)
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    this.check()
    return await this.db.get(keyBytes(key))
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    this.check()
    await this.db.put(keyBytes(key), value, { sync: this.sync } as object)
  }

  async del (key: string): Promise<void> {
    this.check()
    await this.db.del(keyBytes(key), { sync: this.sync } as object)
  }

  async batch (ops: readonly KVOp[]): Promise<void> {
    this.check()
    const encoded = ops.map((op) => op.type === 'put'
      ? { type: 'put' as const, key: keyBytes(op.key), value: op.value }
      : { type: 'del' as const, key: keyBytes(op.key) })
    if (encoded.length === 0) return
    await this.db.batch(encoded, { sync: this.sync } as object)
  }

  iterator (range?: KVRange): AsyncIterableIterator<[string, Uint8Array]> {
    this.check()
    const r = normaliseRange(range)
    if (rangeIsEmpty(r)) return (async function * () {})()
    const opts: Record<string, unknown> = { reverse: r.reverse, limit: Number.isFinite(r.limit) ? r.limit : -1 }
    if (r.lower !== undefined) opts[r.lower.inclusive ? 'gte' : 'gt'] = r.lower.key
    if (r.upper !== undefined) opts[r.upper.inclusive ? 'lte' : 'lt'] = r.upper.key
    // Created now, not on first next(), so the snapshot is taken when iterator() is called.
    const it = this.db.iterator(opts)
    return (async function * () {
      try {
        for (;;) {
          const chunk = await it.nextv(256)
          if (chunk.length === 0) return
          for (const [k, v] of chunk) yield [dec.decode(k), v] as [string, Uint8Array]
        }
      } finally {
        await it.close()
      }
    })()
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.db.close()
  }

  private check (): void {
    if (this.closed) throw closedError()
  }
}

function isLocked (err: unknown): boolean {
  for (let e = err as { code?: unknown, cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code === 'LEVEL_LOCKED') return true
  }
  return false
}
