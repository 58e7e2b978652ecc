/**
 * Swarm run of the partition simulator: N drawn scenarios (one per seed) on every core, each
 * checked for every safety and liveness property. Prints one line per seed with what was drawn,
 * then the violating seeds with the command that replays each; writes bench/out/sim-swarm.json.
 *
 * npx tsx bench/sim-swarm.ts [seeds=200] [start=1] [full|model]
 * BENCH_SWARM_WORKERS=N: N worker threads instead of one per core.
 * Under `npm run bench` (20 seeds; 4 with --quick) it reports a row to the harness table.
 */
import '../node/compat.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { simSwarm } from '../sim/index.js'
import { envCount, report, settings } from './lib/harness.js'

const harness = process.env.BENCH_RESULT_FILE !== undefined
const seeds = Number(process.argv[2] ?? (harness ? (settings.seconds < 1 ? 4 : 20) : 200))
const start = Number(process.argv[3] ?? 1)
const mode = (process.argv[4] ?? 'full') as 'full' | 'model'
const out = await simSwarm({
  seeds,
  start,
  mode,
  workers: process.env.BENCH_SWARM_WORKERS === undefined ? undefined : envCount('BENCH_SWARM_WORKERS', 1),
  outDir: 'bench/out/swarm',
  onSeed: (r, done, total) => process.stderr.write(`[${done}/${total}] seed ${r.seed} ${r.ok ? 'ok' : 'VIOLATION'} ${(r.wallMs / 1000).toFixed(1)}s  ${r.params}\n`)
})
const summary = {
  seeds: out.seeds,
  start,
  mode,
  passed: out.passed,
  failed: out.failed.map((f) => ({ seed: f.seed, params: f.params, violations: f.violations, replay: f.replay })),
  wallMs: out.wallMs,
  virtualMs: out.virtualMs
}
mkdirSync('bench/out', { recursive: true })
writeFileSync(`bench/out/sim-swarm-${mode}-${start}-${seeds}.json`, JSON.stringify(summary, null, 2) + '\n')
console.log(
  JSON.stringify({
    seeds: out.seeds,
    passed: out.passed,
    failed: out.failed.length,
    wallMs: out.wallMs,
    virtualHours: Math.round(out.virtualMs / 3_600_000 * 10) / 10
  })
)
if (harness) {
  const perHour = out.seeds / (out.wallMs / 3_600_000)
  report('sim-swarm', 'partition simulator swarm: drawn scenarios checked per hour on all cores', [
    { label: `${mode} swarm: seeds per hour`, unit: 'seeds/h', median: Math.round(perHour), runs: [Math.round(perHour)], note: `${out.passed}/${out.seeds} passed` }
  ])
}
for (const f of out.failed) console.log(`seed ${f.seed}: ${f.violations.map((v) => v.property).join(', ')}\n  ${f.params}\n  replay: ${f.replay}`)
