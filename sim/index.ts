/**
 * The partition simulator: the real crdt/ and node/sync/ code over a deterministic simulated
 * network. Same scenario and seed, same trace.jsonl byte for byte.
 *
 * - `runScenario(scenario, opts)`: one run in memory (metrics, violations, trace, report data);
 *   `runScenarioAsync` is the same run, yielding to the event loop between slices of virtual
 *   time so Automerge's WebAssembly memory is freed as it goes (what the CLI and benches use).
 * - `simRun({scenarioPath, seed, outDir, json, onProgress})`: what `aura sim run` does: runs
 *   (plus the freshness comparison when the scenario asks), writes run.json, trace.jsonl and
 *   report.html into outDir, and returns the paths and the result.
 * - `runSwarm` / `simSwarm({seeds, ...})`: what `aura sim swarm` does: a drawn scenario per
 *   seed on every core, the violating seeds with the command that replays each.
 *
 * @example
 * const scenarioPath = 'sim/scenarios/attacker-island.toml'
 * const { result, files } = await simRun({ scenarioPath, seed: 42, outDir: 'sim-out' })
 * result.ok            // every property held
 * files.report         // sim-out/report.html
 */
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { canonicalString } from '../crdt/canonical.js'
import { renderReport } from './report-html.js'
import type { FreshnessRow, RunResult } from './results.js'
import { runScenario, runScenarioAsync, type Progress, type RunOptions } from './run.js'
import { loadScenario, type Scenario } from './scenario.js'
import { drawScenario, runSwarmSeed, type SwarmSeedResult } from './swarm.js'
import { resolveScenarioPath } from './bundled.js'
export { bundledScenarios, resolveScenarioPath, type BundledScenario } from './bundled.js'

export { runScenario, runScenarioAsync, loadScenario, drawScenario, runSwarmSeed, renderReport }
export type { Progress, RunOptions, RunResult, Scenario, SwarmSeedResult }
export { parseScenario } from './scenario.js'
export { effectiveIdsThrough, realEffectiveIds } from './effective.js'

/** Options of `aura sim run`. */
export interface SimRunOptions {
  scenarioPath: string
  seed?: number
  /** Where run.json, trace.jsonl and report.html go (default `sim-out/<scenario>-<seed>`). */
  outDir?: string
  /** Only changes what the CLI prints; the files are always written. */
  json?: boolean
  onProgress?: (p: Progress & { run: string }) => void
  /** Skip the second run with the freshness bound toggled. */
  noCompare?: boolean
  /** Overrides the scenario's mode. */
  mode?: 'full' | 'model'
}

/** What `simRun` wrote and found. */
export interface SimRunOutput {
  result: RunResult
  files: { dir: string, runJson: string, trace: string, report: string }
  traceSha256: string
  replay: string
  /** The JSON written to run.json (what `--json` prints). */
  summary: Record<string, unknown>
}

/** Runs a scenario file and writes run.json, trace.jsonl and report.html. */
export async function simRun (opts: SimRunOptions): Promise<SimRunOutput> {
  const scenario = loadScenario(resolveScenarioPath(opts.scenarioPath))
  const seed = opts.seed ?? scenario.seed
  const dir = resolve(opts.outDir ?? join('sim-out', `${scenario.name}-${seed}`))
  const progress = (run: string) => opts.onProgress === undefined
    ? undefined
    : (p: Progress) => opts.onProgress?.({ ...p, run })
  const mode = opts.mode
  const result = await runScenarioAsync(scenario, { seed, mode, onProgress: progress('main') })
  if (scenario.compare_freshness && scenario.adversary !== undefined && opts.noCompare !== true) {
    const asWritten = scenario.protocol.max_staleness
    const other = asWritten === null ? 4 * scenario.protocol.beacon : null
    const alt = await runScenarioAsync(scenario, { seed, mode, maxStalenessMs: other, onProgress: progress('freshness comparison') })
    result.freshness = [freshnessRow('as written', result), freshnessRow(other === null ? 'freshness bound off' : 'freshness bound on', alt)]
  }
  const replay = `aura sim run ${opts.scenarioPath} --seed ${seed}${mode === undefined ? '' : ` --mode ${mode}`}`
  mkdirSync(dir, { recursive: true })
  const files = { dir, runJson: join(dir, 'run.json'), trace: join(dir, 'trace.jsonl'), report: join(dir, 'report.html') }
  const traceSha256 = result.trace.hash()
  const summary = {
    scenario: result.scenario,
    seed,
    mode: result.mode,
    ok: result.ok,
    violations: result.violations,
    metrics: result.metrics,
    freshness: result.freshness ?? null,
    traceSha256,
    replay
  }
  writeFileSync(files.trace, result.trace.text())
  writeFileSync(files.runJson, JSON.stringify(summary, null, 2) + '\n')
  writeFileSync(files.report, renderReport(result, replay))
  return { result, files, traceSha256, replay, summary }
}

