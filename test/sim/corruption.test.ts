import { describe, expect, it } from 'vitest'
import { runScenario } from '../../sim/run.js'
import { islandScenario } from './helpers.js'

describe('corruption', () => {
  it('flipped bytes fail decoding or verification: no crash, no bad-signature record stored, peers still converge', () => {
    const r = runScenario(islandScenario({ corrupt: 0.05, duplicate: 0.05, loss: 0.05 }), { seed: 3 })
    expect(r.metrics.traffic.corrupted).toBeGreaterThan(20)
    const refusedAsHostile = Object.entries(r.metrics.audits).filter(([k]) => /^dropped:E_(MALFORMED|BAD_SIGNATURE|BAD_CHAIN)/.test(k)).reduce((a, [, v]) => a + v, 0)
    expect(refusedAsHostile).toBeGreaterThan(0)
    expect(r.violations).toEqual([])
    expect(r.metrics.liveness.converged).toBe(true)
  }, 60_000)

  it('raw delivery (duplicates and reorders reach the protocol) never crashes it', () => {
    const s = islandScenario({ corrupt: 0.02, duplicate: 0.1, reorder: 0.1 })
    const r = runScenario({ ...s, link: { ...s.link, delivery: 'raw' } }, { seed: 4 })
    expect(r.violations.filter((v) => v.property === 'protocol-crash' || v.property === 'bad-signature-stored')).toEqual([])
  }, 60_000)
})
