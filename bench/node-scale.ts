/**
 * A node holding N records, measured on the user's path (issue 18): sizes from
 * `BENCH_SCALE_RECORDS` (default `10000,100000`; `1000000` runs the same code and takes long: not
 * yet run to the end).
 *
 * 1. Build: `aura init` makes a real home; then, in this process, the node's own runtime
 *    (NodeRuntime, as the daemon opens it: LevelDB with fsync, the IntentWriter's group commit,
 *    the write gate) makes it a Mothership, issues three agent credentials and appends N signed
 *    intents through `rt.appendRecord` (the daemon's write path), signed by the Mothership's
 *    user and the agents in turn. Claimed times are spread over 30 days ending when the build
 *    ends (the runtime's clock is set per batch; batches are sized to cover ≤ 10 minutes of
 *    claimed time, at most 256 records in flight), so `--since 1h` and `--since 30d` select
 *    realistic subsets. One agent ("scribe") signs min(10,000, N/10) records, for the audit
 *    export goal. The build rate is printed: it is the real path's rate, not a cheaper one.
 * 2. Real processes, from dist/: `aura node start --foreground` spawned here, timed to its
 *    control socket answering (pinged every 10 ms) and to its "listening on" line (start-up
 *    done), three times (`aura node stop` between); then, in turn `BENCH_RUNS` times (default 5):
 *    `aura status`, `aura trace --since 1h`, `aura trace --actor <claude> --since 30d`,
 *    `aura audit export --signer <scribe>`, `aura log-intent TEXT`. Then `aura node stop`,
 *    which compacts the intent log on close (there is no compaction command).
 *
 * Per case: wall ms from spawn to exit (median, min–max), the client's CPU (resourceUsage at its
 * exit) and the daemon's CPU over the command (/proc/PID/stat, 10 ms ticks); the daemon's peak
 * RSS (VmHWM); the store's bytes on disk (du) against the sum of the records' signed bytes.
 * Checks: every command exits 0; `trace` prints as many lines as records match (computed from
 * the records themselves, bounded by the window moving while the command runs), each of the
 * right signer; the audit export holds exactly the signer's records; `status` counts them all.
 *
 * Not measured here: one intent to a connected peer (bench/replication.ts measures that at
 * 10,000 records; a second daemon syncing N records is another bench).
 *
 * @example
 * npm run bench -- node-scale
 * BENCH_SCALE_RECORDS=1000000 npx tsx bench/node-scale.ts
 */
import '../node/compat.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { KeyId } from '../crdt/ids.js'
import type { KeyPair } from '../crdt/crypto.js'
import { loadAgentKey, resolveAgent } from '../node/agents/agents.js'
import { pingControl } from '../node/control/client.js'
import { runOperation } from '../node/operations.js'
import { NodeRuntime } from '../node/runtime.js'
import { ensureBuilt } from '../test/build-dist.js'
import { envCount, envCounts, median, report, settings, type Row } from './lib/harness.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin/aura.js')
// `npm run bench -- --quick` (BENCH_SECONDS < 1): one small size, to see that it runs.
const SIZES = envCounts('BENCH_SCALE_RECORDS', settings.seconds < 1 ? [1000] : [10_000, 100_000])
const RUNS = Math.max(1, envCount('BENCH_RUNS', 5))
const STARTS = Math.max(1, envCount('BENCH_SCALE_STARTS', 3))
const KEEP = process.env.BENCH_SCALE_KEEP === '1'
const DAY = 86_400_000
const HOUR = 3_600_000
const SPAN = 30 * DAY
const GOALS = { startMs: 2000, traceHourMs: 200, auditMs: 1000, diskRatio: 1.2 }
// No AURA_* variable reaches the commands (any would be a config override).
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AURA_')))
const CPU_HOOK = "process.on('exit', () => { const r = process.resourceUsage(); require('node:fs').writeSync(3, String(r.userCPUTime + r.systemCPUTime)) })\n"
const TEXT = 'move the token check ahead of session creation and log the refusal reason; '.repeat(4)

