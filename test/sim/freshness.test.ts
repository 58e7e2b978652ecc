// The freshness bound in the simulator, heal case (sim/scenarios/beacon-relay.toml): a revoked
// peer on an island hands its victims the Mothership's current beacons, which name the
// revocation it withholds. Counted as they arrived, they kept the victims fresh until the heal,
// and the victims took forged records up to the moment the revocation arrived. A beacon counts
// only once its chain head is held, so the victims go stale max_staleness + skew after the last
// beacon they could hold (signed no later than the revocation) and refuse her from then on.
import { describe, expect, it } from 'vitest'
import { runScenario } from '../../sim/run.js'
import { loadScenario } from '../../sim/scenario.js'

describe('beacons that name a withheld revocation (beacon-relay)', () => {
  for (const seed of [7, 42]) {
    it(`seed ${seed}: victims refuse the revoked peer from max_staleness + skew after the revocation, not from the heal`, () => {
      const scenario = loadScenario('sim/scenarios/beacon-relay.toml')
      const r = runScenario(scenario, { seed, mode: 'model' })
      // Every property but one holds; that one is a finding the engine fix must close (below).
      expect(r.violations.filter((v) => v.property !== 'exposure-after-beacon')).toEqual([])
      expect(r.metrics.liveness.converged).toBe(true)
      // The adversary demonstrably tried: it fed beacons and its forgeries reached victims.
      const forged = r.metrics.forged
      expect(forged?.beaconsFed ?? 0).toBeGreaterThan(0)
      // Counted by the production effective view: forged at the current time (`backdate = 0`).
      expect(forged?.effectiveBeforeHeal ?? 0).toBeGreaterThan(0)
      expect(forged?.exposure.afterKnown).toBe(0)
      const bound = (scenario.protocol.max_staleness as number) + scenario.protocol.max_clock_skew
      expect(r.metrics.exposureWindowMs).not.toBeNull()
      expect(r.metrics.exposureWindowMs as number).toBeLessThanOrEqual(bound + 1)
      const heal = scenario.schedule.find((s) => s.action === 'heal')?.at as number
      expect(r.report.forgedAccepted.filter((x) => x.atMs >= heal)).toEqual([])
    }, 120_000)
  }

  // The oracle's bounded-exposure property also forbids taking a revoked key's records after a
  // beacon naming its revocation has arrived. The engine defers such a beacon but stays fresh on
  // the last one it holds, so on seed 42 bob and carol store 6 forged records (effective there)
  // in that window. Skipped, loudly, until node/sync/engine.ts refuses records while a deferred
  // beacon names a head it lacks (the lead's change); then this passes as written.
  it('seed 42: no forged record is taken after a beacon naming the revocation arrived (a beacon ahead of the chain makes the peer stale until the entries arrive)', () => {
    const r = runScenario(loadScenario('sim/scenarios/beacon-relay.toml'), { seed: 42, mode: 'model' })
    expect(r.violations.filter((v) => v.property === 'exposure-after-beacon')).toEqual([])
    expect(r.metrics.forged?.exposure.afterBeacon).toBe(0)
  }, 120_000)
})
