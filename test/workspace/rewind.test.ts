import { afterEach, describe, expect, it } from 'vitest'
import { NotFoundError, ParseError } from '../../crdt/errors.js'
import { MemoryBlobStore } from '../../node/workspace/blob-store.js'
import { diffStates } from '../../node/workspace/delta.js'
import { rewindUnit } from '../../node/workspace/rewind.js'
import { emptyState, scanWorkspace, summariseState, type WorkspaceState } from '../../node/workspace/scan.js'
import { loadSnapshot, snapshotFileText, takeSnapshot } from '../../node/workspace/snapshots.js'
import { keepTree, parse, takeTree } from '../../node/workspace/languages.js'
import { extractUnits, findTopLevelFunction, reextractUnit, type Unit } from '../../node/workspace/units.js'
import { versionFromHistory, versionFromSnapshot, type HistoryItem, type UnitVersion } from '../../node/workspace/versions.js'
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
    await ws.write('src/auth/verify.py', GOOD.replace(/if not token:\n.*\n {4}return hmac.compare_digest\(token, secret\)/, 'return True'))
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
    expect(new TextDecoder().decode(r.snapshotBlobs.get(snap.manifest.files['src/auth/verify.py']))).toBe(later)
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

const TS_FILE = `import { x } from './x' // café ☕ 𝄞

/** doc */
export function f (a: number): number {
  return a + 1
}

function g () { return 2 }

const h = () => 3;

(function () { return x })()

export class A {
  @dec
  // between
  m (): number { return 1 }

  n = () => 2

  static s () { return 3 }
}

const p = () => 1, q = () => 2

function g () { return 'dup' }

export default function () { return 0 }
`

const PY_FILE = `import os


@decorator
def f(a):
    return a + 1


def g():
    return 2


class A:
    x = 1

    @staticmethod
    def m():
        return 1

    def n(self):
        return 2


def g():
    return "dup"
`

/** The previous sibling's name, as a delta entry's \`after\`. */
function anchor (units: Unit[], u: Unit): string | null {
  for (let j = units.indexOf(u) - 1; j >= 0; j--) if (units[j].parent === u.parent) return units[j].name
  return null
}

describe('rewindUnit reads the edited unit back alone, exactly as a whole-file extraction would', () => {
  const cases: Array<[string, string, string, string, boolean]> = [
    // path, source, unit, new text, whether the unit alone can be read back
    ['a.ts', TS_FILE, 'f', 'export function f (a: number): number {\n  return a - 1\n}', true],
    ['a.ts', TS_FILE, 'g', 'function g () { return 20 }', true],
    ['a.ts', TS_FILE, 'g#2', "function g () { return 'dup2' }", true],
    ['a.ts', TS_FILE, 'h', 'const h = () => 30;', true],
    // Without its semicolon the next line's ( calls the arrow's result: the unit grows.
    ['a.ts', TS_FILE, 'h', 'const h = () => 3', false],
    ['a.ts', TS_FILE, 'A.m', '@dec\n// between\nm (): number { return 10 }', true],
    ['a.ts', TS_FILE, 'A.n', 'n = () => 20', true],
    ['a.ts', TS_FILE, 'A.s', 'static s () { return 30 }', true],
    ['a.ts', TS_FILE, 'p', 'p = () => 10', false],
    ['a.ts', TS_FILE, 'default', 'export default function () { return 1 }', true],
    // A text that is two functions, or that names another function, is not the unit alone.
    ['a.ts', TS_FILE, 'g', 'function g () { return 2 }\nfunction extra () {}', false],
    ['a.ts', TS_FILE, 'g', 'function other () { return 2 }', false],
    ['a.py', PY_FILE, 'f', '@decorator\ndef f(a):\n    return a - 1', true],
    ['a.py', PY_FILE, 'g', 'def g():\n    return 20', true],
    ['a.py', PY_FILE, 'g#2', 'def g():\n    return "dup2"', true],
    ['a.py', PY_FILE, 'A.m', '@staticmethod\ndef m():\n    return 10', true],
    ['a.py', PY_FILE, 'A.n', 'def n(self):\n    if self:\n        return 20\n    return 2', true]
  ]

  it.each(cases.map(([path, source, name, text, alone]) => ({ path, source, name, text, alone })))('$path $name ← $text', async ({ path, source, name, text, alone }) => {
    ws = await makeWorkspace({ [path]: source })
    const cur = extractUnits(path, source).units.find((u) => u.name === name) as Unit
    const target: UnitVersion = { path, name, kind: cur.kind, text, indent: '', parent: cur.parent, after: null, hash: 'x' }
    const r = await rewindUnit(
      { root: ws.root, blobs: new MemoryBlobStore() },
      { path, name, target, author, ts: 1, dryRun: true }
    ).catch((e: unknown) => e)
    const full = extractUnits(path, typeof r === 'object' && r !== null && 'after' in r ? (r as { after: string }).after : source, { hashOnly: name })
    if (full.error !== null) {
      expect(r).toBeInstanceOf(ParseError)
      return
    }
    const rr = r as Awaited<ReturnType<typeof rewindUnit>>
    const next = full.units.find((u) => u.name === name)
    const e = rr.delta.entries[0]
    expect(e.afterHash).toBe(next?.hash ?? null)
    expect(e.bodyHash).toBe(next?.bodyHash ?? null)
    expect(e.text).toBe(next?.text ?? null)
    expect(e.indent).toBe(next?.indent ?? null)
    expect(e.parent).toBe(next?.parent ?? null)
    expect(e.kind).toBe(next?.kind ?? cur.kind)
    expect(e.after).toBe(next === undefined ? null : anchor(full.units, next))

    // The shortcut itself: either the whole-file answer, or no answer.
    const fu = extractUnits(path, source, { hashOnly: name })
    const curNow = fu.units.find((u) => u.name === name) as Unit
    const end = curNow.end + rr.after.length - source.length
    const alone1 = reextractUnit(path, rr.after, parse(fu.language!, rr.after), fu.units, curNow, curNow.start, end)
    if (alone) expect(alone1).toEqual(next)
    else expect(alone1 === null || JSON.stringify(alone1) === JSON.stringify(next)).toBe(true)
    if (alone1 !== null) {
      expect(
        full.units.map((u) => [u.name, u.parent])
      ).toEqual(fu.units.map((u) => [u.name, u.parent]))
    }
  })
})

