/**
 * Where each key sits in a TOML source. smol-toml reports positions only for syntax errors, so
 * value errors and unknown-key warnings find their line here by scanning table headers and
 * `key =` lines (skipping the inside of multi-line strings).
 *
 * @example
 * const lines = keyLines('[sync]\nmax_staleness = "x"\n')
 * lineOf(lines, 'sync.max_staleness') // 2
 */

const HEADER = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$/
const BARE = /^[A-Za-z0-9_-]+/

/** Dotted path (`audit.export.enabled`, or a table `audit.export`) → 1-based line number. */
export function keyLines (source: string): Map<string, number> {
  const out = new Map<string, number>()
  let table: string[] = []
  let inMultiline: '"""' | "'''" | null = null
  const lines = source.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (inMultiline !== null) {
      if (count(line, inMultiline) % 2 === 1) inMultiline = null
      continue
    }
    const header = HEADER.exec(line)
    if (header !== null) {
      const keys = parseDottedKey(header[1])
      if (keys !== null && keys.rest.trim() === '') {
        table = keys.parts
        setOnce(out, table.join('.'), i + 1)
      }
      continue
    }
    const keys = parseDottedKey(line)
    if (keys === null || !keys.rest.trimStart().startsWith('=')) continue
    setOnce(out, [...table, ...keys.parts].join('.'), i + 1)
    const value = keys.rest.trimStart().slice(1)
    for (const q of ['"""', "'''"] as const) {
      if (count(value, q) % 2 === 1) inMultiline = q
    }
  }
  return out
}

/** The line of a path, or of its nearest enclosing key or table when the path itself is inline. */
export function lineOf (lines: Map<string, number>, path: string): number | undefined {
  const parts = path.split('.')
  for (let n = parts.length; n > 0; n--) {
    const line = lines.get(parts.slice(0, n).join('.'))
    if (line !== undefined) return line
  }
  return undefined
}

function setOnce (map: Map<string, number>, key: string, line: number): void {
  if (!map.has(key)) map.set(key, line)
}

function count (s: string, needle: string): number {
  return s.split(needle).length - 1
}

// Parses a (possibly dotted, possibly quoted) key at the start of `s`; returns the parts and
// what follows the key.
function parseDottedKey (s: string): { parts: string[], rest: string } | null {
  const parts: string[] = []
  let rest = s.trimStart()
  for (;;) {
    const one = parseSimpleKey(rest)
    if (one === null) return null
    parts.push(one.key)
    rest = one.rest.trimStart()
    if (!rest.startsWith('.')) return { parts, rest }
    rest = rest.slice(1).trimStart()
  }
}

function parseSimpleKey (s: string): { key: string, rest: string } | null {
  if (s.startsWith('"')) {
    const m = /^"((?:[^"\\]|\\.)*)"/.exec(s)
    if (m === null) return null
    let key: string
    try {
      key = JSON.parse(`"${m[1]}"`) as string
    } catch {
      key = m[1]
    }
    return { key, rest: s.slice(m[0].length) }
  }
  if (s.startsWith("'")) {
    const end = s.indexOf("'", 1)
    return end < 0 ? null : { key: s.slice(1, end), rest: s.slice(end + 1) }
  }
  const m = BARE.exec(s)
  return m === null ? null : { key: m[0], rest: s.slice(m[0].length) }
}
