#!/usr/bin/env node
/**
 * Runs the benchmarks in bench/ (every *.ts / *.js file at the top level except this one), each in
 * its own Node process through tsx so it measures the TypeScript sources as they are, prints one
 * table, and writes bench/out/<name>.json.
 *
 * @example
 * npm run bench                 # everything
 * npm run bench -- verify       # only benchmarks whose file name contains "verify"
 * npm run bench -- --quick      # 3 runs of 0.2 s: checks the harness, not the machine
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const quick = args.includes('--quick')
const filters = args.filter((a) => !a.startsWith('--'))

const all = readdirSync(here)
  .filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts') && f !== 'run.js')
  .sort()
const chosen = all.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
if (chosen.length === 0) {
  process.stderr.write(`no benchmark matches ${filters.join(', ')}; have: ${all.join(', ')}\n`)
  process.exit(2)
}

const outDir = join(here, 'out')
mkdirSync(outDir, { recursive: true })
const scratch = mkdtempSync(join(tmpdir(), 'aura-bench-'))
const env = { ...process.env, ...(quick ? { BENCH_RUNS: '3', BENCH_SECONDS: '0.2' } : {}) }
const results = []
let failed = 0

for (const file of chosen) {
  const name = basename(file).replace(/\.(ts|js|mjs)$/, '')
  const resultFile = join(scratch, `${name}.json`)
  process.stderr.write(`\n== ${name}\n`)
  const started = process.hrtime.bigint()
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, file)], {
    cwd: dirname(here),
    env: { ...env, BENCH_RESULT_FILE: resultFile },
    stdio: ['ignore', 'inherit', 'inherit']
  })
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  let result
  try {
    result = JSON.parse(readFileSync(resultFile, 'utf8'))
  } catch {
    result = undefined
  }
  if (child.status !== 0 || result === undefined) {
    failed++
    process.stderr.write(`!! ${name} failed (exit ${child.status ?? child.signal}, ${seconds.toFixed(1)} s)\n`)
    continue
  }
  result.seconds = seconds
  writeFileSync(join(outDir, `${name}.json`), JSON.stringify(result, null, 2) + '\n')
  results.push(result)
}
rmSync(scratch, { recursive: true, force: true })

const table = []
for (const r of results) {
  for (const row of r.rows) {
    const cpu = row.cpuMedian === undefined ? '' : fmt(row.cpuMedian)
    table.push([r.name, row.label, fmt(row.median), cpu, row.unit, `${fmt(Math.min(...row.runs))}–${fmt(Math.max(...row.runs))}`])
  }
}
if (table.length > 0) {
  const head = ['bench', 'case', 'median', 'per CPU-s', 'unit', 'range']
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)))
  const line = (cells) => cells.map((c, i) => (i === 2 || i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()
  const r0 = results[0]
  process.stdout.write(`\nNode ${r0.node}, ${r0.cpu} (${r0.cores} cores), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; median of ${r0.settings.runs} runs of ${r0.settings.seconds} s (wall clock, and per CPU-second of the benchmark process)\n`)
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`)
  for (const t of table) process.stdout.write(`${line(t)}\n`)
  process.stdout.write(`\nJSON: ${results.map((r) => join('bench', 'out', `${r.name}.json`)).join(', ')}\n`)
}
process.exitCode = failed > 0 ? 1 : 0

function fmt (n) {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3)
}
