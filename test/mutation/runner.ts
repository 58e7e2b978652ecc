/**
 * Runs inside a mutated copy of the sources (test/mutation/mutate.ts puts it at the copy's root):
 * each run of the plan in order — a swarm seed, or a scenario file with a seed — printing one
 * JSON line per run, and stops at the first run whose properties fail (the mutant is caught).
 *
 * @example
 * node --import tsx .mutants/no-chain-relay/runner.ts '{"runs":[{"swarm":1},{"swarm":2}]}'
 */
import './node/compat.js'
import { runSwarmSeed } from './sim/swarm.js'
import { runScenarioAsync } from './sim/run.js'
import { loadScenario } from './sim/scenario.js'

/** One run of a plan: a swarm seed, or a scenario file (repo-relative) with a seed. */
export type PlanRun = { swarm: number } | { scenario: string, seed: number, mode?: 'full' | 'model' }

const plan = JSON.parse(process.argv[2] ?? '{"runs":[]}') as { runs: PlanRun[], all?: boolean }
for (const run of plan.runs) {
  let violations: string[]
  try {
    if ('swarm' in run) {
      violations = (await runSwarmSeed(run.swarm)).violations.map((v) => `${v.property}: ${v.detail}`)
    } else {
      const r = await runScenarioAsync(
        loadScenario(run.scenario),
        { seed: run.seed, ...(run.mode === undefined ? {} : { mode: run.mode }) }
      )
      violations = r.violations.map((v) => `${v.property}: ${v.detail}`)
    }
  } catch (err) {
    violations = [`protocol-crash: the run threw: ${(err as Error).message}`]
  }
  process.stdout.write(`${JSON.stringify({ run, violations: violations.slice(0, 5), count: violations.length })}\n`)
  if (violations.length > 0 && plan.all !== true) break
}
