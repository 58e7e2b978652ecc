/**
 * The aura.toml that `aura init` writes: every section, every key commented out at its default,
 * so the file documents itself and loads to exactly the defaults.
 *
 * @example
 * await writeFile(join(home, 'aura.toml'), configTemplate({ username: 'alice', hostname: 'laptop' }))
 */
import { CONFIG_KEYS, SECTIONS, type SystemInfo } from './keys.js'
import { defaultValue } from './defaults.js'

const PREAMBLE = `# aura.toml: configuration of this Aura node.
#
# Every key is optional; each is shown commented out at its default. Durations take a number
# of seconds or a string such as "30s", "10m", "1h30m". An environment variable
# AURA_<SECTION>_<KEY> (e.g. AURA_SYNC_MAX_STALENESS) overrides this file, and
# \`aura config show\` prints the merged result with where each value came from.
`

/** The text of a fresh aura.toml. */
export function configTemplate (system: SystemInfo): string {
  const parts = [PREAMBLE]
  for (const section of SECTIONS) {
    parts.push(`\n[${section}]\n`)
    for (const k of CONFIG_KEYS.filter((x) => x.section === section)) {
      const shown = k.kind.toToml(defaultValue(k, system)) ?? k.example ?? '""'
      parts.push(`${wrap(k.doc)}# ${k.name} = ${shown}\n`)
    }
  }
  return parts.join('')
}

// Comment lines of at most ~96 columns, so the file reads well in a terminal.
function wrap (doc: string): string {
  const lines: string[] = []
  let cur = '#'
  for (const word of doc.split(' ')) {
    if (cur.length + word.length + 1 > 96 && cur !== '#') { lines.push(cur); cur = '#' }
    cur += ` ${word}`
  }
  lines.push(cur)
  return lines.map((l) => `${l}\n`).join('')
}
