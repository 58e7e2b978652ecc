// Lockdown and unlock across real peers: while locked no tokens are issued, no joins and no new
// records are accepted anywhere; reads, trace, exports and sync of the chain continue, and
// every peer's `aura status` shows the lockdown and its reason. After unlock, writing resumes
// and what was held back propagates; nothing is left quarantined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, Team } from './helpers.js'

const REASON = 'ongoing incident investigation'

describe('lockdown and unlock', () => {
  let team: Team
  const peers = ['alice', 'bob', 'carol', 'dave']

  beforeAll(async () => {
    team = await Team.create({ peers, links: [['alice', 'bob'], ['bob', 'carol']] })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('holds every peer read-only until unlock', async () => {
    const pending = (await team.ok('mothership', 'aura mothership issue-peer erin --role contributor')).trim()
    // dave is offline when the lockdown is declared, and misses carol's last record.
    await team.stop('dave')
    const before = await team.json('carol', 'aura log-intent "last change before the lockdown"')

    const locked = await team.sh('mothership', `aura mothership lockdown --reason "${REASON}"`)
    expect(locked.code).toBe(0)
    expect(locked.stdout).toContain(`LOCKDOWN: ${REASON}`)
    for (const name of ['mothership', 'alice', 'bob', 'carol']) {
      await team.until(`${name} shows the lockdown`, async () => {
        const s = await team.control(name, 'status')
        return s.lockdown.locked === true && s.lockdown.reason === REASON
      }, 10_000, 50)
      const text = (await team.sh(name, 'aura status')).stdout
      expect(text).toContain(`LOCKED: ${REASON}`)
      expect(text).toContain('E_LOCKDOWN')
    }

    // No new records, tokens or joins.
    for (const name of ['mothership', 'alice', 'bob']) {
      const w = await team.sh(name, 'aura log-intent "during lockdown"')
      expect(w.code).not.toBe(0)
      expect(w.stderr).toContain('E_LOCKDOWN')
    }
    const issue = await team.sh('mothership', 'aura mothership issue-peer frank --role contributor')
    expect(issue.code).not.toBe(0)
    expect(issue.stderr).toContain('E_LOCKDOWN')
    await team.add('erin')
    await team.ok('erin', 'aura init')
    const join = await team.sh('erin', `aura join ${pending} --no-start`)
    expect(join.code).not.toBe(0)
    expect(join.stderr).toContain('E_LOCKDOWN')

    // Reads, trace and exports continue.
    expect((await team.json<any[]>('bob', 'aura trace --since 6h')).some((r) => r.id === before.id)).toBe(true)
    const exported = await team.sh('alice', 'aura audit export --since 6h --format jsonl > recent.jsonl && wc -l < recent.jsonl')
    expect(exported.code).toBe(0)
    expect(Number(exported.stdout.trim())).toBeGreaterThan(0)
    expect((await team.sh('bob', 'aura sync status')).code).toBe(0)
    expect((await team.sh('mothership', 'aura mothership list-tokens --active')).code).toBe(0)

    // A peer returning during the lockdown learns it (chain sync continues), but takes no records.
    await team.start('dave')
    await team.until('dave shows the lockdown', async () => (await team.control('dave', 'status')).lockdown.reason === REASON, 30_000)
    await sleep(2_000)
    expect((await team.json<any[]>('dave', 'aura trace --since 6h')).some((r) => r.id === before.id)).toBe(false)

    const unlocked = await team.sh('mothership', 'aura mothership unlock')
    expect(unlocked.code).toBe(0)
    expect(unlocked.stdout).toContain('unlocked')
    for (const name of ['mothership', ...peers]) {
      await team.until(`${name} is unlocked`, async () => {
        const s = await team.control(name, 'status')
        return s.lockdown.locked === false && !s.problems.some((p: any) => p.code === 'E_LOCKDOWN')
      }, 10_000, 50)
    }
    // What was held back arrives; new writes flow again and count everywhere.
    await team.until('dave receives the record it missed', async () =>
      (await team.json<any[]>('dave', 'aura trace --since 6h')).some((r) => r.id === before.id), 30_000)
    const after = await team.json('dave', 'aura log-intent "back to work"')
    for (const name of ['mothership', 'alice', 'bob', 'carol']) {
      await team.until(`${name} holds dave's new record`, async () =>
        (await team.json<any[]>(name, 'aura trace --since 6h')).some((r) => r.id === after.id && r.status === 'effective'), 30_000)
    }
    for (const name of ['mothership', ...peers]) {
      const s = await team.control(name, 'status')
      expect(s.records.quarantined).toBe(0)
    }
    expect((await team.sh('mothership', 'aura mothership issue-peer frank --role contributor')).code).toBe(0)
  }, 300_000)
})