const log = (s: string): void => { process.stderr.write(`${s}\n`) }
const fmtMs = (x: number): string => x >= 100 ? x.toFixed(0) : x.toFixed(1)

function check (ok: boolean, what: string): void {
  if (!ok) throw new Error(`correctness check failed: ${what}`)
}

interface Built {
  home: string
  cwd: string
  hook: string
  buildMs: number
  /** Appends in flight at once while building (batches cover ≤ 10 minutes of claimed time). */
  inFlight: number
  signedBytes: number
  records: number
  /** Claimed times by signer (intents only), sorted. */
  ts: Map<KeyId, number[]>
  all: number[]
  claude: { id: string, key: KeyId }
  scribe: { id: string, key: KeyId, records: number }
}

/** Records of `ts` (sorted) at or after `from`. */
function countFrom (ts: number[], from: number): number {
  let lo = 0
  let hi = ts.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (ts[mid] < from) lo = mid + 1
    else hi = mid
  }
  return ts.length - lo
}

function aura (args: string[], cwd: string): string {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: ENV, encoding: 'utf8', maxBuffer: 1 << 30 })
  if (r.status !== 0) throw new Error(`aura ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`)
  return r.stdout
}

async function build (n: number, dir: string): Promise<Built> {
  const home = path.join(dir, 'home')
  const cwd = path.join(dir, 'work')
  await mkdir(cwd)
  const hook = path.join(dir, 'cpu-hook.cjs')
  await writeFile(hook, CPU_HOOK)
  aura(['init', '--home', home], cwd)
  const t0 = performance.now()
  const start = Date.now()
  // The team and its agents exist from before the first record's claimed time.
  let now = start - SPAN - HOUR
  const rt = await NodeRuntime.open(home, { clock: () => now, flags: { 'agents.defaults.max_ttl': String(90 * 86400) } })
  const step = SPAN / n
  const batch = Math.max(1, Math.min(256, Math.floor(10 * 60_000 / step)))
  let scribe: { id: string, key: KeyId, records: number }
  let claude: { id: string, key: KeyId }
  try {
    await runOperation('mothership-init', { team: 'scale', user: 'ops' }, { rt })
    const agents: Array<{ id: string, key: KeyId, pair: KeyPair }> = []
    for (const name of ['claude', 'scribe', 'bot']) {
      const a = await runOperation('agent-issue', { name, role: 'agent', ttl: '60d', maxCommitsPerHour: 7200 }, { rt }) as { agent: string, key: KeyId }
      agents.push({ id: a.agent, key: a.key, pair: await loadAgentKey(rt, resolveAgent(rt, a.key)) })
    }
    const scribeCount = Math.min(10_000, Math.floor(n / 10))
    scribe = { id: agents[1].id, key: agents[1].key, records: scribeCount }
    claude = { id: agents[0].id, key: agents[0].key }
    const signerOf = (i: number): KeyPair | undefined => {
      if (Math.floor((i + 1) * scribeCount / n) > Math.floor(i * scribeCount / n)) return agents[1].pair
      const r = i % 4
      return r < 2 ? undefined : r === 2 ? agents[0].pair : agents[2].pair
    }
    let lastLog = performance.now()
    let lastDone = 0
    for (let i = 0; i < n; i += batch) {
      // Record i claims the time it is signed at, less its distance from the last record: the
      // N records cover 30 days that end when the build ends.
      now = Date.now() - (n - i) * step
      await Promise.all(Array.from({ length: Math.min(batch, n - i) }, async (_, k) =>
        await rt.appendRecord({ kind: 'intent', text: `${i + k} ${TEXT}`.slice(0, 300) }, signerOf(i + k))))
      if (performance.now() - lastLog > 10_000) {
        // The rate falls as the log grows: the time left at the current rate is a lower bound.
        const done = Math.min(n, i + batch)
        const recent = (done - lastDone) / ((performance.now() - lastLog) / 1000)
        lastLog = performance.now()
        lastDone = done
        log(`    ${done.toLocaleString('en-US')} records, ${(done / ((lastLog - t0) / 1000)).toFixed(0)}/s overall, ${recent.toFixed(0)}/s now: at least ${((n - done) / recent / 60).toFixed(0)} min to go`)
      }
    }
    now = Date.now()
  } finally {
    await rt.close()
  }
  const buildMs = performance.now() - t0
  // What the records are, read back from the store as a fresh process would (closed, reopened).
  const rt2 = await NodeRuntime.open(home)
  const ts = new Map<KeyId, number[]>()
  const all: number[] = []
  let signedBytes = 0
  let records = 0
  try {
    const l = rt2.store.intent.log
    for (const id of l.ids()) {
      const r = l.record(id)
      const bytes = l.get(id)
      if (r === undefined || bytes === undefined) throw new Error(`record ${id} listed but not held`)
      records++
      signedBytes += bytes.length
      if (r.kind !== 'intent') continue
      const list = ts.get(r.signer) ?? []
      list.push(r.ts)
      ts.set(r.signer, list)
      all.push(r.ts)
    }
  } finally {
    await rt2.close()
  }
  for (const list of ts.values()) list.sort((a, b) => a - b)
  all.sort((a, b) => a - b)
  check(all.length === n, `the store holds ${all.length} intents, wrote ${n}`)
  check((ts.get(scribe.key) ?? []).length === scribe.records, `scribe signed ${(ts.get(scribe.key) ?? []).length}, want ${scribe.records}`)
  check(all[0] >= start - SPAN - HOUR && all[n - 1] <= Date.now(), 'claimed times within the 30 days before now')
  return { home, cwd, hook, buildMs, inFlight: batch, signedBytes, records, ts, all, claude, scribe }
}

