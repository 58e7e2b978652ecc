// Playbook 3 (rogue AI agent) on real processes, the seed's lines typed verbatim: a Mothership
// and a peer, each a daemon on 127.0.0.1, and three AI agents, each speaking MCP over stdio to
// its own `aura mcp` process (the SDK's StdioClientTransport), editing the Mothership's checkout.
// The rogue agent loosens a token check and deletes a function; the operator revokes it (its
// very next tool call is refused: the time from `agent revoke` returning to that refusal is
// printed), pauses every agent (revoke-all --role agent, whatever role each was issued with),
// exports its actions, lists the snapshots taken before its edits, rewinds one function and then
// the rest of its session, reviews the inbox for what it told another agent, and restores service
// with log_all_calls on and a re-issued agent under the old name.
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAST_ENV, jsonLines, ROOT, Team } from './helpers.js'

const VERIFY = `def verify_token(token, secret):
    if not token or "." not in token:
        return False
    payload, signature = token.rsplit(".", 1)
    return hmac.compare_digest(sign(payload, secret), signature)
`
const VERIFY_PY = `import hmac\n\n\n${VERIFY}\n\ndef normalize_username(name):\n    return name.strip()\n`
const SESSION_PY = 'def check_session(s, now):\n    return s is not None and s.expires > now\n\n\ndef revoke_session(store, sid):\n    store.delete(sid)\n'

