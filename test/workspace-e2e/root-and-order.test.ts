// Two small rules the workspace commands rest on: which directory is the workspace when none is
// configured (as git finds a checkout), and the order records are read in (each signer's by
// seq, even when its clock went backwards).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { signRecord, type EncodedRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../../node/runtime.js'
import { MemoryKV } from '../../node/store/memory-kv.js'
import { logOrder, looksLikeCheckout, workspaceOf, workspaceRoot } from '../../node/workspace-node/index.js'

const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

async function tree (files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'aura-root-'))
  dirs.push(root)
  for (const [p, t] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, p)), { recursive: true })
    await writeFile(path.join(root, p), t)
  }
  return root
}

/** Just what workspaceRoot reads from a node: its config, home and store. */
function fakeNode (home: string, configured: string | null = null): NodeRuntime {
  return { home, config: { workspace: { path: configured, apply: 'manual' } }, store: { kv: new MemoryKV(), intent: { log: IntentLog.create('ab'.repeat(16)) } } } as unknown as NodeRuntime
}

describe('workspaceRoot', () => {
  it('finds the checkout from a subdirectory: the .git ancestor, else the recorded workspace, else cwd with sources', async () => {
    const root = await tree({ '.git/HEAD': 'ref: main\n', 'docs/guide.md': '# guide\n', 'src/app/main.py': 'x = 1\n' })
    const rt = fakeNode('/nonexistent-home')
    expect(await workspaceRoot(rt, { cwd: path.join(root, 'docs') })).toBe(root)

    const plain = await tree({ 'lib/a/b/c.ts': 'export const c = 1\n', 'notes/todo.txt': 'x\n' })
    expect(await workspaceRoot(rt, { cwd: plain })).toBe(plain)
    // A subdirectory without sources is no workspace until the parent has been recorded.
    expect(await workspaceRoot(rt, { cwd: path.join(plain, 'notes') })).toBeNull()
    await workspaceOf(rt).state.commit(
      { baseline: { v: 1, root: plain, state: { v: 1, files: {} }, snapshot: null, ts: 1 } }
    )
    expect(await workspaceRoot(rt, { cwd: path.join(plain, 'notes') })).toBe(plain)
  })

  it('never takes the home directory or / implicitly, and prefers --workspace and [workspace] path', async () => {
    expect(await looksLikeCheckout(os.homedir())).toBe(false)
    expect(await looksLikeCheckout('/')).toBe(false)
    const a = await tree({ 'a.py': 'x = 1\n' })
    const b = await tree({ 'b.py': 'y = 2\n' })
    expect(await workspaceRoot(fakeNode('/nonexistent-home', b), { cwd: a })).toBe(b)
    expect(await workspaceRoot(fakeNode('/nonexistent-home', b), { cwd: a, workspace: '.' })).toBe(a)
    await expect(workspaceRoot(fakeNode('/nonexistent-home'), { cwd: a, workspace: 'missing' })).rejects.toMatchObject({ code: 'E_WORKSPACE' })
  })

  it('accepts a node home inside the workspace only when the workspace ignores it', async () => {
    const root = await tree({ 'a.py': 'x = 1\n', 'node/aura.toml': '' })
    await expect(workspaceRoot(fakeNode(path.join(root, 'node')), { cwd: root })).rejects.toMatchObject({ code: 'E_WORKSPACE' })
    await writeFile(path.join(root, '.auraignore'), 'node/\n')
    expect(await workspaceRoot(fakeNode(path.join(root, 'node')), { cwd: root })).toBe(root)
  })
})

describe('logOrder', () => {
  it('keeps each signer\'s records in seq order and interleaves signers by claimed time', () => {
    const chain = (seed: number, times: number[]): EncodedRecord[] => {
      const key = keyPairFromSeed(new Uint8Array(32).fill(seed))
      const out: EncodedRecord[] = []
      for (const ts of times) {
        const prev = out[out.length - 1]
        out.push(signRecord({ kind: 'intent', actor: `s${seed}`, host: 'h', seq: out.length + 1, prev: prev?.id ?? null, ts, auth: { seq: 0, hash: '0'.repeat(64) }, text: `${seed}@${ts}` }, key))
      }
      return out
    }
    // Signer 2's clock went backwards between its records: its seq order still holds.
    const records = [...chain(1, [10, 30, 50]), ...chain(2, [20, 5, 40])]
    const shuffled = [records[4], records[0], records[5], records[2], records[1], records[3]]
    expect(logOrder(shuffled).map((r) => r.record.text)).toEqual(['1@10', '2@20', '2@5', '1@30', '2@40', '1@50'])
  })
})