/** utime + stime of a process, ms (10 ms ticks). */
function procCpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}

function procKb (pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no ${field} for ${pid}`)
  return Number(m[1])
}

interface Daemon { child: ChildProcess, pid: number, exited: Promise<number | null> }

/** Spawns the daemon in the foreground; times to control answering and to its "listening" line. */
interface Started { d: Daemon, controlMs: number, readyMs: number, cpuMs: number, rssKb: number }

async function startDaemon (b: Built): Promise<Started> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [BIN, 'node', 'start', '--foreground', '--home', b.home, '--listen', '/ip4/127.0.0.1/tcp/0'], { cwd: b.cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  const pid = child.pid as number
  let out = ''
  let readyMs: number | undefined
  const onData = (d: Buffer): void => {
    out += d.toString()
    if (readyMs === undefined && /listening on/.test(out)) readyMs = performance.now() - t0
  }
  child.stdout?.on('data', onData)
  child.stderr?.on('data', onData)
  let code: number | null | undefined
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => { code = c; resolve(c) }))
  let controlMs: number | undefined
  const deadline = performance.now() + 600_000
  const ready = (): boolean => readyMs !== undefined
  while (!ready()) {
    if (code !== undefined) throw new Error(`the daemon exited ${code} during start-up: ${out}`)
    if (performance.now() > deadline) throw new Error(`the daemon did not start in 600 s: ${out}`)
    if (controlMs === undefined && await pingControl(b.home)) controlMs = performance.now() - t0
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  if (controlMs === undefined) {
    check(await pingControl(b.home), 'the daemon answers once it says it listens')
    controlMs = performance.now() - t0
  }
  return { d: { child, pid, exited }, controlMs, readyMs: readyMs as number, cpuMs: procCpuMs(pid), rssKb: procKb(pid, 'VmHWM') }
}

/** The daemon's `warmed-up` log line (bounded wait): how long its background warm-up took. */
async function warmedUp (home: string, pid: number): Promise<{ ms: number, records: number }> {
  const file = path.join(home, 'logs', 'daemon.log')
  const deadline = performance.now() + 600_000
  for (;;) {
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(`"pid":${pid},`))
    const done = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'warmed-up')
    if (done !== undefined) return { ms: done.ms, records: done.records }
    check(performance.now() < deadline, 'the daemon logs warmed-up within 600 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function stopDaemon (d: Daemon, b: Built): Promise<{ wallMs: number, exitMs: number }> {
  const t0 = performance.now()
  aura(['node', 'stop', '--home', b.home], b.cwd)
  const wallMs = performance.now() - t0
  const code = await d.exited
  check(code === 0, `the daemon exited ${code} on stop`)
  return { wallMs, exitMs: performance.now() - t0 }
}

interface Timed { wall: number, cpu: number, daemonCpu: number, stdout: string, startedAt: number, endedAt: number }

async function timed (args: string[], b: Built, pid: number): Promise<Timed> {
  return await new Promise((resolve, reject) => {
    const d0 = procCpuMs(pid)
    const startedAt = Date.now()
    const t0 = performance.now()
    const child = spawn(process.execPath, ['--require', b.hook, BIN, ...args, '--home', b.home], { cwd: b.cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let stderr = ''
    let cpu = ''
    child.stdout?.on('data', (d: Buffer) => out.push(d))
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
    child.stdio[3]?.on('data', (d: Buffer) => { cpu += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => {
      const wall = performance.now() - t0
      const endedAt = Date.now()
      if (code !== 0) { reject(new Error(`aura ${args.join(' ')} exited ${code}: ${stderr}`)); return }
      resolve({ wall, cpu: Number(cpu) / 1000, daemonCpu: procCpuMs(pid) - d0, stdout: Buffer.concat(out).toString('utf8'), startedAt, endedAt })
    })
  })
}

function du (dir: string, apparent: boolean): number {
  const r = spawnSync('du', ['-s', '--block-size=1', ...(apparent ? ['--apparent-size'] : []), dir], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`du ${dir}: ${r.stderr}`)
  return Number(r.stdout.split('\t')[0])
}

function lines (s: string): any[] {
  return s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
}

async function measureAt (n: number): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aura-bench-scale-'))
  const rows: Row[] = []
  const t0 = performance.now()
  let daemon: Daemon | undefined
  const row = (label: string, unit: string, runs: number[], note?: string): void => {
    rows.push({ label: `${n.toLocaleString('en-US')} records: ${label}`, unit, median: median(runs), runs, ...(note === undefined ? {} : { note }) })
  }
  try {
    log(`  ${n.toLocaleString('en-US')} records: building in ${dir} (load ${loadavg()[0].toFixed(1)})`)
    const b = await build(n, dir)
    const rate = n / (b.buildMs / 1000)
    log(`  built ${b.records.toLocaleString('en-US')} records (${n.toLocaleString('en-US')} intents) in ${(b.buildMs / 1000).toFixed(1)} s: ${rate.toFixed(0)} records/s through NodeRuntime.appendRecord, ${b.inFlight} in flight; signed bytes ${(b.signedBytes / 1e6).toFixed(1)} MB`)
    row('build (appendRecord, fsync)', 'records/s', [rate], `${(b.buildMs / 1000).toFixed(1)} s, ${b.inFlight} appends in flight`)
    const built = { disk: du(path.join(b.home, 'store'), false), apparent: du(path.join(b.home, 'store'), true) }
    row('store on disk / signed bytes, after the build', '×', [built.disk / b.signedBytes], `${(built.disk / 1e6).toFixed(1)} MB on disk for ${(b.signedBytes / 1e6).toFixed(1)} MB signed`)
    log(`  store after the build (closed, compacted): ${(built.disk / 1e6).toFixed(1)} MB on disk, ${(built.apparent / 1e6).toFixed(1)} MB apparent; ${(built.disk / b.signedBytes).toFixed(2)}× the signed bytes`)

    // Start-up, STARTS times.
    const starts: Array<{ controlMs: number, readyMs: number, cpuMs: number, rssKb: number }> = []
    const stops: number[] = []
    for (let s = 0; s < STARTS; s++) {
      const st = await startDaemon(b)
      daemon = st.d
      starts.push(st)
      log(`    start ${s + 1}: control answers ${fmtMs(st.controlMs)} ms, listening ${fmtMs(st.readyMs)} ms, daemon CPU ${st.cpuMs} ms, VmHWM ${(st.rssKb / 1024).toFixed(0)} MiB`)
      if (s < STARTS - 1) {
        stops.push((await stopDaemon(st.d, b)).exitMs)
        daemon = undefined
      }
    }
    row('daemon start → control answers', 'ms', starts.map((s) => s.controlMs), `goal ${GOALS.startMs} ms`)
    row('daemon start → listening', 'ms', starts.map((s) => s.readyMs))
    row('daemon start: daemon CPU', 'ms', starts.map((s) => s.cpuMs))
    row('daemon start: peak RSS', 'MiB', starts.map((s) => s.rssKb / 1024))
    const pid = (daemon as Daemon).pid

    // At once after the start: the daemon may still be checking the held records' signatures in
    // the background (its `warmed-up` log line), and this query waits for what it needs of that.
    const cold = await timed(['status', '--json'], b, pid)
    const status = JSON.parse(cold.stdout)
    check(status.records?.total >= b.records, `status --json counts ${JSON.stringify(status.records)}; the store holds ${b.records}`)
    row('first `aura status --json` at once after the start: wall', 'ms', [cold.wall])
    row('first `aura status --json` at once after the start: daemon CPU', 'ms', [cold.daemonCpu])
    const warm = await warmedUp(b.home, pid)
    row('warm-up after the start (signatures and view, in the background)', 'ms', [warm.ms], `${warm.records} records`)
    log(`    first status at once: ${fmtMs(cold.wall)} ms (daemon CPU ${cold.daemonCpu} ms); background warm-up took ${fmtMs(warm.ms)} ms`)

    const claudeTs = b.ts.get(b.claude.key) ?? []
    const cases: Array<{ label: string, args: string[], verify: (t: Timed) => string }> = [
      { label: 'aura status', args: ['status'], verify: (t) => { check(t.stdout.length > 0, 'status prints'); return '' } },
      {
        label: 'aura trace --since 1h',
        args: ['trace', '--since', '1h'],
        verify: (t) => {
          const got = lines(t.stdout)
          const [lo, hi] = [countFrom(b.all, t.endedAt - HOUR), countFrom(b.all, t.startedAt - HOUR) + RUNS]
          check(got.length > 0 && got.length >= lo && got.length <= hi, `trace --since 1h printed ${got.length} lines, want ${lo}–${hi}`)
          return `${got.length} lines`
        }
      },
      {
        label: `aura trace --actor ${b.claude.id} --since 30d`,
        args: ['trace', '--actor', b.claude.id, '--since', '30d'],
        verify: (t) => {
          const got = lines(t.stdout)
          const [lo, hi] = [countFrom(claudeTs, t.endedAt - SPAN), countFrom(claudeTs, t.startedAt - SPAN)]
          check(got.length > 0 && got.length >= lo && got.length <= hi, `trace --actor --since 30d printed ${got.length} lines, want ${lo}–${hi}`)
          check(got.every((r) => r.signerKey === b.claude.key), 'every line is the actor\'s')
          return `${got.length} lines`
        }
      },
      {
        label: `aura audit export --signer ${b.scribe.id}`,
        args: ['audit', 'export', '--signer', b.scribe.id],
        verify: (t) => {
          const got = lines(t.stdout)
          const recs = got.filter((l) => l.type === 'record')
          check(recs.length === b.scribe.records, `audit export printed ${recs.length} record lines, want ${b.scribe.records}`)
          check(recs.every((l) => l.record?.signer === b.scribe.key && l.verified === true), 'every record line is the signer\'s, verified')
          return `${got.length} lines (${recs.length} records)`
        }
      },
      {
        label: 'aura log-intent',
        args: ['log-intent', 'scale bench: one more intent'],
        verify: (t) => { check(/^intent [0-9a-f]{12,}/m.test(t.stdout), `log-intent printed ${JSON.stringify(t.stdout)}`); return '' }
      }
    ]
    const samples = new Map<string, Timed[]>(cases.map((c) => [c.label, []]))
    const notes = new Map<string, string>()
    for (let r = 0; r < RUNS; r++) {
      for (const c of cases) {
        const t = await timed(c.args, b, pid)
        notes.set(c.label, c.verify(t))
        t.stdout = ''
        samples.get(c.label)?.push(t)
      }
    }
    const rssKb = procKb(pid, 'VmHWM')
    log(`    ${'command'.padEnd(52)} wall p50 (min–max)     client CPU  daemon CPU  (ms)`)
    for (const c of cases) {
      const s = samples.get(c.label) ?? []
      const wall = s.map((x) => x.wall)
      log(`    ${c.label.padEnd(52)} ${fmtMs(median(wall)).padStart(8)} (${fmtMs(Math.min(...wall))}–${fmtMs(Math.max(...wall))})`.padEnd(90) + `${fmtMs(median(s.map((x) => x.cpu))).padStart(8)} ${fmtMs(median(s.map((x) => x.daemonCpu))).padStart(10)}   ${notes.get(c.label) ?? ''}`)
      const label = c.label.replace(b.claude.id, 'X').replace(b.scribe.id, 'X')
      row(`${label}: wall`, 'ms', wall, notes.get(c.label))
      row(`${label}: client CPU`, 'ms', s.map((x) => x.cpu))
      row(`${label}: daemon CPU`, 'ms', s.map((x) => x.daemonCpu))
    }
    row('daemon peak RSS (VmHWM) after the commands', 'MiB', [rssKb / 1024])

    // Stop: the daemon compacts the intent log on close.
    const stop = await stopDaemon(daemon as Daemon, b)
    daemon = undefined
    stops.push(stop.exitMs)
    row('aura node stop (compacts on close) → daemon exited', 'ms', stops)
    const disk = du(path.join(b.home, 'store'), false)
    const apparent = du(path.join(b.home, 'store'), true)
    row('store on disk / signed bytes, after the starts and commands', '×', [disk / b.signedBytes], `${(disk / 1e6).toFixed(1)} MB on disk (${(apparent / 1e6).toFixed(1)} MB apparent) for ${(b.signedBytes / 1e6).toFixed(1)} MB signed; goal ≤ ${GOALS.diskRatio}`)
    log(`    stop (compaction on close) ${stops.map(fmtMs).join(', ')} ms; daemon VmHWM ${(rssKb / 1024).toFixed(0)} MiB; store ${(disk / 1e6).toFixed(1)} MB on disk = ${(disk / b.signedBytes).toFixed(2)}× the records' ${(b.signedBytes / 1e6).toFixed(1)} MB signed`)
    log(`  ${n.toLocaleString('en-US')} records: ${((performance.now() - t0) / 1000).toFixed(0)} s in all (load ${loadavg()[0].toFixed(1)})`)
    return rows
  } finally {
    if (daemon !== undefined) {
      daemon.child.kill('SIGTERM')
      await daemon.exited
    }
    if (KEEP) log(`  kept ${dir}`)
    else await rm(dir, { recursive: true, force: true })
  }
}

ensureBuilt()
const rows: Row[] = []
for (const n of SIZES) rows.push(...await measureAt(n))
report('node-scale', `a node with N records (${SIZES.join(', ')}): daemon start, queries, log-intent, compaction on stop, RSS, disk; real \`aura\` processes from dist/ (ms)`, rows)
