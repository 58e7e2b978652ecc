import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { runScenario, runScenarioAsync } from '../../sim/run.js'
import { islandScenario } from './helpers.js'

const run = promisify(execFile)
const runner = (seed: number) => run(process.execPath, ['--import', 'tsx', 'test/sim/trace-runner.ts', 'sim/scenarios/attacker-island.toml', String(seed)], { maxBuffer: 1 << 20 })
  .then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop() as string) as { sha256: string, lines: number, ok: boolean, violations: string[] })

describe('determinism', () => {
  it('the attacker-island scenario gives the same trace.jsonl byte for byte in two separate processes', async () => {
    const [a, b] = await Promise.all([runner(42), runner(42)])
    expect(a.lines).toBeGreaterThan(60)
    expect(a.sha256).toBe(b.sha256)
    expect(a.violations).toEqual([])
  }, 120_000)

  it('the run that yields to the event loop between slices gives the same trace as the synchronous one', async () => {
    const s = islandScenario({ loss: 0.02, corrupt: 0.01 })
    const sync = runScenario(s, { seed: 9 })
    const yielding = await runScenarioAsync(s, { seed: 9 })
    expect(yielding.trace.hash()).toBe(sync.trace.hash())
    expect(yielding.violations).toEqual(sync.violations)
  }, 120_000)
})
