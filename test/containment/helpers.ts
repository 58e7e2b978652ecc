/**
 * Multi-process teams for the containment tests: a Mothership and peers, each a real
 * `aura node start --foreground` daemon on 127.0.0.1 owned by the test (so it can be stopped,
 * restarted on the same port, and is always killed by pid), and a shell in which the operator
 * playbooks' command lines run exactly as written: `aura` is on PATH and AURA_HOME names the
 * node, so `aura mothership revoke-peer peer-5f3a --reason "..." > x.jsonl` is typed verbatim.
 *
 * @example
 * const team = await Team.create({ peers: ['alice', 'bob', 'carol', 'dave'] })
 * await team.sh('mothership', `aura mothership revoke-peer ${team.id('alice')} --reason "laptop theft"`)
 * await team.until('bob refuses alice', async () => (await team.status('bob')).connected.length === 1)
 * await team.close()
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { callControl, pingControl } from '../../node/control/client.js'

/** The repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(ROOT, 'bin/aura.js')

/** What one command printed. */
export interface Run { code: number | null, stdout: string, stderr: string }

/** One node of the team. */
export interface Member {
  readonly name: string
  readonly home: string
  /** Working directory of its shell: where `> exposure.jsonl` lands. */
  readonly cwd: string
  readonly port: number
  /** Full key id, and the short form operators type (`peer-5f3a`). */
  key: string
  id: string
  daemon: ChildProcess | null
  /** Argv prefix its daemon and shell run under (`ip netns exec NS`), empty on the host. */
  wrap: string[]
  /** What its daemon listens on. Default `/ip4/127.0.0.1/tcp/<port>`. */
  listen: string
  /** Extra environment for its daemon and shell. */
  env: Record<string, string>
}

/** Where a member runs: inside a network namespace (test/netns/lab.ts), listening on `listen`. */
export interface Placement { wrap: string[], listen: string, env?: Record<string, string> }

/** Options of Team.create. */
export interface TeamInit {
  /** Peer names, joined in order, each a contributor. */
  peers: string[]
  /** Extra environment for every daemon and command (AURA_* config overrides). */
  env?: Record<string, string>
  /** Peer-to-peer links to add with `aura peer add` (besides every peer's link to the Mothership). */
  links?: Array<[string, string]>
  /** Members that run inside a network namespace; the rest run on 127.0.0.1. */
  placement?: Record<string, Placement>
}

/** Environment that keeps intervals short enough for tests; max_staleness stays off. */
export const FAST_ENV: Record<string, string> = {
  AURA_SYNC_ANTI_ENTROPY_INTERVAL: '1',
  AURA_SYNC_RECEIPT_INTERVAL: '1',
  AURA_MOTHERSHIP_BEACON_INTERVAL: '1'
}

import { ensureBuilt } from '../build-dist.js'

export { ensureBuilt }

