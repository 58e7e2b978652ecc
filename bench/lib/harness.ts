/**
 * The measuring half of the benchmark harness: time a function for a fixed wall-clock window,
 * several times, and report the median. `bench/run.js` starts each benchmark script in its own
 * process and collects what `report` writes.
 *
 * @example
 * const row = measure('verify', 'verifications/s', () => verify(...))
 * report('verify', 'ed25519 verification', [row])
 */
import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'

/**
 * One measured line of a benchmark: ops per wall-clock second per run and their median, and the
 * same per CPU-second of this process, which other load on the machine disturbs far less.
 */
export interface Row {
  readonly label: string
  readonly unit: string
  readonly median: number
  readonly runs: number[]
  readonly cpuMedian?: number
  readonly cpuRuns?: number[]
  readonly note?: string
}

/** How long and how often to measure; `npm run bench -- --quick` shortens both for a smoke run. */
/** A non-negative integer setting; anything else stops the bench rather than running it with NaN. */
export function envCount (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, not '${raw}'`)
  return n
}

/** A comma-separated list of positive integers (sizes); anything else stops the bench. */
export function envCounts (name: string, fallback: number[]): number[] {
  const raw = process.env[name]
  if (raw === undefined) return fallback
  return raw.split(',').map((part) => {
    const n = Number(part)
    if (part.trim() === '' || !Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be positive integers separated by commas, not '${raw}'`)
    return n
  })
}

export const settings = {
  runs: Number(process.env.BENCH_RUNS ?? 5),
  seconds: Number(process.env.BENCH_SECONDS ?? 1)
}

/**
 * Calls `op(i)` repeatedly for `settings.seconds`, `settings.runs` times after a short warm-up,
 * and returns operations per second. `op` gets a running counter so it can cycle through inputs.
 */
export function measure (label: string, unit: string, op: (i: number) => void, note?: string): Row {
  const window = (seconds: number): { wall: number, cpu: number } => {
    const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9))
    const cpu0 = process.cpuUsage()
    const start = process.hrtime.bigint()
    let n = 0
    let now = start
    // Reading the clock costs ~50 ns, so check it every 8 operations, not every one.
    while (now < end) {
      for (let k = 0; k < 8; k++) op(n++)
      now = process.hrtime.bigint()
    }
    const cpu = process.cpuUsage(cpu0)
    return { wall: n / (Number(now - start) / 1e9), cpu: n / ((cpu.user + cpu.system) / 1e6) }
  }
  window(Math.min(0.3, settings.seconds))
  const runs = Array.from({ length: settings.runs }, () => window(settings.seconds))
  const wall = runs.map((r) => r.wall)
  const cpu = runs.map((r) => r.cpu)
  const row = { label, unit, median: median(wall), runs: wall, cpuMedian: median(cpu), cpuRuns: cpu, note }
  process.stderr.write(`  ${label}: ${Math.round(row.median).toLocaleString('en-US')} ${unit} (${Math.round(row.cpuMedian).toLocaleString('en-US')} per CPU-second)\n`)
  return row
}

/** Median of a non-empty list. */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Hands the rows to bench/run.js (or prints them as JSON when run on its own). */
export function report (name: string, description: string, rows: Row[]): void {
  const result = {
    name,
    description,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    settings,
    rows
  }
  const out = process.env.BENCH_RESULT_FILE
  if (out !== undefined) writeFileSync(out, JSON.stringify(result, null, 2) + '\n')
  else process.stdout.write(JSON.stringify(result, null, 2) + '\n')
}
