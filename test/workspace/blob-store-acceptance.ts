/**
 * The contract every BlobStore keeps, run against each implementation by blob-store.test.ts.
 *
 * @example
 * blobStoreAcceptance('memory', async () => ({ store: new MemoryBlobStore(), cleanup: async () => {} }))
 */
import { describe, expect, it } from 'vitest'
import { MalformedError } from '../../crdt/errors.js'
import { sha256Hex, type BlobStore } from '../../node/workspace/blob-store.js'

/** A store under test and how to dispose of it. */
export interface BlobStoreUnderTest { store: BlobStore, cleanup: () => Promise<void> }

/** Registers the acceptance tests for one implementation. */
export function blobStoreAcceptance (name: string, make: () => Promise<BlobStoreUnderTest>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const withStore = (fn: (s: BlobStore) => Promise<void>) => async () => {
      const t = await make()
      try { await fn(t.store) } finally { await t.cleanup() }
    }

    it('names a blob by the SHA-256 of its bytes and gives the bytes back', withStore(async (s) => {
      const bytes = new TextEncoder().encode('def f():\n    return 1\n')
      const hash = await s.put(bytes)
      expect(hash).toBe(sha256Hex(bytes))
      expect(await s.has(hash)).toBe(true)
      expect(await s.get(hash)).toEqual(bytes)
    }))

    it('is idempotent and keeps empty blobs', withStore(async (s) => {
      const a = await s.put(new Uint8Array([1, 2, 3]))
      expect(await s.put(new Uint8Array([1, 2, 3]))).toBe(a)
      const empty = await s.put(new Uint8Array())
      expect(await s.get(empty)).toEqual(new Uint8Array())
    }))

    it('answers null for unknown blobs and refuses malformed hashes', withStore(async (s) => {
      expect(await s.get('0'.repeat(64))).toBeNull()
      expect(await s.has('0'.repeat(64))).toBe(false)
      await expect(s.get('../../etc/passwd')).rejects.toThrow(MalformedError)
      await expect(s.has('ABC')).rejects.toThrow(MalformedError)
    }))

    it('returns copies: changing returned bytes does not change the blob', withStore(async (s) => {
      const hash = await s.put(new Uint8Array([7, 7]))
      const got = await s.get(hash) as Uint8Array
      got[0] = 0
      expect(await s.get(hash)).toEqual(new Uint8Array([7, 7]))
    }))
  })
}