// Every daemon this module started: killed when the test process exits, so a team whose setup
// timed out (its handle never returned to the test) leaves no daemon behind.
const spawned = new Set<ChildProcess>()
process.once('exit', () => { for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL') })

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

/** Sleeps. */
export async function sleep (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

/** A Mothership (`mothership`) and peers on 127.0.0.1, each a daemon process owned by the test. */
export class Team {
  readonly members = new Map<string, Member>()
  private readonly env: Record<string, string>

  private placement: Record<string, Placement> = {}

  private constructor (readonly dir: string, env: Record<string, string>) {
    this.env = env
  }

  /** Creates the team: Mothership started, every peer joined with a real token and started. */
  static async create (init: TeamInit): Promise<Team> {
    ensureBuilt()
    const dir = await mkdtemp(path.join(os.tmpdir(), 'aura-containment-'))
    const binDir = path.join(dir, 'bin')
    await mkdir(binDir)
    await writeFile(path.join(binDir, 'aura'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`)
    await chmod(path.join(binDir, 'aura'), 0o755)
    const team = new Team(dir, {
      PATH: `${binDir}:${process.env.PATH ?? ''}`,
      HOME: dir,
      NO_COLOR: '1',
      ...FAST_ENV,
      ...init.env
    })
    team.placement = init.placement ?? {}
    try {
      await team.add('mothership')
      await team.ok('mothership', 'aura init && aura mothership init --team acme --user ops')
      await team.identify('mothership')
      await team.start('mothership')
      for (const name of init.peers) await team.join(name)
      for (const [a, b] of init.links ?? []) await team.link(a, b)
    } catch (err) {
      await team.close()
      throw err
    }
    return team
  }

  /** The member called `name`. */
  m (name: string): Member {
    const m = this.members.get(name)
    if (m === undefined) throw new Error(`no member ${name}`)
    return m
  }

  /** The short id operators type for a member (`peer-5f3a`). */
  id (name: string): string { return this.m(name).id }

  /** Runs a shell command line as the operator of `name` would type it. */
  async sh (name: string, command: string, timeoutMs = 60_000): Promise<Run> {
    const m = this.m(name)
    return await new Promise((resolve, reject) => {
      const argv = [...m.wrap, '/bin/bash', '-c', command]
      const child = spawn(argv[0], argv.slice(1), {
        cwd: m.cwd,
        env: { ...this.env, ...m.env, AURA_HOME: m.home },
        stdio: ['ignore', 'pipe', 'pipe']
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
      child.on('error', reject)
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
    })
  }

  /** Runs a command line that must succeed; returns its stdout. */
  async ok (name: string, command: string): Promise<string> {
    const r = await this.sh(name, command)
    if (r.code !== 0) throw new Error(`${name}$ ${command}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`)
    return r.stdout
  }

  /** Runs a command line with `--json` appended that must succeed; returns the parsed output. */
  async json<T = any> (name: string, command: string): Promise<T> {
    return JSON.parse(await this.ok(name, `${command} --json`)) as T
  }

  /** `aura status --json` of a member (printed whole even when it exits non-zero for its problems). */
  async status (name: string): Promise<any> {
    const r = await this.sh(name, 'aura status --json')
    const s = JSON.parse(r.stdout)
    if (s.problems === undefined) throw new Error(`${name}$ aura status --json\nexit ${r.code}\n${r.stdout}\n${r.stderr}`)
    return s
  }

  /** A control call straight to a member's daemon (fast polling without spawning the CLI). */
  async control<T = any> (name: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
    return await callControl(this.m(name).home, method, params, 10_000) as T
  }

  /** Polls `probe` until it returns a truthy value, at most `timeoutMs`; returns that value. */
  async until<T> (
    what: string,
    probe: () => Promise<T | undefined | null | false>,
    timeoutMs = 30_000,
    everyMs = 200
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    for (let i = 0; Date.now() < deadline; i++) {
      try {
        const v = await probe()
        if (v !== undefined && v !== null && v !== false) return v
        last = v
      } catch (err) {
        last = err
      }
      await sleep(everyMs)
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
  }

  /**
   * Starts (or restarts, on the same port) a member's daemon in
   * the foreground, owned here; `timeoutMs` for it to answer.
   */
  async start (name: string, timeoutMs = 30_000): Promise<void> {
    const m = this.m(name)
    if (m.daemon !== null) throw new Error(`${name} already runs`)
    const log = openSync(path.join(m.home, 'node.log'), 'a', 0o600)
    const argv = [...m.wrap, process.execPath, BIN, 'node', 'start', '--foreground', '--listen', m.listen]
    const child = spawn(argv[0], argv.slice(1), {
      cwd: m.cwd,
      env: { ...this.env, ...m.env, AURA_HOME: m.home },
      stdio: ['ignore', log, log]
    })
    closeSync(log)
    spawned.add(child)
    child.once('exit', () => spawned.delete(child))
    m.daemon = child
    let exited = false
    child.once('exit', () => { exited = true; if (m.daemon === child) m.daemon = null })
    await this.until(`${name}'s daemon answers`, async () => {
      if (exited) throw new Error(`${name}'s daemon exited: ${await this.log(name)}`)
      return await pingControl(m.home)
    }, timeoutMs, 100)
  }

  /** Stops a member's daemon (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  async stop (name: string): Promise<void> {
    const child = this.m(name).daemon
    if (child === null) return
    await stopChild(child)
    this.m(name).daemon = null
  }

  /** The tail of a member's daemon log, for failure messages. */
  async log (name: string): Promise<string> {
    return (await readFile(path.join(this.m(name).home, 'node.log'), 'utf8').catch(() => '')).split('\n').slice(-20).join('\n')
  }

  /** A member's listen address (with /p2p/), from its status. */
  async address (name: string): Promise<string> {
    const s = await this.control(name, 'status')
    return s.listen[0] as string
  }

  /** Adds a sync link: `aura peer add <b's address>` on a. */
  async link (a: string, b: string): Promise<void> {
    await this.ok(a, `aura peer add ${await this.address(b)}`)
  }

  /** Issues a token at the Mothership and joins `name` with it (daemon started here). */
  async join (name: string, role = 'contributor'): Promise<Member> {
    const token = (await this.ok('mothership', `aura mothership issue-peer ${name} --role ${role}`)).trim()
    return await this.joinWith(name, token)
  }

  /** Creates member `name` and redeems `token` for it (the join may be refused: that throws). */
  async joinWith (name: string, token: string): Promise<Member> {
    const m = await this.add(name)
    await this.ok(name, 'aura init')
    await this.identify(name)
    await this.ok(name, `aura join ${token} --no-start`)
    await this.start(name)
    return m
  }

  /** Creates a member's directories and identity (no team yet). */
  async add (name: string): Promise<Member> {
    const base = path.join(this.dir, name)
    await mkdir(path.join(base, 'work'), { recursive: true })
    const port = await freePort()
    const placed = this.placement[name]
    const m: Member = { name, home: path.join(base, 'home'), cwd: path.join(base, 'work'), port, key: '', id: '', daemon: null, wrap: placed?.wrap ?? [], listen: placed?.listen ?? `/ip4/127.0.0.1/tcp/${port}`, env: placed?.env ?? {} }
    this.members.set(name, m)
    return m
  }

  /** Fills in the key ids of a member after `aura init`. */
  async identify (name: string): Promise<void> {
    const id = await this.json(name, 'aura id')
    this.m(name).key = id.key
    this.m(name).id = id.peer
  }

  /** Stops every daemon and removes the team's directory. */
  async close (): Promise<void> {
    await Promise.all([...this.members.values()].map(async (m) => {
      if (m.daemon !== null) await stopChild(m.daemon)
      m.daemon = null
    }))
    await rm(this.dir, { recursive: true, force: true })
  }
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}

/** Parses JSON lines (as `> exposure.jsonl` holds them). */
export function jsonLines (text: string): any[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l))
}
