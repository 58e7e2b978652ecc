/**
 * How fast a revocation closes and bars a key everywhere: a Mothership and 20 peer daemons
 * (real `aura node start` processes from dist/) on 127.0.0.1, wired as a random graph (a ring
 * plus random chords: each node linked to ~3 others, the Mothership being one node among them,
 * not a hub). Each run admits a victim peer linked to 3 random daemons, runs
 * `aura mothership revoke-peer` and reads, from every daemon's `revocations` control method,
 * the local time it applied the revocation (its gate refuses the key from then on) and the time
 * its connections to the key were closed. All processes share one clock, so the times compare.
 *
 * Figures per run (ms), each the slowest of the 21 daemons:
 * - closed after revoke-peer returned: closedAt − the instant the CLI process exited (negative
 *   when every daemon was done before the command returned, which is the usual case: the
 *   Mothership pushes the entry before it answers the CLI);
 * - applied / closed after it was first applied anywhere (the Mothership, unless a peer heard of
 *   it while the Mothership was persisting it): propagation through the graph.
 *
 * The daemons run with `[node] discover = false`, so each dials only the neighbours it is given
 * and the graph is the one described (with discovery on, the default, every daemon learns every
 * other's address and the team becomes a full mesh: `BENCH_DISCOVER=1`). Before each revocation
 * the team settles (`BENCH_SETTLE_MS`, default 3000): the victim's arrival makes every daemon
 * write a receipt 250 ms later, and those spread to all.
 *
 * @example
 * npm run bench -- revocation
 * BENCH_RUNS=3 BENCH_REVOCATION_PEERS=8 npx tsx bench/revocation.ts
 * BENCH_VERBOSE=1 npx tsx bench/revocation.ts   # per daemon: hops from the Mothership, applied/closed ms
 * BENCH_HOLD=60 BENCH_KEEP=1 npx tsx bench/revocation.ts   # hold the team 60 s once up; keep the homes
 */
import '../node/compat.js'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { availableParallelism, tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../node/config.js'
import { callControl, pingControl } from '../node/control/client.js'
import { initHome } from '../node/home.js'
import { loadIdentity } from '../node/identity.js'
import { mothershipInit } from '../node/mothership/mothership.js'
import { runOperation } from '../node/operations.js'
import { NodeRuntime } from '../node/runtime.js'
import { envCount, median, report, type Row } from './lib/harness.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin/aura.js')
const PEERS = envCount('BENCH_REVOCATION_PEERS', 20)
const RUNS = envCount('BENCH_RUNS', 10)
const GOAL_MS = 100
// With discovery on (the default of `[node] discover`), every daemon learns every other's
// address and dials it: the team becomes a full mesh, not the degree-3 graph measured here.
const DISCOVER = envCount('BENCH_DISCOVER', 0) === 1
const SETTLE_MS = envCount('BENCH_SETTLE_MS', 3000)
const ENV = { ...process.env, NO_COLOR: '1' }

interface Node {
  name: string
  home: string
  port: number
  key: string
  short: string
  addr: string
  child: ChildProcess | null
}

const now = (): number => performance.timeOrigin + performance.now()
const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100)

// User + system CPU ms of a /proc stat file (a process's or a thread's). Fields after the
// command's closing parenthesis: state is the 3rd field, utime the 14th, stime the 15th.
function cpuMsOfStat (file: string): number {
  const f = readFileSync(file, 'utf8').replace(/^.*\) /s, '').split(' ')
  return (Number(f[11]) + Number(f[12])) * TICK_MS
}

// CPU time (user + system, ms) the daemons have used so far, from /proc; null where there is none.
function cpuOf (nodes: Node[]): number | null {
  let sum = 0
  for (const n of nodes) {
    if (n.child?.pid === undefined) return null
    try {
      sum += cpuMsOfStat(`/proc/${n.child.pid}/stat`)
    } catch {
      return null
    }
  }
  return sum
}
// The same, per thread summed over the daemons: the JS thread ('js') and the others by name
// (libuv's pool, V8's compiler and GC helpers): for BENCH_VERBOSE.
function threadCpuOf (nodes: Node[]): Map<string, number> {
  const out = new Map<string, number>()
  for (const n of nodes) {
    const pid = n.child?.pid
    if (pid === undefined) continue
    let tids: string[] = []
    try { tids = readdirSync(`/proc/${pid}/task`) } catch { continue }
    for (const tid of tids) {
      try {
        const name = tid === String(pid) ? 'js' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/[0-9]+$/, '')
        out.set(name, (out.get(name) ?? 0) + cpuMsOfStat(`/proc/${pid}/task/${tid}/stat`))
      } catch {}
    }
  }
  return out
}
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

