/**
 * Value kinds of aura.toml keys: how each kind is validated (zod), normalised (durations to
 * seconds, sizes to bytes), read from an environment variable or flag string, and shown back.
 *
 * @example
 * duration({ min: 1 }).schema.parse('10m')   // 600
 * parseDuration('1h30m')                     // 5400
 */
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'

/** One kind of config value: its schema, what to tell a person who got it wrong, and env parsing. */
export interface ValueKind<T = unknown> {
  /** What a valid value looks like, for error messages. */
  readonly expect: string
  /** Validates a TOML value and normalises it (durations become seconds). */
  readonly schema: z.ZodType<T>
  /** Turns an environment variable or flag string into the value a TOML file would hold. */
  fromString: (s: string) => unknown
  /** The TOML spelling of a normalised value, for `config show` and the template; null: unset. */
  toToml: (v: T | null) => string | null
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1e6,
  mib: 1048576,
  gb: 1e9,
  gib: 1073741824
}
const SIZE = /^(\d+)\s*(b|kb|kib|mb|mib|gb|gib)$/i

/** Seconds in a duration string such as `90s`, `10m`, `1h30m`, `250ms`; undefined if malformed. */
export function parseDuration (s: string): number | undefined {
  const text = s.trim()
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text)
  if (!DURATION.test(text)) return undefined
  let total = 0
  for (const m of text.matchAll(DURATION_PART)) total += Number(m[1]) * DURATION_UNITS[m[2]]
  return total
}

/** Bytes in a size string such as `4MiB` or `65536`; undefined if malformed. */
export function parseSize (s: string): number | undefined {
  const text = s.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const m = SIZE.exec(text)
  return m === null ? undefined : Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]
}

function numberFromString (s: string): unknown {
  return /^-?\d+(?:\.\d+)?$/.test(s.trim()) ? Number(s) : s
}

const quote = (s: string): string => JSON.stringify(s)

function orUnset<T> (f: (v: T) => string): (v: T | null) => string | null {
  return (v) => v === null ? null : f(v)
}

/** A duration in seconds: a number of seconds or a string like `10m`. */
export function duration (opts: { min?: number } = {}): ValueKind<number> {
  const min = opts.min ?? 0
  const expect = `a duration of at least ${min} s: a number of seconds or a string such as "30s", "10m", "1h30m"`
  const schema = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const secs = typeof v === 'number' ? v : parseDuration(v)
    if (secs === undefined || !Number.isFinite(secs) || secs < min) {
      ctx.addIssue({ code: 'custom', message: expect })
      return z.NEVER
    }
    return secs
  })
  return { expect, schema, fromString: numberFromString, toToml: orUnset(String) }
}

/** A duration that may be switched off with `false` or `"off"` (normalised to null). */
export function optionalDuration (opts: { min?: number } = {}): ValueKind<number | null> {
  const inner = duration(opts)
  const expect = `${inner.expect}, or "off" / false`
  const schema = z.union([z.literal(false), z.literal('off'), inner.schema]).transform((v) => v === false || v === 'off' ? null : v)
  return {
    expect,
    schema,
    fromString: (s) => ['off', 'false', 'no'].includes(s.trim().toLowerCase()) ? 'off' : numberFromString(s),
    toToml: (v) => v === null ? '"off"' : String(v)
  }
}

/** A whole number of at least `min`. */
export function integer (opts: { min: number }): ValueKind<number> {
  const schema = z.number().int().min(opts.min).max(Number.MAX_SAFE_INTEGER)
  return { expect: `a whole number of at least ${opts.min}`, schema, fromString: numberFromString, toToml: orUnset(String) }
}

/** A size in bytes: a whole number or a string like `4MiB`. */
export function size (opts: { min: number, max?: number }): ValueKind<number> {
  const max = opts.max ?? Number.MAX_SAFE_INTEGER
  const expect = `a size of at least ${opts.min}${opts.max === undefined ? '' : ` and at most ${opts.max}`} bytes: a whole number or a string such as "64KiB", "4MiB"`
  const schema = z.union([z.number(), z.string()]).transform((v, ctx) => {
    const bytes = typeof v === 'number' ? v : parseSize(v)
    if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < opts.min || bytes > max) {
      ctx.addIssue({ code: 'custom', message: expect })
      return z.NEVER
    }
    return bytes
  })
  return { expect, schema, fromString: numberFromString, toToml: orUnset(String) }
}

