// Join refusals end to end, against a running Mothership: each refused join fails with its
// documented code and exit code, and `aura mothership audit-token` lists every attempt with its
// source address and outcome. Also: a second daemon on one home is refused.
import { cp, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, type ExpectStatic } from 'vitest'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from '../../crdt/canonical.js'
import { ERROR_CODES } from '../../crdt/errors.js'
import { E2E_TEST_TIMEOUT_MS, ensureBuilt, LISTEN, ok, Team, type AuraNode, type RunResult } from './helpers.js'

const PREFIX = 'aurajoin1.'
const SOURCE = /^127\.0\.0\.1:\d+$/

let team: Team

beforeAll(async () => {
  ensureBuilt()
  team = await Team.empty()
}, 300_000)

afterAll(async () => { await team?.close() }, 60_000)

/** A fresh, initialised home. */
async function newcomer (name: string): Promise<AuraNode> {
  const n = team.add(name)
  await n.init()
  return n
}

async function join (n: AuraNode, token: string): Promise<RunResult> {
  return await n.aura('join', token, '--no-start')
}

/** The refusal a command printed under --json, with its exit code checked against the table. */
function refused (r: RunResult, check: ExpectStatic = expect): string {
  const code = r.json?.error?.code
  check(code, `expected a refusal, got exit ${String(r.code)}: ${r.stdout}${r.stderr}`).toBeTypeOf('string')
  check(r.code).toBe(ERROR_CODES[code as keyof typeof ERROR_CODES])
  return code
}

async function audit (jti: string): Promise<any> {
  return ok(await team.mothership.aura('mothership', 'audit-token', jti), `audit-token ${jti}`)
}

function editToken (token: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const claims = parseCanonical(fromB64u(token.slice(PREFIX.length))) as Record<string, unknown>
  return PREFIX + toB64u(canonicalBytes(change(claims)))
}

// Independent of each other, so they run at once against the one Mothership: concurrent join
// attempts are part of what is tested, and the file stays short.
describe.concurrent('join refusals', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('the same single-use token twice: the second join is refused with E_TOKEN_USED', async ({ expect }) => {
    const [issued, frank, outsider] = await Promise.all([team.issue('frank'), newcomer('frank'), newcomer('frank-stolen')])
    const joined = ok(await join(frank, issued.token))
    expect(joined).toMatchObject({ joined: 'acme', user: 'frank', role: 'contributor' })
    expect(refused(await join(outsider, issued.token), expect)).toBe('E_TOKEN_USED')

    const a = await audit(issued.jti)
    expect(a).toMatchObject({ jti: issued.jti, user: 'frank', role: 'contributor', revoked: null })
    expect(a.boundTo.map((b: { peer: string }) => b.peer)).toEqual([joined.peer])
    expect(a.attempts).toHaveLength(2)
    const [ok1, no2] = [...a.attempts].sort((x: { ts: string }, y: { ts: string }) => x.ts < y.ts ? -1 : 1)
    expect(ok1).toMatchObject({ peer: joined.peer, outcome: 'accepted', reason: null })
    expect(no2).toMatchObject({ peer: outsider.short, outcome: 'refused' })
    expect(no2.reason).toMatch(/^E_TOKEN_USED: /)
    for (const at of a.attempts) expect(at.source).toMatch(SOURCE)
  })

  it('an expired token is refused with E_TOKEN_EXPIRED', async ({ expect }) => {
    const [issued, outsider] = await Promise.all([team.issue('gina', '--ttl', '1s'), newcomer('gina')])
    const wait = Date.parse(issued.expiresAt) - Date.now() + 50
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    expect(refused(await join(outsider, issued.token), expect)).toBe('E_TOKEN_EXPIRED')
    const a = await audit(issued.jti)
    expect(a.boundTo).toEqual([])
    expect(a.attempts).toHaveLength(1)
    expect(a.attempts[0]).toMatchObject({ outcome: 'refused' })
    expect(a.attempts[0].reason).toMatch(/^E_TOKEN_EXPIRED: /)
    expect(a.attempts[0].source).toMatch(SOURCE)
  })

  it('a tampered token (its user changed after signing) is refused with E_BAD_SIGNATURE', async ({ expect }) => {
    const [issued, outsider] = await Promise.all([team.issue('hana'), newcomer('hana-forger')])
    const forged = editToken(issued.token, (c) => ({ ...c, user: 'mallory', role: 'admin' }))
    expect(refused(await join(outsider, forged), expect)).toBe('E_BAD_SIGNATURE')
    const a = await audit(issued.jti)
    expect(a.boundTo).toEqual([])
    expect(a.attempts).toHaveLength(1)
    expect(a.attempts[0]).toMatchObject({ outcome: 'refused', peer: outsider.short })
    expect(a.attempts[0].reason).toMatch(/^E_BAD_SIGNATURE: .*forged or altered/)
    expect(a.attempts[0].source).toMatch(SOURCE)
    // The genuine token still works afterwards.
    const hana = await newcomer('hana')
    expect(ok(await join(hana, issued.token))).toMatchObject({ user: 'hana', role: 'contributor' })
  })

  it('a token signed by another Mothership, pointing at ours, is refused with E_BAD_SIGNATURE', async ({ expect }) => {
    const [other, outsider] = await Promise.all([newcomer('other-mothership'), newcomer('ivan')])
    // The other Mothership is never started: its tokens carry the addresses in its addrs.json.
    ok(await other.aura('mothership', 'init', '--team', 'acme'))
    await cp(path.join(team.mothership.home, 'addrs.json'), path.join(other.home, 'addrs.json'))
    const foreign = ok(await other.aura('mothership', 'issue-peer', 'ivan', '--role', 'contributor'))
    expect(refused(await join(outsider, foreign.token), expect)).toBe('E_BAD_SIGNATURE')
    const a = await audit(foreign.jti)
    expect(a).toMatchObject({ jti: foreign.jti, user: null, boundTo: [] })
    expect(a.attempts).toHaveLength(1)
    expect(a.attempts[0].reason).toMatch(/^E_BAD_SIGNATURE: .*another Mothership key/)
    expect(a.attempts[0].source).toMatch(SOURCE)
  })

  it('a damaged token string is refused locally with E_MALFORMED, before any Mothership is asked', async ({ expect }) => {
    const [issued, judy, other] = await Promise.all([team.issue('judy'), newcomer('judy'), newcomer('judy-2')])
    const [cut, garbage] = await Promise.all([join(judy, issued.token.slice(0, Math.floor(issued.token.length / 2))), join(other, 'not-a-token')])
    expect(refused(cut, expect)).toBe('E_MALFORMED')
    expect(refused(garbage, expect)).toBe('E_MALFORMED')
    expect((await audit(issued.jti)).attempts).toEqual([])
  })

  it('a revoked token is refused with E_REVOKED', async ({ expect }) => {
    const [issued, outsider] = await Promise.all([team.issue('kim'), newcomer('kim')])
    ok(await team.mothership.aura('mothership', 'revoke-token', issued.jti, '--reason', 'sent to the wrong channel'))
    expect(refused(await join(outsider, issued.token), expect)).toBe('E_REVOKED')
    const a = await audit(issued.jti)
    expect(a.revoked).toMatchObject({ reason: 'sent to the wrong channel' })
    expect(a.attempts.map((x: { outcome: string }) => x.outcome)).toEqual(['refused'])
  })
})

