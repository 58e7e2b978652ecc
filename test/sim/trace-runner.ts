/**
 * Child-process runner for the determinism test: runs one scenario with one seed and prints the
 * SHA-256 of its trace.jsonl and the number of lines. `npx tsx test/sim/trace-runner.ts FILE SEED`
 */
import '../../node/compat.js'
import { loadScenario } from '../../sim/scenario.js'
import { runScenario } from '../../sim/run.js'

const [file, seed] = process.argv.slice(2)
const result = runScenario(loadScenario(file), { seed: Number(seed) })
process.stdout.write(JSON.stringify({ sha256: result.trace.hash(), lines: result.trace.length, ok: result.ok, violations: result.violations.map((v) => v.property) }) + '\n')
