import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const runner = (seed: number) => run(process.execPath, ['--import', 'tsx', 'test/sim/trace-runner.ts', 'sim/scenarios/attacker-island.toml', String(seed)], { maxBuffer: 1 << 20 })
  .then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop() as string) as { sha256: string, lines: number, ok: boolean, violations: string[] })

describe('determinism', () => {
  it('the attacker-island scenario gives the same trace.jsonl byte for byte in two separate processes', async () => {
    const [a, b] = await Promise.all([runner(42), runner(42)])
    expect(a.lines).toBeGreaterThan(100)
    expect(a.sha256).toBe(b.sha256)
    expect(a.violations).toEqual([])
  }, 120_000)
})
