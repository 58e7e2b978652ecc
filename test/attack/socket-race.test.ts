/**
 * The control-socket race the red team won: under umask 000 with the home already at 0755, the
 * socket existed with mode 0777 between listen() and chmod(), and a local user connected and had
 * `issue-peer --role admin` answered. Here, while the control server starts and stops again and
 * again in a 0755 folder under umask 000, two other processes race it: a watcher (busy-looping
 * lstat) records every mode it ever sees at the socket path and of any staging folder, and a
 * connector running as `nobody` tries to connect all the time. The socket must never be seen
 * looser than 0600 (a staging folder never looser than 0700) and `nobody` must never connect.
 * A control run shows the connector can connect to a socket that is open, so its zero means
 * something. Then the daemon itself: a real `aura node start` under umask 000 refuses a 0755
 * home with E_PERMISSIONS and the chmod that fixes it, and the socket never appears.
 *
 * Needs root (to run the connector as another user); skipped with a reason otherwise.
 */
import { spawn } from 'node:child_process'
import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startControlServer } from '../../node/control/server.js'
import { controlSocketPath } from '../../node/control/protocol.js'
import { Team } from '../containment/helpers.js'

const NOBODY = 65534
const isRoot = process.getuid?.() === 0

// Records every mode seen at the socket path and of `.s*` staging folders, busy-looping for `ms`
// (or, given a third argument, until the socket has been there that many ms).
const WATCHER = `
const fs = require('fs'), path = require('path')
const [sock, ms, settle] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3] ?? Infinity)]
const dir = path.dirname(sock), end = Date.now() + ms
const sockModes = new Set(), dirModes = new Set()
let appearances = 0, present = false, probes = 0, since = 0
while (Date.now() < end && !(present && Date.now() - since > settle)) {
  probes++
  try {
    const st = fs.lstatSync(sock)
    if (!present) { present = true; appearances++; since = Date.now() }
    sockModes.add((st.mode & 0o777).toString(8))
  } catch { present = false }
  if (probes % 8 === 0) {
    try { for (const e of fs.readdirSync(dir)) if (e.startsWith('.s')) dirModes.add((fs.lstatSync(path.join(dir, e)).mode & 0o777).toString(8)) } catch {}
  }
}
console.log(JSON.stringify({ appearances, probes, sockModes: [...sockModes], dirModes: [...dirModes] }))
`

// Tries to connect to the socket path for `ms`, again and again; counts connections made.
const CONNECTOR = `
const net = require('net')
const [sock, ms] = [process.argv[1], Number(process.argv[2])]
const end = Date.now() + ms
let connected = 0, tries = 0
function attempt () {
  if (Date.now() > end) { console.log(JSON.stringify({ connected, tries })); return }
  tries++
  const s = net.connect(sock)
  s.on('connect', () => { connected++; s.write('{"id":1,"method":"status"}\\n'); s.destroy(); setImmediate(attempt) })
  s.on('error', () => setImmediate(attempt))
}
attempt()
`

async function runScript<T> (script: string, args: string[], uid?: number): Promise<{ done: Promise<T> }> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(uid === undefined ? {} : { uid, gid: uid }) })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const done = new Promise<T>((resolve, reject) => child.on('close', (code) => {
    if (code === 0) resolve(JSON.parse(out) as T)
    else reject(new Error(`script exited ${code}: ${err}`))
  }))
  // Let the process start before the race begins.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return { done }
}

let dir: string
let oldUmask: number
beforeAll(async () => {
  oldUmask = process.umask(0)
  dir = await mkdtemp(join(tmpdir(), 'aura-sockrace-'))
  await chmod(dir, 0o755)
})
afterAll(async () => {
  process.umask(oldUmask)
  await rm(dir, { recursive: true, force: true })
})

describe.skipIf(!isRoot)('the control socket under umask 000 in a 0755 folder', () => {
  it('a process running as nobody connects to an open socket there (the control run)', async () => {
    const home = join(dir, 'control')
    await mkdir(home, { mode: 0o755 })
    const sock = controlSocketPath(home)
    const server = createServer((s) => s.destroy())
    await new Promise<void>((resolve) => server.listen(sock, resolve))
    try {
      expect((await stat(sock)).mode & 0o777).toBe(0o777)
      const connector = await runScript<{ connected: number, tries: number }>(CONNECTOR, [sock, '1500'], NOBODY)
      expect((await connector.done).connected).toBeGreaterThan(0)
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }, 30_000)

  it('is never seen looser than 0600 and nobody ever connects, over 40 starts', async () => {
    const home = join(dir, 'home')
    await mkdir(home, { mode: 0o755 })
    expect((await stat(home)).mode & 0o777).toBe(0o755)
    const sock = controlSocketPath(home)
    const raceMs = 12_000
    const watcher = await runScript<{ appearances: number, probes: number, sockModes: string[], dirModes: string[] }>(
      WATCHER,
      [sock, String(raceMs)]
    )
    const connector = await runScript<{ connected: number, tries: number }>(CONNECTOR, [sock, String(raceMs)], NOBODY)
    let starts = 0
    const until = Date.now() + raceMs - 2000
    while (starts < 40 && Date.now() < until) {
      const server = await startControlServer(home, { status: async () => ({ admin: 'answered' }) })
      starts++
      await new Promise((resolve) => setTimeout(resolve, 20))
      await server.close()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const seen = await watcher.done
    const tried = await connector.done
    console.log(`socket race: ${starts} starts, watcher saw ${seen.appearances} appearances in ${seen.probes} probes, modes ${seen.sockModes.join(',')}, staging folders ${seen.dirModes.join(',') || 'none seen'}; nobody tried ${tried.tries} connections`)
    expect(starts).toBeGreaterThanOrEqual(10)
    expect(seen.appearances).toBeGreaterThan(0)
    expect(seen.sockModes).toEqual(['600'])
    for (const m of seen.dirModes) expect(m).toBe('700')
    expect(tried.tries).toBeGreaterThan(100)
    expect(tried.connected).toBe(0)
  }, 60_000)
})

describe.skipIf(!isRoot)('the daemon under umask 000', () => {
  let team: Team | undefined
  afterAll(async () => { await team?.close() })

  it('refuses a 0755 home with E_PERMISSIONS and the chmod that fixes it; the socket never appears', async () => {
    team = await Team.create({ peers: [] })
    const home = team.m('mothership').home
    await team.stop('mothership')
    await chmod(home, 0o755)
    const sock = controlSocketPath(home)
    const watcher = await runScript<{ appearances: number, sockModes: string[] }>(WATCHER, [sock, '6000'])
    const failed = await team.sh('mothership', 'aura node start --foreground --listen /ip4/127.0.0.1/tcp/0')
    expect(failed.code).toBe(60)
    expect(failed.stderr).toContain('E_PERMISSIONS')
    expect(failed.stderr).toContain(`hint: chmod 700 ${home}`)
    expect((await watcher.done).appearances).toBe(0)
    await chmod(home, 0o700)
    const again = await runScript<{ appearances: number, sockModes: string[] }>(WATCHER, [sock, '60000', '1000'])
    await team.start('mothership')
    const seen = await again.done
    expect(seen.appearances).toBe(1)
    expect(seen.sockModes).toEqual(['600'])
  }, 180_000)
})
