import { afterEach, describe, expect, it } from 'vitest'
import { NotFoundError } from '../../crdt/errors.js'
import { MemoryBlobStore } from '../../node/workspace/blob-store.js'
import { filterSnapshots, loadSnapshot, snapshotFileText, takeSnapshot } from '../../node/workspace/snapshots.js'
import { makeWorkspace, type TestWorkspace } from './helpers.js'

let ws: TestWorkspace | null = null
afterEach(async () => { await ws?.cleanup(); ws = null })

describe('snapshots', () => {
  it('stores file contents by hash under a manifest whose hash is the snapshot id', async () => {
    ws = await makeWorkspace({ 'src/a.py': 'A = 1\n', 'src/b.py': 'B = 2\n', 'docs/x.md': 'x', '.gitignore': 'docs/\n' })
    const blobs = new MemoryBlobStore()
    const snap = await takeSnapshot({ root: ws.root, blobs }, { author: 'claude-7f3a', ts: 1000, reason: 'manual' })
    expect(Object.keys(snap.manifest.files)).toEqual(['.gitignore', 'src/a.py', 'src/b.py'])
    const loaded = await loadSnapshot(blobs, snap.id)
    expect(loaded).toEqual(snap)
    await ws.write('src/a.py', 'A = 99\n')
    expect(await snapshotFileText(blobs, loaded, 'src/a.py')).toBe('A = 1\n')
    await expect(snapshotFileText(blobs, loaded, 'docs/x.md')).rejects.toThrow(NotFoundError)
    await expect(loadSnapshot(blobs, 'f'.repeat(64))).rejects.toThrow(NotFoundError)
  })

  it('takes only the given paths', async () => {
    ws = await makeWorkspace({ 'src/a.py': 'A = 1\n', 'lib/b.py': 'B = 2\n' })
    const snap = await takeSnapshot({ root: ws.root, blobs: new MemoryBlobStore() }, { paths: ['lib'], author: 'alice', ts: 1, reason: 'manual' })
    expect(Object.keys(snap.manifest.files)).toEqual(['lib/b.py'])
  })

  it('filters by author, path and time, oldest first', async () => {
    ws = await makeWorkspace({ 'src/auth/verify.py': 'x = 1\n', 'src/ui.ts': 'y\n' })
    const blobs = new MemoryBlobStore()
    const c = { root: ws.root, blobs }
    const s1 = await takeSnapshot(c, { author: 'claude-7f3a', ts: 300, reason: 'pre-edit', paths: ['src/auth'] })
    const s2 = await takeSnapshot(c, { author: 'claude-7f3a', ts: 100, reason: 'pre-edit', paths: ['src/ui.ts'] })
    const s3 = await takeSnapshot(c, { author: 'alice', ts: 200, reason: 'manual' })
    const all = [s1, s2, s3]
    expect(filterSnapshots(all, { author: 'claude-7f3a' }).map((s) => s.manifest.ts)).toEqual([100, 300])
    expect(filterSnapshots(all, { path: 'src/auth' }).map((s) => s.manifest.ts)).toEqual([200, 300])
    expect(filterSnapshots(all, { since: 150 }).map((s) => s.manifest.ts)).toEqual([200, 300])
  })
})