describe('one step to a node', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('join on a machine with no identity creates one (0600 key in a 0700 home), then joins', async () => {
    const issued = await team.issue('quinn')
    const quinn = team.add('quinn')
    const r = await join(quinn, issued.token)
    const joined = ok(r, 'join quinn')
    expect(joined).toMatchObject({ joined: 'acme', user: 'quinn', role: 'contributor', identityCreated: expect.stringMatching(/^peer-[0-9a-f]{4}/) })
    expect(joined.peer).toBe(joined.identityCreated)
    expect(r.stderr).toContain(`created identity ${String(joined.identityCreated)}`)
    expect((await stat(path.join(quinn.home, 'identity.key'))).mode & 0o777).toBe(0o600)
    expect((await stat(quinn.home)).mode & 0o777).toBe(0o700)
    // A home that has one is not touched: no identity is created twice.
    const again = await join(quinn, (await team.issue('quinn2')).token)
    expect(again.json?.identityCreated ?? null).toBeNull()
  })
})

describe('one daemon per home', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('a second daemon on the same home is refused with E_DAEMON_RUNNING, and the first keeps running', async () => {
    const before = await team.mothership.status()
    expect(before.daemon).toBe('running')
    expect(refused(await team.mothership.aura('node', 'start', '--listen', LISTEN))).toBe('E_DAEMON_RUNNING')
    // In the foreground too; a daemon that wrongly started would hang here until killed.
    const fg = await team.mothership.aura('node', 'start', '--foreground', '--listen', LISTEN)
    expect(refused(fg)).toBe('E_DAEMON_RUNNING')
    // With nothing asked of it but to run, a start finds the state it asks for: exit 0.
    const again = await team.mothership.aura('node', 'start', '--json')
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyRunning: true, pid: before.pid })
    const after = await team.mothership.status()
    expect(after).toMatchObject({ daemon: 'running', pid: before.pid, listen: before.listen })
    expect(team.mothership.livePids()).toEqual([before.pid])
  })
})
