/**
 * Zone management on a node: `aura zone claim | list | release`, the MCP tool `aura_zone_claim`,
 * and the local write gate that `log-intent` passes every delta through. Claims are `zone`
 * records (crdt/zones.ts), so what counts is decided by the effective view; only expiry, which
 * needs a clock, is decided here, at write time, against this node's clock.
 *
 * Rules (docs/cli.md, "Zones"):
 * 1. A change to a unit inside another identity's `block` zone is refused (E_ZONE); inside a
 *    `warn` zone it is written, with a warning.
 * 2. Agents never override people: an agent's change inside a person's zone is refused even in
 *    `warn` mode, and an agent's claim that overlaps a person's active zone is refused.
 * 3. Lockdown refuses claims and releases (E_LOCKDOWN), like every other new record.
 * 4. Only the identity that claimed a zone releases it; a release of an unknown, foreign,
 *    released or expired zone is an error, never a silent no-op.
 * 5. A revoked identity's zones bind nobody (it can no longer release them); they stay listed
 *    with status `revoked`, and its claims past the cut are not listed at all.
 *
 * @example
 * await claimZone(rt, { patterns: ['src/auth/**'], mode: 'block', ttl: '8h' })
 * const { warnings } = zoneGate(rt, rt.key, delta)   // throws E_ZONE inside a block zone
 */
