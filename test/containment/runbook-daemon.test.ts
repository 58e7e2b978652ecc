// The runbook against running daemons: the daemon does what `aura config show` says (aura.toml
// reloaded live on change and on SIGHUP, restart-needed keys reported, a broken file refused
// with the old config kept, a command's own --set / AURA_* refused when the daemon would not use
// them), `aura status` exits non-zero for the problems it lists, and Playbook 3's hard pause
// (revoke-all --role agent) then re-issuing an agent under its old name.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Team } from './helpers.js'

describe('the runbook on running daemons', () => {
  let team: Team
  let toml: string

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice'] })
    toml = path.join(team.m('mothership').home, 'aura.toml')
  }, 420_000)

  afterAll(async () => { await team?.close() }, 60_000)

  // Puts `line` at the top of `[section]` in the Mothership's aura.toml (the running daemon's).
  const set = async (section: string, line: string): Promise<void> => {
    const text = await readFile(toml, 'utf8')
    expect(text).toContain(`\n[${section}]\n`)
    await writeFile(toml, text.replace(`\n[${section}]\n`, `\n[${section}]\n${line}\n`))
  }
  const running = async (): Promise<any> => await team.control('mothership', 'config-state')
  const tokenTtl = async (): Promise<number> => {
    const res = await team.json('mothership', 'aura mothership issue-peer carol --role contributor')
    return Math.round((Date.parse(res.expiresAt) - Date.now()) / 1000)
  }

  it('takes live keys from aura.toml at once, and says which keys wait for a restart', async () => {
    expect(await tokenTtl()).toBeGreaterThan(3500)
    await set('mothership', 'join_token_ttl = 600')
    await team.until('the daemon reloads [mothership] join_token_ttl', async () => (await running()).config.mothership.join_token_ttl === 600, 20_000)
    const ttl = await tokenTtl()
    expect(ttl).toBeLessThanOrEqual(600)
    expect(ttl).toBeGreaterThan(590)
    const shown = await team.json('mothership', 'aura config show')
    expect(shown.effective.join_token_ttl).toBe(600)
    // Only the listen address differs: the daemon was started with --listen.
    expect(Object.keys(shown.daemon.differs)).toEqual(['node.listen'])

    await set('crypto', 'join_token_ttl = 300')
    await set('agents.enforcement', 'log_all_calls = true')
    await set('hooks', 'large_diff_threshold_files = 3\nlarge_diff_threshold_lines = 40')
    await set('sync', 'idle_timeout = "10m"')
    const state = await team.until('the daemon reloads the rest', async () => { const s = await running(); return s.config.hooks.large_diff_threshold_lines === 40 && s.restartNeeded.length > 0 ? s : null }, 20_000)
    expect(state.config.agents.enforcement.log_all_calls).toBe(true)
    expect(state.config.hooks.large_diff_threshold_files).toBe(3)
    expect(state.config.sync.idle_timeout).toBe(120)
    expect(state.restartNeeded.map((r: any) => r.key)).toEqual(['sync.idle_timeout'])
    expect(await tokenTtl()).toBeLessThanOrEqual(300)

    // log_all_calls is in effect without a restart: an allowed MCP call is audited.
    const agent = (await team.json('mothership', 'aura agent issue scout --role agent')).agent
    await team.control('mothership', 'mcp-call', { agent, tool: 'aura_trace', args: {} })
    const events = (await team.ok('mothership', `aura audit export --actor ${agent}`)).split('\n').filter(Boolean).map((l) => JSON.parse(l))
    expect(events.some((e) => e.type === 'audit' && e.event.type === 'mcp-call' && e.event.outcome === 'allowed')).toBe(true)

    const status = await team.sh('mothership', 'aura status')
    expect(status.code).toBe(3)
    expect(status.stdout).toContain('restart needed: aura.toml sets sync.idle_timeout')
    const text = await team.ok('mothership', 'aura config show')
    expect(text).toMatch(/idle_timeout += 600 .*restart needed: the running daemon uses 120/)
  }, 180_000)

  it('keeps the running config when aura.toml breaks, and reloads on SIGHUP', async () => {
    const good = await readFile(toml, 'utf8')
    await writeFile(toml, good.replace('join_token_ttl = 600', 'join_token_ttl = "soon"'))
    const status = await team.until('status reports the refused reload', async () => {
      const s = await team.status('mothership')
      return s.problems.some((p: any) => p.code === 'E_CONFIG' && /not reloaded/.test(p.message)) ? s : null
    }, 20_000)
    expect(status.config.reloadError.message).toContain('join_token_ttl')
    expect(await tokenTtl()).toBeLessThanOrEqual(300)
    expect(await team.log('mothership')).toContain('config reload (aura.toml changed) refused, the running config is kept')

    await writeFile(toml, good)
    await team.until('the fixed file is taken', async () => (await running()).error === null, 20_000)
    team.m('mothership').daemon!.kill('SIGHUP')
    await team.until('SIGHUP reloads', async () => (await team.log('mothership')).includes('config reloaded (SIGHUP)'), 20_000)
  }, 120_000)

  it('refuses a --set or AURA_* the daemon would not use, accepts one it does', async () => {
    const flag = await team.sh('mothership', 'aura mothership issue-peer dave --role contributor --set mothership.join_token_ttl=60')
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('the running daemon executes this command with its own config')
    const env = await team.sh('mothership', 'AURA_HOOKS_LARGE_DIFF_THRESHOLD_FILES=9 aura trace')
    expect(env.code).toBe(2)
    expect(env.stderr).toContain('AURA_HOOKS_LARGE_DIFF_THRESHOLD_FILES')
    expect((await team.sh('mothership', 'aura trace --set hooks.large_diff_threshold_files=3')).code).toBe(0)
  }, 60_000)

  it('status exits with the code of its problem: revoked', async () => {
    expect((await team.sh('alice', 'aura status')).code).toBe(0)
    await team.ok('mothership', `aura mothership revoke-peer ${team.id('alice')} --reason "laptop theft"`)
    const r = await team.until('alice learns she is revoked', async () => { const s = await team.sh('alice', 'aura status'); return s.code === 20 ? s : null }, 30_000)
    expect(r.stdout).toContain('E_REVOKED')
  }, 60_000)

  it('revoke-all --role agent stops every agent and no person; a re-issued agent acts under its name', async () => {
    await team.join('bob', 'agent')   // a person whose role happens to be "agent"
    await team.ok('mothership', 'aura agent issue claude')   // [agents.defaults] role: reader
    await team.ok('mothership', 'aura agent issue writer --role agent')
    await team.ok('mothership', 'aura log-intent "before the pause" --agent writer')
    const res = await team.json('mothership', 'aura agent revoke-all --role agent --reason "investigating prompt injection"')
    expect(res.revoked.map((x: string) => x.split('-')[0]).sort()).toEqual(['claude', 'scout', 'writer'])
    const refused = await team.sh('mothership', 'aura log-intent "during the pause" --agent writer')
    expect(refused.code).toBe(20)
    const bob = await team.json('bob', 'aura log-intent "bob still works"')
    await team.until('bob\'s record reaches the Mothership', async () => (await team.json<any[]>('mothership', 'aura trace --actor bob')).some((r) => r.id === bob.id && r.status === 'effective'), 30_000)
    expect((await team.status('bob')).revoked).toBe(null)

    const fresh = await team.json('mothership', 'aura agent issue writer --role agent')
    const wrote = await team.json('mothership', 'aura log-intent "after the pause" --agent writer')
    const rows = await team.json<any[]>('mothership', 'aura trace --actor writer')
    expect(rows.find((r) => r.id === wrote.id)?.signer).toBe(fresh.agent)
    await team.until('bob holds the re-issued agent\'s record as effective', async () => (await team.json<any[]>('bob', `aura trace --signer ${fresh.agent}`)).some((r) => r.id === wrote.id && r.status === 'effective'), 30_000)
  }, 180_000)

  it('sync status --intent tells received from applied to the workspace (apply = "manual")', async () => {
    // The Mothership's checkout records a change; erin's daemon watches a copy with apply = "manual".
    const ms = path.join(team.dir, 'ms-checkout')
    const erinWs = path.join(team.dir, 'erin-checkout')
    const original = 'def verify_token(t):\n    return t == "ok"\n'
    for (const dir of [ms, erinWs]) {
      await mkdir(dir, { recursive: true })
      await writeFile(path.join(dir, 'verify.py'), original)
    }
    await team.ok('mothership', `aura log-intent "baseline" --workspace ${ms}`)
    const erin = await team.join('erin')
    await team.stop('erin')
    const erinToml = path.join(erin.home, 'aura.toml')
    await writeFile(erinToml, (await readFile(erinToml, 'utf8')).replace('\n[workspace]\n', `\n[workspace]\npath = "${erinWs}"\napply = "manual"\n`))
    await team.start('erin')
    await writeFile(path.join(ms, 'verify.py'), 'def verify_token(t):\n    return True\n')
    const change = await team.json('mothership', `aura log-intent "the change to roll out" --workspace ${ms}`)
    const held = await team.until('erin has received it but not applied it', async () => {
      const r = await team.json('mothership', `aura sync status --intent ${change.id.slice(0, 10)}`)
      const row = r.peers.find((p: any) => p.peer === team.id('erin'))
      return row?.holdsIntent === true && row.appliedIntent === false ? r : null
    }, 60_000)
    expect(held.unapplied).toEqual([team.id('erin')])
    expect(held.verdict).toContain('not applied it to the workspace')
    expect(held.peers.find((p: any) => p.peer === team.id('erin')).apply).toBe('manual')

    await team.ok('erin', 'aura apply')
    expect(await readFile(path.join(erinWs, 'verify.py'), 'utf8')).toContain('return True')
    const applied = await team.until('erin\'s receipt says applied', async () => {
      const r = await team.json('mothership', `aura sync status --intent ${change.id.slice(0, 10)}`)
      return r.peers.find((p: any) => p.peer === team.id('erin'))?.appliedIntent === true ? r : null
    }, 60_000)
    expect(applied.unapplied).toEqual([])
  }, 240_000)

  it('takes a changed max_staleness (and max_clock_skew) without a restart, and config show says what it uses', async () => {
    // erin (joined above) is fresh; her daemon never had max_staleness set.
    const erinToml = path.join(team.m('erin').home, 'aura.toml')
    const original = await readFile(erinToml, 'utf8')
    const withSync = (lines: string): string => original.replace('\n[sync]\n', `\n[sync]\n${lines}\n`)
    expect((await team.control('erin', 'status')).stale.stale).toBe(false)
    await writeFile(erinToml, withSync('max_staleness = 2\nmax_clock_skew = 0'))
    await team.until('erin\'s daemon takes max_staleness', async () => (await team.control('erin', 'config-state')).config.sync.max_staleness === 2, 20_000, 100)
    const shown = await team.json('erin', 'aura config show')
    expect(shown.config.sync).toMatchObject({ max_staleness: 2, max_clock_skew: 0 })
    expect(shown.daemon).toMatchObject({ restartNeeded: [], reloadError: null })
    expect(Object.keys(shown.daemon.differs)).not.toContain('sync.max_staleness')

    // No beacon for 2 s: the running engine judges freshness with the new value.
    await team.stop('mothership')
    await team.until('erin goes stale', async () => (await team.control('erin', 'status')).stale.stale === true, 15_000, 200)
    expect((await team.sh('erin', 'aura status')).stdout).toContain('E_STALE')
    // And back off, still without a restart: fresh again though no Mothership is heard.
    await writeFile(erinToml, withSync('max_staleness = "off"'))
    await team.until('erin is no longer stale', async () => (await team.control('erin', 'status')).stale.stale === false, 20_000, 100)
    const off = await team.sh('erin', 'aura config show')
    expect(off.stdout).toMatch(/max_staleness += "off"/)
    expect(off.stdout).not.toContain('restart needed')
  }, 120_000)
})
