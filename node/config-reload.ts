/**
 * A running daemon's config: re-read when `aura.toml` changes (a watch on the home, debounced)
 * and on SIGHUP, validated, and applied key by key. Live keys (node/config/keys.ts `live`) take
 * the new value at once; the others keep the value the daemon started with and are reported as
 * "restart needed". A file that does not load leaves the running config as it was, with the
 * error kept for the log, `aura status` and `aura config show`.
 *
 * A command the daemon executes runs with the daemon's config: `--set` or `AURA_*` given to
 * such a command is checked here, and refused when it differs from what the daemon uses
 * (`checkCallOverrides`), rather than silently ignored.
 *
 * @example
 * const reloader = ConfigReloader.start(rt, { env: process.env, log: (m) => process.stderr.write(m) })
 * reloader.state()   // { restartNeeded: ['node.listen'], error: null, ... }
 * reloader.stop()
 */
import { watch, type FSWatcher } from 'node:fs'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { toAuraError, UsageError } from '../crdt/errors.js'
import { CONFIG_KEYS, configPath, formatSource, label, loadConfig, type ConfigSource, type LoadedConfig } from './config.js'
import type { NodeRuntime } from './runtime.js'

const DEBOUNCE_MS = 200

/** What the daemon's config is now, for status and `config show`. */
export interface ConfigState {
  /** Keys whose value in aura.toml (or the daemon's environment) is not in effect until a restart. */
  restartNeeded: Array<{ key: string, running: unknown, configured: unknown }>
  /** The last reload that failed (the running config was kept), or null. */
  error: { message: string, at: string } | null
  /** When the config in effect was last (re)loaded. */
  loadedAt: string
  /** The config in effect and where each value came from. */
  config: LoadedConfig['config']
  sources: Record<string, ConfigSource>
}