import { LockdownError, NotFoundError, UsageError, ZoneError } from '../../crdt/errors.js'
import { keyIdOf, resolvePrefix, shortId, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { activeZones, checkPattern, claimOf, patternsOverlap, zoneCovers, zonesOf, ZONE_MODES, MAX_ZONE_TTL_MS, type UnitRef, type Zone, type ZoneMode } from '../../crdt/zones.js'
import { parseDuration } from '../config.js'
import { identityFilter } from '../evidence/identity-filter.js'
import type { NodeRuntime } from '../runtime.js'
import { actingAs } from '../workspace-node/acting.js'

/** Lifetime of a claim made without `--ttl`. */
export const DEFAULT_ZONE_TTL = '8h'

/** A zone as `aura zone list` and the claim's answer show it. */
export interface ZoneRow {
  id: RecordId
  owner: string
  ownerKey: KeyId
  ownerKind: 'peer' | 'agent'
  actor: string
  patterns: readonly string[]
  mode: ZoneMode
  claimedAt: string
  expiresAt: string
  status: 'active' | 'released' | 'expired' | 'revoked'
}

/** Claims a zone for this node's identity, or an agent's (`agent`). */
export async function claimZone (
  rt: NodeRuntime,
  p: { patterns?: unknown, mode?: unknown, ttl?: unknown, agent?: unknown, actor?: unknown }
): Promise<ZoneRow & { overlaps: ZoneRow[] }> {
  const patterns = Array.isArray(p.patterns) ? p.patterns.map(String) : typeof p.patterns === 'string' ? [p.patterns] : []
  if (patterns.length === 0) throw new UsageError('missing PATTERN: a path glob (src/auth/**) or PATH:NAME (src/auth/verify.py:verify_token)')
  patterns.forEach(checkPattern)
  const mode = parseMode(p.mode)
  const ttl = parseTtl(p.ttl)
  const chain = rt.requireChain()
  // Before anything else, so a claim during lockdown is answered with the lockdown.
  if (chain.locked) throw new LockdownError(`the team is in lockdown (${chain.lockdownReason ?? 'no reason given'}): no new zone claims are accepted`, { hint: 'wait for `aura mothership unlock`' })
  const who = await actingAs(rt, p, 'intent')
  const key = who.signer === undefined ? rt.key : keyIdOf(who.signer.publicKey)
  const others = bindingZones(rt).filter(
    (z) => z.signer !== key && z.patterns.some((a) => patterns.some((b) => patternsOverlap(a, b)))
  )
  if (isAgent(rt, key)) {
    const human = others.find((z) => !isAgent(rt, z.signer))
    if (human !== undefined) {
      throw new ZoneError(`${who.label} cannot claim ${patterns.join(', ')}: it overlaps ${ownerLabel(rt, human.signer)}'s zone ${human.id.slice(0, 12)} (${human.patterns.join(', ')}); an agent never takes a person's zone`, zoneContext(rt, human))
    }
  }
  const a = await rt.appendRecord({
    kind: 'zone',
    actor: who.actor,
    text: `zone claim (${mode}, ${p.ttl === undefined ? DEFAULT_ZONE_TTL : String(p.ttl)}): ${patterns.join(' ')}`,
    data: { v: 1, op: 'claim', patterns, mode, ttl }
  }, who.signer)
  const record = rt.store.intent.log.record(a.id)!
  const zone: Zone = {
    id: a.id,
    signer: key,
    actor: who.actor,
    patterns,
    mode,
    ts: record.ts,
    expiresAt: record.ts + ttl,
    releasedBy: null
  }
  return { ...row(rt, zone), overlaps: others.map((z) => row(rt, z)) }
}

/** Zones held here, newest first: active ones, or every effective one with `all`; `owner` filters by identity. */
export function listZones (rt: NodeRuntime, p: { owner?: unknown, all?: unknown }): ZoneRow[] {
  rt.requireChain()
  let zones = currentZones(rt)
  if (typeof p.owner === 'string') {
    const match = identityFilter(rt, p.owner)
    zones = zones.filter((z) => match({ signer: z.signer, actor: z.actor } as unknown as SignedRecord))
  }
  const rows = zones.map((z) => row(rt, z)).reverse()
  return p.all === true ? rows : rows.filter((r) => r.status === 'active')
}

/** Releases a zone this identity claimed. */
export async function releaseZone (
  rt: NodeRuntime,
  p: { id?: unknown, agent?: unknown, actor?: unknown }
): Promise<{ released: RecordId, release: RecordId, patterns: readonly string[] }> {
  if (typeof p.id !== 'string' || p.id.trim() === '') throw new UsageError('missing ID: the zone to release (see `aura zone list`)')
  rt.requireChain()
  const log = rt.store.intent.log
  const claimIds = log.records().filter(({ record }) => claimOf(record) !== undefined).map(({ id }) => id)
  let id: RecordId
  try {
    id = resolvePrefix(p.id, claimIds)
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(`no zone claim matches '${p.id}'`, { zone: p.id, hint: 'see `aura zone list --all`' })
    throw err
  }
  const who = await actingAs(rt, p, 'intent')
  const key = who.signer === undefined ? rt.key : keyIdOf(who.signer.publicKey)
  const claim = log.record(id)!
  if (claim.signer !== key) throw new ZoneError(`zone ${id.slice(0, 12)} belongs to ${ownerLabel(rt, claim.signer)}, not ${who.label}: only its owner releases it`, { zone: id, owner: ownerLabel(rt, claim.signer) })
  const zone = currentZones(rt).find((z) => z.id === id)
  if (zone === undefined) throw new ZoneError(`zone ${id.slice(0, 12)} does not count here (its claim is quarantined)`, { zone: id })
  if (zone.releasedBy !== null) throw new ZoneError(`zone ${id.slice(0, 12)} was released already (by ${zone.releasedBy.slice(0, 12)})`, { zone: id })
  if (zone.expiresAt <= rt.now()) throw new ZoneError(`zone ${id.slice(0, 12)} expired at ${new Date(zone.expiresAt).toISOString()}: nothing to release`, { zone: id })
  const a = await rt.appendRecord({ kind: 'zone', actor: who.actor, text: `zone release: ${zone.patterns.join(' ')}`, data: { v: 1, op: 'release' }, refs: [id] }, who.signer)
  return { released: id, release: a.id, patterns: zone.patterns }
}

/** One warning of the write gate: a change inside another identity's `warn` zone. */
export interface ZoneWarning {
  zone: RecordId
  owner: string
  unit: string
  message: string
}

/**
 * The local write gate: checks the units a delta changes against the active zones of other
 * identities. Throws E_ZONE (naming zone, owner and unit) where the write is refused; returns
 * the warnings of `warn` zones.
 */
export function zoneGate (rt: NodeRuntime, writer: KeyId, delta: unknown): { warnings: ZoneWarning[] } {
  const units = unitsOf(delta)
  if (units.length === 0 || rt.chain === null) return { warnings: [] }
  // The effective view costs a pass over the log: skip it when no zone was ever claimed.
  if (!rt.store.intent.log.records().some(({ record }) => record.kind === 'zone')) return { warnings: [] }
  const writerIsAgent = isAgent(rt, writer)
  const warnings: ZoneWarning[] = []
  for (const zone of bindingZones(rt)) {
    if (zone.signer === writer) continue
    const hit = units.find((u) => zoneCovers(zone, u))
    if (hit === undefined) continue
    const unit = `${hit.path}:${hit.name}`
    const owner = ownerLabel(rt, zone.signer)
    const agentInHuman = writerIsAgent && !isAgent(rt, zone.signer)
    if (zone.mode === 'block' || agentInHuman) {
      const why = zone.mode === 'block' ? '' : ' (a person\'s zone: agents may not write there even in warn mode)'
      throw new ZoneError(`${unit} is inside ${owner}'s ${zone.mode} zone ${zone.id.slice(0, 12)} (${zone.patterns.join(', ')}) until ${new Date(zone.expiresAt).toISOString()}${why}`, { ...zoneContext(rt, zone), unit })
    }
    warnings.push({ zone: zone.id, owner, unit, message: `${unit} is inside ${owner}'s warn zone ${zone.id.slice(0, 12)} (${zone.patterns.join(', ')})` })
  }
  return { warnings }
}

// The zones that bind writers now. A revoked identity can no longer release its zones, so
// none of them binds anyone (they stay listed, and in its exposure, as evidence).
function bindingZones (rt: NodeRuntime): Zone[] {
  const chain = rt.requireChain()
  return activeZones(currentZones(rt), rt.now()).filter((z) => chain.revocation(z.signer) === undefined)
}

function currentZones (rt: NodeRuntime): Zone[] {
  rt.requireChain()
  return zonesOf(rt.effectiveView()!.effective)
}

// The units a delta changes, where they are and (for moves and renames) where they were.
function unitsOf (delta: unknown): UnitRef[] {
  const entries = (delta as { entries?: unknown } | null)?.entries
  if (!Array.isArray(entries)) return []
  const out: UnitRef[] = []
  for (const e of entries as Array<Record<string, unknown>>) {
    if (typeof e.path === 'string' && typeof e.name === 'string') out.push({ path: e.path, name: e.name })
    if (typeof e.fromPath === 'string') out.push({ path: e.fromPath, name: typeof e.fromName === 'string' ? e.fromName : String(e.name) })
  }
  return out
}

function isAgent (rt: NodeRuntime, key: KeyId): boolean {
  return rt.chain?.member(key)?.kind === 'agent'
}

function ownerLabel (rt: NodeRuntime, key: KeyId): string {
  const m = rt.chain?.member(key)
  return shortId(key, m?.kind === 'agent' ? m.name : 'peer')
}

function zoneContext (rt: NodeRuntime, zone: Zone): Record<string, string> {
  return { zone: zone.id, owner: ownerLabel(rt, zone.signer), mode: zone.mode, patterns: zone.patterns.join(' ') }
}

function row (rt: NodeRuntime, z: Zone): ZoneRow {
  const now = rt.now()
  return {
    id: z.id,
    owner: ownerLabel(rt, z.signer),
    ownerKey: z.signer,
    ownerKind: isAgent(rt, z.signer) ? 'agent' : 'peer',
    actor: z.actor,
    patterns: z.patterns,
    mode: z.mode,
    claimedAt: new Date(z.ts).toISOString(),
    expiresAt: new Date(z.expiresAt).toISOString(),
    status: z.releasedBy !== null ? 'released' : z.expiresAt <= now ? 'expired' : rt.chain?.revocation(z.signer) !== undefined ? 'revoked' : 'active'
  }
}

function parseMode (v: unknown): ZoneMode {
  if (v === undefined) return 'block'
  if (typeof v === 'string' && (ZONE_MODES as readonly string[]).includes(v)) return v as ZoneMode
  throw new UsageError(`--mode ${String(v)} is not a zone mode: use warn or block`, { mode: String(v) })
}

function parseTtl (v: unknown): number {
  const text = v === undefined ? DEFAULT_ZONE_TTL : String(v)
  const secs = parseDuration(text)
  if (secs === undefined || secs <= 0) throw new UsageError(`--ttl ${text} is not a duration (e.g. 30m, 8h, 2d)`, { ttl: text })
  const ms = Math.round(secs * 1000)
  if (ms > MAX_ZONE_TTL_MS) throw new UsageError(`--ttl ${text} is longer than the 30 days a zone may last`, { ttl: text })
  return Math.max(ms, 1)
}
