/**
 * End-to-end harness: the real `node bin/aura.js` (dist/, built here when stale) run as separate
 * processes in temporary homes. A Team is a Mothership and peers joined with real tokens, each
 * a daemon on 127.0.0.1 port 0 with short sync intervals; `line()` connects peers with
 * `aura peer add`. Every daemon started here is stopped in `Team.close()` (call it in afterAll):
 * `aura node stop` first, then SIGKILL by the pid its status reported, then by /proc scan.
 *
 * @example
 * const team = await Team.create({ peers: ['alice', 'bob'] })
 * await team.line(['alice', 'bob'])
 * const { json } = await team.node('alice').aura('log-intent', 'hello')
 * await waitFor(async () => (await team.node('bob').trace()).some((r) => r.id === json.id), 10_000)
 * await team.close()
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(ROOT, 'bin/aura.js')

/** Listen address for every daemon: loopback, a free port. */
export const LISTEN = '/ip4/127.0.0.1/tcp/0'

/** Config overrides that make a team converge in well under a second. */
export const FAST = ['sync.anti_entropy_interval=200ms', 'sync.receipt_interval=500ms', 'mothership.beacon_interval=500ms']

const CLI_TIMEOUT_MS = 45_000

/** Per-test limit for e2e tests: a few CLI runs each, on a machine that may be busy. */
export const E2E_TEST_TIMEOUT_MS = 90_000

/** What one CLI run did. `json` is stdout parsed when it is JSON (with --json), else null. */
export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  json: any
}

import { ensureBuilt } from '../build-dist.js'

export { ensureBuilt }

/**
 * Runs `node bin/aura.js ...args` in `cwd`; never rejects on a non-zero exit. Give an empty
 * directory: `log-intent` snapshots the current directory when it holds source files.
 */
export async function aura (
  args: string[],
  opts: { cwd: string, env?: Record<string, string>, timeoutMs?: number }
): Promise<RunResult> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), NO_COLOR: '1', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, opts.timeoutMs ?? CLI_TIMEOUT_MS)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      let json: any = null
      try { json = JSON.parse(stdout) } catch { json = null }
      resolve({ code, stdout, stderr, json })
    })
  })
}

/**
 * Polls `check` until it returns something truthy (returned) or
 * `timeoutMs` passes (throws, naming `what` and the last value).
 */
