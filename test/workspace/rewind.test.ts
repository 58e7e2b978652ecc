import { afterEach, describe, expect, it } from 'vitest'
import { NotFoundError, ParseError } from '../../crdt/errors.js'
import { MemoryBlobStore } from '../../node/workspace/blob-store.js'
import { diffStates } from '../../node/workspace/delta.js'
import { rewindUnit } from '../../node/workspace/rewind.js'
import { emptyState, scanWorkspace, summariseState, type WorkspaceState } from '../../node/workspace/scan.js'
import { loadSnapshot, snapshotFileText, takeSnapshot } from '../../node/workspace/snapshots.js'
import { versionFromHistory, versionFromSnapshot, type HistoryItem } from '../../node/workspace/versions.js'
import { makeWorkspace, type TestWorkspace } from './helpers.js'

let ws: TestWorkspace | null = null
afterEach(async () => { await ws?.cleanup(); ws = null })

/** Records intents the way `aura log-intent` does: diff against the last recorded state. */
class Recorder {
  history: HistoryItem[] = []
  baseline: WorkspaceState = emptyState()
  constructor (readonly root: string) {}
  async intent (id: string): Promise<void> {
    const { state } = await scanWorkspace(this.root, { baseline: this.baseline })
    this.history.push({ id, delta: diffStates(this.baseline, state).delta })
    this.baseline = summariseState(state)
  }
}

const GOOD = `import hmac


def verify_token(token, secret):
    if not token:
        raise PermissionError("no token")
    return hmac.compare_digest(token, secret)


def neighbour(x):
    return x + 1
`

const author = 'alice'

