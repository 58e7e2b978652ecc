/**
 * Node configuration: `aura.toml` in the node home, checked against the key table
 * (node/config/keys.ts), merged with defaults, `AURA_*` environment variables and flags, with a
 * record of where every value came from. Precedence, lowest first:
 * default < aura.toml < environment < flags.
 *
 * A wrong value is an E_CONFIG error naming the key and the line of aura.toml; an unknown key is
 * a warning, so a config written for a newer version still loads.
 *
 * @example
 * const flags = { 'sync.max_staleness': '10m' }
 * const { config, sources, warnings } = await loadConfig(home, { env: process.env, flags })
 * config.sync.max_staleness                    // 600 (seconds)
 * formatSource(sources['sync.max_staleness'])  // 'flag'
 * effectiveTokenTtl(config)                    // 3600 unless a join_token_ttl is set
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { ConfigError, type ErrorContext } from '../crdt/errors.js'
import { CONFIG_KEYS, DEFAULT_JOIN_TOKEN_TTL, SECTIONS, configKey, type ConfigKey, type SystemInfo } from './config/keys.js'
import { defaultValue, thisSystem } from './config/defaults.js'
import { keyLines, lineOf } from './config/toml-lines.js'
import { describeValue } from './config/values.js'
import { closest } from './config/suggest.js'

export { CONFIG_KEYS, DEFAULT_JOIN_TOKEN_TTL, SECTIONS, configKey, type ConfigKey, type SystemInfo } from './config/keys.js'
export { configTemplate } from './config/template.js'
export { parseDuration, parseSize } from './config/values.js'

/** The merged, normalised configuration. Durations are seconds; null means unset or off. */
export interface AuraConfig {
  node: { listen: string[], peers: string[], announce: string[], discover: boolean, mdns: boolean, relay: 'auto' | 'on' | 'off', name: string, host: string }
  workspace: { path: string | null, apply: 'auto' | 'manual' }
  mothership: {
    join_token_ttl: number | null,
    beacon_interval: number,
    join_attempts_per_source: number,
    join_attempts_per_token: number,
    join_audit_per_token: number
  }
  crypto: { join_token_ttl: number | null }
  sync: {
    anti_entropy_interval: number,
    receipt_interval: number,
    max_staleness: number | null,
    max_clock_skew: number,
    max_frame_bytes: number,
    max_message_bytes: number,
    max_buffered_message_bytes: number,
    handshake_timeout: number,
    idle_timeout: number,
    unadmitted_bytes: number,
    max_sessions_per_key: number,
    max_unadmitted_sessions: number
  }
  /** Written into the genesis entry by `aura mothership init`; peers enforce the genesis value. */
  quotas: { records_per_hour: number, bytes_per_hour: number, max_record_bytes: number }
  audit: { export: { enabled: boolean, format: 'jsonl' | 'otlp', endpoint: string | null, headers: Record<string, string>, compression: 'gzip' | 'none', on_failure: 'buffer' | 'drop', buffer_path: string } }
  agents: {
    defaults: {
      role: string,
      max_ttl: number,
      require_explicit_role: boolean,
      max_commits_per_hour: number,
      deny_capability_escalation: boolean
    }
    enforcement: { log_all_calls: boolean }
  }
  hooks: { large_diff_threshold_files: number, large_diff_threshold_lines: number }
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', max_size: number, keep: number }
}

/** Where a value came from. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file', path: string, line: number | null }
  | { kind: 'env', name: string }
  | { kind: 'flag', name: string }

/** What loadConfig returns: the config, the source of every key (by dotted path), warnings. */
export interface LoadedConfig {
  config: AuraConfig
  sources: Record<string, ConfigSource>
  /** Unknown keys, conflicting TTLs: for people, printed to stderr by the CLI. */
  warnings: string[]
  /** The aura.toml that was (or would have been) read. */
  file: string
  fileExists: boolean
}

/** Inputs besides the file. */
export interface LoadConfigOptions {
  /** Environment to read `AURA_*` overrides from. Default: process.env. */
  env?: Record<string, string | undefined>
  /** Overrides by dotted path (`'sync.max_staleness': '10m'`); strings are parsed like env values. */
  flags?: Record<string, unknown>
  /** Machine-dependent defaults. Default: this machine's user and host names. */
  system?: SystemInfo
  /** Base for relative paths given in env or flags. Default: process.cwd(). */
  cwd?: string
}

/** The config file's path in a node home. */
export function configPath (home: string): string {
  return path.join(home, 'aura.toml')
}

/** Loads `<home>/aura.toml` (absent: all defaults) merged with env and flags. */
export async function loadConfig (home: string, opts: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const file = configPath(home)
  let source: string | null = null
  try {
    source = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') throw new ConfigError(`cannot read ${file}: ${code ?? (err as Error).message}`, { file })
  }
  return parseConfig(source, { ...opts, file, home })
}

