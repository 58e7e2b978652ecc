// Start-up failures in real processes, each with its documented code and no libp2p text or
// stack: a listen address another process holds is E_ADDRESS_IN_USE naming the address and
// where it was set (never moved to another port when the operator chose it); a missing home is
// E_NOT_INITIALISED; a file given as the home is E_USAGE.
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aura, ensureBuilt, ok, type RunResult } from './helpers.js'
import { tempDir } from '../cli/helpers.js'

let dir: string
let cleanup: () => Promise<void>
let home: string
let held: net.Server
let port: number

beforeAll(async () => {
  ensureBuilt()
  ;({ dir, cleanup } = await tempDir('aura-start-fail-'))
  home = path.join(dir, 'home')
  ok(await aura(['init', '--home', home, '--json'], { cwd: dir }))
  held = net.createServer()
  held.listen(0, '127.0.0.1')
  await once(held, 'listening')
  port = (held.address() as net.AddressInfo).port
}, 60_000)

afterAll(async () => {
  held?.close()
  await aura(['node', 'stop', '--home', home], { cwd: dir })
  await cleanup?.()
})

function noInternals (r: RunResult): void {
  const all = r.stdout + r.stderr
  expect(all).not.toMatch(/faultTolerance|transportManager|\n\s+at |Error: listen/)
}

describe('a listen address in use', { timeout: 60_000 }, () => {
  it('--listen (background start): E_ADDRESS_IN_USE, exit 12, naming the address and the flag; nothing moved', async () => {
    const r = await aura(['node', 'start', '--home', home, '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--json'], { cwd: dir })
    expect(r.code, r.stdout + r.stderr).toBe(12)
    expect(r.json.error).toMatchObject({ code: 'E_ADDRESS_IN_USE' })
    expect(r.json.error.message).toContain(`127.0.0.1:${port}`)
    expect(r.json.error.message).toContain('--listen')
    expect(r.json.error.hint).toContain('--listen')
    noInternals(r)
    // No daemon came up on some other port instead.
    expect((await aura(['node', 'stop', '--home', home, '--json'], { cwd: dir })).json).toEqual({ stopped: false, running: false })
  })

  it('--listen --foreground: the same error on stderr, no stack', async () => {
    const r = await aura(['node', 'start', '--foreground', '--home', home, '--listen', `/ip4/127.0.0.1/tcp/${port}`], { cwd: dir })
    expect(r.code).toBe(12)
    expect(r.stderr).toMatch(new RegExp(`^error E_ADDRESS_IN_USE: 127\\.0\\.0\\.1:${port} is already in use .*flag --listen`, 'm'))
    noInternals(r)
  })

  it('[node] listen in aura.toml: names the key, the file and its line', async () => {
    const h2 = path.join(dir, 'home2')
    ok(await aura(['init', '--home', h2, '--json'], { cwd: dir }))
    await writeFile(path.join(h2, 'aura.toml'), `# test\n[node]\nlisten = ["/ip4/127.0.0.1/tcp/${port}"]\n`, { mode: 0o600 })
    const r = await aura(['node', 'start', '--foreground', '--home', h2, '--json'], { cwd: dir })
    expect(r.code).toBe(12)
    expect(r.json.error).toMatchObject({ code: 'E_ADDRESS_IN_USE', key: 'node.listen', file: path.join(h2, 'aura.toml'), line: 3, address: `127.0.0.1:${port}` })
    expect(r.json.error.message).toContain(`[node] listen in ${path.join(h2, 'aura.toml')}:3`)
    noInternals(r)
  })
})

describe('the home', { timeout: 30_000 }, () => {
  it('a home that does not exist: E_NOT_INITIALISED (exit 10) saying how to create it, and nothing created', async () => {
    const missing = path.join(dir, 'nobody')
    for (const args of [['node', 'start'], ['node', 'start', '--foreground'], ['status']]) {
      const r = await aura([...args, '--home', missing, '--json'], { cwd: dir })
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(10)
      expect(r.json.error.code).toBe('E_NOT_INITIALISED')
      expect(r.json.error.hint).toMatch(/aura up|aura init/)
    }
    expect(existsSync(missing)).toBe(false)
  })

  it('a file given as the home: E_USAGE (exit 2), for every command', async () => {
    const file = path.join(dir, 'a-file')
    await writeFile(file, 'not a home')
    for (const args of [['node', 'start'], ['status'], ['init'], ['up']]) {
      const r = await aura([...args, '--home', file, '--json'], { cwd: dir })
      expect(r.code, `${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(2)
      expect(r.json.error).toMatchObject({ code: 'E_USAGE', home: file })
      expect(r.json.error.message).toContain('is not a directory')
    }
    const env = await aura(['status', '--json'], { cwd: dir, env: { AURA_HOME: file } })
    expect(env.json.error.code).toBe('E_USAGE')
  })
})
