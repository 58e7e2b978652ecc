/**
 * Blobs on disk, git-style: `<dir>/ab/cdef…` where `abcdef…` is the blob's SHA-256. The node
 * keeps its blobs in `<node home>/blobs/`. Writes are atomic (temporary file, then rename), so
 * a crash never leaves a blob whose content does not match its name; reads check the hash
 * anyway and refuse a corrupted file with E_WORKSPACE.
 *
 * @example
 * const blobs = new FsBlobStore(join(home, 'blobs'))
 * const hash = await blobs.put(bytes)
 */
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WorkspaceError } from '../../crdt/errors.js'
import { checkBlobHash, sha256Hex, type BlobStore } from './blob-store.js'
import { writeAtomic } from './paths.js'

/** The folder under the node home that holds blobs. */
export const BLOBS_DIR = 'blobs'

/** A content-addressed blob store in a directory. */
export class FsBlobStore implements BlobStore {
  constructor (readonly dir: string) {}

  private file (hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash.slice(2))
  }

  async put (bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes)
    if (await this.has(hash)) return hash
    // A blob file is never there before (has() said so): no mode to keep.
    await writeAtomic(this.file(hash), bytes, { mode: null, dirMode: 0o700 })
    return hash
  }

  async get (hash: string): Promise<Uint8Array | null> {
    checkBlobHash(hash)
    let bytes: Uint8Array
    try { bytes = new Uint8Array(await readFile(this.file(hash))) } catch { return null }
    if (sha256Hex(bytes) !== hash) throw new WorkspaceError(`blob ${hash} is corrupted on disk`, { blob: hash, file: this.file(hash) })
    return bytes
  }

  async has (hash: string): Promise<boolean> {
    checkBlobHash(hash)
    try { await access(this.file(hash)); return true } catch { return false }
  }
}
