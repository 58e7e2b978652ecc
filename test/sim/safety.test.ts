import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { AuthorityView } from '../../crdt/authority-view.js'
import { effectiveIdsThrough } from '../../sim/effective.js'
import { runScenario } from '../../sim/run.js'
import { loadScenario } from '../../sim/scenario.js'
import { islandScenario } from './helpers.js'

// attacker-island runs in full mode in determinism.test.ts (which also asserts no violations);
// laptop-closed-week (seven simulated days) and scale-1000 are for `aura sim run` and bench/.
const skip = new Set(['attacker-island.toml', 'laptop-closed-week.toml', 'scale-1000.toml'])
const shipped = readdirSync('sim/scenarios').filter((f) => f.endsWith('.toml') && !skip.has(f))

describe('properties on the shipped scenarios', () => {
  for (const file of shipped) {
    it(`${file}: safety and liveness hold, and the adversary demonstrably tried (model mode)`, () => {
      const r = runScenario(loadScenario(`sim/scenarios/${file}`), { mode: 'model' })
      expect(r.violations).toEqual([])
      expect(r.metrics.liveness.converged).toBe(true)
      for (const rev of r.metrics.revocations) expect(rev.coverage).toBe(1)
      expect(r.metrics.forged?.attempted ?? 0).toBeGreaterThan(0)
      // Forged records still effective at the end are within the cut the Mothership signed (the
      // oracle's beyond-cut property); none was taken after a peer knew of the revocation.
      expect(r.metrics.forged?.exposure.afterKnown).toBe(0)
      expect(r.metrics.forged?.exposure.afterBeacon).toBe(0)
    }, 60_000)
  }
})

describe('the checker can fail', () => {
  it('an effective view whose revocation() forgets revocations is reported as a safety violation', () => {
    const forgetful = (view: AuthorityView): AuthorityView => ({
      get head () { return view.head },
      entryHash: (seq) => view.entryHash(seq),
      member: (key) => view.member(key),
      revocation: () => undefined,
      lockedAt: (seq) => view.lockedAt(seq),
      entryTs: (seq) => view.entryTs(seq),
      quotas: view.quotas
    })
    // Forged at the current time: the default adversary's backdated records are quarantined as
    // `backdated` on their own (crdt/write-rules.ts), so only the cut stands in the way here.
    const island = islandScenario()
    const current = { ...island, adversary: { ...island.adversary!, backdate: 0 } }
    const broken = runScenario(current, { seed: 5, effectiveIds: effectiveIdsThrough(forgetful) })
    const beyond = broken.violations.filter((v) => v.property === 'beyond-cut-effective')
    expect(beyond.length).toBeGreaterThan(0)
    expect(beyond[0].detail).toMatch(/holds revocation 'mallory'/)

    const honest = runScenario(current, { seed: 5 })
    expect(honest.violations).toEqual([])
  }, 60_000)

  it('an adversary that never gets a forgery onto the wire does not count', () => {
    const s = islandScenario()
    const idle = { ...s, adversary: { ...(s.adversary as NonNullable<typeof s.adversary>), start: 10 * 60_000 } }
    const r = runScenario(idle, { seed: 6 })
    expect(r.violations.map((v) => v.property)).toContain('adversary-idle')
  }, 60_000)
})
