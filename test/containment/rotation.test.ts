// Mothership key rotation on real peers, one of them offline: the new key is announced by an
// entry the old key signs, online peers keep their connections (beacons signed by the new key
// verify), tokens signed by the old key stop working (and the output says so), and the peer
// that was offline follows the chain forward when it returns, including entries the new key
// signed after the rotation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, Team } from './helpers.js'

describe('rotate-key', () => {
  let team: Team
  const online = ['alice', 'bob', 'carol']

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice', 'bob', 'carol', 'dave'], links: [['alice', 'bob']] })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('rotates with a peer offline, which follows forward when it returns', async () => {
    const oldToken = (await team.ok('mothership', 'aura mothership issue-peer frank --role contributor')).trim()
    const oldKey = (await team.control('mothership', 'status')).authority
    await team.stop('dave')

    const rotated = await team.sh('mothership', 'aura mothership rotate-key')
    expect(rotated.code).toBe(0)
    expect(rotated.stdout).toMatch(/rotated [0-9a-f]{12} -> [0-9a-f]{12}/)
    expect(rotated.stdout).toContain('every join token signed by the old key stops working')
    const head = (await team.control('mothership', 'status')).authority
    expect(head.seq).toBe(oldKey.seq + 1)

    // Online peers take the rotate entry and stay connected across several new-key beacons.
    for (const name of online) {
      await team.until(`${name} holds the rotate entry`, async () => (await team.control(name, 'status')).authority.hash === head.hash, 10_000, 50)
    }
    await sleep(3_000)
    const ms = await team.control('mothership', 'status')
    expect(ms.connected.sort()).toEqual(online.map((n) => team.id(n)).sort())
    for (const name of online) {
      const s = await team.control(name, 'status')
      expect(s.connected).toContain(team.id('mothership'))
      expect(Date.parse(s.stale.lastBeacon)).toBeGreaterThan(Date.now() - 5_000)
    }

    // Old tokens stop working; new ones work.
    const tokens = await team.json<any[]>('mothership', 'aura mothership list-tokens')
    expect(tokens.find((t) => t.user === 'frank')?.status).toBe('superseded')
    expect(await team.json<any[]>('mothership', 'aura mothership list-tokens --active')).toEqual([])
    await team.add('frank')
    await team.ok('frank', 'aura init')
    const refused = await team.sh('frank', `aura join ${oldToken} --no-start`)
    expect(refused.code).not.toBe(0)
    // Strangers hear fixed sentences (nothing about other members): this one names the cause.
    expect(refused.stderr).toContain('not signed by this team\'s current Mothership key')
    await team.join('erin')

    // Entries signed by the new key while dave is away.
    const revoke = await team.sh('mothership', `aura mothership revoke-peer ${team.id('erin')} --reason "test identity"`)
    expect(revoke.code).toBe(0)
    const written = await team.json('bob', 'aura log-intent "after the rotation"')
    const final = (await team.control('mothership', 'status')).authority

    // dave returns and follows forward: rotate entry, then what the new key signed.
    await team.start('dave')
    await team.until('dave follows the chain forward', async () => (await team.control('dave', 'status')).authority.hash === final.hash, 60_000)
    await team.until('dave receives records written after the rotation', async () =>
      (await team.json<any[]>('dave', 'aura trace --since 1h')).some((r) => r.id === written.id && r.status === 'effective'), 30_000)
    const dave = await team.status('dave')
    // Catching up from several peers at once, a change can come from one before its dependency
    // comes from another: refused as E_MISSING_DEPS, that link's sync starts afresh and the
    // change arrives (docs/protocol.md), but status lists the refusal for 10 minutes. Seen twice
    // in 8 runs of this test under a loaded machine; nothing else may be a problem.
    expect(dave.problems.filter((p: { code: string }) => p.code !== 'E_MISSING_DEPS')).toEqual([])
    expect(dave.connected).toContain(team.id('mothership'))
    expect(Date.parse(dave.stale.lastBeacon)).toBeGreaterThan(Date.now() - 5_000)
    const peers = await team.json<any[]>('dave', 'aura mothership list-peers')
    expect(peers.find((p) => p.user === 'erin')?.status).toBe('revoked')
    const mine = await team.json('dave', 'aura log-intent "dave is back"')
    await team.until('dave\'s new record reaches the Mothership', async () =>
      (await team.json<any[]>('mothership', 'aura trace --since 1h')).some((r) => r.id === mine.id && r.status === 'effective'), 30_000)
  }, 300_000)
})
