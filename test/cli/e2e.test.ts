// End-to-end: the real `node bin/aura.js` in temporary homes. Builds dist/ first when it is
// missing or older than the sources these tests cover.
import { spawn } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers.js'
import { ensureBuilt } from '../build-dist.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

interface Run { code: number | null, stdout: string, stderr: string }

let scratch: { dir: string, cleanup: () => Promise<void> }

function aura (args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/aura.js'), ...args], {
      cwd: scratch.dir,
      env: { PATH: process.env.PATH ?? '', HOME: scratch.dir, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 20_000)
    child.on('error', reject)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

beforeAll(async () => {
  ensureBuilt()
  scratch = await tempDir('aura-e2e-')
}, 200_000)

afterAll(async () => { await scratch?.cleanup() })

describe('aura (spawned)', () => {
  it('init creates a 0700 home with a 0600 key, and refuses a second init', async () => {
    const home = path.join(scratch.dir, 'alice')
    const first = await aura(['init', '--home', home])
    expect(first.code).toBe(0)
    expect(first.stdout).toContain(`Initialised node home ${home}`)
    expect((await stat(home)).mode & 0o777).toBe(0o700)
    expect((await stat(path.join(home, 'identity.key'))).mode & 0o777).toBe(0o600)
    const key = await readFile(path.join(home, 'identity.key'), 'utf8')

    const second = await aura(['init', '--home', home])
    expect(second.code).toBe(6)
    expect(second.stdout).toBe('')
    expect(second.stderr).toContain(`error E_EXISTS: an identity already exists at ${path.join(home, 'identity.key')}`)
    expect(await readFile(path.join(home, 'identity.key'), 'utf8')).toBe(key)

    const json = await aura(['init', '--home', home, '--json'])
    expect(json.code).toBe(6)
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'E_EXISTS', path: path.join(home, 'identity.key') })
  })

  it('id --json gives short id, key id, public key and PeerId; AURA_HOME and ~/.aura are honoured', async () => {
    const init = await aura(['init', '--json'])
    expect(init.code).toBe(0)
    const created = JSON.parse(init.stdout)
    expect(created.home).toBe(path.join(scratch.dir, '.aura'))
    const id = await aura(['id', '--json'], { AURA_HOME: created.home })
    expect(id.code).toBe(0)
    const shown = JSON.parse(id.stdout)
    expect(shown.peer).toMatch(/^peer-[0-9a-f]{4}$/)
    expect(shown.key).toMatch(/^[0-9a-f]{64}$/)
    expect(shown.key.startsWith(shown.peer.slice(5))).toBe(true)
    expect(shown.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(shown.peerId).toMatch(/^12D3KooW[1-9A-HJ-NP-Za-km-z]+$/)
    expect(shown).toMatchObject({ key: created.key, peerId: created.peerId })
  })

  it('config show with a bad value: E_CONFIG naming the key and line, non-zero exit', async () => {
    const home = path.join(scratch.dir, 'bob')
    expect((await aura(['init', '--home', home])).code).toBe(0)
    const file = path.join(home, 'aura.toml')
    await writeFile(file, '[mothership]\njoin_token_ttl = 600\n\n[sync]\nmax_staleness = "a while"\n')
    const human = await aura(['config', 'show', '--home', home])
    expect(human.code).toBe(3)
    expect(human.stdout).toBe('')
    expect(human.stderr).toContain(`error E_CONFIG: ${file}:5: [sync] max_staleness: expected a duration`)

    const json = await aura(['config', 'show', '--home', home, '--json'])
    expect(json.code).toBe(3)
    const { error } = JSON.parse(json.stdout)
    expect(error).toMatchObject({ code: 'E_CONFIG', key: 'sync.max_staleness', file, line: 5 })
    expect(error.message).toContain('[sync] max_staleness')
  })

  it('config show names [audit.export] headers but never prints their values (credentials)', async () => {
    const home = path.join(scratch.dir, 'hedda')
    expect((await aura(['init', '--home', home])).code).toBe(0)
    await writeFile(path.join(home, 'aura.toml'), '[audit.export]\nheaders = { authorization = "Bearer s3cr3t-token", "x-tenant" = "acme-9" }\n')
    const human = await aura(['config', 'show', '--home', home])
    expect(human.code).toBe(0)
    expect(human.stdout).toContain('authorization')
    expect(human.stdout).toContain('<redacted>')
    const json = await aura(['config', 'show', '--home', home, '--json'])
    expect(json.code).toBe(0)
    expect(JSON.parse(json.stdout).config.audit.export.headers).toEqual({ authorization: '<redacted>', 'x-tenant': '<redacted>' })
    for (const out of [human.stdout, json.stdout, human.stderr, json.stderr]) {
      expect(out).not.toContain('s3cr3t-token')
      expect(out).not.toContain('acme-9')
    }
  })

  it('unknown keys are warnings on stderr; stdout stays parseable JSON', async () => {
    const home = path.join(scratch.dir, 'carol')
    expect((await aura(['init', '--home', home])).code).toBe(0)
    await writeFile(path.join(home, 'aura.toml'), '[hooks]\nlarge_diff_threshold_files = 20\nlarge_diff_treshold_lines = 2000\n')
    const r = await aura(['config', 'show', '--home', home, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).config.hooks.large_diff_threshold_files).toBe(20)
    expect(r.stderr).toBe(`warning: ${path.join(home, 'aura.toml')}:3: unknown key [hooks] large_diff_treshold_lines (ignored); did you mean large_diff_threshold_lines?\n`)
  })

  it('unknown command: E_USAGE, exit 2, JSON error shape under --json', async () => {
    const r = await aura(['frobnicate', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'E_USAGE', message: "unknown command 'frobnicate'", hint: 'run `aura --help` to list commands' } })
    expect(r.stderr).toBe('')
  })

  it('--help and --version', async () => {
    const help = await aura(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('config show')
    const version = await aura(['--version'])
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'))
    expect(version.stdout.trim()).toBe(pkg.version)
  })
})
