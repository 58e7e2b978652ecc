/**
 * The rules a record is subject to beyond its signature, membership and cut: what the signer's
 * credential lets it write (`capability`), until when (`expired`), in what time order
 * (`backdated`) and how much (`over_quota`). One module for both sides: the effective view
 * (effective-view.ts) quarantines what breaks them, and the local write gate (node/runtime.ts,
 * node/agents) refuses to sign it, so a node never signs what its peers would quarantine.
 *
 * Everything is decided from signed content only: the record, its signer's other records (its
 * own `prev` chain) and the authority chain (the credential, the entry its `auth` names). Time
 * is the record's claimed `ts`, held to three rules so it cannot be moved at will: it never
 * decreases along the signer's chain, it never precedes the signer's admission, and a record
 * whose `auth` names an entry written at or after the credential's expiry is expired whatever
 * it claims. Quotas count along the signer's own chain over a sliding hour of its (running
 * maximum) `ts`, so they are the same on every replica that holds the same records.
 *
 * @example
 * const q = quotasFor(auth.quotas, member)
 * credentialViolation(member, record, auth)          // 'capability' | 'expired' | undefined
 * overQuota(chainOf(signerRecords), q)                // ids past the quota
 */
import type { AuthorityView, Member } from './authority-view.js'
import type { KeyId, RecordId } from './ids.js'
import type { RecordKind, SignedRecord } from './record.js'

/** Per-member write limits, team-wide (genesis) and narrowed per agent credential. */
export interface Quotas {
  /** Records a member may sign in any hour of its own `ts`. */
  readonly records_per_hour: number
  /** Canonical record bytes a member may sign in any hour of its own `ts`. */
  readonly bytes_per_hour: number
  /** Largest canonical record a member may sign. */
  readonly max_record_bytes: number
}

/** The quotas of a team whose genesis names none (teams created before quotas existed). */
export const DEFAULT_QUOTAS: Quotas = Object.freeze({
  records_per_hour: 7200,
  bytes_per_hour: 64 * 1024 * 1024,
  max_record_bytes: 2 * 1024 * 1024
})

/** The sliding window of every hourly quota, in ms of the signer's own `ts`. */
export const QUOTA_WINDOW_MS = 3_600_000

/** How far past its own clock a daemon accepts a record's claimed time at receipt (10 minutes). */
export const FUTURE_TOLERANCE_MS = 600_000

/** Capabilities each role grants an agent; an agent may be given at most its role's (unless allowed). */
export const ROLE_CAPABILITIES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  reader: ['read'],
  agent: ['read', 'intent', 'commit'],
  contributor: ['read', 'intent', 'commit'],
  maintainer: ['read', 'intent', 'commit', 'push', 'rewind'],
  admin: ['read', 'intent', 'commit', 'push', 'rewind', 'admin']
})

/**
 * The capability an agent needs to sign each kind; null: only a peer (a node) signs it. A
 * snapshot or blob supports the intent or rewind it comes with.
 */
export const KIND_CAPABILITY: Readonly<Record<RecordKind, string | null>> = Object.freeze({
  intent: 'intent',
  incident: 'intent',
  message: 'intent',
  snapshot: 'intent',
  blob: 'intent',
  rewind: 'rewind',
  // A zone claim guards the code an intent changes: the same capability.
  zone: 'intent',
  receipt: null,
  audit: null
})

/** The peer role that may sign nothing but receipts. */
export const READ_ONLY_PEER_ROLE = 'reader'

/** Why a credential does not cover a record; undefined when it does. */
export type CredentialViolation = 'capability' | 'expired'

/** Whether `member`'s credential lets it sign a record of `kind`: kind, role and capabilities. */
export function mayWriteKind (member: Member, kind: RecordKind): boolean {
  const needed = KIND_CAPABILITY[kind]
  if (member.kind === 'peer') return kind === 'receipt' || member.role !== READ_ONLY_PEER_ROLE
  return needed !== null && (member.capabilities ?? []).includes(needed)
}

/**
 * Whether `member` signing `record` breaks its credential: `capability` (the kind is not
 * granted), or `expired` (an agent whose `ts` is at or past `expires`, or whose `auth` names an
 * entry written at or past it: a record cannot claim to predate the chain head it saw).
 */
export function credentialViolation (member: Member, record: Pick<SignedRecord, 'kind' | 'ts' | 'auth'>, auth: Pick<AuthorityView, 'entryTs'>): CredentialViolation | undefined {
  if (!mayWriteKind(member, record.kind)) return 'capability'
  const expires = member.expires ?? null
  if (expires !== null && (record.ts >= expires || (auth.entryTs(record.auth.seq) ?? 0) >= expires)) return 'expired'
  return undefined
}

