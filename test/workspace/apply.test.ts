import { readdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MalformedError } from '../../crdt/errors.js'
import { applyDelta } from '../../node/workspace/apply.js'
import { MemoryBlobStore, sha256Hex } from '../../node/workspace/blob-store.js'
import { diffStates, type CodeDelta } from '../../node/workspace/delta.js'
import type { WorkspaceState } from '../../node/workspace/scan.js'
import { extractUnits } from '../../node/workspace/units.js'
import { makeWorkspace, type TestWorkspace } from './helpers.js'

const open: TestWorkspace[] = []
afterEach(async () => { for (const w of open.splice(0)) await w.cleanup() })

async function bob (files: Record<string, string>): Promise<TestWorkspace> {
  const w = await makeWorkspace(files)
  open.push(w)
  return w
}

function state (files: Record<string, string>): WorkspaceState {
  const out: WorkspaceState = { v: 1, files: {} }
  for (const [path, text] of Object.entries(files)) {
    out.files[path] = { fileHash: sha256Hex(text), units: extractUnits(path, text).units }
  }
  return out
}

/** Alice's change from one set of files to another, as the delta her intent carries. */
function alice (
  before: Record<string, string>,
  after: Record<string, string>
): { delta: CodeDelta, blobs: Map<string, Uint8Array> } {
  return diffStates(state(before), state(after))
}

const V1 = `import os


def verify_token(t):
    return check(t)


def render(x):
    return str(x)
`

