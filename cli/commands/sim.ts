/**
 * The partition simulator: `aura sim run SCENARIO|NAME`, `aura sim list` and `aura sim swarm --seeds N`. They run the
 * real crdt/ and node/sync/ code over a deterministic simulated network (sim/).
 *
 * @example
 * aura sim run sim/scenarios/attacker-island.toml --seed 42
 * aura sim swarm --seeds 100
 */
import type { Program } from '../program.js'
import { str } from '../call.js'

function mode (v: unknown): 'full' | 'model' | undefined {
  const m = str(v)
  if (m === undefined) return undefined
  if (m !== 'full' && m !== 'model') throw new Error(`--mode takes full or model, got '${m}'`)
  return m
}

function int (v: unknown, name: string): number | undefined {
  const s = str(v)
  if (s === undefined) return undefined
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} takes a whole number, got '${s}'`)
  return n
}

const ms = (x: number): string => x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`
const fine = (x: number): string => x < 10 ? `${x.toFixed(2)} ms` : ms(x)

/** Registers `aura sim ...`. */
export function register (program: Program): void {
  program.command('sim run <scenario>', 'Run a scenario: run.json, trace.jsonl and report.html', async ({ args, options, io }) => {
    const { UsageError } = await import('../../crdt/errors.js')
    let seed: number | undefined
    let m: 'full' | 'model' | undefined
    try { seed = int(options.seed, '--seed'); m = mode(options.mode) } catch (err) { throw new UsageError((err as Error).message) }
    const { simRun } = await import('../../sim/index.js')
    let last = 0
    const out = await simRun({
      scenarioPath: String(args.scenario),
      seed,
      outDir: str(options.out),
      mode: m,
      noCompare: options.compare === false,
      onProgress: (p: any) => {
        const now = Date.now()
        if (now - last < 500) return
        last = now
        io.out.info(`[${p.run}] ${p.phase ?? ''} t=${ms(p.virtualMs ?? 0)}${p.untilMs === undefined ? '' : `/${ms(p.untilMs)}`} events=${p.events ?? 0}`)
      }
    })
    const r = out.result
    const text = (c: any): string => {
      const lines = [`${r.ok ? c.green('OK') : c.red('VIOLATIONS')} ${out.summary.scenario} seed ${out.summary.seed} (${r.metrics.nodes} nodes, ${ms(r.metrics.virtualMs)} simulated in ${ms(r.metrics.perf.wallMs)}, ${r.metrics.perf.speedup.toFixed(1)}x real time)`]
      for (const v of r.violations) lines.push(c.red(`  violation: ${typeof v === 'string' ? v : JSON.stringify(v)}`))
      for (const rv of r.metrics.revocations) {
        lines.push(`revocation ${rv.label}: coverage ${(rv.coverage * 100).toFixed(0)}% of ${rv.peers}; delay p50 ${ms(rv.delayMs.p50)} p90 ${ms(rv.delayMs.p90)} p99 ${ms(rv.delayMs.p99)} max ${ms(rv.delayMs.max)}; ${(rv.delayMs.max / Math.max(r.metrics.linkMedianMs, 0.001)).toFixed(1)}x the median link latency; hops max ${rv.hops.max} vs eccentricity ${rv.eccentricity}; ${rv.messagesPerPeer} messages per peer`)
      }
      const f = r.metrics.forged
      if (f !== null) {
        const x = f.exposure
        lines.push(`forged records: ${f.attempted} attempted; taken by honest peers (peer, record) before the revocation was issued ${x.beforeIssue}, before the peer knew of it ${x.beforeKnown} (triage: trace, pr-review, rewind), after it knew ${x.afterKnown + x.afterBeacon}; ${f.effectiveAfterHeal} still effective at the end (within the Mothership's cut); exposure window ${r.metrics.exposureWindowMs === null ? 'none' : ms(r.metrics.exposureWindowMs)}`)
      }
      for (const row of r.freshness ?? []) lines.push(`  ${row.label}: ${row.effectiveBeforeHeal} effective before heal, exposure ${row.exposureWindowMs === null ? 'none' : ms(row.exposureWindowMs)}`)
      const cpu = r.metrics.cpu
      if (cpu !== null) lines.push(`processing: frames waited p99 ${fine(cpu.queueDelayMs.p99)} max ${fine(cpu.queueDelayMs.max)} for their node; busiest ${cpu.busiest[0]?.node ?? '—'} ${((cpu.busiest[0]?.busyFraction ?? 0) * 100).toFixed(3)}% busy`)
      lines.push(`liveness: ${r.metrics.liveness.converged ? `converged after ${ms(r.metrics.liveness.convergedAfterMs ?? 0)}` : c.red('NOT converged')} (bound ${ms(r.metrics.liveness.boundMs)})`)
      lines.push(c.dim(`report ${out.files.report}\ntrace  ${out.files.trace} sha256 ${out.traceSha256}\nreplay ${out.replay}`))
      return lines.join('\n')
    }
    const { exitCodeFor } = await import('../../crdt/errors.js')
    return { data: JSON.parse(JSON.stringify(out.summary)), text, exitCode: r.ok ? 0 : exitCodeFor('E_SIM_VIOLATION') }
  })
    .option('--seed <n>', 'Seed (default: the scenario\'s)')
    .option('--out <dir>', 'Output directory (default: sim-out/<scenario>-<seed>)')
    .option('--mode <mode>', 'full (default) or model (same state machine, small payloads)')
    .option('--no-compare', 'Skip the second run with the freshness bound toggled')
    .example('aura sim run sim/scenarios/attacker-island.toml --seed 42')
    .example('aura sim run beacon-relay --mode model')

  program.command('sim list', 'List the bundled scenarios (run one with aura sim run NAME)', async () => {
    const { bundledScenarios } = await import('../../sim/index.js')
    const list = bundledScenarios().map((b) => ({ name: b.name, description: b.description, file: b.file }))
    const text = (): string => list.map((b) => `${b.name.padEnd(20)} ${b.description}`).join('\n')
    return { data: list, text, exitCode: 0 }
  })
    .example('aura sim list')

  program.command('sim swarm', 'Run many seeds with drawn faults; report any that break a property', async ({ options, io }) => {
    const { UsageError } = await import('../../crdt/errors.js')
    let seeds: number | undefined, start: number | undefined, workers: number | undefined, m: 'full' | 'model' | undefined
    try {
      seeds = int(options.seeds, '--seeds')
      start = int(options.start, '--start')
      workers = int(options.workers, '--workers')
      m = mode(options.mode)
    } catch (err) { throw new UsageError((err as Error).message) }
    if (seeds === undefined || seeds === 0) throw new UsageError('--seeds takes how many seeds to run, e.g. --seeds 100')
    const { simSwarm } = await import('../../sim/index.js')
    const out = await simSwarm({
      seeds,
      start,
      workers,
      mode: m,
      outDir: str(options.out),
      onSeed: (r: any, done: number, total: number) => io.out.info(`[${done}/${total}] seed ${r.seed} ${r.ok === true ? 'ok' : 'VIOLATION'}`)
    })
    const text = (c: any): string => [
      `${out.failed.length === 0 ? c.green('OK') : c.red('VIOLATIONS')}: ${out.passed} of ${out.seeds} seeds passed (${ms(out.wallMs)} wall, ${ms(out.virtualMs)} simulated)`,
      ...out.failed.map((f: any) => `${c.red(`seed ${f.seed}`)}: ${JSON.stringify(f.violations)}\n  replay: ${f.replay}`)
    ].join('\n')
    const { exitCodeFor } = await import('../../crdt/errors.js')
    return { data: JSON.parse(JSON.stringify(out)), text, exitCode: out.failed.length === 0 ? 0 : exitCodeFor('E_SIM_VIOLATION') }
  })
    .option('--seeds <n>', 'How many seeds')
    .option('--start <n>', 'First seed (default 1)')
    .option('--workers <n>', 'Parallel workers (default: cores)')
    .option('--mode <mode>', 'full (default) or model')
    .option('--out <dir>', 'Where failing scenarios are written (default: sim-out/swarm)')
    .example('aura sim swarm --seeds 200')
    .example('aura sim swarm --seeds 1000 --start 5000 --mode model --workers 2')
}