/** Whether a record claims a time before its signer's admission (signed content only). */
export function predatesAdmission (member: Member, record: Pick<SignedRecord, 'ts'>): boolean {
  return record.ts < (member.ts ?? 0)
}

/**
 * The quotas that bind `member`: the team's, narrowed by an agent credential's own
 * (`max_commits_per_hour` and any of the team keys it names).
 */
export function quotasFor (team: Quotas, member: Member): Quotas {
  const own = member.quotas ?? {}
  const min = (a: number, b: number | undefined): number => b === undefined ? a : Math.min(a, b)
  return {
    records_per_hour: min(min(team.records_per_hour, own.records_per_hour), own.max_commits_per_hour),
    bytes_per_hour: min(team.bytes_per_hour, own.bytes_per_hour),
    max_record_bytes: min(team.max_record_bytes, own.max_record_bytes)
  }
}

/** One record of a signer's chain as the quota rules see it. */
export interface ChainLink {
  readonly id: RecordId
  readonly seq: number
  readonly prev: RecordId | null
  readonly ts: number
  /** Canonical bytes of the record. */
  readonly size: number
}

/** What the chain rules found: records whose ts went back, and records past a quota. */
export interface ChainFindings {
  readonly backdated: Set<RecordId>
  readonly overQuota: Set<RecordId>
}

/**
 * One path of a signer's chain, oldest first, as the quota rules walk it: the path's clock (the
 * running maximum of `ts`, so a backdated record cannot reopen a window) and cumulative bytes.
 * The view walks every path of every signer with one (chainFindings); the local write gate
 * keeps one per signing key and asks it about the record it is about to sign.
 */
export class QuotaPath {
  private clock: number[] = []
  private bytes: number[] = []
  // The claimed ts of each record on the path (its clock may be higher).
  private claimed: number[] = []

  /** Records on the path. */
  get depth (): number { return this.clock.length }

  /** What appending a record claiming `ts` of `size` bytes would be: backdated, over quota. */
  judge (ts: number, size: number, quotas: Quotas): { backdated: boolean, overQuota: boolean } {
    const depth = this.clock.length
    const last = depth > 0 ? this.clock[depth - 1] : undefined
    const now = last === undefined ? ts : Math.max(ts, last)
    const from = firstAbove(this.clock, now - QUOTA_WINDOW_MS)
    const count = depth + 1 - from
    const sum = (depth > 0 ? this.bytes[depth - 1] : 0) + size - (from > 0 ? this.bytes[from - 1] : 0)
    return {
      backdated: depth > 0 && ts < this.claimed[depth - 1],
      overQuota: size > quotas.max_record_bytes || count > quotas.records_per_hour || sum > quotas.bytes_per_hour
    }
  }

  /** Appends a record to the path. */
  push (ts: number, size: number): void {
    const depth = this.clock.length
    this.clock.push(depth > 0 ? Math.max(ts, this.clock[depth - 1]) : ts)
    this.bytes.push((depth > 0 ? this.bytes[depth - 1] : 0) + size)
    this.claimed.push(ts)
  }

  /** Drops the records from `depth` on (the depth-first walk going back up). */
  truncate (depth: number): void {
    this.clock.length = depth
    this.bytes.length = depth
    this.claimed.length = depth
  }

  /** Forgets records older than the window before the newest (a long-lived writer's path). */
  compact (): void {
    const depth = this.clock.length
    if (depth === 0) return
    const from = firstAbove(this.clock, this.clock[depth - 1] - QUOTA_WINDOW_MS)
    if (from < 1024 || from < depth / 2) return
    const base = this.bytes[from - 1]
    this.clock = this.clock.slice(from)
    this.bytes = this.bytes.slice(from).map((b) => b - base)
    this.claimed = this.claimed.slice(from)
  }
}

/**
 * Time order and quotas along one signer's records (all validly signed, any order, branches
 * allowed). A record's parent is the held record its `prev` names with seq one lower; a record
 * without one starts a path. Along each path from its start: a record whose `ts` is below its
 * parent's is `backdated`; a record is over quota when it is larger than `max_record_bytes`, or
 * when it and its ancestors whose clock lies within the hour before its own exceed
 * `records_per_hour` or `bytes_per_hour` (QuotaPath). O(n log n).
 */
