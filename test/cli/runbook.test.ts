// The runbook typed in a hurry: every typo an on-call operator makes must be a clear error with a
// stable code (and the closest candidates), never an exit 0 that did nothing. One Mothership home,
// no daemon: the commands open the node directly, as they do when no daemon runs.
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, tempDir } from './helpers.js'

describe('the runbook with typos', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let home: string
  let ws: string
  let self: string
  const run = async (...args: string[]) => await runCli([...args, '--home', home], { cwd: ws })
  const json = async (...args: string[]): Promise<any> => {
    const r = await run(...args, '--json')
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')}: exit ${r.code}\n${r.stdout}${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  const fails = async (code: string, ...args: string[]): Promise<any> => {
    const r = await run(...args, '--json')
    const err = JSON.parse(r.stdout).error
    expect(err?.code, `aura ${args.join(' ')}: ${r.stdout}`).toBe(code)
    expect(r.code).not.toBe(0)
    return err
  }

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('aura-runbook-'))
    home = path.join(dir, 'home')
    ws = path.join(dir, 'ws')
    await mkdir(path.join(ws, 'src'), { recursive: true })
    await writeFile(path.join(ws, 'src/verify.py'), 'def verify_token(t):\n    return t == "ok"\n\n\ndef normalize(n):\n    return n.lower()\n')
    await json('init')
    await json('mothership', 'init', '--team', 'acme', '--user', 'ops')
    self = (await json('id')).peer
    await json('log-intent', 'first change', '--workspace', ws)
    await json('agent', 'issue', 'claude', '--role', 'agent')
  }, 60_000)

  afterAll(async () => { await cleanup() })

  it('an identity that names nobody is E_NOT_FOUND with the closest candidates, in every command', async () => {
    const typos: string[][] = [
      ['trace', '--actor', 'peer-ffff'],
      ['trace', '--actor', 'peer-zzzz'],
      ['trace', '--signer', 'opz'],
      ['audit', 'export', '--signer', 'peer-0000'],
      ['audit', 'export', '--actor', 'claud'],
      ['pr-review', '--actor', 'bob', '--security'],
      ['snapshot-list', '--author', 'claude-ffff'],
      ['sentinel', 'inbox', '--agent', 'claud'],
      ['mothership', 'revoke-peer', 'peer-ffff', '--reason', 'x'],
      ['agent', 'revoke', 'claud', '--reason', 'x']
    ]
    for (const args of typos) {
      const err = await fails('E_NOT_FOUND', ...args)
      expect(err.candidates.length, args.join(' ')).toBeGreaterThan(0)
      expect(err.message, args.join(' ')).toMatch(/closest: /)
    }
    // Redirected as the playbook does, a typo writes nothing and exits non-zero.
    const r = await run('trace', '--actor', 'peer-ffff', '--since', '30d')
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(self)
  })

  it('every form of a real identity resolves: short id in any case, hex prefix, user name, agent name', async () => {
    const hex = self.slice('peer-'.length)
    for (const who of [self, self.toUpperCase(), hex, 'ops']) {
      const rows = await json('trace', '--actor', who)
      expect(rows.map((x: any) => x.text), who).toContain('first change')
    }
    const exported = (await run('audit', 'export', '--actor', 'claude')).code
    expect(exported).toBe(0)
  })

  it('unknown values are refused, never issued or filtered as data', async () => {
    expect((await fails('E_USAGE', 'mothership', 'issue-peer', 'bob', '--role', 'agnet')).message).toContain("did you mean 'agent'")
    expect((await fails('E_USAGE', 'agent', 'issue', 'bot', '--role', 'agnet')).message).toContain("did you mean 'agent'")
    expect((await fails('E_USAGE', 'agent', 'issue', 'bot', '--capabilities', 'read,comit')).message).toContain("did you mean 'commit'")
    expect(await json('mothership', 'list-tokens')).toEqual([])
    expect((await json('agent', 'list')).map((a: any) => a.name)).toEqual(['claude'])
    await fails('E_USAGE', 'agent', 'list', '--filter', 'knd=agent')
    await fails('E_USAGE', 'agent', 'list', '--filter', 'kind=agnet')
    await fails('E_USAGE', 'agent', 'list', '--filter', 'role=agnet')
    await fails('E_USAGE', 'agent', 'list', '--filter', 'status=actve')
    await fails('E_NOT_FOUND', 'agent', 'list', '--filter', 'name=claud')
    expect((await json('agent', 'list', '--filter', 'role=agent')).length).toBe(1)
    expect((await fails('E_USAGE', 'trace', '--kind', 'intnet')).message).toContain("did you mean 'intent'")
    expect((await json('trace', '--kind', 'INTENT')).length).toBeGreaterThan(0)
    await fails('E_USAGE', 'audit', 'export', '--format', 'csv')
  })

  it('an option before the command, or unknown anywhere, is E_USAGE', async () => {
    for (const args of [['--bogus', 'status'], ['--bogus'], ['status', '--bogus'], ['--json', '--bogs', 'trace']]) {
      const r = await runCli([...args, '--home', home], { cwd: ws })
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stdout + r.stderr, args.join(' ')).toContain('unknown option')
    }
  })

  it('token ids take a unique prefix in any case', async () => {
    const a = await json('mothership', 'issue-peer', 'alice', '--role', 'contributor')
    const prefix = a.jti.slice(0, 12)
    expect((await json('mothership', 'audit-token', prefix.toLowerCase())).jti).toBe(a.jti)
    expect((await json('mothership', 'audit-token', prefix.slice(3))).jti).toBe(a.jti)
    await fails('E_NOT_FOUND', 'mothership', 'audit-token', 'tk_ZZZZZZ')
    await fails('E_USAGE', 'mothership', 'audit-token', 'tk_01')
    const b = await json('mothership', 'issue-peer', 'bob', '--role', 'contributor')
    const common = [...a.jti].findIndex((ch: string, i: number) => b.jti[i] !== ch)
    if (common >= 7) await fails('E_AMBIGUOUS', 'mothership', 'audit-token', a.jti.slice(0, common))
    expect((await json('mothership', 'revoke-token', prefix.toLowerCase(), '--reason', 'posted to #general')).revoked).toBe(a.jti)
  })

  it('rewind of a unit the file does not hold names the units it does', async () => {
    const intent = (await json('trace', '--kind', 'intent'))[0].id
    expect((await json('sync', 'status', '--intent', intent.slice(0, 10).toUpperCase())).intent).toBe(intent)
    const err = await fails('E_NOT_FOUND', 'rewind', '--function', 'src/verify.py:verify_tokn', '--to', intent.slice(0, 8), '--workspace', ws)
    expect(err.message).toContain('verify_token')
    expect(err.message).toContain('did you mean src/verify.py:verify_token')
    expect(err.candidates).toEqual(expect.arrayContaining(['verify_token', 'normalize']))
  })

  it('revoke-all --role agent pauses every agent whatever its role, never a person; a re-issued name works', async () => {
    await json('agent', 'issue', 'reviewer')   // [agents.defaults] role: reader
    await json('agent', 'issue', 'maint', '--role', 'maintainer')
    const maint = await json('agent', 'revoke-all', '--role', 'maintainer', '--reason', 'one role')
    expect(maint.revoked.map((x: string) => x.split('-')[0])).toEqual(['maint'])
    const res = await json('agent', 'revoke-all', '--role', 'agent', '--reason', 'investigating prompt injection')
    expect(res.revoked.map((x: string) => x.split('-')[0]).sort()).toEqual(['claude', 'reviewer'])
    const all = await json('agent', 'list', '--filter', 'kind=all')
    expect(all.filter((m: any) => m.kind === 'agent').every((m: any) => m.status === 'revoked')).toBe(true)
    expect(all.find((m: any) => m.kind === 'peer').status).toBe('active')
    expect((await fails('E_REVOKED', 'log-intent', 'as the paused agent', '--agent', 'claude')).message).toContain('revoked')
    await fails('E_NOT_FOUND', 'agent', 'revoke-all', '--role', 'agent', '--reason', 'again')
    await fails('E_USAGE', 'agent', 'revoke-all', '--role', 'agnet', '--reason', 'typo')

    // Playbook 3 step 6: new tokens, one at a time, under the same name.
    const fresh = await json('agent', 'issue', 'claude', '--role', 'agent')
    const wrote = await json('log-intent', 'back under supervision', '--agent', 'claude')
    expect((await json('trace', '--actor', 'claude')).map((r: any) => r.id)).toContain(wrote.id)
    expect((await json('trace', '--signer', fresh.agent)).map((r: any) => r.id)).toEqual([wrote.id])
    // Two active credentials of one name: the bare name is the newest; the older stays usable by id.
    const newer = await json('agent', 'issue', 'claude', '--role', 'agent')
    const second = await json('log-intent', 'from the newest', '--agent', 'claude')
    expect((await json('trace', '--signer', newer.agent)).map((r: any) => r.id)).toEqual([second.id])
    expect((await json('agent', 'revoke', 'claude', '--reason', 'still odd')).revoked).toBe(newer.agent)
    const third = await json('log-intent', 'back to the older one', '--agent', 'claude')
    expect((await json('trace', '--signer', fresh.agent)).map((r: any) => r.id)).toContain(third.id)
    expect((await json('agent', 'revoke', fresh.agent, '--reason', 'by id')).revoked).toBe(fresh.agent)
  })
})
