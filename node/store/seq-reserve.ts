/**
 * The seq high-water mark of a signer: the highest `seq` it may already have signed, kept in a
 * small file of its own beside the store (`<home>/seq/<keyId>`), written atomically and fsynced
 * BEFORE any record above it is signed. LevelDB's write-ahead log can lose an acknowledged batch
 * (a flipped byte drops it on recovery without a word) and a store can be restored from an old
 * backup; the records of that batch may already be on peers, so a writer that continued from the
 * store alone would sign a second record at their seq — an equivocation that quarantines its own
 * honest records everywhere. The writer starts above max(store head, this mark) instead.
 *
 * Reservations are made in blocks (the writer asks for `need + block`), so appends stay fast;
 * a clean shutdown lowers the mark to what was really used, so only a crash leaves a gap.
 *
 * @example
 * const seqs = await FileSeqReserve.open(join(home, 'seq'), signer)
 * seqs.reserved            // 0 for a new signer
 * await seqs.reserve(1024) // durable before record 1 is signed
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreCorruptError } from '../../crdt/errors.js'
import { parseKeyId, type KeyId } from '../../crdt/ids.js'

/** The folder of a node home that holds the marks. */
export const SEQ_DIR = 'seq'

/** A signer's durable seq high-water mark. */
export interface SeqReserve {
  /** The highest seq that may have been signed: every new record must be above it. */
  readonly reserved: number
  /** Durably raises the mark to `upTo` (no-op if already there). */
  reserve: (upTo: number) => Promise<void>
  /** Sets the mark to `to` (may lower it): only once every seq above `to` is known unused. */
  release: (to: number) => Promise<void>
}

/** A mark that lives in memory only: for tests and the simulator, never for a node's own key. */
export class MemorySeqReserve implements SeqReserve {
  constructor (public reserved = 0) {}

  async reserve (upTo: number): Promise<void> {
    if (upTo > this.reserved) this.reserved = upTo
  }

  async release (to: number): Promise<void> {
    this.reserved = to
  }
}

/** A mark in `<dir>/<signer>`: one line of JSON `{"v":1,"reserved":N}`, mode 0600. */
export class FileSeqReserve implements SeqReserve {
  private constructor (private readonly dir: string, readonly file: string, public reserved: number) {}

  /** Reads the mark of `signer` in `dir` (0 if none); E_STORE_CORRUPT if the file is damaged. */
  static async open (dir: string, signer: KeyId): Promise<FileSeqReserve> {
    const file = join(dir, parseKeyId(signer))
    let text: string | undefined
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
    return new FileSeqReserve(dir, file, text === undefined ? 0 : parseMark(text, file))
  }

  async reserve (upTo: number): Promise<void> {
    if (upTo <= this.reserved) return
    await this.write(upTo)
  }

  async release (to: number): Promise<void> {
    if (to !== this.reserved) await this.write(to)
  }

  // Temporary file, fsync, rename, fsync of the folder: the mark is the old one or the new one
  // after any crash, and the new one is on disk before the caller signs anything above the old.
  private async write (value: number): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await chmod(this.dir, 0o700)
    const tmp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`
    const fh = await open(tmp, 'wx', 0o600)
    try {
      await fh.writeFile(JSON.stringify({ v: 1, reserved: value }) + '\n')
      await fh.sync()
    } finally {
      await fh.close()
    }
    try {
      await rename(tmp, this.file)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw err
    }
    const dh = await open(this.dir, 'r')
    try { await dh.sync() } finally { await dh.close() }
    this.reserved = value
  }
}

function parseMark (text: string, file: string): number {
  let reserved: unknown
  try {
    const json = JSON.parse(text) as { v?: unknown, reserved?: unknown }
    if (json.v === 1) reserved = json.reserved
  } catch {}
  if (typeof reserved !== 'number' || !Number.isSafeInteger(reserved) || reserved < 0) {
    throw new StoreCorruptError(`the seq high-water mark ${file} is damaged`, {
      path: file,
      hint: 'write {"v":1,"reserved":N} into it, N at least the highest seq of this key any peer holds (`aura trace --json` on a peer), or restore it from a backup; see docs/storage.md'
    })
  }
  return reserved
}
