// Model mode's prelude (sim/workload.ts): the compromised identity writes honest records before
// its compromise, so its revocation's cut is not empty and the oracle holds the effective view
// to it both ways: what lies within the cut stays effective, what lies beyond is quarantined.
import { describe, expect, it } from 'vitest'
import type { AuthorityView } from '../../crdt/authority-view.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { effectiveIdsThrough, realEffectiveIds } from '../../sim/effective.js'
import type { EffectiveIdsFn } from '../../sim/properties.js'
import { runScenario } from '../../sim/run.js'
import type { Scenario } from '../../sim/scenario.js'
import { PRELUDE_RECORDS } from '../../sim/workload.js'
import { islandScenario } from './helpers.js'

// The island comes on at 40 s and mallory turns at 45 s, forging at the current time (so only
// the cut stands against her records): the Mothership, outside the island, holds none of her
// forgeries when it revokes her at 60 s, and her cut is exactly the prelude.
function modelIsland (start = 45_000): Scenario {
  const s = islandScenario()
  return { ...s, mode: 'model', adversary: { ...s.adversary!, start, backdate: 0 } }
}

// The production view, seeing every chain through a `revocation()` that `change` rewrites.
type Revocation = ReturnType<AuthorityView['revocation']>
function revocationsAs (change: (real: NonNullable<Revocation>) => Revocation): EffectiveIdsFn {
  return effectiveIdsThrough((view: AuthorityView): AuthorityView => ({
    get head () { return view.head },
    entryHash: (seq) => view.entryHash(seq),
    member: (key) => view.member(key),
    revocation: (key) => {
      const r = view.revocation(key)
      return r === undefined ? undefined : change(r)
    },
    lockedAt: (seq) => view.lockedAt(seq),
    entryTs: (seq) => view.entryTs(seq),
    quotas: view.quotas
  }))
}
// Everything of a revoked key quarantined, as if the cut were empty.
const emptyCut = revocationsAs((r) => ({ ...r, cut: { seq: 0, hash: null } }))
// Nothing of a revoked key quarantined: the revocation forgotten.
const noCut = revocationsAs(() => undefined)

const revokeLine = (r: ReturnType<typeof runScenario>): { cuts: number[] } =>
  JSON.parse(r.trace.lines().find((l) => l.includes('"ev":"revoke"') && l.includes('"cuts"')) as string) as { cuts: number[] }

describe('model mode writes a prelude before the compromise', () => {
  it('the revocation cuts at the adversary\'s honest records: they stay effective, her forgeries do not', () => {
    interface Seen {
      records: Array<{ id: RecordId, record: SignedRecord }>
      view: AuthorityView
      effective: Set<RecordId>
    }
    let last: Seen | null = null
    const watching: EffectiveIdsFn = (records, view) => {
      const effective = realEffectiveIds(records, view)
      last = { records, view, effective }
      return effective
    }
    const r = runScenario(modelIsland(), { seed: 3, effectiveIds: watching })
    expect(r.violations).toEqual([])
    const prelude = JSON.parse(r.trace.lines().find((l) => l.includes('"ev":"prelude"')) as string) as { writers: string[], t: number }
    expect(prelude.writers).toEqual(['alice', 'bob', 'mallory'])
    expect(prelude.t).toBe(22_500)
    expect(revokeLine(r).cuts).toEqual([PRELUDE_RECORDS])

    // The last view the oracle computed (an honest peer's, after settling).
    const { records, view, effective } = last as unknown as Seen
    const hers = records.filter(({ record }) => record.actor === 'mallory')
    const key = hers[0].record.signer as KeyId
    expect(view.revocation(key)?.cut.seq).toBe(PRELUDE_RECORDS)
    const within = hers.filter(({ record }) => record.seq <= PRELUDE_RECORDS)
    const beyond = hers.filter(({ record }) => record.seq > PRELUDE_RECORDS)
    expect(within).toHaveLength(PRELUDE_RECORDS)
    expect(beyond.length).toBeGreaterThan(0)
    expect(within.every(({ id }) => effective.has(id))).toBe(true)
    expect(beyond.some(({ id }) => effective.has(id))).toBe(false)
  }, 60_000)

  it('a view that quarantines a revoked key\'s records within its cut is caught (within-cut-quarantined)', () => {
    const broken = runScenario(modelIsland(), { seed: 3, effectiveIds: emptyCut })
    const within = broken.violations.filter((v) => v.property === 'within-cut-quarantined')
    expect(within.length).toBeGreaterThan(0)
    expect(within[0].detail).toMatch(/of mallory is not effective .* within the cut \(seq 3\) of revocation 'mallory'/)
    // Without a prelude (the compromise at 0 s) the cut holds only forgeries, which the
    // property leaves alone: the same bug goes unseen.
    const unseen = runScenario(modelIsland(0), { seed: 3, effectiveIds: emptyCut })
    expect(unseen.violations.filter((v) => v.property === 'within-cut-quarantined')).toEqual([])
  }, 60_000)

  it('a view that ignores the cut and counts every record of the revoked key is caught (beyond-cut-effective)', () => {
    const broken = runScenario(modelIsland(), { seed: 3, effectiveIds: noCut })
    expect(broken.violations.map((v) => v.property)).toContain('beyond-cut-effective')
  }, 60_000)
})