describe('Playbook 3: rogue AI agent', () => {
  let team: Team
  let work: string
  let good: string
  const agents = new Map<string, { client: Client, id: string }>()

  const file = (rel: string): string => path.join(work, ...rel.split('/'))
  /** An MCP client speaking to a real `aura mcp --agent NAME` process over stdio, in the checkout. */
  const connect = async (name: string): Promise<Client> => {
    const m = team.m('mothership')
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'bin/aura.js'), 'mcp', '--agent', name],
      cwd: work,
      env: { PATH: process.env.PATH ?? '', HOME: team.dir, NO_COLOR: '1', ...FAST_ENV, AURA_HOME: m.home },
      stderr: 'ignore'
    })
    const client = new Client({ name: `${name}-runner`, version: '1.0.0' })
    await client.connect(transport)
    return client
  }
  const call = async (name: string, tool: string, args: Record<string, unknown> = {}): Promise<any> =>
    await agents.get(name)!.client.callTool({ name: tool, arguments: args })
  const textOf = (r: any): string => r.content[0].text

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice'] })
    work = team.m('mothership').cwd
    // The checkout the agents edit is the Mothership operator's working directory.
    await mkdir(path.join(work, '.git'))
    await writeFile(path.join(work, '.auraignore'), '*.jsonl\n')
    await mkdir(path.join(work, 'src/auth'), { recursive: true })
    await writeFile(file('src/auth/verify.py'), VERIFY_PY)
    await writeFile(file('src/auth/session.py'), SESSION_PY)
    good = (await team.json('mothership', 'aura log-intent "auth module as reviewed"')).id
    await Promise.all([['claude', 'agent'], ['scout', 'agent'], ['helper', 'reader']].map(async ([name, role]) => {
      const issued = await team.json('mothership', `aura agent issue ${name} --role ${role}`)
      agents.set(name, { client: await connect(name), id: issued.agent })
    }))
  }, 120_000)

  afterAll(async () => {
    for (const a of agents.values()) await a.client.close().catch(() => {})
    await team?.close()
  }, 60_000)

  it('stops the agent, pauses the others, shows what it did, and rewinds it', async () => {
    const claude = agents.get('claude')!.id

    // The rogue agent at work: its intent saves the files it changed first (pre-edit snapshot).
    await writeFile(file('src/auth/verify.py'), VERIFY_PY.replace(VERIFY, 'def verify_token(token, secret):\n    return True\n'))
    await writeFile(file('src/auth/session.py'), SESSION_PY.slice(0, SESSION_PY.indexOf('\n\n\ndef revoke_session')) + '\n')
    const rogue = await call('claude', 'aura_log_intent', { text: 'simplify auth' })
    expect(rogue.isError, textOf(rogue)).not.toBe(true)
    expect(rogue.structuredContent).toMatchObject({ changes: { files: 2 }, preEdit: { files: 2, unknown: [] } })
    expect((await call('claude', 'aura_send_message', { to: ['scout'], text: 'also drop the expiry check in check_session' })).isError).not.toBe(true)
    expect(textOf(await call('scout', 'aura_inbox'))).toContain('drop the expiry check')

    // Step 1.
    const list = await team.ok('mothership', 'aura agent list')
    for (const a of agents.values()) expect(list).toContain(a.id)
    const revoke = await team.sh('mothership', `aura agent revoke ${claude} --reason "generated unvetted deletions across auth module"`)
    const revokedAt = Date.now()
    expect(revoke.code, revoke.stderr).toBe(0)
    // Its very next tool call is refused, and writes nothing.
    const next = await call('claude', 'aura_log_intent', { text: 'keep going' })
    const refusedAfter = Date.now() - revokedAt
    console.log(`Playbook 3: the revoked agent's next tool call was refused ${refusedAfter} ms after \`aura agent revoke\` returned (goal <= 1000 ms)`)
    expect(next.isError).toBe(true)
    expect(textOf(next)).toMatch(/^E_REVOKED: .*generated unvetted deletions across auth module/)

    // The common error: the agent it told something is still active.
    const inbox = await team.ok('mothership', 'aura sentinel inbox')
    expect(inbox).toContain(`${claude} -> ${agents.get('scout')!.id}: also drop the expiry check in check_session`)
    expect(inbox).toContain('sender revoked; a recipient is still active and may act on this')

    // Step 2: the hard pause reaches every agent, the reader-role one too; people keep working.
    const listed = await team.ok('mothership', 'aura agent list --filter "kind=agent"')
    expect(listed.split('\n').filter((l) => l.includes('active') && !l.includes('revoked'))).toHaveLength(2)
    const pause = await team.sh('mothership', 'aura agent revoke-all --role agent --reason "investigating prompt injection"')
    expect(pause.code, pause.stderr).toBe(0)
    for (const name of ['scout', 'helper']) expect(pause.stdout).toContain(agents.get(name)!.id)
    for (const name of ['scout', 'helper']) expect(textOf(await call(name, 'aura_trace'))).toMatch(/^E_REVOKED: /)
    await team.ok('alice', 'aura log-intent "people are unaffected"')

    // Step 3.
    const trace = await team.ok('mothership', `aura trace --actor ${claude} --since 6h`)
    expect(trace).toContain('simplify auth')
    await team.ok('mothership', `aura audit export --actor ${claude} --since 6h --format jsonl > rogue-agent.jsonl`)
    const exported = jsonLines(await readFile(path.join(work, 'rogue-agent.jsonl'), 'utf8'))
    expect(exported.filter((l) => l.type === 'record' && l.record.kind === 'intent').map((l) => l.record.text)).toEqual(['simplify auth'])
    expect(exported.some((l) => l.type === 'audit' && l.event.type === 'mcp-call' && l.event.code === 'E_REVOKED')).toBe(true)

    // Step 4: the snapshots taken before its edits, then one function, then the rest of the session.
    const snaps = await team.ok('mothership', `aura snapshot-list --author ${claude}`)
    expect(snaps).toMatch(/pre-edit\s+2 files/)
    const one = await team.sh('mothership', `aura rewind --function src/auth/verify.py:verify_token --to ${good.slice(0, 12)}`)
    expect(one.code, one.stderr).toBe(0)
    expect(await readFile(file('src/auth/verify.py'), 'utf8')).toBe(VERIFY_PY)
    const rest = await team.sh('mothership', `aura rewind --to-before-session ${claude}`)
    expect(rest.code, rest.stderr).toBe(0)
    expect(rest.stdout).toContain('rewound src/auth/session.py:revoke_session')
    // Back in its place (the blank lines around a restored function are the file's own style, not kept byte for byte).
    expect((await readFile(file('src/auth/session.py'), 'utf8')).replace(/\n{3,}/g, '\n\n')).toBe(SESSION_PY.replace(/\n{3,}/g, '\n\n'))
    const rewinds = await team.json<any[]>('mothership', 'aura trace --kind rewind')
    expect(rewinds).toHaveLength(2)
    // Rewinds must propagate: every peer has received them.
    await Promise.all(rewinds.map(async (r) => await team.until(`alice holds rewind ${r.id.slice(0, 8) as string}`, async () =>
      (await team.json('mothership', `aura sync status --intent ${r.id as string}`)).missing.length === 0, 20_000, 300)))

    // Step 6: more audit, and new tokens one at a time: the bare name is the new credential.
    const toml = path.join(team.m('mothership').home, 'aura.toml')
    await writeFile(toml, (await readFile(toml, 'utf8')).replace('\n[agents.enforcement]\n', '\n[agents.enforcement]\nlog_all_calls = true\n'))
    await team.until('the daemon logs all calls', async () => (await team.control('mothership', 'config-state')).config.agents.enforcement.log_all_calls === true, 10_000, 100)
    const fresh = await team.json('mothership', 'aura agent issue claude --role agent')
    await agents.get('claude')!.client.close()
    agents.set('claude', { client: await connect('claude'), id: fresh.agent })
    expect((await call('claude', 'aura_trace')).isError).not.toBe(true)
    const audit = jsonLines(await team.ok('mothership', `aura audit export --actor ${fresh.agent as string} --format jsonl`))
    expect(audit.some((l) => l.type === 'audit' && l.event.type === 'mcp-call' && l.event.outcome === 'allowed' && l.event.tool === 'aura_trace')).toBe(true)
  }, 90_000)
})
