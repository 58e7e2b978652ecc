// `aura doctor` on a real team: all checks pass on a joined peer (home, keys, config, daemon,
// a dial to the Mothership, the clock against its beacons); each usual failure is found, with
// its code deciding the exit and a fix printed — a key file others can read, the Mothership
// down, an audit export endpoint that refuses connections.
import { once } from 'node:events'
import { chmod } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TEST_TIMEOUT_MS, aura, ok, waitFor, Team } from './helpers.js'

let team: Team

beforeAll(async () => {
  team = await Team.create({ peers: ['alice'] })
}, 300_000)

afterAll(async () => { await team?.close() }, 60_000)

const byName = (r: any): Record<string, any> => Object.fromEntries(r.checks.map((c: any) => [c.name, c]))

describe('aura doctor', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('a healthy peer: every check passes or says why it was skipped, exit 0', async () => {
    const alice = team.node('alice')
    const r = await waitFor(async () => { const x = await alice.aura('doctor'); return x.code === 0 ? x : null }, 20_000, 'doctor to pass on alice')
    const c = byName(r.json)
    expect(r.json.ok).toBe(true)
    expect(c.home.status).toBe('ok')
    expect(c.keys.status).toBe('ok')
    expect(c.config.status).toBe('ok')
    expect(c.daemon.status).toBe('ok')
    expect(c.mothership).toMatchObject({ status: 'ok' })
    expect(c.mothership.detail).toMatch(/^dialled \/ip4\/127\.0\.0\.1\//)
    expect(c.clock.status).toBe('ok')
    expect(c['audit export']).toMatchObject({ status: 'skip', detail: '[audit.export] enabled = false' })
    const text = await aura(['doctor', '--home', alice.home], { cwd: alice.cwd })
    expect(text.stdout).toContain('all checks passed')
  })

  it('a key file others can read: E_PERMISSIONS, exit 60, with the chmod that fixes it', async () => {
    const alice = team.node('alice')
    const key = path.join(alice.home, 'identity.key')
    await chmod(key, 0o644)
    try {
      const r = await alice.aura('doctor')
      expect(r.code).toBe(60)
      expect(byName(r.json).keys).toMatchObject({ status: 'fail', code: 'E_PERMISSIONS', fix: `chmod 600 ${key}` })
      const text = await aura(['doctor', '--home', alice.home], { cwd: alice.cwd })
      expect(text.stdout).toContain(`fix: chmod 600 ${key}`)
    } finally {
      await chmod(key, 0o600)
    }
  })

  it('an export endpoint refusing connections, and the Mothership down: E_UNREACHABLE with the cause', async () => {
    const alice = team.node('alice')
    const probe = net.createServer().listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const port = (probe.address() as net.AddressInfo).port
    probe.close()
    await team.mothership.stop()
    const r = await alice.aura('doctor', '--set', 'audit.export.enabled=true', '--set', 'audit.export.format=otlp', '--set', `audit.export.endpoint=http://127.0.0.1:${port}`)
    const c = byName(r.json)
    expect(c['audit export']).toMatchObject({ status: 'fail', code: 'E_UNREACHABLE' })
    expect(c['audit export'].detail).toMatch(/connection: .*ECONNREFUSED/)
    expect(c.mothership).toMatchObject({ status: 'fail', code: 'E_UNREACHABLE' })
    expect(r.code).toBe(43)
    ok(await team.mothership.aura('node', 'stop'))
  })
})
