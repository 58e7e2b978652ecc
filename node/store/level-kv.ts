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
 * Damage LevelDB reports (a corrupt table file, a bad manifest) is E_STORE_CORRUPT naming the
 * folder, never E_INTERNAL. Damage it recovers from silently — a record of its write-ahead log
 * that fails its checksum is dropped with the rest of its 32 KiB block — is read back from its
 * info log (`LOG`, this open's messages) into `droppedOnRecovery`, so the node can say so. The
 * folder is made 0700 and the files in it 0600 on every open: LevelDB creates them 0644.
 *
 * @example
 * const kv = await LevelKV.open('/home/me/.aura/store')
 * await kv.put('meta/format', utf8('1'))
 * await kv.close()
 */
import { chmod, mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { DaemonRunningError, toAuraError } from '../../crdt/errors.js'
import { closedError, keyBytes, normaliseRange, rangeIsEmpty, type KV, type KVOp, type KVRange } from './kv.js'
import { isCorruption, storeCorrupt } from './store-errors.js'

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

  private constructor (
    private readonly db: Db,
    private readonly sync: boolean,
    readonly location: string,
    /** Write-ahead-log damage LevelDB skipped while opening: its `dropping N bytes` lines. */
    readonly droppedOnRecovery: readonly string[]
  ) {}

  /**
   * Opens (creating if missing) the LevelDB directory `dir`; E_DAEMON_RUNNING if another process
   * holds it, E_STORE_CORRUPT if LevelDB finds it damaged.
   */
  static async open (dir: string, init: LevelKVInit = {}): Promise<LevelKV> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const db: Db = new Level<Uint8Array, Uint8Array>(dir, ENC)
    try {
      await db.open()
    } catch (err) {
      if (isLocked(err)) {
        throw new DaemonRunningError(`the store at ${dir} is in use by another process (is the node running?)`, { dir })
      }
      throw isCorruption(err) ? storeCorrupt(dir, rootCause(err)) : toAuraError(err)
    }
    await makePrivate(dir)
    return new LevelKV(db, init.sync ?? true, dir, await droppedOnRecovery(dir))
  }

  async get (key: string): Promise<Uint8Array | undefined> {
    this.check()
    return await this.guard(this.db.get(keyBytes(key)))
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    this.check()
    await this.guard(this.db.put(keyBytes(key), value, { sync: this.sync } as object))
  }

  async del (key: string): Promise<void> {
    this.check()
    await this.guard(this.db.del(keyBytes(key), { sync: this.sync } as object))
  }

  async batch (ops: readonly KVOp[]): Promise<void> {
    this.check()
    const encoded = ops.map((op) => op.type === 'put'
      ? { type: 'put' as const, key: keyBytes(op.key), value: op.value }
      : { type: 'del' as const, key: keyBytes(op.key) })
    if (encoded.length === 0) return
    await this.guard(this.db.batch(encoded, { sync: this.sync } as object))
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
    const guard = this.guard.bind(this)
    return (async function * () {
      try {
        for (;;) {
          const chunk = await guard(it.nextv(256))
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

  // Damage found while reading or writing is E_STORE_CORRUPT naming this store.
  private async guard<T> (op: Promise<T>): Promise<T> {
    try {
      return await op
    } catch (err) {
      throw isCorruption(err) ? storeCorrupt(this.location, rootCause(err)) : err
    }
  }
}

// The innermost error: abstract-level wraps LevelDB's message in a generic "not open" one.
function rootCause (err: unknown): unknown {
  let e = err as { cause?: unknown }
  while (e?.cause !== undefined && e.cause !== null) e = e.cause as { cause?: unknown }
  return e
}

async function makePrivate (dir: string): Promise<void> {
  await chmod(dir, 0o700)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // A file LevelDB deletes meanwhile (a compaction) needs no mode.
    if (entry.isFile()) await chmod(join(dir, entry.name), 0o600).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
  }
}

// LevelDB renames the previous info log to LOG.old when it opens, so LOG holds this open's
// recovery messages; a skipped write-ahead-log record is reported there as "dropping N bytes".
async function droppedOnRecovery (dir: string): Promise<string[]> {
  const log = await readFile(join(dir, 'LOG'), 'utf8').catch(() => '')
  return log.split('\n').filter((line) => /dropping \d+ bytes/.test(line)).map((line) => line.trim())
}

function isLocked (err: unknown): boolean {
  type Wrapped = { code?: unknown, cause?: unknown } | undefined
  for (let e = err as Wrapped; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code === 'LEVEL_LOCKED') return true
  }
  return false
}
