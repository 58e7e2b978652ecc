// The daemon's structured log in real processes: a Mothership and a peer write what happened —
// start, admission, connections, chain entries applied, a revocation enforced and the refusal
// of the revoked key when it comes back online (with code and address), lockdown, and an audit export failing with its
// cause — and `aura node logs` reads it back, filtered by level.
import { once } from 'node:events'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TEST_TIMEOUT_MS, ok, waitFor, Team, type AuraNode } from './helpers.js'

let team: Team
let closedPort: number

async function events (n: AuraNode, ...extra: string[]): Promise<any[]> {
  const r = await n.aura('node', 'logs', '--lines', '100000', ...extra)
  return ok(r, `node logs (${n.name})`)
}

async function logged (n: AuraNode, event: string, match: Record<string, unknown> = {}): Promise<any> {
  return await waitFor(async () => (await events(n)).find((l) => l.event === event && Object.entries(match).every(([k, v]) => l[k] === v)), 20_000, `${n.name} to log ${event}`)
}

beforeAll(async () => {
  // A port nothing listens on: the export's connection is refused.
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  closedPort = (probe.address() as net.AddressInfo).port
  probe.close()
  team = await Team.create({ peers: ['alice'], set: [] })
  // The export is the Mothership's only: restart it with the export on.
  await team.mothership.stop()
  team.mothership.set = ['audit.export.enabled=true', 'audit.export.format=otlp', `audit.export.endpoint=http://127.0.0.1:${closedPort}`]
  await team.mothership.start()
}, 300_000)

afterAll(async () => { await team?.close() }, 60_000)

describe('the daemon log', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('records start, admission, connections and chain entries, each line timestamped and levelled', async () => {
    const alice = team.node('alice')
    const started = await logged(team.mothership, 'started')
    expect(started).toMatchObject({ level: 'info', peer: team.mothership.short, team: 'acme' })
    expect(new Date(started.time).toISOString()).toBe(started.time)
    expect(await logged(team.mothership, 'admitted', { peer: alice.short })).toMatchObject({ user: 'alice', role: 'contributor' })
    const connected = await logged(team.mothership, 'connected', { peer: alice.short })
    expect(connected.address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    expect(await logged(alice, 'joined')).toMatchObject({ team: 'acme', user: 'alice' })
  })

  it('an audit export that fails says why (connection refused, the endpoint named), once per run of failures', async () => {
    const failed = await logged(team.mothership, 'export-failed')
    expect(failed.level).toBe('warn')
    expect(failed.cause).toMatch(/^connection: .*ECONNREFUSED/)
    expect(failed.endpoint).toBe(`http://127.0.0.1:${closedPort}`)
    expect((await events(team.mothership)).filter((l) => l.event === 'export-failed')).toHaveLength(1)
  })

  it('a revocation is logged as enforced, the revoked key\'s redials as refused with code and address; lockdown too', async () => {
    // The stolen laptop is offline when revoked and comes back: its redial is what is refused.
    const alice = team.node('alice')
    await alice.stop()
    ok(await team.mothership.aura('mothership', 'revoke-peer', alice.short, '--reason', 'laptop stolen'))
    expect(await logged(team.mothership, 'revoked', { peer: alice.short })).toMatchObject({ level: 'warn', reason: 'laptop stolen' })
    expect((await events(team.mothership)).filter((l) => l.event === 'chain-applied' && l.kinds.includes('revoke'))).toHaveLength(1)
    await alice.start()
    const refused = await logged(team.mothership, 'refused', { peer: alice.short })
    expect(refused).toMatchObject({ code: 'E_REVOKED', direction: 'inbound' })
    expect(refused.address).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)

    ok(await team.mothership.aura('mothership', 'lockdown', '--reason', 'incident 42'))
    expect(await logged(team.mothership, 'lockdown')).toMatchObject({ level: 'warn' })
  })

  it('aura node logs --level warn shows warnings and errors only; an unknown level is E_USAGE with a did-you-mean', async () => {
    const warn = await events(team.mothership, '--level', 'warn')
    expect(warn.length).toBeGreaterThan(0)
    expect(new Set(warn.map((l) => l.level))).toEqual(new Set(warn.map((l) => l.level).filter((l) => ['warn', 'error', 'fatal'].includes(l))))
    expect(warn.some((l) => l.event === 'started')).toBe(false)
    for (const [bad, guess] of [['warning', 'warn'], ['inof', 'info']]) {
      const r = await team.mothership.aura('node', 'logs', '--level', bad)
      expect(r.code).toBe(2)
      expect(r.json.error.message).toContain(`did you mean '${guess}'?`)
    }
  })
})
