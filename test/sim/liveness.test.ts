// Liveness is about the team's members: an honest peer the Mothership revoked is refused by
// everyone from then on, so it is left out; a peer that really stays behind still fails the run.
import { describe, expect, it } from 'vitest'
import { runScenario } from '../../sim/run.js'
import { runSwarmSeed } from '../../sim/swarm.js'
import { islandScenario } from './helpers.js'

describe('liveness', () => {
  it('a revoked honest peer (refused everywhere by design) does not count as a peer that failed to converge', () => {
    const s = islandScenario()
    const revokeBob = { ...s, schedule: [...s.schedule, { ...s.schedule[1], at: 90_000, revoke: 'bob', index: s.schedule.length }] }
    const r = runScenario(revokeBob, { seed: 5 })
    expect(r.metrics.revocations.map((x) => x.label)).toEqual(['mallory', 'bob'])
    expect(r.violations).toEqual([])
    expect(r.metrics.liveness.converged).toBe(true)
  }, 60_000)

  it('an unrevoked honest peer that never catches up is still a liveness violation', () => {
    const s = islandScenario()
    // carol is offline until the settle phase brings her back, and the bound (one second) is
    // shorter than her reconnect interval.
    const away = { ...s, settle: 1000, schedule: [...s.schedule, { at: 30_000, offline: 'carol', until: 3_600_000, action: 'offline' as const, index: s.schedule.length }] }
    const r = runScenario(away, { seed: 5 })
    expect(r.violations.map((v) => v.property)).toContain('liveness')
  }, 60_000)

  // A need the answering peer could not meet (a dependency of a refused change, asked of every
  // neighbour) made Automerge answer nothing on that link for good: the Mothership and frank
  // (510), the Mothership and everyone (597) never converged. crdt/intent-log.ts answerableNeeds.
  it('swarm seeds 510 and 597 converge (a need nobody can meet no longer silences a link)', async () => {
    for (const seed of [510, 597]) {
      const r = await runSwarmSeed(seed)
      expect(r.violations, `seed ${seed}`).toEqual([])
    }
  }, 120_000)
})