/** Parses config text (null: no file) for a home; what loadConfig does after reading. */
export function parseConfig (
  source: string | null,
  opts: LoadConfigOptions & { file: string, home: string }
): LoadedConfig {
  const { file, home } = opts
  const env = opts.env ?? process.env
  const system = opts.system ?? thisSystem()
  const slots = new Map<string, { value: unknown, source: ConfigSource }>()
  for (const k of CONFIG_KEYS) slots.set(k.path, { value: defaultValue(k, system), source: { kind: 'default' } })
  const problems: Array<{ message: string, context: ErrorContext }> = []
  const warnings: string[] = []

  const apply = (k: ConfigKey, raw: unknown, source: ConfigSource): void => {
    const r = k.kind.schema.safeParse(raw)
    if (r.success) {
      slots.set(k.path, { value: r.data, source })
    } else {
      problems.push({
        message: `${where(source, file)}: ${label(k.path)}: expected ${k.kind.expect}, got ${describeValue(raw)}`,
        context: { key: k.path, ...contextOf(source) }
      })
    }
  }

  if (source !== null) {
    const doc = parseToml(source, file)
    const lines = keyLines(source)
    walk(doc, [], (p, value) => {
      const k = configKey(p)
      const line = lineOf(lines, p) ?? null
      if (k !== undefined) apply(k, value, { kind: 'file', path: file, line })
      else warnings.push(unknownKeyWarning(p, value, `${file}${line === null ? '' : `:${line}`}`))
    })
  }
  for (const k of CONFIG_KEYS) {
    const s = env[k.envName]
    if (s !== undefined && s !== '') apply(k, k.kind.fromString(s), { kind: 'env', name: k.envName })
  }
  for (const [p, raw] of Object.entries(opts.flags ?? {})) {
    const k = configKey(p)
    if (k === undefined) {
      const hint = closest(p, CONFIG_KEYS.map((x) => x.path))
      throw new ConfigError(`unknown config key '${p}'${hint === undefined ? '' : `; did you mean '${hint}'?`}`, { key: p })
    }
    apply(k, typeof raw === 'string' ? k.kind.fromString(raw) : raw, { kind: 'flag', name: `--set ${p}` })
  }
  if (problems.length === 0) checkAuditExport(slots, file, env, problems)
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => p.message).join('\n'), {
      ...problems[0].context,
      file,
      problems: problems.map((p) => p.message)
    })
  }

  resolvePaths(slots, home, opts.cwd ?? process.cwd())
  const config = {} as Record<string, unknown>
  const sources: Record<string, ConfigSource> = {}
  for (const [p, slot] of slots) {
    setPath(config, p, slot.value)
    sources[p] = slot.source
  }
  const loaded: LoadedConfig = {
    config: config as unknown as AuraConfig,
    sources,
    warnings,
    file,
    fileExists: source !== null
  }
  const ttlWarning = tokenTtlWarning(loaded)
  if (ttlWarning !== undefined) warnings.push(ttlWarning)
  return loaded
}

/**
 * The join token lifetime in seconds. `[mothership]` and `[crypto] join_token_ttl` are one
 * setting spelt two ways (the operator docs use both); when both are set the shorter wins, so
 * following either instruction to tighten the TTL always tightens it.
 */
export function effectiveTokenTtl (config: AuraConfig): number {
  const set = [config.mothership.join_token_ttl, config.crypto.join_token_ttl].filter((x): x is number => x !== null)
  return set.length === 0 ? DEFAULT_JOIN_TOKEN_TTL : Math.min(...set)
}

/** A source for people: `default`, `aura.toml:12`, `env AURA_SYNC_MAX_STALENESS`, `flag --set x`. */
export function formatSource (s: ConfigSource): string {
  switch (s.kind) {
    case 'default': return 'default'
    case 'file': return `${path.basename(s.path)}${s.line === null ? '' : `:${s.line}`}`
    case 'env': return `env ${s.name}`
    case 'flag': return `flag ${s.name}`
  }
}

/** A dotted path as people read it in docs: `[audit.export] enabled`. */
export function label (p: string): string {
  const i = p.lastIndexOf('.')
  return i < 0 ? p : `[${p.slice(0, i)}] ${p.slice(i + 1)}`
}

function parseToml (source: string, file: string): Record<string, unknown> {
  try {
    return parse(source) as Record<string, unknown>
  } catch (err) {
    if (!(err instanceof TomlError)) throw err
    const reason = err.message.split('\n')[0].replace(/^Invalid TOML document: /, '')
    throw new ConfigError(`${file}:${err.line}:${err.column}: invalid TOML: ${reason}`, { file, line: err.line, column: err.column })
  }
}

function isTable (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
}

