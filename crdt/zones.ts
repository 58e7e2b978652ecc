/**
 * Zones: signed claims over parts of the code. A zone is a `zone` record whose `data` is
 * `{v: 1, op: 'claim', patterns, mode, ttl}` (ttl in ms); a `zone` record with
 * `{v: 1, op: 'release'}` and the claim's id as `refs[0]` releases it. Both replicate like every
 * other record, and only *effective* records count (the caller passes the effective view), so a
 * revoked signer's claims beyond its cut stop counting on every replica at once.
 *
 * A pattern is a path glob (`src/auth/**`, `*.py`; a plain path also covers everything under
 * it) or a function (`src/auth/verify.py:verify_token`; a class name also covers its members).
 * `**` matches across `/`, `*` and `?` within one segment.
 *
 * Nothing here reads a clock: `zonesOf` is a pure fold, and expiry (`ts + ttl`, both signed) is
 * decided by `activeZones(zones, now)` at write time only, by the node's local write gate.
 *
 * @example
 * const zones = zonesOf(effectiveView(log.records(), chain).effective)
 * activeZones(zones, now).filter((z) => zoneCovers(z, { path: 'src/a.py', name: 'f' }))
 * patternsOverlap('src/auth/**', 'src/auth/verify.py:verify_token')   // true
 */
import { z } from 'zod'
import { UsageError } from './errors.js'
import type { KeyId, RecordId } from './ids.js'
import type { SignedRecord } from './record.js'

/** `warn`: writes inside the zone by others are reported; `block`: they are refused. */
export const ZONE_MODES = ['warn', 'block'] as const
/** How a zone is enforced. */
export type ZoneMode = typeof ZONE_MODES[number]

/** Most patterns in one claim, longest pattern, longest ttl (30 days). */
export const MAX_ZONE_PATTERNS = 64
export const MAX_ZONE_PATTERN_LENGTH = 512
export const MAX_ZONE_TTL_MS = 30 * 24 * 3600 * 1000

const pattern = z.string().min(1).max(MAX_ZONE_PATTERN_LENGTH)
const claimData = z.strictObject({
  v: z.literal(1),
  op: z.literal('claim'),
  patterns: z.array(pattern).min(1).max(MAX_ZONE_PATTERNS),
  mode: z.enum(ZONE_MODES),
  ttl: z.number().int().min(1).max(MAX_ZONE_TTL_MS)
})
const releaseData = z.strictObject({ v: z.literal(1), op: z.literal('release') })

/** The `data` of a claim record. */
export type ZoneClaimData = z.infer<typeof claimData>

/** One claim, as the fold sees it. */
export interface Zone {
  readonly id: RecordId
  readonly signer: KeyId
  readonly actor: string
  readonly patterns: readonly string[]
  readonly mode: ZoneMode
  /** The claim's signed `ts`. */
  readonly ts: number
  /** `ts + ttl`: after it the zone no longer binds writers (decided at write time). */
  readonly expiresAt: number
  /** The effective release record of the same signer, if any. */
  readonly releasedBy: RecordId | null
}

/** The claim data of a record, or undefined when it is not a well-formed claim. */
export function claimOf (record: SignedRecord): ZoneClaimData | undefined {
  if (record.kind !== 'zone') return undefined
  const parsed = claimData.safeParse(record.data)
  return parsed.success && parsed.data.patterns.every(validPattern) ? parsed.data : undefined
}

/** Whether a record is a well-formed release (its claim is `refs[0]`). */
export function isRelease (record: SignedRecord): boolean {
  return record.kind === 'zone' && record.refs.length === 1 && releaseData.safeParse(record.data).success
}

/**
 * Every well-formed claim among `effective` records, oldest first, with its release. A release
 * counts only when its signer signed the claim: nobody releases another identity's zone.
 */
export function zonesOf (effective: ReadonlyMap<RecordId, SignedRecord> | Iterable<[RecordId, SignedRecord]>): Zone[] {
  const claims = new Map<RecordId, { record: SignedRecord, data: ZoneClaimData }>()
  const releases: Array<[RecordId, SignedRecord]> = []
  for (const [id, record] of effective) {
    if (record.kind !== 'zone') continue
    const data = claimOf(record)
    if (data !== undefined) claims.set(id, { record, data })
    else if (isRelease(record)) releases.push([id, record])
  }
  const released = new Map<RecordId, RecordId>()
  // Id order, so the release named is the same on every replica.
  for (const [id, r] of releases.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const claim = claims.get(r.refs[0])
    if (claim !== undefined && claim.record.signer === r.signer && !released.has(r.refs[0])) released.set(r.refs[0], id)
  }
  const out: Zone[] = []
  for (const [id, { record, data }] of claims) {
    out.push({
      id,
      signer: record.signer,
      actor: record.actor,
      patterns: data.patterns,
      mode: data.mode,
      ts: record.ts,
      expiresAt: record.ts + data.ttl,
      releasedBy: released.get(id) ?? null
    })
  }
  return out.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1))
}

