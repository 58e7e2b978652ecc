/**
 * `aura config show`: the merged config (defaults, aura.toml, AURA_* environment, --set flags)
 * and where each value came from. The human form is TOML with the source as a comment.
 *
 * @example
 * aura config show --set sync.max_staleness=10m
 * aura config show --json | jq '.sources["sync.max_staleness"]'
 */
import type { LoadedConfig } from '../../node/config.js'
import type { Colors } from '../output.js'
import type { Program } from '../program.js'

/** Registers `aura config show`. */
export function register (program: Program): void {
  program.command('config show', 'Print the merged config and where each value came from', async ({ io }) => {
    const { CONFIG_KEYS, SECTIONS, effectiveTokenTtl, formatSource } = await import('../../node/config.js')
    const loaded = await io.config()
    const data = {
      home: await io.home(),
      file: loaded.file,
      fileExists: loaded.fileExists,
      config: loaded.config,
      sources: Object.fromEntries(Object.entries(loaded.sources).map(([k, s]) => [k, { ...s, text: formatSource(s) }])),
      effective: { join_token_ttl: effectiveTokenTtl(loaded.config) },
      warnings: loaded.warnings
    }
    const text = (c: Colors): string => {
      const lines = [c.dim(`# ${loaded.file}${loaded.fileExists ? '' : ' (not present: defaults)'}`)]
      for (const section of SECTIONS) {
        const rows = CONFIG_KEYS.filter((x) => x.section === section).map((k) => {
          const shown = k.kind.toToml(valueAt(loaded, k.path))
          return { left: shown === null ? `# ${k.name} (unset)` : `${k.name} = ${shown}`, unset: shown === null, origin: formatSource(loaded.sources[k.path]) }
        })
        const width = Math.max(...rows.map((r) => r.left.length))
        lines.push('', c.bold(`[${section}]`))
        for (const r of rows) lines.push(`${r.unset ? c.dim(r.left.padEnd(width)) : r.left.padEnd(width)}  ${c.dim(`# ${r.origin}`)}`)
      }
      lines.push('', c.dim(`# effective join token TTL: ${effectiveTokenTtl(loaded.config)} s`))
      return lines.join('\n')
    }
    return { data, text }
  }).example('aura config show --json')
}

function valueAt (loaded: LoadedConfig, path: string): unknown {
  let cur: unknown = loaded.config
  for (const part of path.split('.')) cur = (cur as Record<string, unknown>)[part]
  return cur
}