// Listen ports come from below the kernel's ephemeral range: a free port picked from inside it
// (port 0) can be taken, before its daemon starts, by another daemon's outgoing dial.
const EPHEMERAL_LOW = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768
const taken = new Set<number>()
async function freePort (): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, EPHEMERAL_LOW - 10_000))
    if (taken.has(port)) continue
    const ok = await new Promise<boolean>((resolve) => {
      const srv = createServer()
      srv.once('error', () => resolve(false))
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
    })
    if (ok) {
      taken.add(port)
      return port
    }
  }
  throw new Error(`no free port found below ${EPHEMERAL_LOW} in 200 tries`)
}

function ensureBuilt (): void {
  const newest = (dir: string): number => Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0
  }))
  const main = path.join(ROOT, 'dist/cli/main.js')
  if (existsSync(main) && statSync(main).mtimeMs >= Math.max(...['cli', 'node', 'crdt'].map((d) => newest(path.join(ROOT, d))))) return
  process.stderr.write('building dist/ (the daemons run the built code)\n')
  spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' })
}

async function until<T> (
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 20
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined && v !== false) return v
    await sleep(everyMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms: ${what}`)
}

async function makeNode (dir: string, name: string): Promise<Node> {
  const home = path.join(dir, name)
  await initHome(home)
  const id = await loadIdentity(home)
  const port = await freePort()
  return { name, home, port, key: id.keyId, short: id.shortId, addr: `/ip4/127.0.0.1/tcp/${port}/p2p/${id.peerId}`, child: null }
}

async function start (n: Node): Promise<void> {
  const log = openSync(path.join(n.home, 'node.log'), 'a', 0o600)
  n.child = spawn(process.execPath, [BIN, 'node', 'start', '--foreground', '--home', n.home, '--listen', `/ip4/127.0.0.1/tcp/${n.port}`], { env: ENV, stdio: ['ignore', log, log] })
  closeSync(log)
  try {
    await until(`${n.name} answers`, async () => await pingControl(n.home), 30_000, 100)
  } catch (err) {
    throw new Error(`${(err as Error).message}; the tail of its log:\n${tailOf(path.join(n.home, 'node.log'))}`)
  }
}

function tailOf (file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n')
  } catch {
    return '(no log)'
  }
}

async function stop (n: Node): Promise<void> {
  const child = n.child
  n.child = null
  if (child === null || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

// Replaces a node's address book: it dials exactly `targets` (with discovery off, only those).
async function wire (n: Node, targets: Node[]): Promise<void> {
  if (!DISCOVER) {
    const file = path.join(n.home, 'aura.toml')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^\[node\]$/m, '[node]\ndiscover = false'))
  }
  const rt = await NodeRuntime.open(n.home)
  try {
    for (const { key } of await rt.store.peers.list()) await rt.store.peers.del(key)
    for (const t of targets) await rt.store.peers.put(t.key as any, { addrs: [t.addr], seen: null })
  } finally {
    await rt.close()
  }
}

function pick<T> (xs: T[], k: number): T[] {
  const copy = [...xs]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]]
  }
  return copy.slice(0, k)
}

async function main (): Promise<void> {
  ensureBuilt()
  const dir = await mkdtemp(path.join(tmpdir(), 'aura-bench-revocation-'))
  const all: Node[] = []
  try {
    const ms = await makeNode(dir, 'mothership')
    all.push(ms)
    {
      const rt = await NodeRuntime.open(ms.home)
      try { await mothershipInit(rt, { team: 'bench', user: 'ops' }) } finally { await rt.close() }
    }
    await start(ms)
    const peers: Node[] = []
    const victims: Node[] = []
    process.stderr.write(`joining ${PEERS} peers and ${RUNS} victims through the join protocol\n`)
    for (let i = 0; i < PEERS + RUNS; i++) {
      const n = await makeNode(dir, i < PEERS ? `p${i}` : `victim${i - PEERS}`)
      const { token } = await callControl(ms.home, 'issue-peer', { user: n.name, role: 'contributor' }) as { token: string }
      const rt = await NodeRuntime.open(n.home, { loaded: await loadConfig(n.home, { env: ENV }) })
      try { await runOperation('join', { token }, { rt }) } finally { await rt.close() }
      all.push(n);
      (i < PEERS ? peers : victims).push(n)
    }
    await stop(ms)

    // A ring plus random chords over the Mothership and the peers: average degree ~3.
    const honest = [ms, ...peers]
    const edges = new Set<string>()
    const add = (a: number, b: number): void => { if (a !== b) edges.add(a < b ? `${a}-${b}` : `${b}-${a}`) }
    for (let i = 0; i < honest.length; i++) add(i, (i + 1) % honest.length)
    for (let guard = 0; edges.size < Math.round(honest.length * 1.5) && guard < 10_000; guard++) {
      add(Math.floor(Math.random() * honest.length), Math.floor(Math.random() * honest.length))
    }
    const dials = new Map<Node, Node[]>(honest.map((n) => [n, []]))
    const neighbours = new Map<Node, Set<Node>>(honest.map((n) => [n, new Set()]))
    for (const e of edges) {
      const [a, b] = e.split('-').map(Number)
      dials.get(honest[a])!.push(honest[b])
      neighbours.get(honest[a])!.add(honest[b])
      neighbours.get(honest[b])!.add(honest[a])
    }
    for (const n of honest) await wire(n, dials.get(n)!)
    // Hops from the Mothership in the graph, for BENCH_VERBOSE.
    const hops = new Map<Node, number>([[ms, 0]])
    for (let frontier = [ms]; frontier.length > 0;) {
      const next: Node[] = []
      for (const n of frontier) {
        for (const m of neighbours.get(n)!) {
          if (hops.has(m)) continue
          hops.set(m, hops.get(n)! + 1)
          next.push(m)
        }
      }
      frontier = next
    }
    const victimLinks = new Map<Node, Node[]>()
    for (const v of victims) {
      victimLinks.set(v, pick(honest, 3))
      await wire(v, victimLinks.get(v)!)
    }
    process.stderr.write(`starting ${honest.length} daemons (${edges.size} links, average degree ${(2 * edges.size / honest.length).toFixed(1)})\n`)
    for (const n of honest) await start(n)
    await until('every link is up', async () => {
      for (const n of honest) {
        const s = await callControl(n.home, 'status', {}) as { connected: string[] }
        for (const m of neighbours.get(n)!) if (!s.connected.includes(m.short)) return false
      }
      return true
    }, 60_000, 200)

    if (process.env.BENCH_HOLD !== undefined) {
      process.stderr.write(`holding: ${honest.map((n) => `${n.name}=${n.child?.pid ?? '?'}`).join(' ')}\n`)
      await sleep(envCount('BENCH_HOLD', 0) * 1000)
    }
    const afterReturn: number[] = []
    const afterStart: number[] = []
    const appliedSpread: number[] = []
    const closedSpread: number[] = []
    const cpuSpent: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const v = victims[run]
      await start(v)
      await until(`${v.name} is linked to its 3 daemons`, async () =>
        ((await callControl(v.home, 'status', {})) as { connected: string[] }).connected.length === victimLinks.get(v)!.length, 30_000, 50)
      // Let the team settle first: the victim's arrival changes what every daemon holds, and
      // each writes a receipt 250 ms later (node/peer/receipts.ts) that reaches all the others.
      // A revocation of a key that has been connected for a while is the case measured here.
      const idleFrom = { t: now(), cpu: cpuOf(honest) }
      await sleep(SETTLE_MS)
      const started = now()
      const cpuBefore = cpuOf(honest)
      const cpuBeforeEach = process.env.BENCH_VERBOSE !== undefined ? honest.map((n) => cpuOf([n])) : []
      const threadsBefore = process.env.BENCH_VERBOSE !== undefined ? threadCpuOf(honest) : new Map<string, number>()
      const cli = spawn(process.execPath, [BIN, 'mothership', 'revoke-peer', v.short, '--reason', `bench run ${run}`, '--home', ms.home], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      cli.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const code = await new Promise<number | null>((resolve) => cli.on('exit', resolve))
      const returned = now()
      const cpuAtReturn = process.env.BENCH_VERBOSE !== undefined ? honest.map((n) => cpuOf([n])) : []
      if (code !== 0) throw new Error(`revoke-peer failed (${code}): ${stderr}`)
      // Each daemon reports its own time stamps, so polling seldom loses no precision, and spares
      // the daemons 21 control calls every few ms while the revocation spreads.
      const times = await until('every daemon closed and refuses the key', async () => {
        const got = await Promise.all(honest.map(async (n) => {
          const revs = await callControl(n.home, 'revocations', {}) as Array<{ key: string, appliedAt: number, closedAt: number | null }>
          return revs.find((r) => r.key === v.key && r.closedAt !== null)
        }))
        return got.every((g) => g !== undefined) ? got as Array<{ appliedAt: number, closedAt: number }> : undefined
      }, 10_000, 250)
      const cpuAfter = cpuOf(honest)
      const polled = now()
      // The earliest any daemon applied it. Usually the Mothership, which applies its entry,
      // persists it and only then pushes and enforces it; a peer can hear of it in between (the
      // Mothership's heads name it as soon as it is applied), and the spread then counts from
      // that peer, not from the Mothership's later enforcement.
      const origin = Math.min(...times.map((t) => t.appliedAt))
      if (cpuBefore !== null && cpuAfter !== null && idleFrom.cpu !== null) {
        // What the daemons spent while the revocation spread, less what they spend idle (keep-alives,
        // anti-entropy, the bench's own polling is in both) over as long a time.
        const idleRate = (cpuBefore - idleFrom.cpu) / (started - idleFrom.t)
        cpuSpent.push(cpuAfter - cpuBefore - idleRate * (polled - started))
      }
      if (process.env.BENCH_VERBOSE !== undefined) {
        const byHop = honest.map((n, i) => `${hops.get(n)}${victimLinks.get(v)!.includes(n) ? '*' : ''}:${fmt(times[i].appliedAt - origin)}/${fmt(times[i].closedAt - origin)}`)
        const perDaemon = honest.map((n, i) => `${n.name}:${fmt((cpuAtReturn[i] ?? NaN) - (cpuBeforeEach[i] ?? NaN))}+${fmt((cpuOf([n]) ?? NaN) - (cpuAtReturn[i] ?? NaN))}`)
        const threads = [...threadCpuOf(honest)]
          .map(([k, v]) => [k, v - (threadsBefore.get(k) ?? 0)] as const)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1])
        process.stderr.write(`  CPU ms by thread, the daemons summed, command start to poll: ${threads.map(([k, v]) => `${k}:${fmt(v)}`).join(' ')}\n`)
        process.stderr.write(`  CPU ms per daemon, command start to return + return to poll: ${perDaemon.join(' ')} (over ${fmt(returned - started)} + ${fmt(now() - returned)} ms)\n`)
        process.stderr.write(`  hops(* linked to the victim):applied/closed ms per daemon: ${byHop.sort().join(' ')}; command start ${fmt(started - origin)}, returned ${fmt(returned - origin)}, the Mothership applied ${fmt(times[0].appliedAt - origin)}\n`)
      }
      const closed = Math.max(...times.map((t) => t.closedAt))
      afterReturn.push(closed - returned)
      afterStart.push(closed - started)
      appliedSpread.push(Math.max(...times.map((t) => t.appliedAt)) - origin)
      closedSpread.push(closed - origin)
      // The victim is cut off and barred: nobody keeps or accepts a session with it.
      await until(`${v.name} is cut off`, async () => ((await callControl(v.home, 'status', {})) as { connected: string[] }).connected.length === 0, 5_000, 20)
      await stop(v)
      process.stderr.write(`run ${run + 1}/${RUNS}: slowest daemon closed ${fmt(closed - returned)} ms after revoke-peer returned; applied everywhere ${fmt(appliedSpread[run])} ms, closed everywhere ${fmt(closedSpread[run])} ms after it was first applied${cpuSpent.length > run ? `; daemons' CPU ${fmt(cpuSpent[run])} ms` : ''}\n`)
    }

    const rows: Row[] = [
      row(`all ${honest.length} closed, after revoke-peer started (a node process)`, afterStart),
      row(`all ${honest.length} closed, after revoke-peer returned`, afterReturn),
      row(`all ${honest.length} applied (gate refuses), after first applied`, appliedSpread),
      row(`all ${honest.length} closed, after first applied`, closedSpread)
    ]
    if (cpuSpent.length > 0) {
      process.stdout.write(`\nCPU of the ${honest.length} daemons per revocation (from /proc, idle rate subtracted, ${TICK_MS} ms ticks): ${cpuSpent.map((c) => fmt(c)).join(', ')} ms; median ${fmt(median(cpuSpent))} ms on ${availableParallelism()} cores\n`)
    }
    process.stdout.write(`\nrevocation over ${honest.length} daemons (${edges.size} links), ${RUNS} runs; ms (min / median / max of the per-run slowest daemon)\n`)
    for (const r of rows) process.stdout.write(`  ${r.label.padEnd(62)} ${fmt(Math.min(...r.runs))} / ${fmt(r.median)} / ${fmt(Math.max(...r.runs))}\n`)
    const worst = Math.max(...closedSpread, ...afterReturn)
    process.stdout.write(`goal: all within ${GOAL_MS} ms in every run: ${worst <= GOAL_MS ? 'met' : 'NOT met'} (worst ${fmt(worst)} ms)\n`)
    report('revocation', `time until ${honest.length} daemons on loopback (random graph, degree ~3) have closed and refuse a revoked key`, rows)
  } finally {
    await Promise.all(all.map(stop))
    if (process.env.BENCH_KEEP === undefined) await rm(dir, { recursive: true, force: true })
    else process.stderr.write(`kept ${dir}\n`)
  }
}

function row (label: string, runs: number[]): Row {
  return { label, unit: 'ms', median: median(runs), runs }
}

function fmt (ms: number): string {
  return ms.toFixed(1)
}

await main()
