// The wider adversary (issue 16 item 6, sim/scenarios/wide-adversary.toml), one behaviour at a
// time: with only it on, every property holds, the adversary's own counters show it tried, and
// the refusals its victims answered (or logged) show they refused it. That a property would flag
// each behaviour if honest peers took it is the mutation suite's part (test/mutation/mutants.ts:
// one mutant per behaviour, caught on this scenario).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../sim/results.js'
import { runScenario } from '../../sim/run.js'
import { loadScenario, parseScenario } from '../../sim/scenario.js'

const BEHAVIOURS = ['forge_chain', 'forge_beacons', 'stockpile_beacons', 'claim_actor', 'invent_deps', 'stranger', 'oversized_frames'] as const
type Behaviour = typeof BEHAVIOURS[number]

// wide-adversary with only `on` of the new behaviours.
function only (on: Behaviour, mode: 'model' | 'full' = 'model'): RunResult {
  const s = loadScenario('sim/scenarios/wide-adversary.toml')
  const adversary = { ...s.adversary!, ...Object.fromEntries(BEHAVIOURS.map((b) => [b, b === on])) }
  const r = runScenario({ ...s, adversary }, { mode })
  expect(r.violations).toEqual([])
  expect(r.metrics.liveness.converged).toBe(true)
  return r
}

const hostile = (r: RunResult) => r.metrics.forged!.hostile
const audit = (r: RunResult, key: string): number => r.metrics.audits[key] ?? 0

describe('the wider adversary, one behaviour at a time (wide-adversary, model mode)', () => {
  it('forged chain entries (a bad Mothership signature, or its own key) are refused as E_BAD_SIGNATURE', () => {
    const r = only('forge_chain')
    expect(hostile(r).forgedEntries).toBeGreaterThanOrEqual(2)
    expect(hostile(r).refusals['forge-chain:E_BAD_SIGNATURE']).toBeGreaterThan(0)
  }, 120_000)

  it('forged beacons are ignored (E_BAD_SIGNATURE) and the cut-off victim goes stale and refuses records', () => {
    const r = only('forge_beacons')
    expect(hostile(r).forgedBeacons).toBeGreaterThan(0)
    expect(audit(r, 'refused:E_BAD_SIGNATURE')).toBeGreaterThan(0)
    expect(audit(r, 'refused:E_STALE')).toBeGreaterThan(0)
    expect(audit(only('forge_chain'), 'refused:E_BAD_SIGNATURE')).toBe(0)
  }, 120_000)

  it('stockpiled genuine beacons fed late buy no freshness: the victim refuses records as stale', () => {
    const r = only('stockpile_beacons')
    expect(hostile(r).beaconsStockpiled).toBeGreaterThan(1)
    expect(hostile(r).stockpileFed).toBeGreaterThan(1)
    expect(audit(r, 'refused:E_STALE')).toBeGreaterThan(0)
  }, 120_000)

  it('a change under another member\'s actor is refused as E_BAD_SIGNATURE', () => {
    const r = only('claim_actor')
    expect(hostile(r).claimedActorChanges).toBeGreaterThan(0)
    expect(hostile(r).refusals['claim-actor:E_BAD_SIGNATURE']).toBeGreaterThan(0)
  }, 120_000)

  it('a change on a dependency nobody holds is refused as E_MISSING_DEPS, and honest records keep flowing (full mode)', () => {
    const r = only('invent_deps', 'full')
    expect(hostile(r).inventedDepsChanges).toBeGreaterThan(0)
    expect(hostile(r).refusals['invent-deps:E_MISSING_DEPS']).toBeGreaterThan(0)
    expect(audit(r, 'refused:E_MISSING_DEPS')).toBeGreaterThan(0)
  }, 120_000)

  it('a stranger key is refused at the gate, and once per telling interval by the protocol (E_NOT_ADMITTED)', () => {
    const r = only('stranger')
    const h = hostile(r)
    expect(h.strangerDials).toBeGreaterThan(0)
    expect(h.strangerRefusedAtGate).toBeGreaterThan(0)
    expect(h.strangerRefusedByProtocol).toBeGreaterThan(0)
    expect(audit(r, 'refused:E_NOT_ADMITTED')).toBe(h.strangerRefusedByProtocol)
  }, 120_000)

  it('a frame past the frame limit closes the link with E_FRAME_TOO_LARGE', () => {
    const r = only('oversized_frames')
    expect(hostile(r).oversizedFrames).toBeGreaterThan(0)
    expect(hostile(r).refusals['oversized:E_FRAME_TOO_LARGE']).toBeGreaterThan(0)
  }, 120_000)
})

describe('determinism', () => {
  it('wide-adversary gives the same trace.jsonl byte for byte in two separate processes', async () => {
    const run = promisify(execFile)
    const runner = async (): Promise<{ sha256: string, lines: number, violations: string[] }> => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/sim/trace-runner.ts', 'sim/scenarios/wide-adversary.toml', '11'], { maxBuffer: 1 << 20 })
      return JSON.parse(stdout.trim().split('\n').pop() as string)
    }
    const [a, b] = await Promise.all([runner(), runner()])
    expect(a.lines).toBeGreaterThan(60)
    expect(a.sha256).toBe(b.sha256)
    expect(a.violations).toEqual([])
  }, 180_000)
})

describe('scenario keys', () => {
  it('refuses the wider adversary\'s behaviours for a rogue agent, which has no node of its own', () => {
    const agent = 'duration = "5m"\n[peers]\ncount = 2\n[adversary]\nidentity = "agent"\nhost = "peer-000"\nclaim_actor = true\n'
    expect(() => parseScenario(agent, 'x.toml')).toThrow(/x\.toml:7: adversary\.claim_actor: needs a node of the adversary's own/)
  })
})

describe('off by default', () => {
  it('an adversary without the new keys tries none of them', () => {
    const r = runScenario(loadScenario('sim/scenarios/attacker-island.toml'), { mode: 'model' })
    const { refusals, ...counts } = hostile(r)
    expect(Object.values(counts).every((n) => n === 0)).toBe(true)
    expect(Object.keys(refusals).every((k) => k.startsWith('forge-signature:'))).toBe(true)
  }, 120_000)
})