/** true or false. */
export function boolean (): ValueKind<boolean> {
  const words: Record<string, boolean> = {
    true: true,
    false: false,
    1: true,
    0: false,
    yes: true,
    no: false,
    on: true,
    off: false
  }
  return {
    expect: 'true or false',
    schema: z.boolean(),
    fromString: (s) => words[s.trim().toLowerCase()] ?? s,
    toToml: orUnset(String)
  }
}

/** A non-empty string, optionally matching a pattern. */
export function text (opts: { pattern?: RegExp, expect?: string } = {}): ValueKind<string> {
  const expect = opts.expect ?? 'a non-empty string'
  let schema = z.string().min(1)
  if (opts.pattern !== undefined) schema = schema.regex(opts.pattern)
  return { expect, schema, fromString: (s) => s, toToml: orUnset(quote) }
}

/** A string that may be left unset (null). An empty string also means unset. */
export function optionalText (): ValueKind<string | null> {
  const schema = z.string().transform((s) => s === '' ? null : s)
  return { expect: 'a string', schema, fromString: (s) => s, toToml: orUnset(quote) }
}

/** One of a fixed set of strings. */
export function oneOf<const T extends readonly [string, ...string[]]> (values: T): ValueKind<T[number]> {
  return {
    expect: `one of ${values.map(quote).join(', ')}`,
    schema: z.enum(values) as unknown as z.ZodType<T[number]>,
    fromString: (s) => s,
    toToml: orUnset(quote)
  }
}

function isMultiaddr (s: string): boolean {
  try {
    multiaddr(s)
    return s.startsWith('/')
  } catch {
    return false
  }
}

/** A list of libp2p multiaddrs, such as `["/ip4/0.0.0.0/tcp/7447"]`. */
export function multiaddrs (): ValueKind<string[]> {
  return {
    expect: 'a list of multiaddrs such as ["/ip4/0.0.0.0/tcp/7447"]',
    schema: z.array(z.string().refine(isMultiaddr)),
    fromString: (s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''),
    toToml: orUnset((v) => `[${v.map(quote).join(', ')}]`)
  }
}

/** A short description of a value as a person wrote it, for error messages. */
export function describeValue (v: unknown): string {
  if (typeof v === 'string') return quote(v)
  if (Array.isArray(v)) return `[${v.map(describeValue).join(', ')}]`
  if (v !== null && typeof v === 'object') return v instanceof Date ? v.toISOString() : 'a table'
  return String(v)
}

/** `name=value,name2=value2` (OTEL_EXPORTER_OTLP_HEADERS' form, values percent-decoded) as a table. */
export function parseHeaderList (s: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of s.split(',')) {
    const eq = part.indexOf('=')
    if (part.trim() === '') continue
    // Kept as given, so the schema refuses it with the key named.
    if (eq <= 0) return { [part.trim()]: undefined as unknown as string }
    let value = part.slice(eq + 1).trim()
    try { value = decodeURIComponent(value) } catch { /* not percent-encoded */ }
    out[part.slice(0, eq).trim()] = value
  }
  return out
}

/**
 * HTTP headers: a TOML table of strings, `{ authorization = "Bearer ..." }`;
 * from env or flags `name=value,name2=value2`.
 */
export function headerMap (): ValueKind<Record<string, string>> {
  return {
    expect: 'a table of header names and string values such as { authorization = "Bearer ..." } (in env or --set: "name=value,name2=value2")',
    schema: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/), z.string()),
    fromString: parseHeaderList,
    toToml: orUnset((v) => Object.keys(v).length === 0 ? '{}' : `{ ${Object.entries(v).map(([k, x]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : quote(k)} = ${quote(x)}`).join(', ')} }`)
  }
}
