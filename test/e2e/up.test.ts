// `aura up [TOKEN]` against a running Mothership, in real processes: a fresh machine gets an
// identity, joins, starts its daemon and syncs with one command; running it again changes
// nothing and says so (exit 0); a token of another team or a --listen the daemon does not use
// is said, never ignored.
import { stat } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TEST_TIMEOUT_MS, FAST, LISTEN, aura, ensureBuilt, ok, waitFor, Team } from './helpers.js'

let team: Team

beforeAll(async () => {
  ensureBuilt()
  team = await Team.empty()
}, 300_000)

afterAll(async () => { await team?.close() }, 60_000)

const sets = FAST.flatMap((f) => ['--set', f])

describe('aura up', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('on a fresh machine: creates the identity, joins, starts the daemon, syncs; again: all is well', async () => {
    const { token } = await team.issue('rosa')
    const rosa = team.add('rosa')
    const first = ok(await rosa.aura('up', token, '--listen', LISTEN, ...sets), 'up rosa')
    expect(first.did).toEqual([
      expect.stringMatching(/^created identity peer-[0-9a-f]{4}/),
      'joined team acme as rosa (contributor)',
      'started the daemon'
    ])
    expect(first).toMatchObject({ team: 'acme', user: 'rosa', role: 'contributor', daemonStarted: true, peer: first.identityCreated })
    expect(first.peerId).toMatch(/^12D3KooW/)
    expect(first.listen[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${String(first.peerId)}$`))
    expect((await stat(`${rosa.home}/identity.key`)).mode & 0o777).toBe(0o600)
    // It syncs: the Mothership sees it connected.
    await waitFor(async () => (await team.mothership.status()).connected.includes(first.peer), 20_000, 'the Mothership connected to rosa')

    // Again, with or without the token: nothing done, exit 0, the same daemon.
    for (const args of [['up'], ['up', token]]) {
      const again = ok(await rosa.aura(...args), args.join(' '))
      expect(again).toMatchObject({ did: [], identityCreated: null, joined: null, daemonStarted: false, pid: first.pid, peer: first.peer, team: 'acme' })
    }
    const text = await aura(['up', '--home', rosa.home], { cwd: rosa.cwd })
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('all is well: nothing to do')
    expect(text.stdout).toContain(first.listen[0])
    // A --listen it already listens on is fine; another one is said, not ignored.
    expect(ok(await rosa.aura('up', '--listen', first.listen[0].replace(/\/p2p\/.*/, '')))).toMatchObject({ did: [] })
    const moved = await rosa.aura('up', '--listen', '/ip4/127.0.0.2/tcp/0')
    expect(moved.code).toBe(9)
    expect(moved.json.error.code).toBe('E_DAEMON_RUNNING')
  })

  it('with a token of another team on a member node: E_EXISTS naming both teams', async () => {
    const other = team.add('other-ms')
    await other.init()
    ok(await other.aura('mothership', 'init', '--team', 'globex'))
    const foreign = ok(await other.aura('mothership', 'issue-peer', 'sam', '--role', 'contributor'))
    const sam = team.add('sam')
    ok(await sam.aura('up', (await team.issue('sam')).token, '--listen', LISTEN, ...sets), 'up sam')
    const r = await sam.aura('up', foreign.token)
    expect(r.code).toBe(6)
    expect(r.json.error).toMatchObject({ code: 'E_EXISTS', team: 'acme' })
    expect(r.json.error.message).toContain("'globex'")
  })

  it('without a token on a fresh machine: identity and daemon, and it says the node is in no team yet; a token later joins through the daemon', async () => {
    const tess = team.add('tess')
    const r = await aura(['up', '--home', tess.home, '--listen', LISTEN], { cwd: tess.cwd, env: { NO_COLOR: '1' } })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/✓ created identity peer-[0-9a-f]{4}/)
    expect(r.stdout).toContain('✓ started the daemon')
    expect(r.stdout).toContain('not part of a team yet')
    expect(ok(await tess.aura('up'))).toMatchObject({ did: [], team: null })
    // Later, with a token: joined through the running daemon, which keeps running.
    const { token } = await team.issue('tess')
    const joined = ok(await tess.aura('up', token), 'up tess with a token')
    expect(joined).toMatchObject({ did: ['joined team acme as tess (contributor)'], daemonStarted: false, team: 'acme', user: 'tess' })
    await waitFor(async () => (await team.mothership.status()).connected.includes(joined.peer), 20_000, 'the Mothership connected to tess')
  })
})