function freshnessRow (label: string, r: RunResult): FreshnessRow {
  return {
    label,
    maxStalenessMs: r.metrics.maxStalenessMs,
    effectiveBeforeHeal: r.metrics.forged?.effectiveBeforeHeal ?? 0,
    honestPeersExposed: r.metrics.forged?.honestPeersExposed ?? 0,
    exposureWindowMs: r.metrics.exposureWindowMs,
    violations: r.violations.length
  }
}

/** Options of `aura sim swarm`. */
export interface SimSwarmOptions {
  /** How many seeds. */
  seeds: number
  /** First seed (default 1): seeds are start .. start + seeds - 1. */
  start?: number
  /** Worker processes (default: number of cores). 0 runs in this process. */
  workers?: number
  mode?: 'full' | 'model'
  /** Where failing seeds' scenario files go (default sim-out/swarm). */
  outDir?: string
  /** Called after every seed (for a progress line and the per-seed parameter line). */
  onSeed?: (r: SwarmSeedResult, done: number, total: number) => void
}

/** What a swarm found. */
export interface SimSwarmOutput {
  seeds: number
  passed: number
  failed: Array<SwarmSeedResult & { replay: string, file: string }>
  wallMs: number
  virtualMs: number
}

/** Runs a swarm of seeds (alias of simSwarm for library use). */
export const runSwarm = simSwarm

/** Runs `seeds` drawn scenarios and reports every seed that broke a property. */
export async function simSwarm (opts: SimSwarmOptions): Promise<SimSwarmOutput> {
  const start = opts.start ?? 1
  const seeds = Array.from({ length: opts.seeds }, (_, i) => start + i)
  const mode = opts.mode ?? 'full'
  const dir = resolve(opts.outDir ?? join('sim-out', 'swarm'))
  const began = Date.now()
  const results: SwarmSeedResult[] = []
  const record = (r: SwarmSeedResult): void => { results.push(r); opts.onSeed?.(r, results.length, seeds.length) }
  const workers = Math.min(opts.workers ?? cpus().length, seeds.length)
  if (workers <= 0) {
    for (const seed of seeds) record(await runSwarmSeed(seed, { mode }))
  } else {
    await runInWorkers(seeds, workers, mode, record)
  }
  const failed = results.filter((r) => !r.ok).sort((a, b) => a.seed - b.seed).map((r) => {
    const file = join(dir, `swarm-${r.seed}.toml`)
    mkdirSync(dir, { recursive: true })
    writeFileSync(file, r.toml ?? drawScenario(r.seed, { mode }).toml)
    return { ...r, file, replay: `aura sim run ${file} --seed ${r.seed}` }
  })
  return {
    seeds: seeds.length,
    passed: results.length - failed.length,
    failed,
    wallMs: Date.now() - began,
    virtualMs: results.reduce((a, r) => a + r.virtualMs, 0)
  }
}

function runInWorkers (seeds: number[], n: number, mode: 'full' | 'model', record: (r: SwarmSeedResult) => void): Promise<void> {
  const here = fileURLToPath(import.meta.url)
  const ts = here.endsWith('.ts')
  const script = here.replace(/index\.(ts|js)$/, `swarm-worker.${ts ? 'ts' : 'js'}`)
  const queue = [...seeds]
  // eslint-disable-next-line promise/param-names -- `resolveAll`: it settles once every worker is done
  return new Promise((resolveAll, reject) => {
    let live = n
    for (let i = 0; i < n; i++) {
      const child = fork(script, [], { execArgv: ts ? ['--import', 'tsx'] : [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
      let current: number | undefined
      const next = (): void => {
        current = queue.shift()
        if (current === undefined) child.send({ exit: true, mode })
        else child.send({ seed: current, mode })
      }
      child.on('message', (msg: { result?: SwarmSeedResult }) => {
        if (msg.result !== undefined) record(msg.result)
        next()
      })
      child.on('exit', (code) => {
        if (current !== undefined) {
          record({ seed: current, params: drawScenario(current, { mode }).params, ok: false, violations: [{ property: 'protocol-crash', atMs: 0, node: null, detail: `worker exited with code ${code}` }], wallMs: 0, virtualMs: 0 })
          current = undefined
        }
        if (--live === 0) resolveAll()
      })
      child.on('error', reject)
      next()
    }
  })
}

/** Canonical JSON of a run summary (stable key order), for `--json` output. */
export function summaryJson (summary: Record<string, unknown>): string {
  return canonicalString(JSON.parse(JSON.stringify(summary)))
}
