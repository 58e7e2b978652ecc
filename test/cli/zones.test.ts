/**
 * `aura zone claim | list | release` and the write gate, through the CLI and the MCP server on a
 * real home: a person's `warn` zone warns the person's peers but refuses an agent, an agent
 * cannot claim over a person's zone, `block` zones refuse everyone else, only the claimant
 * releases, unknown ids and bad input are errors, and lockdown refuses new claims.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildMcpServer } from '../../node/agents/mcp-server.js'
import { runOperation } from '../../node/operations.js'
import { NodeRuntime } from '../../node/runtime.js'
import { runCli } from './helpers.js'

describe('aura zone', () => {
  let dir: string
  let home: string
  let work: string
  const aura = async (args: string[]): Promise<{ code: number, out: any, stderr: string }> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd: dir })
    return { code: r.code, out: r.stdout.trim() === '' ? null : JSON.parse(r.stdout), stderr: r.stderr }
  }
  const ok = async (args: string[]): Promise<any> => {
    const r = await aura(args)
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${JSON.stringify(r.out)}`)
    return r.out
  }
  const refused = async (args: string[], code: string): Promise<any> => {
    const r = await aura(args)
    expect(r.code, `aura ${args.join(' ')}`).not.toBe(0)
    expect(r.out.error.code).toBe(code)
    return r.out.error
  }
  const edit = async (file: string, body: string): Promise<void> => {
    await mkdir(path.dirname(path.join(work, file)), { recursive: true })
    await writeFile(path.join(work, file), body)
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-zones-'))
    home = path.join(dir, 'home')
    work = path.join(dir, 'work')
    await ok(['init'])
    await ok(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    await ok(['agent', 'issue', 'claude', '--role', 'agent'])
    await edit('src/auth/verify.py', 'def verify_token(t):\n    return t == 1\n')
    await edit('src/billing/charge.py', 'def refund(x):\n    return x\n')
    await edit('docs/notes.py', 'def note():\n    return 1\n')
    await ok(['log-intent', 'baseline', '--workspace', work])
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('claims, lists, enforces and releases zones', async () => {
    // The person claims auth (warn) for herself.
    const auth = await ok(['zone', 'claim', 'src/auth/**', '--mode', 'warn', '--ttl', '2h'])
    expect(auth).toMatchObject({ mode: 'warn', patterns: ['src/auth/**'], ownerKind: 'peer', status: 'active' })
    expect((await ok(['zone', 'list'])).map((z: any) => z.id)).toEqual([auth.id])

    // An agent cannot take a zone that overlaps a person's.
    const over = await refused(['zone', 'claim', 'src/auth/verify.py:verify_token', '--agent', 'claude'], 'E_ZONE')
    expect(over.zone).toBe(auth.id)
    expect(over.message).toContain('never takes a person')

    // An agent's change inside a person's zone is refused even though the zone only warns.
    await edit('src/auth/verify.py', 'def verify_token(t):\n    return t == 2\n')
    const agentWrite = await refused(['log-intent', 'agent edit', '--agent', 'claude', '--workspace', work], 'E_ZONE')
    expect(agentWrite).toMatchObject({ zone: auth.id, mode: 'warn', unit: 'src/auth/verify.py:verify_token' })
    expect(agentWrite.owner).toMatch(/^peer-/)

    // The agent claims billing (block): the person's own change there is refused, named.
    const billing = await ok(['zone', 'claim', 'src/billing/**', '--agent', 'claude'])
    expect(billing).toMatchObject({ mode: 'block', ownerKind: 'agent', owner: expect.stringMatching(/^claude-/) })
    await edit('src/billing/charge.py', 'def refund(x):\n    return -x\n')
    const blocked = await refused(['log-intent', 'touch billing', '--workspace', work], 'E_ZONE')
    expect(blocked).toMatchObject({ zone: billing.id, unit: 'src/billing/charge.py:refund' })
    expect(blocked.message).toContain('block zone')
    expect(agentWrite.message).toContain('agents may not write there even in warn mode')

    // Only the claimant releases; a release of nothing is an error.
    const notYours = await refused(['zone', 'release', billing.id.slice(0, 10)], 'E_ZONE')
    expect(notYours.message).toContain('only its owner releases it')
    expect((await ok(['zone', 'release', billing.id.slice(0, 10), '--agent', 'claude'])).released).toBe(billing.id)
    await refused(['zone', 'release', billing.id, '--agent', 'claude'], 'E_ZONE')
    await refused(['zone', 'release', 'beef00'], 'E_NOT_FOUND')
    await refused(['zone', 'release', 'nothex'], 'E_MALFORMED')

    // With billing released, the person's change (auth is her own zone, billing free) goes in.
    const written = await ok(['log-intent', 'both', '--workspace', work])
    expect(written.zoneWarnings).toEqual([])
    expect((await ok(['zone', 'list', '--all'])).find((z: any) => z.id === billing.id).status).toBe('released')
    expect((await ok(['zone', 'list', '--owner', 'claude'])).length).toBe(0)
    await refused(['zone', 'list', '--owner', 'peer-ffff'], 'E_NOT_FOUND')

    // Bad input.
    await refused(['zone', 'claim', '../etc/**'], 'E_USAGE')
    await refused(['zone', 'claim', 'src/x', '--mode', 'lock'], 'E_USAGE')
    await refused(['zone', 'claim', 'src/x', '--ttl', 'forever'], 'E_USAGE')
    await refused(['zone', 'claim'], 'E_USAGE')
  })

  it('a warn zone of an agent warns a person (stderr and --json), the MCP tool claims as the agent', async () => {
    const call = async (method: string, params: Record<string, unknown>): Promise<unknown> => {
      const rt = await NodeRuntime.open(home)
      try { return await runOperation(method, params, { rt }) } finally { await rt.close() }
    }
    const [a, b] = InMemoryTransport.createLinkedPair()
    await buildMcpServer('claude', call, { workspace: work, cwd: work }).connect(a)
    const client = new Client({ name: 'test-agent', version: '1.0.0' })
    await client.connect(b)
    const res = await client.callTool({ name: 'aura_zone_claim', arguments: { patterns: ['docs/**'], mode: 'warn', ttl: '1h' } })
    expect(res.isError).not.toBe(true)
    const zone = JSON.parse((res.content as any)[0].text)
    expect(zone).toMatchObject({ mode: 'warn', ownerKind: 'agent', patterns: ['docs/**'] })
    const over = await client.callTool({ name: 'aura_zone_claim', arguments: { patterns: ['src/auth/verify.py'] } })
    expect(over.isError).toBe(true)
    expect((over.content as any)[0].text).toMatch(/^E_ZONE: /)

    await edit('docs/notes.py', 'def note():\n    return 2\n')
    const r = await runCli(['log-intent', 'docs', '--workspace', work, '--home', home], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('zone: docs/notes.py:note is inside claude-')
    const rows = await ok(['trace', '--kind', 'intent'])
    expect(rows[0].text).toBe('docs')
    await edit('docs/notes.py', 'def note():\n    return 3\n')
    const json = await ok(['log-intent', 'docs again', '--workspace', work])
    expect(json.zoneWarnings).toEqual([expect.objectContaining({ zone: zone.id, unit: 'docs/notes.py:note' })])
  })

  it('lockdown refuses new claims', async () => {
    await ok(['mothership', 'lockdown', '--reason', 'incident'])
    const err = await refused(['zone', 'claim', 'src/other/**'], 'E_LOCKDOWN')
    expect(err.message).toContain('no new zone claims')
    await ok(['mothership', 'unlock'])
    expect((await ok(['zone', 'claim', 'src/other/**'])).status).toBe('active')
  })

  it("a revoked identity's zones bind nobody, and stay listed as revoked", async () => {
    await edit('src/late/job.py', 'def run():\n    return 1\n')
    await ok(['log-intent', 'late', '--workspace', work])
    const zone = await ok(['zone', 'claim', 'src/late/**', '--agent', 'claude'])
    await edit('src/late/job.py', 'def run():\n    return 2\n')
    await refused(['log-intent', 'blocked', '--workspace', work], 'E_ZONE')
    await ok(['agent', 'revoke', 'claude', '--reason', 'rogue'])
    expect((await ok(['log-intent', 'now free', '--workspace', work])).zoneWarnings).toEqual([])
    expect((await ok(['zone', 'list', '--all'])).find((z: any) => z.id === zone.id).status).toBe('revoked')
    expect((await ok(['zone', 'list'])).some((z: any) => z.id === zone.id)).toBe(false)
  })
})