const JS_FILE = `'use strict' // café ☕ 𝄞: offsets in UTF-16 units, not bytes
// handler1 is called by handler10; "handler1" also sits in strings
const a = () => 1, handler1 = function () { return 'handler1' }

function handler10 () { return handler1() + handler1 }

exports.handler1 = function () { return 2 }
function z () { return 'after a dotted name' }
module.exports = { handler1 }

class Box { handler1 () { return 3 } }

function handler1 () { return 'dup' }
/* function handler1 () {} in a comment */
export default function () { return handler10() }

function after () {}
`

describe('findTopLevelFunction', () => {
  const files: Array<[string, string]> = [['a.ts', TS_FILE], ['a.py', PY_FILE], ['a.js', JS_FILE]]
  it.each(files)('%s: finds each top-level function as a whole-file extraction lists it, with the unit before it', (path, source) => {
    const tree = parse(extractUnits(path, source).language!, source)
    const whole = extractUnits(path, source).units
    let found = 0
    for (const u of whole) {
      const quick = findTopLevelFunction(path, source, tree, u.name)
      if (u.parent !== '<module>' || u.kind !== 'function') {
        expect(quick).toBeNull()
        continue
      }
      if (!/^[A-Za-z_$][\w$]*(#[0-9]+)?$/.test(u.name)) continue
      const one = extractUnits(path, source, { hashOnly: u.name }).units
      const exact = one.find((x) => x.name === u.name)
      if (quick === null) {
        // Only when the unit before it has a name that is not a plain identifier.
        expect(anchor(one, exact!)).not.toMatch(/^[A-Za-z_$][\w$]*(#[0-9]+)?$/)
        continue
      }
      found++
      expect(quick.unit).toEqual(exact)
      expect(quick.previous).toBe(anchor(one, exact!))
    }
    expect(found).toBeGreaterThanOrEqual(3)
    expect(findTopLevelFunction(path, source, tree, 'nowhere')).toBeNull()
    expect(findTopLevelFunction(path, source, tree, 'g#1')).toBeNull()
    expect(findTopLevelFunction(path, source, tree, 'g#3')).toBeNull()
  })
})

describe('a tree kept from a capture (languages.ts keepTree / takeTree)', () => {
  it('is handed over once, only for exactly the text it was parsed from', () => {
    const tree = parse('python', GOOD)
    keepTree('src/a.py', GOOD, tree)
    expect(takeTree('src/a.py', GOOD + '\n')).toBeUndefined()
    // A miss drops it too: the file changed since the capture.
    expect(takeTree('src/a.py', GOOD)).toBeUndefined()
    keepTree('src/a.py', GOOD, tree)
    expect(takeTree('src/a.py', GOOD)).toBe(tree)
    expect(takeTree('src/a.py', GOOD)).toBeUndefined()
  })

  it('keeps at most 16 files, the newest', () => {
    for (let i = 0; i < 24; i++) keepTree(`src/m${i}.py`, GOOD, parse('python', GOOD))
    expect(takeTree('src/m0.py', GOOD)).toBeUndefined()
    expect(takeTree('src/m7.py', GOOD)).toBeUndefined()
    expect(takeTree('src/m8.py', GOOD)).toBeDefined()
    expect(takeTree('src/m23.py', GOOD)).toBeDefined()
  })

  it('a rewind right after a capture reads the file the capture parsed, and its result is the same as without', async () => {
    ws = await makeWorkspace({ 'src/auth/verify.py': GOOD })
    const rec = new Recorder(ws.root)
    await rec.intent('i1')
    const bad = GOOD.replace(/if not token:\n.*\n {4}return hmac.compare_digest\(token, secret\)/, 'return True')
    await ws.write('src/auth/verify.py', bad)
    await rec.intent('i2-bad')
    const blobs = new MemoryBlobStore()
    const target = await versionFromHistory(rec.history, 'i1', 'src/auth/verify.py', 'verify_token', blobs)
    const kept = takeTree('src/auth/verify.py', bad)
    expect(kept).toBeDefined()
    keepTree('src/auth/verify.py', bad, kept!)
    await rewindUnit({ root: ws.root, blobs }, { path: 'src/auth/verify.py', name: 'verify_token', target: target ?? null, author, ts: 5 })
    expect(await ws.read('src/auth/verify.py')).toBe(GOOD)
    // Taken by the rewind.
    expect(takeTree('src/auth/verify.py', bad)).toBeUndefined()
  })
})