/**
 * How far ahead of the local clock a claim's `ts` may be and still bind now. A claim dated
 * further ahead binds only once its time comes (and then for its ttl, at most 30 days), so a
 * member cannot make a zone last for ever by dating it in the future.
 */
export const ZONE_CLOCK_SKEW_MS = 5 * 60 * 1000

/** The zones that bind writers at `now`: not released, not expired, not dated in the future. */
export function activeZones (zones: readonly Zone[], now: number): Zone[] {
  return zones.filter((z) => z.releasedBy === null && z.expiresAt > now && z.ts <= now + ZONE_CLOCK_SKEW_MS)
}

/** A unit of code as a delta names it. */
export interface UnitRef {
  readonly path: string
  readonly name: string
}

/** Whether a zone covers a unit. */
export function zoneCovers (zone: Pick<Zone, 'patterns'>, unit: UnitRef): boolean {
  return zone.patterns.some((p) => patternCovers(p, unit))
}

/** Whether one pattern covers a unit. */
export function patternCovers (p: string, unit: UnitRef): boolean {
  const { path, name } = splitPattern(p)
  if (!pathMatches(path, unit.path)) return false
  if (name === null) return true
  // A class claimed covers its methods (`Class.method`).
  return globRegex(name, false).test(unit.name) || (!hasWildcard(name) && unit.name.startsWith(`${name}.`))
}

/**
 * Whether two patterns could cover one unit. Globs are compared by their literal prefixes
 * (what precedes the first wildcard), so the answer errs towards "overlap": a claim is refused
 * rather than let a zone be taken from under its owner.
 */
export function patternsOverlap (a: string, b: string): boolean {
  const pa = splitPattern(a)
  const pb = splitPattern(b)
  if (!pathsOverlap(pa.path, pb.path)) return false
  if (pa.name === null || pb.name === null) return true
  return prefixesMeet(literalPrefix(pa.name), literalPrefix(pb.name), hasWildcard(pa.name) || hasWildcard(pb.name)) ||
    pa.name.startsWith(`${pb.name}.`) || pb.name.startsWith(`${pa.name}.`)
}

/** Checks a pattern typed by a person; E_USAGE naming what is wrong. */
export function checkPattern (p: string): string {
  if (!validPattern(p)) {
    throw new UsageError(`'${p}' is not a zone pattern: use a workspace-relative path or glob (src/auth/**) or PATH:NAME (src/auth/verify.py:verify_token), without '..' or a leading '/'`, { pattern: p })
  }
  return p
}

function validPattern (p: string): boolean {
  if (p.length === 0 || p.length > MAX_ZONE_PATTERN_LENGTH || /[\0\\]/.test(p)) return false
  const { path, name } = splitPattern(p)
  if (path === '' || path.startsWith('/') || path.split('/').some((s) => s === '..' || s === '')) return false
  return name === null || (name !== '' && !name.includes(':'))
}

function splitPattern (p: string): { path: string, name: string | null } {
  const at = p.indexOf(':')
  return at < 0 ? { path: p, name: null } : { path: p.slice(0, at), name: p.slice(at + 1) }
}

function hasWildcard (s: string): boolean {
  return /[*?]/.test(s)
}

function literalPrefix (s: string): string {
  const at = s.search(/[*?]/)
  return at < 0 ? s : s.slice(0, at)
}

// Two literal prefixes can start one string when one is a prefix of the other (with a
// wildcard behind it); two literals must be equal.
function prefixesMeet (a: string, b: string, wild: boolean): boolean {
  return wild ? a.startsWith(b) || b.startsWith(a) : a === b
}

function pathsOverlap (a: string, b: string): boolean {
  if (!hasWildcard(a) && !hasWildcard(b)) return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)
  const la = literalPrefix(a)
  const lb = literalPrefix(b)
  return la.startsWith(lb) || lb.startsWith(la)
}

// A path pattern matches the path itself or anything under it (a plain directory claims it).
function pathMatches (pattern: string, path: string): boolean {
  return globRegex(pattern, true).test(path)
}

function globRegex (glob: string, underToo: boolean): RegExp {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*' && glob[i + 1] === '*') {
      // `**/` matches zero or more whole segments; a trailing `**` anything.
      if (glob[i + 2] === '/') { re += '(?:.*/)?'; i += 2 } else { re += '.*'; i++ }
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}${underToo ? '(?:/.*)?' : ''}$`)
}
