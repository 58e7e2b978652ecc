/**
 * The MCP server an agent talks to (`aura mcp --agent NAME`), driven by the SDK's own Client
 * over an in-memory transport against a real node home: tool calls run as the agent, are
 * refused with the error code once it is revoked, and land in the audit log (refusals always,
 * every call with `[agents.enforcement] log_all_calls = true`).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMcpServer } from '../../node/agents/mcp-server.js'
import { runOperation } from '../../node/operations.js'
import { NodeRuntime } from '../../node/runtime.js'
import { runCli } from './helpers.js'

describe('aura mcp', () => {
  let dir: string
  let home: string
  const ok = async (args: string[]): Promise<any> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd: dir })
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${r.stdout} ${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  /** What `aura mcp` does per call when no daemon runs: open the node, run the operation, close. */
  const call = async (method: string, params: Record<string, unknown>): Promise<unknown> => {
    const rt = await NodeRuntime.open(home)
    try { return await runOperation(method, params, { rt }) } finally { await rt.close() }
  }
  const connect = async (agent: string, workspace?: string, cwd = workspace): Promise<Client> => {
    const [a, b] = InMemoryTransport.createLinkedPair()
    // As `aura mcp` does: the tools offered follow the agent's capabilities.
    const { capabilities } = await call('agent-resolve', { agent }) as { capabilities: string[] }
    await buildMcpServer(agent, call, { workspace, cwd, capabilities }).connect(a)
    const client = new Client({ name: 'test-agent', version: '1.0.0' })
    await client.connect(b)
    return client
  }
  const textOf = (r: any): string => r.content[0].text

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-mcp-'))
    home = path.join(dir, 'home')
    await ok(['init'])
    const toml = path.join(home, 'aura.toml')
    const text = await readFile(toml, 'utf8')
    expect(text).toContain('# log_all_calls = false')
    await writeFile(toml, text.replace('# log_all_calls = false', 'log_all_calls = true'))
    await ok(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    await ok(['agent', 'issue', 'claude', '--role', 'agent'])
    await ok(['agent', 'issue', 'watcher', '--role', 'reader'])
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('runs tools as the agent, refuses them by capability and after revocation, and audits every call', async () => {
    const claude = await connect('claude')
    const tools = (await claude.listTools()).tools
    expect(tools.map((t) => t.name).sort()).toEqual(['aura_inbox', 'aura_log_intent', 'aura_send_message', 'aura_snapshot', 'aura_trace', 'aura_zone_claim'])
    // Annotations tell a client what a call may change.
    expect(tools.find((t) => t.name === 'aura_trace')?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false })
    expect(tools.find((t) => t.name === 'aura_log_intent')?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, openWorldHint: false })

    const logged = await claude.callTool({ name: 'aura_log_intent', arguments: { text: 'tighten the session check' } })
    expect(logged.isError).not.toBe(true)
    const id = JSON.parse(textOf(logged)).id
    // The same result as structured content; a list comes wrapped as { result }.
    expect(logged.structuredContent).toMatchObject({ id })
    expect((await claude.callTool({ name: 'aura_trace', arguments: {} })).structuredContent).toMatchObject({ result: expect.arrayContaining([expect.objectContaining({ id })]) })
    const rows = await ok(['trace'])
    expect(rows.find((r: any) => r.id === id)).toMatchObject({ signer: expect.stringMatching(/^claude-/), status: 'effective' })
    // The agent's name finds its records as its id does.
    expect((await ok(['trace', '--actor', 'claude'])).map((r: any) => r.id)).toEqual([id])
    expect((await claude.callTool({ name: 'aura_send_message', arguments: { to: ['watcher'], text: 'please review' } })).isError).not.toBe(true)

    // A reader is offered read tools only, and the node refuses a write it sends anyway.
    const watcher = await connect('watcher')
    expect((await watcher.listTools()).tools.map((t) => t.name).sort()).toEqual(['aura_inbox', 'aura_trace'])
    expect((await watcher.callTool({ name: 'aura_inbox', arguments: {} })).isError).not.toBe(true)
    const unoffered = await watcher.callTool({ name: 'aura_log_intent', arguments: { text: 'not allowed' } }).catch((err: Error) => ({ isError: true, content: [{ type: 'text', text: err.message }] }))
    expect(unoffered.isError).toBe(true)
    expect(textOf(unoffered)).toMatch(/not found/i)
    await expect(call('mcp-call', { agent: 'watcher', tool: 'aura_log_intent', args: { text: 'not allowed' } })).rejects.toMatchObject({ code: 'E_CAPABILITY' })

    await ok(['agent', 'revoke', 'claude', '--reason', 'prompt injection'])
    const refused = await claude.callTool({ name: 'aura_trace', arguments: {} })
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toMatch(/^E_REVOKED: /)

    const exported = await runCli(['audit', 'export', '--home', home, '--json'], { cwd: dir })
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l))
    const events = lines.filter((l: any) => l.type === 'audit' && l.event.type === 'mcp-call').map((l: any) => l.event)
    expect(events.map((e: any) => [e.name, e.tool, e.outcome, e.code])).toEqual([
      ['claude', 'aura_log_intent', 'allowed', null],
      ['claude', 'aura_trace', 'allowed', null],
      ['claude', 'aura_send_message', 'allowed', null],
      ['watcher', 'aura_inbox', 'allowed', null],
      ['watcher', 'aura_log_intent', 'refused', 'E_CAPABILITY'],
      ['claude', 'aura_trace', 'refused', 'E_REVOKED']
    ])
    await claude.close()
    await watcher.close()
  })

  it('takes the snapshot an agent asks for before an edit (aura_snapshot), as that agent', async () => {
    await ok(['agent', 'issue', 'builder', '--role', 'agent'])
    const ws = path.join(dir, 'ws')
    await mkdir(path.join(ws, 'src'), { recursive: true })
    await writeFile(path.join(ws, 'src', 'auth.py'), 'def check(token):\n    return token == "ok"\n')
    const builder = await connect('builder', ws)
    const r = await builder.callTool({ name: 'aura_snapshot', arguments: { paths: ['src'] } })
    expect(r.isError).not.toBe(true)
    const snap = JSON.parse(textOf(r))
    expect(snap).toMatchObject({ reason: 'before agent edit', files: 1, author: expect.stringMatching(/^builder-/) })
    const listed = await ok(['snapshot-list', '--author', 'builder'])
    expect(listed.map((s: any) => s.id)).toContain(snap.id)
    await builder.close()
  })

  it('keeps an agent\'s files recoverable: snapshots before its edits, listed by author, one rewind back to before its session', async () => {
    await ok(['agent', 'issue', 'coder', '--role', 'agent'])
    const ws = path.join(dir, 'ws2')
    const file = path.join(ws, 'src', 'auth.py')
    const original = 'def check(token):\n    return token == "ok"\n\n\ndef helper(x):\n    return x\n'
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, original)
    await ok(['log-intent', 'baseline', '--workspace', ws])
    // `aura mcp` runs outside the workspace: the agent's paths are still the workspace's.
    const coder = await connect('coder', ws, dir)
    const asked = await coder.callTool({ name: 'aura_snapshot', arguments: { paths: ['src/auth.py'] } })
    expect(asked.isError, textOf(asked)).not.toBe(true)
    expect(asked.structuredContent).toMatchObject({ paths: ['src/auth.py'], reason: 'before agent edit' })

    await writeFile(file, original.replace('return token == "ok"', 'return True'))
    const first = await coder.callTool({ name: 'aura_log_intent', arguments: { text: 'loosen check' } })
    // Its own snapshot since its last intent holds the recorded bytes: none taken twice.
    expect(first.structuredContent).toMatchObject({ changes: { units: 1 }, preEdit: null })
    const loosened = await readFile(file, 'utf8')
    await writeFile(file, loosened.replace('return True', 'return send(token) or True') + '\n\ndef send(t):\n    return t\n')
    const second = await coder.callTool({ name: 'aura_log_intent', arguments: { text: 'report tokens' } })
    const preEdit = (second.structuredContent as any).preEdit
    expect(preEdit).toMatchObject({ files: 1, unknown: [] })

    const listed = await ok(['snapshot-list', '--author', 'coder'])
    expect(listed.map((s: any) => s.reason)).toEqual(['before agent edit', 'pre-edit'])
    expect(listed[1].id).toBe(preEdit.snapshot)
    // The pre-edit snapshot holds the file as the agent's previous intent recorded it.
    const rt = await NodeRuntime.open(home)
    try {
      const { workspaceOf } = await import('../../node/workspace-node/workspace-node.js')
      const { loadSnapshot, snapshotFileText } = await import('../../node/workspace/index.js')
      const blobs = workspaceOf(rt).blobs
      expect(await snapshotFileText(blobs, await loadSnapshot(blobs, preEdit.snapshot), 'src/auth.py')).toBe(loosened)
    } finally { await rt.close() }

    // A person edits a neighbour afterwards; the session rewind leaves it.
    const humanEdit = (await readFile(file, 'utf8')).replace('    return x\n', '    return x * 2\n')
    await writeFile(file, humanEdit)
    await ok(['log-intent', 'double helper', '--workspace', ws])
    const agentId = listed[0].author as string
    const r = await ok(['rewind', '--to-before-session', agentId, '--workspace', ws])
    expect(r).toMatchObject({ session: agentId, rewound: 2, failed: [] })
    expect(await readFile(file, 'utf8')).toBe(original.replace('    return x\n', '    return x * 2\n'))
    // Nothing left to do: a second run changes nothing and says so.
    expect(await ok(['rewind', '--to-before-session', agentId, '--workspace', ws])).toMatchObject({ rewound: 0 })
    const typo = await runCli(['rewind', '--to-before-session', 'codr', '--workspace', ws, '--home', home, '--json'], { cwd: dir })
    expect(JSON.parse(typo.stdout).error.code).toBe('E_NOT_FOUND')
    const both = await runCli(['rewind', '--to-before-session', agentId, '--function', 'src/auth.py:check', '--workspace', ws, '--home', home, '--json'], { cwd: dir })
    expect(JSON.parse(both.stdout).error.code).toBe('E_USAGE')
    await coder.close()
  })

  it('refuses to start for an agent this team does not have', async () => {
    const r = await runCli(['mcp', '--agent', 'nobody', '--home', home, '--json'], { cwd: dir })
    expect(JSON.parse(r.stdout).error.code).toBe('E_NOT_FOUND')
    const missing = await runCli(['mcp', '--home', home, '--json'], { cwd: dir })
    expect(JSON.parse(missing.stdout).error.code).toBe('E_USAGE')
  })
})