/** A value of a loaded config by dotted path. */
export function valueAt (loaded: LoadedConfig, p: string): unknown {
  let cur: unknown = loaded.config
  for (const part of p.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[part]
  return cur
}

/**
 * The config a running daemon uses after a reload: `next` for live keys, `started` for the
 * others, and the keys that differ from what runs until a restart.
 */
export function mergeReload (started: LoadedConfig, next: LoadedConfig): { applied: LoadedConfig, restartNeeded: ConfigState['restartNeeded'] } {
  const config = structuredClone(next.config) as unknown as Record<string, Record<string, unknown>>
  const sources = { ...next.sources }
  const restartNeeded: ConfigState['restartNeeded'] = []
  for (const k of CONFIG_KEYS) {
    if (k.live) continue
    const running = valueAt(started, k.path)
    const configured = valueAt(next, k.path)
    setAt(config, k.path, structuredClone(running))
    sources[k.path] = started.sources[k.path]
    if (!isDeepStrictEqual(running, configured)) restartNeeded.push({ key: k.path, running, configured })
  }
  return { applied: { ...next, config: config as unknown as LoadedConfig['config'], sources }, restartNeeded }
}

/** Values a command was given with `--set` or `AURA_*`, by dotted path, as its own config loaded them. */
export type CallOverrides = Record<string, { value: unknown, source: string }>

/** The overrides in a loaded config: the keys whose value came from a flag or the environment. */
export function callOverrides (loaded: LoadedConfig): CallOverrides {
  const out: CallOverrides = {}
  for (const [p, s] of Object.entries(loaded.sources)) {
    if (s.kind === 'flag' || s.kind === 'env') out[p] = { value: valueAt(loaded, p), source: formatSource(s) }
  }
  return out
}

/**
 * Refuses overrides the daemon does not use (E_USAGE naming each): the command would run with
 * the daemon's value, and saying nothing would be a silent success.
 */
export function checkCallOverrides (running: LoadedConfig, overrides: CallOverrides): void {
  const differing = Object.entries(overrides).filter(([p, o]) => !isDeepStrictEqual(valueAt(running, p), o.value))
  if (differing.length === 0) return
  const what = differing.map(([p, o]) => `${label(p)} = ${JSON.stringify(o.value)} (${o.source}; the daemon uses ${JSON.stringify(valueAt(running, p))})`)
  throw new UsageError(`the running daemon executes this command with its own config, not ${what.join(', ')}`, {
    keys: differing.map(([p]) => p),
    hint: 'put the value in aura.toml (live keys take effect at once, see `aura config show`), or stop the daemon (`aura node stop`) to run the command on its own'
  })
}

/** Options of ConfigReloader.start. */
export interface ReloaderInit {
  /** The daemon's environment, read again on each reload. */
  env: Record<string, string | undefined>
  /** Where reload outcomes go: the daemon's log. */
  log: (line: string) => void
  /** Called after a reload that changed live keys (their dotted paths), for the parts that hold a copy of a value. */
  changed?: (keys: string[]) => void
}

/** Watches a daemon's aura.toml and applies it; see the module comment. */
export class ConfigReloader {
  private readonly started: LoadedConfig
  private watcher: FSWatcher | null = null
  private timer: NodeJS.Timeout | undefined
  private restartNeeded: ConfigState['restartNeeded'] = []
  private error: ConfigState['error'] = null
  private loadedAt: number
  private running: Promise<void> = Promise.resolve()
  private readonly onHup = (): void => { void this.reload('SIGHUP') }

  private constructor (private readonly rt: NodeRuntime, private readonly init: ReloaderInit) {
    this.started = rt.loaded
    this.loadedAt = rt.now()
  }

  /** Starts watching the home for changes to aura.toml, and listening for SIGHUP. */
  static start (rt: NodeRuntime, init: ReloaderInit): ConfigReloader {
    const r = new ConfigReloader(rt, init)
    const file = path.basename(configPath(rt.home))
    // The directory, not the file: editors replace the file (write and rename), and the file
    // may not exist yet when the daemon starts.
    r.watcher = watch(rt.home, { persistent: false }, (_event, name) => {
      if (name !== null && name.toString() !== file) return
      if (r.timer !== undefined) clearTimeout(r.timer)
      r.timer = setTimeout(() => { r.timer = undefined; void r.reload('aura.toml changed') }, DEBOUNCE_MS)
    })
    r.watcher.on('error', (err) => init.log(`aura: watching ${rt.home} for aura.toml changes failed: ${err.message}; send SIGHUP to reload`))
    process.on('SIGHUP', r.onHup)
    return r
  }

  /** Re-reads aura.toml now; resolves once applied (or refused). Reloads run one at a time. */
  async reload (why: string): Promise<void> {
    this.running = this.running.then(async () => await this.apply(why))
    await this.running
  }

  /** The config in effect, what waits for a restart, and the last reload error. */
  state (): ConfigState {
    return {
      restartNeeded: this.restartNeeded,
      error: this.error,
      loadedAt: new Date(this.loadedAt).toISOString(),
      config: this.rt.loaded.config,
      sources: this.rt.loaded.sources
    }
  }

  /** Stops watching and listening. */
  stop (): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.watcher?.close()
    process.off('SIGHUP', this.onHup)
  }

  private async apply (why: string): Promise<void> {
    let next: LoadedConfig
    try {
      next = await loadConfig(this.rt.home, { env: this.init.env, flags: startFlags(this.started), cwd: process.cwd() })
    } catch (err) {
      const e = toAuraError(err)
      this.error = { message: e.message, at: new Date(this.rt.now()).toISOString() }
      this.init.log(`aura: config reload (${why}) refused, the running config is kept: ${e.code}: ${e.message}`)
      return
    }
    const { applied, restartNeeded } = mergeReload(this.started, next)
    const changed = CONFIG_KEYS.filter(
      (k) => k.live && !isDeepStrictEqual(valueAt(this.rt.loaded, k.path), valueAt(applied, k.path))
    ).map((k) => k.path)
    this.rt.loaded = applied
    this.restartNeeded = restartNeeded
    this.error = null
    this.loadedAt = this.rt.now()
    for (const w of next.warnings) this.init.log(`aura: warning: ${w}`)
    const pending = restartNeeded.length === 0 ? '' : `; restart needed for ${restartNeeded.map((r) => r.key).join(', ')}`
    if (changed.length > 0) this.init.changed?.(changed)
    this.init.log(`aura: config reloaded (${why}): ${changed.length === 0 ? 'no live key changed' : `now in effect: ${changed.join(', ')}`}${pending}`)
  }
}

// The `--set` flags the daemon was started with, so a reload keeps them above aura.toml.
function startFlags (started: LoadedConfig): Record<string, unknown> {
  const flags: Record<string, unknown> = {}
  for (const [p, s] of Object.entries(started.sources)) if (s.kind === 'flag') flags[p] = valueAt(started, p)
  return flags
}

function setAt (obj: Record<string, any>, p: string, value: unknown): void {
  const parts = p.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) cur = cur[part]
  cur[parts[parts.length - 1]] = value
}