export function chainFindings (links: readonly ChainLink[], quotas: Quotas): ChainFindings {
  const byId = new Map<RecordId, ChainLink>()
  for (const l of links) byId.set(l.id, l)
  const children = new Map<RecordId, ChainLink[]>()
  const roots: ChainLink[] = []
  for (const l of [...byId.values()].sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1))) {
    const parent = l.prev === null ? undefined : byId.get(l.prev)
    if (parent === undefined || parent.seq !== l.seq - 1) { roots.push(l); continue }
    let list = children.get(parent.id)
    if (list === undefined) { list = []; children.set(parent.id, list) }
    list.push(l)
  }
  const backdated = new Set<RecordId>()
  const overQuota = new Set<RecordId>()
  const path = new QuotaPath()
  // Iterative depth-first walk (a chain can be far deeper than the call stack).
  for (const root of roots) {
    const stack: Array<{ link: ChainLink, depth: number }> = [{ link: root, depth: 0 }]
    while (stack.length > 0) {
      const { link, depth } = stack.pop()!
      path.truncate(depth)
      const found = path.judge(link.ts, link.size, quotas)
      if (found.backdated) backdated.add(link.id)
      if (found.overQuota) overQuota.add(link.id)
      path.push(link.ts, link.size)
      for (const child of children.get(link.id) ?? []) stack.push({ link: child, depth: depth + 1 })
    }
    path.truncate(0)
  }
  return { backdated, overQuota }
}

/** Why an incoming record is refused at receipt (E_QUOTA): it would not be stored. */
export interface ReceiptRefusal {
  readonly id: RecordId
  readonly signer: KeyId
  readonly reason: 'too_large' | 'over_quota' | 'future'
  readonly message: string
  /** Every incoming record refused (the first is `id`), so the rest of a message can still be taken. */
  readonly ids: RecordId[]
}

/**
 * The receive-side quota check: the incoming records a node must not store (the first one
 * described), or undefined. A record larger than its signer's `max_record_bytes`, or over its
 * signer's quota along its own chain among the signer's held and incoming records (the view's
 * rule, chainFindings), is refused, so a member's flood never reaches memory; honest peers hold
 * and relay only records within quota, so they never refuse each other for it. With `notAfter`
 * (the receiver's clock plus a tolerance), a record claiming a later time is refused too: a
 * signer cannot spread a burst over invented future hours. Members unknown here are the
 * caller's business. Each record is judged by its own content and chain position, never by
 * what else a message carries, so every peer refuses the same records.
 */
export function receiptRefusal (
  incoming: ReadonlyArray<{ id: RecordId, record: SignedRecord }>,
  heldOf: (signer: KeyId) => Iterable<{ id: RecordId, record: SignedRecord }>,
  auth: Pick<AuthorityView, 'member' | 'quotas'>,
  size: (record: SignedRecord) => number,
  notAfter: number | null = null
): ReceiptRefusal | undefined {
  const bySigner = new Map<KeyId, Array<{ id: RecordId, record: SignedRecord }>>()
  let first: Omit<ReceiptRefusal, 'ids'> | undefined
  const ids: RecordId[] = []
  const refuse = (r: Omit<ReceiptRefusal, 'ids'>): void => { first ??= r; ids.push(r.id) }
  for (const r of incoming) {
    const member = auth.member(r.record.signer)
    if (member === undefined) continue
    const quotas = quotasFor(auth.quotas, member)
    const bytes = size(r.record)
    if (bytes > quotas.max_record_bytes) { refuse({ id: r.id, signer: r.record.signer, reason: 'too_large', message: `record ${r.id.slice(0, 12)} is ${bytes} bytes; its signer may sign at most ${quotas.max_record_bytes}` }); continue }
    if (notAfter !== null && r.record.ts > notAfter) { refuse({ id: r.id, signer: r.record.signer, reason: 'future', message: `record ${r.id.slice(0, 12)} claims a time ${r.record.ts - notAfter} ms past this node's clock tolerance` }); continue }
    let list = bySigner.get(r.record.signer)
    if (list === undefined) { list = []; bySigner.set(r.record.signer, list) }
    list.push(r)
  }
  for (const [signer, list] of bySigner) {
    const quotas = quotasFor(auth.quotas, auth.member(signer)!)
    const links: ChainLink[] = []
    for (const { id, record } of [...heldOf(signer), ...list]) {
      links.push({ id, seq: record.seq, prev: record.prev, ts: record.ts, size: size(record) })
    }
    const over = chainFindings(links, quotas).overQuota
    for (const r of list) {
      if (over.has(r.id)) refuse({ id: r.id, signer, reason: 'over_quota', message: `record ${r.id.slice(0, 12)} is past its signer's quota (${quotas.records_per_hour} records or ${quotas.bytes_per_hour} bytes per hour)` })
    }
  }
  return first === undefined ? undefined : { ...first, ids }
}

// The first index whose value is above `limit` in a non-decreasing array (its length if none).
function firstAbove (values: readonly number[], limit: number): number {
  let lo = 0
  let hi = values.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (values[mid] > limit) hi = mid
    else lo = mid + 1
  }
  return lo
}