describe('applyDelta', () => {
  it('applies a changed function and keeps local work in other units', async () => {
    const { delta } = alice({ 'a.py': V1 }, { 'a.py': V1.replace('return check(t)', 'return check(t) and fresh(t)') })
    const local = V1.replace('return str(x)', 'return repr(x)  # bob, not yet recorded')
    const w = await bob({ 'a.py': local })
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r1', delta })
    expect(r.conflicts).toEqual([])
    expect(r.applied.map((e) => e.name)).toEqual(['verify_token'])
    expect(await w.read('a.py')).toBe(local.replace('return check(t)', 'return check(t) and fresh(t)'))
  })

  it('records a conflict and never overwrites a unit changed here', async () => {
    const { delta } = alice({ 'a.py': V1 }, { 'a.py': V1.replace('return check(t)', 'return True') })
    const local = V1.replace('return check(t)', 'return check(t, strict=True)')
    const w = await bob({ 'a.py': local })
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r2', delta })
    expect(r.applied).toEqual([])
    expect(r.conflicts).toEqual([{
      recordId: 'r2',
      path: 'a.py',
      name: 'verify_token',
      change: 'modified',
      expected: delta.entries[0].beforeHash,
      actual: extractUnits('a.py', local).units.find((u) => u.name === 'verify_token')?.hash,
      reason: 'changed-locally',
      message: expect.stringContaining('keeping the local version')
    }])
    expect(await w.read('a.py')).toBe(local)
  })

  it('counts a change that is already here as applied, and is idempotent', async () => {
    const after = V1.replace('return check(t)', 'return check(t) and fresh(t)')
    const { delta } = alice({ 'a.py': V1 }, { 'a.py': after })
    const w = await bob({ 'a.py': V1 })
    const c = { root: w.root, blobs: new MemoryBlobStore() }
    await applyDelta(c, { recordId: 'r', delta })
    const again = await applyDelta(c, { recordId: 'r', delta })
    expect(again.already.map((e) => e.name)).toEqual(['verify_token'])
    expect(again.files).toEqual([])
    expect(await w.read('a.py')).toBe(after)
  })

  it('applies imports, added and deleted functions, reaching the sender\'s file', async () => {
    const after = 'import os\nimport hmac\n\n\ndef verify_token(t):\n    return check(t)\n\n\ndef audit(e):\n    log(e)\n'
    const { delta } = alice({ 'a.py': V1 }, { 'a.py': after })
    expect(delta.entries.map((e) => `${e.change}:${e.name}`)).toEqual(['modified:<module>', 'added:audit', 'deleted:render'])
    const w = await bob({ 'a.py': V1 })
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r', delta })
    expect(r.conflicts).toEqual([])
    expect(extractUnits('a.py', await w.read('a.py')).units.map((u) => u.hash)).toEqual(extractUnits('a.py', after).units.map((u) => u.hash))
  })

  it('creates new files with their classes and methods, deletes files, and moves functions between files', async () => {
    const before = { 'old.ts': 'export function pad (s: string) { return s + " " }\n', 'gone.py': 'def g():\n    pass\n', 'keep.ts': 'export const k = 1\n' }
    const after = {
      'keep.ts': 'export const k = 1\n',
      'new.ts': 'import { x } from "./x"\n\nexport class Cache {\n  size = 0\n\n  get (k: string) { return x[k] }\n}\n',
      'util.ts': 'export function pad (s: string) { return s + " " }\n'
    }
    const { delta } = alice(before, after)
    const w = await bob(before)
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r', delta })
    expect(r.conflicts).toEqual([])
    expect(await w.read('new.ts')).toBe(after['new.ts'])
    expect(await w.read('util.ts')).toBe(after['util.ts'])
    await expect(w.read('gone.py')).rejects.toThrow()
    await expect(w.read('old.ts')).rejects.toThrow()
  })

  it('applies a renamed class with its methods, one of them changed', async () => {
    const before = { 'a.ts': 'export class Guard {\n  limit = 1\n\n  check (u: User): boolean {\n    return u.ok\n  }\n\n  name (): string { return "g" }\n}\n' }
    const after = { 'a.ts': 'export class AccessGuard {\n  limit = 1\n\n  check (u: User): boolean {\n    return u.ok && !u.banned\n  }\n\n  name (): string { return "g" }\n}\n' }
    const { delta } = alice(before, after)
    expect(delta.entries.map((e) => `${e.change}:${e.fromName ?? ''}->${e.name}`)).toEqual(['renamed:Guard->AccessGuard', 'renamed:Guard.check->AccessGuard.check', 'renamed:Guard.name->AccessGuard.name'])
    const w = await bob(before)
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r', delta })
    expect(r.conflicts).toEqual([])
    expect(await w.read('a.ts')).toBe(after['a.ts'])
  })

  it('refuses malformed paths, paths through a symlink out of the workspace, and paths ignored here', async () => {
    const { delta } = alice({}, { 'evil.py': 'def f():\n    pass\n' })
    const outside = await bob({})
    const w = await bob({ '.gitignore': 'generated/\n' })
    await symlink(outside.root, join(w.root, 'link'))
    const at = (path: string): CodeDelta => ({ v: 1, entries: delta.entries.map((e) => ({ ...e, path })) })
    const c = { root: w.root, blobs: new MemoryBlobStore() }
    for (const path of ['../escape.py', '.git/hooks/pre-commit', '/etc/cron.d/x']) {
      await expect(applyDelta(c, { recordId: 'r', delta: at(path) })).rejects.toThrow(MalformedError)
    }
    for (const [path, reason] of [['link/evil.py', 'unsafe-path'], ['generated/x.py', 'ignored-path']]) {
      const r = await applyDelta(c, { recordId: 'r', delta: at(path) })
      expect(r.conflicts.map((x) => x.reason)).toEqual([reason, reason])
      expect(r.files).toEqual([])
    }
    expect(await readdir(outside.root)).toEqual([])
  })

  it('refuses an edit that would leave the file unparsable here', async () => {
    const { delta } = alice({ 'a.py': 'class A:\n    x = 1\n\n    def m(self):\n        pass\n' }, { 'a.py': 'class A:\n    x = 1\n' })
    const local = 'class A:\n    def m(self):\n        pass\n'
    const w = await bob({ 'a.py': local })
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r', delta })
    expect(r.conflicts.map((c) => `${c.name}:${c.reason}`)).toEqual(['A.m:unparsable'])
    expect(await w.read('a.py')).toBe(local)
  })

  it('under dry run reports the diff and writes nothing', async () => {
    const { delta } = alice({ 'a.py': V1 }, { 'a.py': V1.replace('str(x)', 'str(x).strip()') })
    const w = await bob({ 'a.py': V1 })
    const r = await applyDelta({ root: w.root, blobs: new MemoryBlobStore() }, { recordId: 'r', delta, dryRun: true })
    expect(r.files[0].diff).toContain('+    return str(x).strip()')
    expect(await w.read('a.py')).toBe(V1)
  })

  it('takes large texts from the blob store, and waits when the blob is missing', async () => {
    const big = `def big():\n${'    x = 1\n'.repeat(3000)}`
    const { delta, blobs } = alice({}, { 'big.py': big })
    const w = await bob({})
    const store = new MemoryBlobStore()
    const missing = await applyDelta({ root: w.root, blobs: store }, { recordId: 'r', delta })
    expect(missing.conflicts.map((c) => c.reason)).toContain('blob-missing')
    for (const b of blobs.values()) await store.put(b)
    await w.cleanup()
    const w2 = await bob({})
    const r = await applyDelta({ root: w2.root, blobs: store }, { recordId: 'r', delta })
    expect(r.conflicts).toEqual([])
    expect(await w2.read('big.py')).toBe(big)
  })
})
