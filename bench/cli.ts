/**
 * How quickly the `aura` command answers, timed as whole processes, start-up included: a real
 * daemon (`aura node start`, from dist/) runs in a temporary home on 127.0.0.1, and each run
 * starts `node bin/aura.js <command>` afresh: `status`, `status --json`, `trace --since 1h`
 * (against the daemon), `id` (reads the key file), `--help`; beside them `node -e 0`, the floor
 * of any Node process on this machine. The commands take turns within each run, so drift in the
 * machine's speed spreads over all of them. Goal (issue 19): a command that talks to the daemon
 * answers in 150 ms of wall time or less on an idle machine.
 *
 * Per command: wall ms from spawn to exit (p50, p90), and CPU ms of the child (user + system,
 * from process.resourceUsage() at its exit, reported on fd 3 by a `--require`d hook; the
 * hook is also given to `node -e 0`). It prints figures; it does not assert.
 *
 * `BENCH_CLI_BASELINE=<other checkout>/bin/aura.js` also times that build's commands, in turn
 * with these and against the same daemon: a before/after comparison on one machine state.
 *
 * @example
 * npm run bench -- cli
 * BENCH_RUNS=50 npx tsx bench/cli.ts
 * BENCH_CLI_BASELINE=/tmp/main/bin/aura.js npm run bench -- cli
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureBuilt } from '../test/build-dist.js'
import { median, report, type Row } from './lib/harness.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin/aura.js')
const RUNS = Number(process.env.BENCH_RUNS ?? 20)
const BASELINE = process.env.BENCH_CLI_BASELINE
const GOAL_MS = 150
// No AURA_* variable: any would be a config override, which the CLI must load config to check.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AURA_')))

// Written at the child's exit to fd 3: its whole CPU time in microseconds.
const CPU_HOOK = "process.on('exit', () => { const r = process.resourceUsage(); require('node:fs').writeSync(3, String(r.userCPUTime + r.systemCPUTime)) })\n"

interface Sample { wall: number, cpu: number }

async function time (args: string[], hook: string, cwd: string): Promise<Sample> {
  return await new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ['--require', hook, ...args], { cwd, env: ENV, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] })
    let stderr = ''
    let cpu = ''
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdio[3]?.on('data', (d: Buffer) => { cpu += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => {
      const wall = performance.now() - started
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`))
      else resolve({ wall, cpu: Number(cpu) / 1000 })
    })
  })
}

function aura (args: string[], cwd: string): void {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: ENV, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`aura ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
}

function quantile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]
}

async function main (): Promise<void> {
  ensureBuilt()
  const dir = await mkdtemp(path.join(tmpdir(), 'aura-bench-cli-'))
  const home = path.join(dir, 'home')
  // The commands run in an empty directory: a node home inside the workspace is refused.
  const cwd = path.join(dir, 'work')
  await mkdir(cwd)
  const hook = path.join(dir, 'cpu-hook.cjs')
  await writeFile(hook, CPU_HOOK)
  const commands = [['--help'], ['id', '--home', home], ['status', '--home', home], ['status', '--json', '--home', home], ['trace', '--since', '1h', '--home', home]]
  const label = (args: string[]): string => `aura ${args.slice(0, args.indexOf('--home') < 0 ? args.length : args.indexOf('--home')).join(' ')}`
  const cases: Array<{ label: string, args: string[] }> = [
    { label: 'node -e 0 (floor)', args: ['-e', '0'] },
    ...commands.flatMap((c) => [
      { label: label(c), args: [BIN, ...c] },
      ...(BASELINE === undefined ? [] : [{ label: `${label(c)} (baseline)`, args: [BASELINE, ...c] }])
    ])
  ]
  try {
    aura(['init', '--home', home], cwd)
    aura(['mothership', 'init', '--team', 'bench', '--home', home], cwd)
    aura(['node', 'start', '--listen', '/ip4/127.0.0.1/tcp/0', '--home', home], cwd)
    for (let i = 0; i < 20; i++) aura(['log-intent', `bench record ${i}`, '--home', home], cwd)
    process.stderr.write(`  daemon up in ${home}; ${RUNS} runs of each command, in turn${BASELINE === undefined ? '' : `; baseline ${BASELINE}`}\n`)
    const samples = new Map<string, Sample[]>(cases.map((c) => [c.label, []]))
    for (const c of cases) await time(c.args, hook, cwd) // warm-up: the file system cache
    for (let run = 0; run < RUNS; run++) {
      for (const c of cases) samples.get(c.label)?.push(await time(c.args, hook, cwd))
    }
    const rows: Row[] = []
    process.stderr.write(`  ${'command'.padEnd(36)} wall p50   p90    CPU p50   p90  (ms)\n`)
    for (const c of cases) {
      const s = samples.get(c.label) ?? []
      const wall = s.map((x) => x.wall)
      const cpu = s.map((x) => x.cpu)
      const [w50, w90, c50, c90] = [median(wall), quantile(wall, 0.9), median(cpu), quantile(cpu, 0.9)]
      process.stderr.write(`  ${c.label.padEnd(36)} ${w50.toFixed(0).padStart(8)} ${w90.toFixed(0).padStart(5)} ${c50.toFixed(0).padStart(10)} ${c90.toFixed(0).padStart(5)}\n`)
      rows.push({ label: `${c.label}: wall`, unit: 'ms', median: median(wall), runs: wall, note: `p90 ${w90.toFixed(1)} ms` })
      rows.push({ label: `${c.label}: CPU`, unit: 'ms', median: median(cpu), runs: cpu, note: `p90 ${c90.toFixed(1)} ms` })
    }
    process.stderr.write(`  load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; goal: ${GOAL_MS} ms wall for a command that talks to the daemon, on an idle machine\n`)
    report('cli', `whole \`aura\` processes against a running daemon (ms, ${RUNS} runs each; goal ${GOAL_MS} ms wall idle)`, rows)
  } finally {
    spawnSync(process.execPath, [BIN, 'node', 'stop', '--home', home], { cwd, env: ENV })
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
