/**
 * A simulator run that breaks a property exits with E_SIM_VIOLATION's code (70), distinct from a
 * failure of the tool (1) and from success (0); the result is still printed in full. The
 * simulator itself is replaced here by a stand-in returning a chosen verdict: what is checked is
 * the CLI's mapping of a verdict to an exit code (the properties are tested in test/sim and
 * test/mutation).
 */
import { describe, expect, it, vi } from 'vitest'
import { runCli } from './helpers.js'

const verdict = vi.hoisted(() => ({ ok: true }))

vi.mock('../../sim/index.js', () => ({
  simRun: async () => ({
    result: { ok: verdict.ok, violations: verdict.ok ? [] : [{ property: 'no-accept-after-revocation', node: 'p3' }] },
    summary: { scenario: 'stand-in', seed: 1, ok: verdict.ok }
  }),
  simSwarm: async () => ({ seeds: 2, passed: verdict.ok ? 2 : 1, failed: verdict.ok ? [] : [{ seed: 2, violations: ['x'], replay: 'aura sim run ...' }], wallMs: 1, virtualMs: 1 })
}))

describe('aura sim exit codes', () => {
  for (const ok of [true, false]) {
    it(`sim run and sim swarm: ${ok ? 'no violation exits 0' : 'a violation exits 70 (E_SIM_VIOLATION) with the result printed'}`, async () => {
      verdict.ok = ok
      const run = await runCli(['sim', 'run', 'stand-in', '--json'])
      expect(run.code).toBe(ok ? 0 : 70)
      expect(JSON.parse(run.stdout)).toMatchObject({ scenario: 'stand-in', ok })
      const swarm = await runCli(['sim', 'swarm', '--seeds', '2', '--json'])
      expect(swarm.code).toBe(ok ? 0 : 70)
      expect(JSON.parse(swarm.stdout).failed.length).toBe(ok ? 0 : 1)
    })
  }
})