const isSectionOrParent = (p: string): boolean => SECTIONS.some((s) => s === p || s.startsWith(`${p}.`))

// Calls `visit` for every leaf that is a known key or not part of any known section.
function walk (table: Record<string, unknown>, prefix: string[], visit: (p: string, value: unknown) => void): void {
  for (const [name, value] of Object.entries(table)) {
    const p = [...prefix, name].join('.')
    if (configKey(p) === undefined && isSectionOrParent(p) && isTable(value)) walk(value, [...prefix, name], visit)
    else visit(p, value)
  }
}

function unknownKeyWarning (p: string, value: unknown, at: string): string {
  const parent = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : ''
  const name = p.slice(parent.length === 0 ? 0 : parent.length + 1)
  const known = (SECTIONS as readonly string[]).includes(parent)
  const candidates = known
    ? CONFIG_KEYS.filter((k) => k.section === parent).map((k) => k.name)
    : [...SECTIONS, ...SECTIONS.map((s) => s.split('.')[0])]
  const what = known || !isTable(value) ? `unknown key ${label(p)}` : `unknown section [${p}]`
  const guess = closest(known ? name : p, candidates)
  return `${at}: ${what} (ignored)${guess === undefined ? '' : `; did you mean ${known ? guess : `[${guess}]`}?`}`
}

function where (s: ConfigSource, file: string): string {
  switch (s.kind) {
    case 'file': return `${s.path}${s.line === null ? '' : `:${s.line}`}`
    case 'env': return `environment variable ${s.name}`
    case 'flag': return `flag ${s.name}`
    case 'default': return file
  }
}

function contextOf (s: ConfigSource): ErrorContext {
  switch (s.kind) {
    case 'file': return { file: s.path, line: s.line }
    case 'env': return { env: s.name }
    case 'flag': return { flag: s.name }
    case 'default': return {}
  }
}

type Slots = Map<string, { value: unknown, source: ConfigSource }>

function checkAuditExport (
  slots: Slots,
  file: string,
  env: Record<string, string | undefined>,
  problems: Array<{ message: string, context: ErrorContext }>
): void {
  const get = (name: string) => slots.get(`audit.export.${name}`)!
  if (get('enabled').value !== true || get('format').value !== 'otlp') return
  const endpoint = get('endpoint')
  if (typeof endpoint.value === 'string' && /^https?:\/\/[^/\s]+/.test(endpoint.value)) return
  // Unset: the OpenTelemetry variables name the collector (checked where they are used).
  if (endpoint.value === null && otelEndpoint(env) !== null) return
  const blame = endpoint.source.kind !== 'default' ? endpoint.source : get('format').source
  problems.push({
    message: `${where(blame, file)}: ${label('audit.export.endpoint')}: expected an http:// or https:// URL when format = "otlp", got ${describeValue(endpoint.value ?? 'nothing')}`,
    context: { key: 'audit.export.endpoint', ...contextOf(blame) }
  })
}

// Relative paths in aura.toml (and defaults) are relative to the home, so a home can be moved
// whole; paths from env and flags are relative to where the command ran, as people expect.
function resolvePaths (slots: Slots, home: string, cwd: string): void {
  const paths = ['workspace.path', 'audit.export.buffer_path']
  if (slots.get('audit.export.format')!.value === 'jsonl') paths.push('audit.export.endpoint')
  for (const p of paths) {
    const slot = slots.get(p)!
    if (typeof slot.value !== 'string') continue
    const expanded = slot.value === '~' || slot.value.startsWith('~/') ? path.join(os.homedir(), slot.value.slice(1)) : slot.value
    const base = slot.source.kind === 'env' || slot.source.kind === 'flag' ? cwd : home
    slot.value = path.resolve(base, expanded)
  }
}

function tokenTtlWarning (loaded: LoadedConfig): string | undefined {
  const m = loaded.config.mothership.join_token_ttl
  const c = loaded.config.crypto.join_token_ttl
  if (m === null || c === null || m === c) return undefined
  const at = (p: string): string => formatSource(loaded.sources[p])
  return `${label('mothership.join_token_ttl')} = ${m} (${at('mothership.join_token_ttl')}) and ` +
    `${label('crypto.join_token_ttl')} = ${c} (${at('crypto.join_token_ttl')}) differ; the shorter, ${Math.min(m, c)} s, is used`
}

function setPath (obj: Record<string, unknown>, p: string, value: unknown): void {
  const parts = p.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    if (!isTable(cur[part])) cur[part] = {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts[parts.length - 1]] = value
}

/**
 * The OTLP endpoint the standard variables name: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT.
 */
export function otelEndpoint (env: Record<string, string | undefined>): string | null {
  for (const name of ['OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT']) {
    const v = env[name]?.trim()
    if (v !== undefined && /^https?:\/\/[^/\s]+/.test(v)) return v
  }
  return null
}
