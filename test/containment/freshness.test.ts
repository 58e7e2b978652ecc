// The freshness bound on real peers: with `max_staleness` set, a peer whose newest Mothership
// beacon is too old refuses new records from others (its own reads continue), shows E_STALE in
// `aura status`, and recovers by itself once a fresh beacon arrives, taking what it refused.
// Off by default: the other containment tests run without it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sleep, Team } from './helpers.js'

describe('freshness bound (max_staleness)', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({
      peers: ['alice', 'bob', 'carol', 'dave'],
      links: [['alice', 'bob'], ['bob', 'carol']],
      // Staleness counts from the beacon's signed time plus the clock-skew allowance (60 s by
      // default): one second keeps the test short; the processes share one clock.
      env: { AURA_SYNC_MAX_STALENESS: '3', AURA_SYNC_MAX_CLOCK_SKEW: '1', AURA_MOTHERSHIP_BEACON_INTERVAL: '0.5' }
    })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('refuses records from others while stale, shows E_STALE, and recovers by itself', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      const s = await team.control(name, 'status')
      expect(s.stale.stale).toBe(false)
      expect(s.problems).toEqual([])
    }

    await team.stop('mothership')
    for (const name of ['alice', 'bob', 'carol']) {
      await team.until(`${name} goes stale`, async () => (await team.control(name, 'status')).stale.stale === true, 15_000)
      const text = (await team.sh(name, 'aura status')).stdout
      expect(text).toContain('E_STALE')
    }
    const s = await team.status('alice')
    expect(s.problems.map((p: any) => p.code)).toContain('E_STALE')

    // bob can still write locally; alice and carol refuse it while stale. Reads continue.
    const written = await team.json('bob', 'aura log-intent "written while nobody hears the Mothership"')
    await sleep(2_500)
    for (const name of ['alice', 'carol']) {
      const rows = await team.json<any[]>(name, 'aura trace --since 1h')
      expect(rows.some((r) => r.id === written.id)).toBe(false)
    }
    expect((await team.sh('alice', 'aura audit export --since 1h --format jsonl > recent.jsonl')).code).toBe(0)

    // A fresh beacon ends it without anyone's help, and the refused record arrives.
    await team.start('mothership')
    for (const name of ['alice', 'bob', 'carol']) {
      await team.until(`${name} is fresh again`, async () => {
        const st = await team.control(name, 'status')
        return st.stale.stale === false && !st.problems.some((p: any) => p.code === 'E_STALE')
      }, 60_000)
    }
    for (const name of ['alice', 'carol', 'mothership']) {
      await team.until(`${name} takes bob's record`, async () =>
        (await team.json<any[]>(name, 'aura trace --since 1h')).some((r) => r.id === written.id && r.status === 'effective'), 30_000)
    }
  }, 300_000)
})
