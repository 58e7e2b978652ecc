// A command that talks to a running daemon loads the arg parser, the control-socket client and
// the output formatter, and none of the node's heavy machinery: that is what keeps `aura status`
// quick (bench/cli.ts has the figures). The real `node bin/aura.js` runs under a module-load hook
// that records every module the ESM loader loads, and every CommonJS module in require.cache.
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './helpers.js'
import { ensureBuilt } from '../build-dist.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Packages a daemon client must not load; each is what a command that opens the node needs. */
const HEAVY = ['libp2p', '@libp2p/', '@chainsafe/', '@automerge/automerge', 'level', 'classic-level', 'tree-sitter', 'pino', '@secretlint/', 'zod', 'sodium-native', '@noble/', '@modelcontextprotocol/']

// Runs in the loader's thread: appends each loaded URL to the file the preload names.
const HOOKS = `import { appendFileSync } from 'node:fs'
let file
export function initialize (data) { file = data.file }
export async function load (url, context, next) {
  appendFileSync(file, url + '\\n')
  return await next(url, context)
}
`
// Loaded with --import before bin/aura.js; at exit also lists the CommonJS modules required.
const PRELOAD = `import { register, createRequire } from 'node:module'
import { appendFileSync } from 'node:fs'
const file = process.env.MODULE_LOAD_LOG
register(new URL('./hooks.mjs', import.meta.url), { data: { file } })
const require = createRequire(import.meta.url)
process.on('exit', () => { appendFileSync(file, Object.keys(require.cache).map((p) => 'cjs:' + p).join('\\n') + '\\n') })
`

interface Run { code: number | null, stdout: string, stderr: string, modules: string[] }

let scratch: { dir: string, cleanup: () => Promise<void> }
let runs = 0

function aura (args: string[]): Promise<Run> {
  const log = path.join(scratch.dir, `modules-${runs++}.log`)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(path.join(scratch.dir, 'preload.mjs')).href, path.join(ROOT, 'bin/aura.js'), ...args], {
      cwd: scratch.dir,
      env: { PATH: process.env.PATH ?? '', HOME: scratch.dir, MODULE_LOAD_LOG: log },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 30_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      readFile(log, 'utf8').then((text) => { resolve({ code, stdout, stderr, modules: text.split('\n').filter((l) => l !== '') }) }, reject)
    })
  })
}

/** The heavy packages among the loaded modules. */
function heavy (modules: string[]): string[] {
  const packages = modules.flatMap((m) => {
    const at = m.lastIndexOf('/node_modules/')
    if (at < 0) return []
    const rest = m.slice(at + '/node_modules/'.length).split('/')
    return [rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]]
  })
  return [...new Set(packages)].filter((p) => HEAVY.some((h) => h.endsWith('/') ? p.startsWith(h) : p === h))
}

const home = (): string => path.join(scratch.dir, 'mothership')

beforeAll(async () => {
  ensureBuilt()
  scratch = await tempDir('aura-lazy-')
  await writeFile(path.join(scratch.dir, 'hooks.mjs'), HOOKS)
  await writeFile(path.join(scratch.dir, 'preload.mjs'), PRELOAD)
  for (const args of [['init'], ['mothership', 'init', '--team', 'acme'], ['node', 'start', '--listen', '/ip4/127.0.0.1/tcp/0']]) {
    const r = await aura([...args, '--home', home()])
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')}: ${r.stderr}`)
  }
}, 120_000)

afterAll(async () => {
  if (scratch === undefined) return
  await aura(['node', 'stop', '--home', home()])
  await scratch.cleanup()
}, 30_000)

describe('a command that talks to the daemon loads only the client', () => {
  for (const args of [['status'], ['status', '--json'], ['trace', '--since', '1h'], ['trace', '--since', '1h', '--json']]) {
    it(`aura ${args.join(' ')}`, async () => {
      const r = await aura([...args, '--home', home()])
      expect(r.code, r.stderr).toBe(0)
      // The hook saw the run: the control-socket client was loaded and answered.
      expect(r.modules.some((m) => m.endsWith('/dist/node/control/client.js'))).toBe(true)
      if (args[0] === 'status' && args.includes('--json')) expect(JSON.parse(r.stdout).daemon).toBe('running')
      expect(heavy(r.modules)).toEqual([])
      // Nor the other command modules (and what they import): only the one that registers it.
      const commands = r.modules.filter((m) => m.includes('/dist/cli/commands/')).map((m) => path.basename(m))
      expect(commands).toEqual([args[0] === 'status' ? 'node.js' : 'records.js'])
    }, 30_000)
  }

  it('aura id reads the key file without libp2p, libsodium or noble', async () => {
    const r = await aura(['id', '--json', '--home', home()])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).peerId).toMatch(/^12D3KooW/)
    expect(r.modules.some((m) => m.endsWith('/dist/node/identity.js'))).toBe(true)
    expect(heavy(r.modules)).toEqual([])
  }, 30_000)

  it('without a daemon the same command opens the store itself, and the hook sees that', async () => {
    const offline = path.join(scratch.dir, 'offline')
    expect((await aura(['init', '--home', offline])).code).toBe(0)
    const r = await aura(['status', '--json', '--home', offline])
    expect(JSON.parse(r.stdout).daemon).toBe('not running')
    expect(heavy(r.modules)).toEqual(expect.arrayContaining(['level', '@automerge/automerge']))
  }, 30_000)
})
