/**
 * Argument fixes applied around cac, which matches a command on one word and turns numeric
 * option values into numbers:
 * - multi-word commands (`config show`, `mothership revoke-peer`) are joined into one token
 *   before parsing, so cac sees the command name it was registered under;
 * - a boolean flag is spelt `--json=true` so it never swallows the next word;
 * - option values are read back from argv as the exact strings typed (`--to 0123` stays "0123").
 *
 * @example
 * joinCommandWords(['--home', '/h', 'config', 'show'], specs, ['config show'])  // ['--home', '/h', 'config show']
 * spellBooleans(['config show', '--json'], specs)                              // ['config show', '--json=true']
 */

/** One option as typed on the command line. */
export interface OptionSpec {
  /** Spellings without dashes, as typed: `['h', 'help']`, `['dry-run']`. */
  flags: string[]
  /** cac's camel-cased names, the keys in parsed options: `['h', 'help']`, `['dryRun']`. */
  names: string[]
  /** True for `--name <value>` / `--name [value]`, false for boolean flags. */
  takesValue: boolean
}

/** The spec of a cac option from its raw name (`-s, --since <duration>`) and names. */
export function optionSpec (rawName: string, names: string[]): OptionSpec {
  const flags = rawName.replace(/[<[].*/, '').split(',').map((f) => f.trim().replace(/^-{1,2}/, '')).filter((f) => f !== '')
  return { flags, names, takesValue: /[<[]/.test(rawName) }
}

function flagOf (token: string): string | undefined {
  if (!token.startsWith('-') || token === '-' || token === '--') return undefined
  return token.replace(/^-{1,2}/, '').split('=')[0]
}

function specFor (token: string, specs: readonly OptionSpec[]): OptionSpec | undefined {
  const flag = flagOf(token)
  return flag === undefined ? undefined : specs.find((s) => s.flags.includes(flag))
}

/** Joins the leading words of a multi-word command (`config show`) into one token. */
export function joinCommandWords (
  args: readonly string[],
  specs: readonly OptionSpec[],
  commandNames: readonly string[]
): string[] {
  const positions = positionalIndices(args, specs)
  const words = positions.map((i) => args[i])
  let best = 0
  for (const name of commandNames) {
    const parts = name.split(' ')
    if (parts.length > best && parts.every((p, k) => words[k] === p)) best = parts.length
  }
  if (best < 2) return [...args]
  const drop = new Set(positions.slice(1, best))
  return args.flatMap((t, i) => i === positions[0] ? [words.slice(0, best).join(' ')] : drop.has(i) ? [] : [t])
}

/** Spells each boolean flag `--flag=true`, so the parser never takes the next word as its value. */
export function spellBooleans (args: readonly string[], specs: readonly OptionSpec[]): string[] {
  const out = [...args]
  for (let i = 0; i < out.length; i++) {
    const t = out[i]
    if (t === '--') break
    const spec = specFor(t, specs)
    if (spec === undefined || t.includes('=') || t.startsWith('--no-')) continue
    if (spec.takesValue) i++
    else out[i] = `${t}=true`
  }
  return out
}

/** The values given for an option, as typed, in order; `true` for an optional value left out. */
export function rawValues (args: readonly string[], spec: OptionSpec): Array<string | true> {
  const values: Array<string | true> = []
  for (let i = 0; i < args.length; i++) {
    const t = args[i]
    if (t === '--') break
    if (!spec.flags.includes(flagOf(t) ?? '')) continue
    const eq = t.indexOf('=')
    if (eq >= 0) values.push(t.slice(eq + 1))
    else if (i + 1 < args.length && flagOf(args[i + 1]) === undefined && args[i + 1] !== '--') values.push(args[++i])
    else values.push(true)
  }
  return values
}

/** The positional words of argv before `--` (the command the user meant comes first). */
export function leadingWords (args: readonly string[], specs: readonly OptionSpec[]): string[] {
  return positionalIndices(args, specs).map((i) => args[i])
}

/** The flags typed (before `--`) that no spec knows, as typed: `['--bogus']`. */
export function unknownFlags (args: readonly string[], specs: readonly OptionSpec[]): string[] {
  const unknown: string[] = []
  for (let i = 0; i < args.length; i++) {
    const t = args[i]
    if (t === '--') break
    if (flagOf(t) === undefined) continue
    const spec = specFor(t, specs)
    if (spec === undefined) unknown.push(t.split('=')[0])
    else if (spec.takesValue && !t.includes('=')) i++
  }
  return unknown
}

function positionalIndices (args: readonly string[], specs: readonly OptionSpec[]): number[] {
  const positions: number[] = []
  for (let i = 0; i < args.length; i++) {
    const t = args[i]
    if (t === '--') break
    if (flagOf(t) === undefined) positions.push(i)
    else if (specFor(t, specs)?.takesValue === true && !t.includes('=')) i++
  }
  return positions
}
