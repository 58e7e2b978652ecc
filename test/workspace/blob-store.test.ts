import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { WorkspaceError } from '../../crdt/errors.js'
import { MemoryBlobStore } from '../../node/workspace/blob-store.js'
import { FsBlobStore } from '../../node/workspace/fs-blob-store.js'
import { blobStoreAcceptance } from './blob-store-acceptance.js'

blobStoreAcceptance('memory', async () => ({ store: new MemoryBlobStore(), cleanup: async () => {} }))
blobStoreAcceptance('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'aura-blobs-'))
  return { store: new FsBlobStore(dir), cleanup: async () => { await rm(dir, { recursive: true, force: true }) } }
})

describe('FsBlobStore', () => {
  it('lays blobs out git-style and refuses a corrupted one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aura-blobs-'))
    try {
      const s = new FsBlobStore(dir)
      const hash = await s.put(new TextEncoder().encode('x'))
      const file = join(dir, hash.slice(0, 2), hash.slice(2))
      await writeFile(file, 'y')
      await expect(s.get(hash)).rejects.toThrow(WorkspaceError)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
