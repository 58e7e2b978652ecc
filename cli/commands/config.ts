/**
 * `aura config show`: the merged config (defaults, aura.toml, AURA_* environment, --set flags)
 * and where each value came from. The human form is TOML with the source as a comment. With a
 * daemon running, every key whose value the daemon does not use is marked: "restart needed"
 * (it reads that key only at start) or the value it uses instead; a refused reload is shown.
 *
 * @example
 * aura config show --set sync.max_staleness=10m
 * aura config show --json | jq '.sources["sync.max_staleness"]'
 */
import { isDeepStrictEqual } from 'node:util'
import type { ConfigState } from '../../node/config-reload.js'
import type { Colors } from '../output.js'
import type { Program } from '../program.js'

/** Registers `aura config show`. */
export function register (program: Program): void {
  program.command('config show', 'Print the merged config and where each value came from', async ({ io }) => {
    const { CONFIG_KEYS, SECTIONS, effectiveTokenTtl, formatSource } = await import('../../node/config.js')
    const { valueAt } = await import('../../node/config-reload.js')
    const loaded = await io.config()
    const daemon = await daemonConfig(await io.home())
    const differs = new Map<string, { uses: unknown, restartNeeded: boolean }>()
    for (const k of CONFIG_KEYS) {
      if (daemon === null) break
      const uses = valueAt({ ...loaded, config: daemon.config }, k.path)
      if (!isDeepStrictEqual(
        uses,
        valueAt(loaded, k.path)
      )) differs.set(k.path, { uses, restartNeeded: daemon.restartNeeded.some((r) => r.key === k.path) })
    }
    const data = {
      home: await io.home(),
      file: loaded.file,
      fileExists: loaded.fileExists,
      config: redactConfig(loaded.config),
      sources: Object.fromEntries(Object.entries(loaded.sources).map(([k, s]) => [k, { ...s, text: formatSource(s) }])),
      effective: { join_token_ttl: effectiveTokenTtl(daemon?.config ?? loaded.config) },
      daemon: daemon === null
        ? null
        : {
            running: true,
            reloadError: daemon.error,
            restartNeeded: daemon.restartNeeded.map((r) => r.key),
            differs: Object.fromEntries([...differs].map(([k, d]) => [k, { ...d, uses: redacted(k, d.uses) }]))
          },
      warnings: loaded.warnings
    }
    const text = (c: Colors): string => {
      const lines = [c.dim(`# ${loaded.file}${loaded.fileExists ? '' : ' (not present: defaults)'}`)]
      for (const section of SECTIONS) {
        const rows = CONFIG_KEYS.filter((x) => x.section === section).map((k) => {
          const shown = k.kind.toToml(redacted(k.path, valueAt(loaded, k.path)))
          const d = differs.get(k.path)
          const note = d === undefined ? '' : `; ${d.restartNeeded ? 'restart needed: ' : ''}the running daemon uses ${k.kind.toToml(redacted(k.path, d.uses)) ?? 'unset'}`
          return { left: shown === null ? `# ${k.name} (unset)` : `${k.name} = ${shown}`, unset: shown === null, origin: formatSource(loaded.sources[k.path]) + note, differs: d !== undefined }
        })
        const width = Math.max(...rows.map((r) => r.left.length))
        lines.push('', c.bold(`[${section}]`))
        for (const r of rows) lines.push(`${r.unset ? c.dim(r.left.padEnd(width)) : r.left.padEnd(width)}  ${r.differs ? c.yellow(`# ${r.origin}`) : c.dim(`# ${r.origin}`)}`)
      }
      lines.push('', c.dim(`# effective join token TTL: ${data.effective.join_token_ttl} s${daemon === null ? '' : ' (the running daemon\'s)'}`))
      if (daemon?.error != null) lines.push(c.red(`# the daemon refused to reload aura.toml (${daemon.error.at}) and keeps its running config: ${daemon.error.message}`))
      if (daemon !== null && daemon.restartNeeded.length > 0) lines.push(c.yellow(`# restart needed for ${daemon.restartNeeded.map((r) => r.key).join(', ')}: \`aura node stop\` then \`aura node start\``))
      return lines.join('\n')
    }
    return { data, text }
  }).example('aura config show --json')
}

// The running daemon's config, or null when none answers.
async function daemonConfig (home: string): Promise<ConfigState | null> {
  const { callControl, pingControl } = await import('../../node/control/client.js')
  if (!await pingControl(home)) return null
  return await callControl(home, 'config-state', {}) as ConfigState
}

/** Keys whose values are credentials: shown by name only (header names stay, values do not). */
const SECRET_KEYS = new Set(['audit.export.headers'])

function redacted (path: string, value: unknown): unknown {
  if (!SECRET_KEYS.has(path) || value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.keys(value).map((name) => [name, '<redacted>']))
}

function redactConfig<T> (config: T): T {
  const copy = structuredClone(config) as Record<string, Record<string, unknown>>
  for (const path of SECRET_KEYS) {
    const parts = path.split('.')
    const name = parts.pop() as string
    let at: Record<string, unknown> | undefined = copy
    for (const p of parts) at = at?.[p] as Record<string, unknown> | undefined
    if (at !== undefined && name in at) at[name] = redacted(path, at[name])
  }
  return copy as T
}
