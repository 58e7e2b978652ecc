import { describe, expect, it } from 'vitest'
import { canonicalBytes } from '../../crdt/canonical.js'
import { MalformedError } from '../../crdt/errors.js'
import { advanceState } from '../../node/workspace/baseline.js'
import { diffStates, parseCodeDelta, splitDelta, type DeltaEntry } from '../../node/workspace/delta.js'
import { sha256Hex } from '../../node/workspace/blob-store.js'
import type { WorkspaceState } from '../../node/workspace/scan.js'
import { extractUnits } from '../../node/workspace/units.js'

function state (files: Record<string, string>): WorkspaceState {
  const out: WorkspaceState = { v: 1, files: {} }
  for (const [path, text] of Object.entries(files)) {
    out.files[path] = { fileHash: sha256Hex(text), units: extractUnits(path, text).units }
  }
  return out
}

const brief = (e: DeltaEntry): string => `${e.change} ${e.fromPath !== null ? `${e.fromPath}:${e.fromName} -> ` : ''}${e.path}:${e.name}`

const A = 'import os\n\ndef verify_token(t):\n    return check(t)\n\ndef helper():\n    return 1\n'

describe('diffStates', () => {
  it('finds nothing when only formatting and comments changed', () => {
    const b = 'import os\n\n\ndef verify_token( t ):\n    # why\n    return check( t )\n\ndef helper():\n    return 1\n'
    expect(diffStates(state({ 'a.py': A }), state({ 'a.py': b })).delta.entries).toEqual([])
  })

  it('records modified, added and deleted units with hashes and new text', () => {
    const b = 'import os\n\ndef verify_token(t):\n    return True\n\ndef audit():\n    pass\n'
    const { delta } = diffStates(state({ 'a.py': A }), state({ 'a.py': b }))
    expect(delta.entries.map(brief)).toEqual(['modified a.py:verify_token', 'added a.py:audit', 'deleted a.py:helper'])
    const [mod, add, del] = delta.entries
    expect(mod.text).toBe('def verify_token(t):\n    return True')
    expect(mod.beforeHash).toMatch(/^[0-9a-f]{64}$/)
    expect(mod.afterHash).not.toBe(mod.beforeHash)
    expect(add).toMatchObject({ parent: '<module>', after: 'verify_token', beforeHash: null })
    expect(del).toMatchObject({ text: null, afterHash: null })
    // The record layer signs canonical JSON: no undefined anywhere.
    expect(() => canonicalBytes(delta)).not.toThrow()
    expect(parseCodeDelta(JSON.parse(JSON.stringify(delta)))).toEqual(delta)
  })

  it('recognises a rename with an identical body', () => {
    const b = A.replace('def helper', 'def one')
    expect(diffStates(state({ 'a.py': A }), state({ 'a.py': b })).delta.entries.map(brief)).toEqual(['renamed a.py:helper -> a.py:one'])
  })

  it('recognises a move to another file, and a renamed method of a renamed class', () => {
    const before = { 'a.ts': 'export function pad (s: string) { return s + " " }\nexport function keep () {}\n', 'b.ts': 'class A {\n  run () { return 1 }\n}\n' }
    const after = { 'a.ts': 'export function keep () {}\n', 'c.ts': 'export function pad (s: string) { return s + " " }\n', 'b.ts': 'class B {\n  run () { return 1 }\n}\n' }
    expect(diffStates(state(before), state(after)).delta.entries.map(brief)).toEqual([
      'renamed b.ts:A -> b.ts:B', 'renamed b.ts:A.run -> b.ts:B.run', 'added c.ts:<module>', 'moved a.ts:pad -> c.ts:pad'
    ])
  })

  it('puts texts over the inline bound into blobs', () => {
    const big = `def big():\n${'    x = 1\n'.repeat(3000)}`
    const r = diffStates(state({}), state({ 'a.py': big }))
    const e = r.delta.entries.find((x) => x.name === 'big') as DeltaEntry
    expect(e.text).toBeNull()
    expect(e.blob).toMatch(/^[0-9a-f]{64}$/)
    expect(new TextDecoder().decode(r.blobs.get(e.blob as string))).toBe(big.trimEnd())
  })

  it('refuses a state without the text of a changed unit', () => {
    const summary = state({ 'a.py': A })
    const noText: WorkspaceState = { v: 1, files: { 'a.py': { fileHash: 'x', units: summary.files['a.py'].units.map(({ name, kind, parent, hash, bodyHash }) => ({ name, kind, parent, hash, bodyHash })) } } }
    expect(() => diffStates(state({}), noText)).toThrow(/lacks the text/)
  })
})

describe('splitDelta', () => {
  it('splits a large delta by file, under a byte budget, keeping moves whole', () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 40; i++) files[`m${i}.py`] = `def f${i}():\n    return "${'x'.repeat(1000)}"\n`
    const { delta } = diffStates(state({}), state(files))
    const parts = splitDelta(delta, 10_000)
    expect(parts.length).toBeGreaterThan(3)
    for (const p of parts) expect(canonicalBytes(p).length).toBeLessThan(10_000 + 3000)
    expect(parts.flatMap((p) => p.entries)).toEqual(delta.entries)
    const moved = diffStates(state({ 'a.py': 'def pad(s):\n    return s\n', 'b.py': 'x = 1\n' }), state({ 'b.py': 'x = 1\n\n\ndef pad(s):\n    return s\n' })).delta
    expect(splitDelta(moved, 1)).toHaveLength(1)
    expect(splitDelta({ v: 1, entries: [] })).toEqual([{ v: 1, entries: [] }])
  })
})

describe('parseCodeDelta', () => {
  const good = (): Record<string, unknown> => JSON.parse(JSON.stringify(diffStates(state({ 'a.py': A }), state({ 'a.py': A.replace('1', '2') })).delta))

  it('refuses paths that leave the workspace or touch .git', () => {
    for (const path of ['../x.py', '/etc/passwd', '.git/hooks/pre-commit', 'a/../../b.py', 'a\\b.py']) {
      const d = good() as { entries: Array<Record<string, unknown>> }
      d.entries[0].path = path
      expect(() => parseCodeDelta(d)).toThrow(MalformedError)
    }
  })

  it('refuses inconsistent entries', () => {
    const d = good() as { entries: Array<Record<string, unknown>> }
    d.entries[0].text = null
    expect(() => parseCodeDelta(d)).toThrow(/text or a blob/)
    const e = good() as { entries: Array<Record<string, unknown>> }
    e.entries[0].extra = 1
    expect(() => parseCodeDelta(e)).toThrow(MalformedError)
  })
})

describe('advanceState', () => {
  it('moves only the given units forward', () => {
    const b = 'import os\n\ndef verify_token(t):\n    return True\n\ndef helper():\n    return 2\n'
    const { delta } = diffStates(state({ 'a.py': A }), state({ 'a.py': b }))
    const only = delta.entries.filter((e) => e.name === 'verify_token')
    const next = advanceState(state({ 'a.py': A }), only)
    const d2 = diffStates(next, state({ 'a.py': b }))
    expect(d2.delta.entries.map(brief)).toEqual(['modified a.py:helper'])
  })
})