describe('rewindUnit', () => {
  it('puts back one function and leaves a neighbour edited later byte for byte', async () => {
    ws = await makeWorkspace({ 'src/auth/verify.py': GOOD })
    const rec = new Recorder(ws.root)
    await rec.intent('i1')
    await ws.write('src/auth/verify.py', GOOD.replace(/if not token:\n.*\n    return hmac.compare_digest\(token, secret\)/, 'return True'))
    await rec.intent('i2-bad')
    const later = (await ws.read('src/auth/verify.py')).replace('return x + 1', 'return x + 2  # edited later,   oddly   spaced')
    await ws.write('src/auth/verify.py', later)
    await rec.intent('i3')

    const blobs = new MemoryBlobStore()
    const target = await versionFromHistory(rec.history, 'i1', 'src/auth/verify.py', 'verify_token', blobs)
    expect(target?.text).toContain('compare_digest')
    const r = await rewindUnit({ root: ws.root, blobs }, { path: 'src/auth/verify.py', name: 'verify_token', target: target ?? null, author, ts: 5 })
    const now = await ws.read('src/auth/verify.py')
    expect(now).toBe(GOOD.replace('return x + 1', 'return x + 2  # edited later,   oddly   spaced'))
    expect(now.slice(now.indexOf('def neighbour'))).toBe(later.slice(later.indexOf('def neighbour')))
    expect(r.changed).toBe(true)
    expect(r.delta.entries).toHaveLength(1)
    expect(r.delta.entries[0]).toMatchObject({ path: 'src/auth/verify.py', name: 'verify_token', change: 'modified' })
    expect(r.delta.entries[0].afterHash).toBe(target?.hash)
    expect(r.diff).toContain('+    return hmac.compare_digest(token, secret)')
    // The file as it was before the rewind is kept as a snapshot.
    const snap = await loadSnapshot(blobs, r.snapshot?.id as string)
    expect(snap.manifest.reason).toBe('pre-rewind')
    expect(await snapshotFileText(blobs, snap, 'src/auth/verify.py')).toBe(later)
  })

  it('refuses to write a result that does not parse, and says where', async () => {
    ws = await makeWorkspace({ 'a.ts': 'export function f () { return 1 }\n\nexport function g () { return 2 }\n' })
    const before = await ws.read('a.ts')
    const blobs = new MemoryBlobStore()
    const target = { path: 'a.ts', name: 'f', kind: 'function' as const, text: 'export function f () { return (1 }', indent: '', parent: '<module>', after: null, hash: 'x' }
    const err = await rewindUnit({ root: ws.root, blobs }, { path: 'a.ts', name: 'f', target, author, ts: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ParseError)
    expect((err as ParseError).message).toMatch(/unparsable at line 1/)
    expect(await ws.read('a.ts')).toBe(before)
  })

  it('refuses to leave a Python class without a statement', async () => {
    ws = await makeWorkspace({ 'a.py': 'x = 1\n\n\nclass A:\n    def m(self):\n        pass\n\n\ndef f():\n    return 1\n' })
    const before = await ws.read('a.py')
    const err = await rewindUnit({ root: ws.root, blobs: new MemoryBlobStore() }, { path: 'a.py', name: 'A.m', target: null, author, ts: 1 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ParseError)
    expect((err as ParseError).context).toMatchObject({ line: 4 })
    expect(await ws.read('a.py')).toBe(before)
  })

  it('refuses when the file does not parse now', async () => {
    ws = await makeWorkspace({ 'a.py': 'def f():\n    return 1\n\ndef g(:\n' })
    const target = { path: 'a.py', name: 'f', kind: 'function' as const, text: 'def f():\n    return 2', indent: '', parent: '<module>', after: null, hash: 'x' }
    await expect(rewindUnit({ root: ws.root, blobs: new MemoryBlobStore() }, { path: 'a.py', name: 'f', target, author, ts: 1 })).rejects.toThrow(/does not parse now/)
  })

  it('under dry run returns the diff and writes nothing', async () => {
    ws = await makeWorkspace({ 'a.js': 'function f () {\n  return 1\n}\n' })
    const target = { path: 'a.js', name: 'f', kind: 'function' as const, text: 'function f () {\n  return 0\n}', indent: '', parent: '<module>', after: null, hash: 'x' }
    const r = await rewindUnit({ root: ws.root, blobs: new MemoryBlobStore() }, { path: 'a.js', name: 'f', target, author, ts: 1, dryRun: true })
    expect(r.diff).toBe('--- a/a.js\n+++ b/a.js\n@@ -1,3 +1,3 @@\n function f () {\n-  return 1\n+  return 0\n }\n')
    expect(r.snapshot).toBeNull()
    expect(await ws.read('a.js')).toBe('function f () {\n  return 1\n}\n')
  })

  it('rewinds to a snapshot, a TypeScript method inside its class', async () => {
    const v1 = 'export class Auth {\n  check (t: string): boolean {\n    return t.startsWith("ok")\n  }\n\n  other (): number { return 1 }\n}\n'
    ws = await makeWorkspace({ 'src/auth.ts': v1 })
    const blobs = new MemoryBlobStore()
    const snap = await takeSnapshot({ root: ws.root, blobs }, { author: 'claude-7f3a', ts: 1, reason: 'pre-edit' })
    const v2 = v1.replace('return t.startsWith("ok")', 'return true').replace('return 1', 'return 2')
    await ws.write('src/auth.ts', v2)
    const target = await versionFromSnapshot(blobs, snap.id, 'src/auth.ts', 'Auth.check')
    await rewindUnit({ root: ws.root, blobs }, { path: 'src/auth.ts', name: 'Auth.check', target, author, ts: 2 })
    expect(await ws.read('src/auth.ts')).toBe(v1.replace('return 1', 'return 2'))
  })

  it('rewinding a class restores the class itself and keeps the methods there now', async () => {
    const v1 = 'class Store:\n    limit = 10\n\n    def get(self, k):\n        return self.d[k]\n'
    ws = await makeWorkspace({ 's.py': v1 })
    const blobs = new MemoryBlobStore()
    const snap = await takeSnapshot({ root: ws.root, blobs }, { author, ts: 1, reason: 'manual' })
    const v2 = 'class Store(Base):\n    limit = 99999\n\n    def get(self, k):\n        return self.d.get(k)\n'
    await ws.write('s.py', v2)
    const target = await versionFromSnapshot(blobs, snap, 's.py', 'Store')
    await rewindUnit({ root: ws.root, blobs }, { path: 's.py', name: 'Store', target, author, ts: 2 })
    expect(await ws.read('s.py')).toBe('class Store:\n    limit = 10\n\n    def get(self, k):\n        return self.d.get(k)\n')
  })

  it('rewinding <module> restores imports and top-level code, and keeps every function as it is now', async () => {
    const v1 = 'import hmac\nimport os\n\nTIMEOUT = 5\n\n\ndef a():\n    return 1\n'
    ws = await makeWorkspace({ 'm.py': v1 })
    const rec = new Recorder(ws.root)
    await rec.intent('i1')
    await ws.write('m.py', 'import os\n\nTIMEOUT = 500\n\n\ndef a():\n    return 2\n\n\ndef b():\n    return 3\n')
    await rec.intent('i2')
    const blobs = new MemoryBlobStore()
    const target = await versionFromHistory(rec.history, 'i1', 'm.py', '<module>', blobs)
    await rewindUnit({ root: ws.root, blobs }, { path: 'm.py', name: '<module>', target: target ?? null, author, ts: 1 })
    expect(await ws.read('m.py')).toBe('import hmac\nimport os\n\nTIMEOUT = 5\n\n\ndef a():\n    return 2\n\ndef b():\n    return 3\n')
  })

  it('follows a rename made after the target, and restores a deleted function in its place', async () => {
    ws = await makeWorkspace({ 'a.py': 'def a():\n    return 1\n\n\ndef b():\n    return 2\n\n\ndef c():\n    return 3\n' })
    const rec = new Recorder(ws.root)
    await rec.intent('i1')
    await ws.write('a.py', 'def a():\n    return 1\n\n\ndef c():\n    return 3\n')
    await rec.intent('i2-deletes-b')
    await ws.write('a.py', 'def a():\n    return 1\n\n\ndef c_renamed():\n    return 3\n')
    await rec.intent('i3-renames-c')
    const blobs = new MemoryBlobStore()
    const b = await versionFromHistory(rec.history, 'i1', 'a.py', 'b', blobs)
    expect(b).toMatchObject({ name: 'b', after: 'a' })
    await rewindUnit({ root: ws.root, blobs }, { path: 'a.py', name: 'b', target: b ?? null, author, ts: 1 })
    expect(await ws.read('a.py')).toBe('def a():\n    return 1\n\ndef b():\n    return 2\n\n\ndef c_renamed():\n    return 3\n')
    const c = await versionFromHistory(rec.history, 'i2-deletes-b', 'a.py', 'c_renamed', blobs)
    expect(c?.name).toBe('c')
    const r = await rewindUnit({ root: ws.root, blobs }, { path: 'a.py', name: 'c_renamed', target: c ?? null, author, ts: 2 })
    expect(r.delta.entries[0]).toMatchObject({ change: 'renamed', fromName: 'c_renamed', name: 'c' })
    expect((await ws.read('a.py')).endsWith('def c():\n    return 3\n')).toBe(true)
  })

  it('removes a function that did not exist at the target', async () => {
    ws = await makeWorkspace({ 'a.py': 'def a():\n    return 1\n' })
    const rec = new Recorder(ws.root)
    await rec.intent('i1')
    await ws.write('a.py', 'def a():\n    return 1\n\n\ndef backdoor():\n    return 2\n')
    await rec.intent('i2')
    const blobs = new MemoryBlobStore()
    const v = await versionFromHistory(rec.history, 'i1', 'a.py', 'backdoor', blobs)
    expect(v).toBeNull()
    const r = await rewindUnit({ root: ws.root, blobs }, { path: 'a.py', name: 'backdoor', target: null, author, ts: 1 })
    expect(r.delta.entries[0]).toMatchObject({ change: 'deleted', name: 'backdoor' })
    expect(await ws.read('a.py')).toBe('def a():\n    return 1\n')
  })

  it('reports an unknown record and an unknown history', async () => {
    await expect(versionFromHistory([{ id: 'x', delta: null }], 'nope', 'a.py', 'f', new MemoryBlobStore())).rejects.toThrow(NotFoundError)
    expect(await versionFromHistory([{ id: 'x', delta: null }], 'x', 'a.py', 'f', new MemoryBlobStore())).toBeUndefined()
  })
})
