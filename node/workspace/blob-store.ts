/**
 * The content-addressed blob seam: bytes stored and fetched by the hex SHA-256 of their
 * content. Snapshots keep file contents here, and deltas keep unit texts over 16 KiB here;
 * sync can ask `has` and replicate what is missing. `FsBlobStore` (fs-blob-store.ts) persists
 * to `<node home>/blobs/`; `MemoryBlobStore` serves tests. One acceptance suite
 * (test/workspace/blob-store-acceptance.ts) holds both to the same contract.
 *
 * @example
 * const hash = await blobs.put(new TextEncoder().encode('def f(): pass\n'))
 * const bytes = await blobs.get(hash) // the same bytes, or null if unknown
 */
import { createHash } from 'node:crypto'
import { MalformedError } from '../../crdt/errors.js'

/** A content-addressed store: the key of every blob is the hex SHA-256 of its bytes. */
export interface BlobStore {
  /** Stores bytes (idempotent) and returns their hash. */
  put: (bytes: Uint8Array) => Promise<string>
  /** The bytes with this hash, or null when the store does not hold them. */
  get: (hash: string) => Promise<Uint8Array | null>
  /** Whether the store holds this hash. */
  has: (hash: string) => Promise<boolean>
}

const HEX64 = /^[0-9a-f]{64}$/

/** Hex SHA-256 of bytes (a string counts as its UTF-8): the name of a blob. */
export function sha256Hex (bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Throws E_MALFORMED unless `hash` is 64 lower-case hex digits. */
export function checkBlobHash (hash: string): string {
  if (!HEX64.test(hash)) throw new MalformedError(`not a blob hash (64 lower-case hex digits): ${hash}`, { hash })
  return hash
}

/** A blob store in memory, for tests and throwaway workspaces. */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>()

  async put (bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes)
    if (!this.blobs.has(hash)) this.blobs.set(hash, bytes.slice())
    return hash
  }

  async get (hash: string): Promise<Uint8Array | null> {
    checkBlobHash(hash)
    return this.blobs.get(hash)?.slice() ?? null
  }

  async has (hash: string): Promise<boolean> {
    checkBlobHash(hash)
    return this.blobs.has(hash)
  }
}

/** Reads a blob as UTF-8 text, or null when missing. */
export async function getBlobText (store: BlobStore, hash: string): Promise<string | null> {
  const bytes = await store.get(hash)
  return bytes === null ? null : new TextDecoder().decode(bytes)
}
