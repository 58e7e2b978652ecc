import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { AuraError } from '../../crdt/errors.js'
import {
  CONFIG_KEYS, DEFAULT_JOIN_TOKEN_TTL, configTemplate, effectiveTokenTtl, formatSource, loadConfig, parseConfig,
  type LoadConfigOptions
} from '../../node/config.js'

const system = { username: 'alice', hostname: 'alice-laptop' }
const HOME = '/homes/alice'
const FILE = `${HOME}/aura.toml`
const fixture = async (name: string) => await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

function load (source: string | null, opts: LoadConfigOptions = {}) {
  return parseConfig(source, { file: FILE, home: HOME, env: {}, system, cwd: '/work/cwd', ...opts })
}

function configError (fn: () => unknown): AuraError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(AuraError)
    expect((err as AuraError).code).toBe('E_CONFIG')
    return err as AuraError
  }
  throw new Error('expected an E_CONFIG error')
}

describe('defaults and template', () => {
  it('without a file every key has its default and source "default"', () => {
    const { config, sources, warnings, fileExists } = load(null)
    expect(fileExists).toBe(false)
    expect(warnings).toEqual([])
    expect(config.node).toEqual({ listen: ['/ip4/0.0.0.0/tcp/7447'], peers: [], announce: [], discover: true, mdns: true, relay: 'auto', name: 'alice', host: 'alice-laptop' })
    expect(config.sync.max_staleness).toBeNull()
    expect(config.audit.export.buffer_path).toBe(`${HOME}/audit-buffer`)
    expect(Object.keys(sources).sort()).toEqual(CONFIG_KEYS.map((k) => k.path).sort())
    expect(Object.values(sources).every((s) => s.kind === 'default')).toBe(true)
    expect(effectiveTokenTtl(config)).toBe(DEFAULT_JOIN_TOKEN_TTL)
  })

  it('the init template mentions every key under its section and loads to exactly the defaults', () => {
    const text = configTemplate(system)
    for (const k of CONFIG_KEYS) {
      const section = text.indexOf(`[${k.section}]\n`)
      expect(section, k.path).toBeGreaterThanOrEqual(0)
      expect(text.indexOf(`\n# ${k.name} = `, section), k.path).toBeGreaterThan(section)
    }
    const loaded = load(text)
    expect(loaded.warnings).toEqual([])
    expect(loaded.config).toEqual(load(null).config)
  })

  it('uncommenting every key of the template gives a valid config', () => {
    const text = configTemplate(system).replace(/^# ([a-z_]+ = .*)$/gm, '$1')
    const loaded = load(text)
    expect(loaded.warnings).toEqual([])
    expect(Object.values(loaded.sources).every((s) => s.kind === 'file')).toBe(true)
  })
})

describe('the operator docs\' config blocks, verbatim', () => {
  it('the hardened incident-response block loads cleanly with its values', async () => {
    const source = await fixture('seed-hardened.toml')
    const { config, sources, warnings } = load(source)
    expect(warnings).toEqual([])
    expect(config.mothership.join_token_ttl).toBe(600)
    expect(config.audit.export).toEqual({
      enabled: true, format: 'otlp', endpoint: 'https://collector.internal:4318', headers: {}, compression: 'gzip', on_failure: 'buffer', buffer_path: `${HOME}/audit-buffer`
    })
    expect(config.agents.defaults).toEqual({ role: 'reader', max_ttl: 7200, require_explicit_role: true, max_commits_per_hour: 120, deny_capability_escalation: true })
    expect(config.hooks).toEqual({ large_diff_threshold_files: 20, large_diff_threshold_lines: 2000 })
    expect(sources['mothership.join_token_ttl']).toEqual({ kind: 'file', path: FILE, line: 3 })
    expect(sources['hooks.large_diff_threshold_lines']).toEqual({ kind: 'file', path: FILE, line: 18 })
    expect(effectiveTokenTtl(config)).toBe(600)
  })

  it('the [crypto] block (with its trailing comment) and the [agents.enforcement] block load cleanly', async () => {
    const crypto = load(await fixture('seed-crypto.toml'))
    expect(crypto.warnings).toEqual([])
    expect(crypto.config.crypto.join_token_ttl).toBe(600)
    expect(effectiveTokenTtl(crypto.config)).toBe(600)
    const enforcement = load(await fixture('seed-agents-enforcement.toml'))
    expect(enforcement.warnings).toEqual([])
    expect(enforcement.config.agents.enforcement.log_all_calls).toBe(true)
  })

  it('all three blocks together load without warnings (both TTLs agree at 600)', async () => {
    const all = ['seed-hardened.toml', 'seed-crypto.toml', 'seed-agents-enforcement.toml']
    const { warnings, config } = load((await Promise.all(all.map(fixture))).join(''))
    expect(warnings).toEqual([])
    expect(effectiveTokenTtl(config)).toBe(600)
  })
})

describe('values', () => {
  it('durations take seconds or strings', () => {
    const { config } = load('[sync]\nanti_entropy_interval = "250ms"\nreceipt_interval = "1h30m"\nmax_staleness = "10m"\n[agents.defaults]\nmax_ttl = "2d"\n')
    expect(config.sync.anti_entropy_interval).toBe(0.25)
    expect(config.sync.receipt_interval).toBe(5400)
    expect(config.sync.max_staleness).toBe(600)
    expect(config.agents.defaults.max_ttl).toBe(172800)
  })

  it('max_staleness can be switched off with "off" or false', () => {
    expect(load('[sync]\nmax_staleness = "off"\n').config.sync.max_staleness).toBeNull()
    expect(load('[sync]\nmax_staleness = false\n').config.sync.max_staleness).toBeNull()
  })

  it('sizes take bytes or unit strings', () => {
    expect(load('[sync]\nmax_frame_bytes = "64KiB"\n').config.sync.max_frame_bytes).toBe(65536)
    expect(load('[sync]\nmax_frame_bytes = 70000\n').config.sync.max_frame_bytes).toBe(70000)
    expect(load('[sync]\nmax_message_bytes = "1GiB"\n').config.sync.max_message_bytes).toBe(1024 ** 3)
  })

  it('a wrong value names the key and its line', () => {
    const err = configError(() => load('# comment\n\n[sync]\nreceipt_interval = 60\nmax_staleness = "soon"\n'))
    expect(err.message).toContain(`${FILE}:5`)
    expect(err.message).toContain('[sync] max_staleness')
    expect(err.message).toContain('"soon"')
    expect(err.context).toMatchObject({ key: 'sync.max_staleness', file: FILE, line: 5 })
  })

  it('a wrong type names the key and its line', () => {
    const err = configError(() => load('[hooks]\nlarge_diff_threshold_files = "many"\nlarge_diff_threshold_lines = 2000\n'))
    expect(err.message).toMatch(/aura\.toml:2: \[hooks\] large_diff_threshold_files: expected a whole number/)
    expect(err.context.line).toBe(2)
  })

  it('keys given as dotted keys or in inline tables are located too', () => {
    expect(configError(() => load('[audit]\nexport.format = "xml"\n')).context).toMatchObject({ key: 'audit.export.format', line: 2 })
    expect(configError(() => load('\nagents = { defaults = { role = "Bad Role" } }\n')).context).toMatchObject({ key: 'agents.defaults.role', line: 2 })
  })

  it('every problem is reported, the first one in the context', () => {
    const err = configError(() => load('[workspace]\napply = "sometimes"\n[node]\nlisten = ["not-a-multiaddr"]\n'))
    expect(err.context.problems).toHaveLength(2)
    expect(err.context.line).toBe(2)
    expect(err.message).toContain(':4: [node] listen')
  })

  it('a syntax error gives line and column', () => {
    const err = configError(() => load('[sync]\nmax_staleness = \n'))
    expect(err.context).toMatchObject({ file: FILE, line: 2 })
    expect(err.message).toMatch(/aura\.toml:2:\d+: invalid TOML/)
  })

  it('OTLP export needs an http(s) endpoint', () => {
    const err = configError(() => load('[audit.export]\nenabled = true\nformat = "otlp"\n'))
    expect(err.context).toMatchObject({ key: 'audit.export.endpoint', line: 3 })
    const bad = configError(() => load('[audit.export]\nenabled = true\nformat = "otlp"\nendpoint = "collector:4318"\n'))
    expect(bad.context.line).toBe(4)
  })

  it('relative paths: file values against the home, env and flag values against the cwd', () => {
    expect(load('[workspace]\npath = "repo"\n').config.workspace.path).toBe(`${HOME}/repo`)
    expect(load(null, { flags: { 'workspace.path': 'repo' } }).config.workspace.path).toBe('/work/cwd/repo')
    expect(load(null, { env: { AURA_AUDIT_EXPORT_BUFFER_PATH: 'buf' } }).config.audit.export.buffer_path).toBe('/work/cwd/buf')
    expect(load('[workspace]\npath = "~/src/x"\n').config.workspace.path).toBe(path.join(os.homedir(), 'src/x'))
  })
})

describe('unknown keys', () => {
  it('are warnings with the line and a suggestion, never errors', () => {
    const { warnings, config } = load('[sync]\nmax_stalenes = "1h"\n[mothership]\nbeacon_interval = 5\n[telemetry]\nlevel = 1\n')
    expect(config.mothership.beacon_interval).toBe(5)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toBe(`${FILE}:2: unknown key [sync] max_stalenes (ignored); did you mean max_staleness?`)
    expect(warnings[1]).toBe(`${FILE}:5: unknown section [telemetry] (ignored)`)
  })

  it('an unknown key under a parent of sections is reported at its line', () => {
    const { warnings } = load('[agents]\nlog_all_calls = true\n')
    expect(warnings).toEqual([`${FILE}:2: unknown key [agents] log_all_calls (ignored)`])
  })
})

describe('join token TTL: [mothership] and [crypto]', () => {
  it('when both are set and differ the shorter wins, with a warning naming both', () => {
    const { config, warnings } = load('[mothership]\njoin_token_ttl = 3600\n[crypto]\njoin_token_ttl = "10m"\n')
    expect(effectiveTokenTtl(config)).toBe(600)
    expect(warnings).toEqual(['[mothership] join_token_ttl = 3600 (aura.toml:2) and [crypto] join_token_ttl = 600 (aura.toml:4) differ; the shorter, 600 s, is used'])
    expect(effectiveTokenTtl(load('[mothership]\njoin_token_ttl = 300\n[crypto]\njoin_token_ttl = 600\n').config)).toBe(300)
  })

  it('either one alone is used; equal values give no warning', () => {
    expect(effectiveTokenTtl(load('[crypto]\njoin_token_ttl = 900\n').config)).toBe(900)
    expect(effectiveTokenTtl(load('[mothership]\njoin_token_ttl = 900\n').config)).toBe(900)
    expect(load('[mothership]\njoin_token_ttl = 900\n[crypto]\njoin_token_ttl = "15m"\n').warnings).toEqual([])
  })
})

describe('environment and flags', () => {
  it('precedence is default < file < env < flag, with sources', () => {
    const source = '[sync]\nreceipt_interval = 30\nanti_entropy_interval = 5\nmax_staleness = 100\n'
    const { config, sources } = load(source, {
      env: { AURA_SYNC_ANTI_ENTROPY_INTERVAL: '7', AURA_SYNC_MAX_STALENESS: '2m' },
      flags: { 'sync.max_staleness': '3m' }
    })
    expect(config.sync).toMatchObject({ receipt_interval: 30, anti_entropy_interval: 7, max_staleness: 180 })
    expect(formatSource(sources['sync.receipt_interval'])).toBe('aura.toml:2')
    expect(formatSource(sources['sync.anti_entropy_interval'])).toBe('env AURA_SYNC_ANTI_ENTROPY_INTERVAL')
    expect(formatSource(sources['sync.max_staleness'])).toBe('flag --set sync.max_staleness')
    expect(formatSource(sources['sync.max_frame_bytes'])).toBe('default')
  })

  it('env strings become lists, booleans and numbers', () => {
    const { config } = load(null, {
      env: { AURA_NODE_PEERS: '/ip4/127.0.0.5/tcp/7447, /ip4/127.0.0.6/tcp/7447', AURA_AUDIT_EXPORT_ENABLED: 'true', AURA_HOOKS_LARGE_DIFF_THRESHOLD_FILES: '12' }
    })
    expect(config.node.peers).toEqual(['/ip4/127.0.0.5/tcp/7447', '/ip4/127.0.0.6/tcp/7447'])
    expect(config.audit.export.enabled).toBe(true)
    expect(config.hooks.large_diff_threshold_files).toBe(12)
  })

  it('a bad env value names the variable and the key', () => {
    const err = configError(() => load(null, { env: { AURA_AGENTS_DEFAULTS_REQUIRE_EXPLICIT_ROLE: 'maybe' } }))
    expect(err.message).toBe('environment variable AURA_AGENTS_DEFAULTS_REQUIRE_EXPLICIT_ROLE: [agents.defaults] require_explicit_role: expected true or false, got "maybe"')
    expect(err.context).toMatchObject({ key: 'agents.defaults.require_explicit_role', env: 'AURA_AGENTS_DEFAULTS_REQUIRE_EXPLICIT_ROLE' })
  })

  it('an unknown flag key is an error with a suggestion', () => {
    expect(configError(() => load(null, { flags: { 'sync.max_stalenes': '1m' } })).message).toContain("did you mean 'sync.max_staleness'")
  })
})

describe('loadConfig from disk', () => {
  let dir: string | undefined
  afterEach(async () => { if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

  it('reads <home>/aura.toml, or gives defaults when it is absent', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-config-'))
    const absent = await loadConfig(dir, { env: {}, system })
    expect(absent.fileExists).toBe(false)
    await writeFile(path.join(dir, 'aura.toml'), '[workspace]\napply = "auto"\n')
    const present = await loadConfig(dir, { env: {}, system })
    expect(present.file).toBe(path.join(dir, 'aura.toml'))
    expect(present.config.workspace.apply).toBe('auto')
    expect(present.sources['workspace.apply']).toEqual({ kind: 'file', path: present.file, line: 2 })
  })
})

describe('[audit.export] headers', () => {
  it('a table of strings in aura.toml; "name=value,..." in env; anything else names the key', () => {
    const home = '/homes/alice'
    const file = `${home}/aura.toml`
    const fromFile = parseConfig('[audit.export]\nheaders = { authorization = "Bearer t", "x-tenant" = "acme" }\n', { file, home, env: {}, system })
    expect(fromFile.config.audit.export.headers).toEqual({ authorization: 'Bearer t', 'x-tenant': 'acme' })
    const fromEnv = parseConfig(null, { file, home, env: { AURA_AUDIT_EXPORT_HEADERS: 'authorization=Bearer%20t,x-tenant=acme' }, system })
    expect(fromEnv.config.audit.export.headers).toEqual({ authorization: 'Bearer t', 'x-tenant': 'acme' })
    expect(() => parseConfig('[audit.export]\nheaders = { authorization = 5 }\n', { file, home, env: {}, system })).toThrow(/\[audit\.export\] headers/)
    expect(() => parseConfig(null, { file, home, env: { AURA_AUDIT_EXPORT_HEADERS: 'no-equals-sign' }, system })).toThrow(/AURA_AUDIT_EXPORT_HEADERS/)
  })

  it('otlp with no endpoint is fine when OTEL_EXPORTER_OTLP_ENDPOINT names one, an error otherwise', () => {
    const home = '/homes/alice'
    const file = `${home}/aura.toml`
    const text = '[audit.export]\nenabled = true\nformat = "otlp"\n'
    expect(() => parseConfig(text, { file, home, env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, system })).not.toThrow()
    expect(() => parseConfig(text, { file, home, env: {}, system })).toThrow(/endpoint/)
  })
})
