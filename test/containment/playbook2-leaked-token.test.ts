// Playbook 2 (leaked join token) on real processes: a Mothership and four peers on 127.0.0.1.
// The token leaks, an unknown key redeems it, the operator revokes it by jti, audits the
// window (every attempt, with source address and the peer it bound), and falls through to
// Playbook 1 for the peer the token was bound to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Team } from './helpers.js'

describe('Playbook 2: leaked join token', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice', 'bob', 'carol', 'dave'] })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('revokes the token by jti, audits every attempt, and contains the peer it was bound to', async () => {
    const leaked = (await team.ok('mothership', 'aura mothership issue-peer erin --role contributor')).trim()

    // Step 1: only the leaked token can still be redeemed.
    const listed = await team.sh('mothership', 'aura mothership list-tokens --active')
    expect(listed.code).toBe(0)
    const active = await team.json<any[]>('mothership', 'aura mothership list-tokens --active')
    expect(active).toHaveLength(1)
    expect(active[0]).toMatchObject({ user: 'erin', role: 'contributor', status: 'active', usedBy: [] })
    const jti: string = active[0].jti
    expect(jti).toMatch(/^tk_[0-9A-HJKMNP-TV-Z]{26}$/)
    expect(listed.stdout).toContain(jti)

    // An unknown party redeems it before anyone notices, and writes.
    const mallory = await team.joinWith('mallory', leaked)
    await team.ok('mallory', 'aura log-intent "tidy up auth helpers"')
    await team.until('the Mothership holds mallory\'s intent', async () =>
      (await team.json<any[]>('mothership', `aura trace --actor ${mallory.id} --since 30d`)).some((r) => r.text === 'tidy up auth helpers'))

    const revoked = await team.sh('mothership', `aura mothership revoke-token ${jti} --reason "posted to #general"`)
    expect(revoked.code).toBe(0)
    expect(revoked.stdout).toContain(`revoked ${jti}: posted to #general`)
    expect(revoked.stdout).toContain(`already redeemed by ${mallory.id}`)
    expect(await team.json<any[]>('mothership', 'aura mothership list-tokens --active')).toEqual([])

    // Any later use of the token: E_REVOKED.
    await team.add('eve')
    await team.ok('eve', 'aura init')
    await team.identify('eve')
    const late = await team.sh('eve', `aura join ${leaked} --no-start`)
    expect(late.code).not.toBe(0)
    expect(late.stderr).toContain('E_REVOKED')
    // The joiner is nobody yet: it learns the code, not the operator's reason.
    expect(late.stderr).not.toContain('posted to #general')
    const lateJson = await team.sh('eve', `aura join ${leaked} --no-start --json`)
    expect(JSON.parse(lateJson.stdout).error.code).toBe('E_REVOKED')

    // Step 2: the audit lists every attempt, accepted or refused, with time and source address.
    const audit = await team.sh('mothership', `aura mothership audit-token ${jti}`)
    expect(audit.code).toBe(0)
    expect(audit.stdout).toContain(`bound to: ${mallory.id}`)
    expect(audit.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:\\d+\\s+${mallory.id}\\s+accepted`))
    expect(audit.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:\\d+\\s+${team.id('eve')}\\s+refused\\s+E_REVOKED`))
    const report = await team.json('mothership', `aura mothership audit-token ${jti}`)
    expect(report.revoked).toMatchObject({ reason: 'posted to #general' })
    expect(report.boundTo).toEqual([{ peer: mallory.id, key: mallory.key, revoked: false }])
    expect(report.attempts).toHaveLength(3)
    for (const a of report.attempts) {
      expect(a.source).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(Date.parse(a.ts)).toBeGreaterThan(Date.now() - 600_000)
    }
    expect(report.attempts[0]).toMatchObject({ peer: mallory.id, key: mallory.key, outcome: 'accepted', reason: null })
    expect(report.attempts[1]).toMatchObject({ peer: team.id('eve'), outcome: 'refused' })
    expect(report.attempts[1].reason).toMatch(/^E_REVOKED: /)
    expect(report.attempts[2]).toMatchObject({ peer: team.id('eve'), outcome: 'refused' })

    // Step 3: the token was used by an unknown peer: Playbook 1 for the peer it was bound to.
    const contain = await team.sh('mothership', `aura mothership revoke-peer ${report.boundTo[0].peer} --reason "joined with leaked token"`)
    expect(contain.code).toBe(0)
    for (const name of ['mothership', 'alice', 'bob', 'carol', 'dave']) {
      await team.until(`${name} applied the revocation and dropped mallory`, async () => {
        const s = await team.control(name, 'status')
        const revs = await team.control<any[]>(name, 'revocations')
        return revs.some((r) => r.key === mallory.key) && !s.connected.includes(mallory.id)
      }, 10_000, 50)
    }
    await team.until('mallory is cut off', async () => (await team.control('mallory', 'status')).connected.length === 0, 10_000, 100)
    const ms = await team.status('mallory')
    expect(ms.revoked).toMatchObject({ reason: 'joined with leaked token' })
    expect(ms.problems.map((p: any) => p.code)).toContain('E_REVOKED')
    expect(ms.connected).toEqual([])
    const write = await team.sh('mallory', 'aura log-intent "more changes"')
    expect(write.code).not.toBe(0)
    expect(write.stderr).toContain('E_REVOKED')

    // Its record from before the revocation is still evidence, effective (within the cut).
    const trace = await team.json<any[]>('bob', `aura trace --actor ${mallory.id} --since 30d`)
    expect(trace.find((r) => r.text === 'tidy up auth helpers')).toMatchObject({ status: 'effective' })
    const after = await team.json('mothership', `aura mothership audit-token ${jti}`)
    expect(after.boundTo).toEqual([{ peer: mallory.id, key: mallory.key, revoked: true }])
  }, 240_000)
})