export async function waitFor<T> (check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, what = 'condition', intervalMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      last = await check()
      if (last !== null && last !== undefined && last !== false) return last as T
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${show(last)}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

function show (v: unknown): string {
  if (v instanceof Error) return v.message
  try { return JSON.stringify(v)?.slice(0, 500) ?? String(v) } catch { return String(v) }
}

/** Fails with the command's output when it did not exit 0; returns its JSON (or the result). */
export function ok (r: RunResult, what = 'aura'): any {
  if (r.code !== 0) throw new Error(`${what} exited ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
  return r.json ?? r
}

/** One node home, and the daemon this harness may have started on it. */
export class AuraNode {
  /** Pids of daemons this harness saw on this home (from `status`). */
  readonly pids = new Set<number>()
  /** Listen addresses of the running daemon (from `status`). */
  listen: string[] = []
  short = ''
  /** Extra `--set key=value` for every daemon this harness starts on this home. */
  set: string[] = []

  /** `cwd`: an empty directory the commands run in (never a workspace). */
  constructor (readonly name: string, readonly home: string, readonly cwd: string) {}

  /** `aura <args> --home <home> --json`. */
  async aura (...args: string[]): Promise<RunResult> {
    return await aura([...args, '--home', this.home, '--json'], { cwd: this.cwd })
  }

  /** `aura init`: creates the home and its identity; remembers the short id. */
  async init (): Promise<any> {
    const res = ok(await this.aura('init'), `init ${this.name}`)
    this.short = res.peer
    return res
  }

  /** Starts the daemon on a free loopback port with FAST intervals; remembers its pid and address. */
  async start (extra: string[] = []): Promise<any> {
    const s = ok(await this.aura('node', 'start', '--listen', LISTEN, ...[...FAST, ...this.set].flatMap((f) => ['--set', f]), ...extra), `node start (${this.name})`)
    this.remember(s)
    return s
  }

  /** `aura status --json` (fails the test if it prints no status; a node with problems exits non-zero). */
  async status (): Promise<any> {
    const r = await this.aura('status')
    const s = r.json?.problems !== undefined ? r.json : ok(r, `status (${this.name})`)
    this.remember(s)
    return s
  }

  /** The records `aura trace --json` shows (receipts left out). */
  async trace (): Promise<any[]> {
    return ok(await this.aura('trace'), `trace (${this.name})`)
  }

  /** Whether `trace` on this node shows every one of the ids. */
  async holds (...ids: string[]): Promise<boolean> {
    const have = new Set((await this.trace()).map((r: { id: string }) => r.id))
    return ids.every((id) => have.has(id))
  }

  /**
   * Stops the daemon: `aura node stop`, then SIGKILL of every
   * pid it ever reported and of any daemon process on this home.
   */
  async stop (): Promise<void> {
    const r = await this.aura('node', 'stop')
    const clean = r.code === 0 || r.json?.error?.code === 'E_DAEMON_UNREACHABLE'
    if (!clean) this.kill()
    await waitFor(() => this.livePids().length === 0, 10_000, `daemon of ${this.name} to exit`).catch(() => this.kill())
    this.listen = []
  }

  /** SIGKILLs every daemon process of this home that is still alive. */
  kill (): void {
    for (const pid of new Set([...this.pids, ...this.livePids()])) {
      try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
    }
  }

  /** Pids of live `aura node start` processes whose command line names exactly this home. */
  livePids (): number[] {
    const out: number[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      let argv: string[]
      try { argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') } catch { continue }
      const h = argv.indexOf('--home')
      if (h >= 0 && argv[h + 1] === this.home && argv.includes('node') && argv.includes('start')) out.push(Number(entry))
    }
    return out
  }

  private remember (s: any): void {
    if (typeof s?.pid === 'number') this.pids.add(s.pid)
    if (Array.isArray(s?.listen) && s.listen.length > 0) this.listen = s.listen
    if (typeof s?.peer === 'string') this.short = s.peer
  }
}

/** Options of Team.create. */
export interface TeamInit {
  /** Peer names; they join concurrently (concurrent joins at one Mothership are part of the test). */
  peers: string[]
  team?: string
  /** How each peer joins (default offline); see Team.join. */
  via?: (name: string, index: number) => 'offline' | 'daemon'
  /** Extra `--set key=value` for every daemon, the Mothership's included. */
  set?: string[]
}

/** A Mothership and peers, each a home under one temporary directory. */
export class Team {
  readonly nodes = new Map<string, AuraNode>()

  private constructor (readonly dir: string, readonly mothership: AuraNode) {
    this.nodes.set('mothership', mothership)
  }

  /** A temporary directory with an initialised, running Mothership and no peers yet. */
  static async empty (teamName = 'acme', alongside: (team: Team) => Promise<void> = async () => {}, set: string[] = []): Promise<Team> {
    ensureBuilt()
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aura-e2e-'))
    await mkdir(path.join(dir, 'cwd'))
    const team = new Team(dir, new AuraNode('mothership', path.join(dir, 'mothership'), path.join(dir, 'cwd')))
    team.mothership.set = set
    try {
      await Promise.all([
        (async () => {
          await team.mothership.init()
          ok(await team.mothership.aura('mothership', 'init', '--team', teamName, '--user', 'ops'), 'mothership init')
          await team.mothership.start()
        })(),
        alongside(team)
      ])
    } catch (err) {
      await team.close()
      throw err
    }
    return team
  }

  /** A running Mothership with `init.peers` joined (each runs its daemon). */
  static async create (init: TeamInit): Promise<Team> {
    const team = await Team.empty(init.team, async (t) => {
      await Promise.all(init.peers.map(async (name) => {
        const n = t.add(name)
        n.set = init.set ?? []
        await n.init()
      }))
    }, init.set)
    try {
      const via = init.via ?? (() => 'offline')
      await Promise.all(init.peers.map(async (name, i) => await team.join(name, via(name, i))))
    } catch (err) {
      await team.close()
      throw err
    }
    return team
  }

  /** A new (uninitialised) home in the team's directory. */
  add (name: string): AuraNode {
    const n = new AuraNode(name, path.join(this.dir, name), path.join(this.dir, 'cwd'))
    this.nodes.set(name, n)
    return n
  }

  /** The node called `name`. */
  node (name: string): AuraNode {
    const n = this.nodes.get(name)
    if (n === undefined) throw new Error(`no node ${name}`)
    return n
  }

  /** Issues a token for `user` at the Mothership (`--json`); returns the whole answer. */
  async issue (user: string, ...extra: string[]): Promise<any> {
    return ok(await this.mothership.aura('mothership', 'issue-peer', user, '--role', 'contributor', ...extra), `issue-peer ${user}`)
  }

  /**
   * Issues a token and joins `name` with it; the joined node's daemon runs afterwards. `offline`
   * is `aura join` on a stopped node (it starts the daemon itself); `daemon` starts the node
   * first and joins through it.
   */
  async join (name: string, via: 'offline' | 'daemon' = 'offline'): Promise<any> {
    const issued = await this.issue(name)
    const n = this.node(name)
    if (via === 'daemon') {
      await n.start()
      return ok(await n.aura('join', issued.token), `join ${name} through its daemon`)
    }
    return ok(await n.aura('join', issued.token, '--listen', LISTEN, ...[...FAST, ...n.set].flatMap((f) => ['--set', f])), `join ${name}`)
  }

  /**
   * Connects the named peers in a line: each dials only the one before it (`aura peer add`),
   * then waits until every link of the line is up.
   */
  async line (names: string[], timeoutMs = 15_000): Promise<void> {
    const nodes = names.map((n) => this.node(n))
    for (const n of nodes) await n.status()
    for (let i = 1; i < nodes.length; i++) ok(await nodes[i].aura('peer', 'add', nodes[i - 1].listen[0]), `peer add (${names[i]} -> ${names[i - 1]})`)
    await Promise.all(nodes.map(async (n, i) => {
      const want = [nodes[i - 1], nodes[i + 1]].filter((x) => x !== undefined).map((x) => x.short)
      await waitFor(async () => {
        const s = await n.status()
        return want.every((w) => s.connected.includes(w))
      }, timeoutMs, `${n.name} connected to ${want.join(', ')}`)
    }))
  }

  /** Stops every daemon (killing what does not stop) and removes the directory. */
  async close (): Promise<void> {
    await Promise.all([...this.nodes.values()].map(async (n) => {
      if (!existsSync(n.home)) return
      await n.stop().catch(() => n.kill())
    }))
    for (const n of this.nodes.values()) n.kill()
    await rm(this.dir, { recursive: true, force: true })
  }
}
