/**
 * What the incident page shows, gathered from the operations the CLI runs (node/operations.ts:
 * status, agent list, sync status, peer list, list-tokens, audit-token, trace, zone list,
 * pr-review), plus one fold of its own: the revocation front, which reads the receipts already
 * in the log to say when each peer confirmed holding each recent revocation or lockdown.
 *
 * @example
 * const s = await incidentState(rt, run, { actions: false })
 * s.front[0].peers   // [{ peer: 'peer-5f3a', confirmedAt: 1733541000123, ... }]
 */
import type { ChainEntry } from '../../crdt/chain-entry.js'
import { shortId, type KeyId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../runtime.js'
import { rewindCommand } from '../workspace-node/rewind-command.js'
import { receiptAuthSeq } from '../sync/receipts.js'
import type { Flag } from '../workspace/review.js'

/** Runs one operation of node/operations.ts (with the daemon's live state). */
export type RunOperation = (name: string, params: Record<string, unknown>) => Promise<any>

/** How many of the newest revocations, lockdowns and unlocks the front shows. */
export const FRONT_ENTRIES = 6

/** One peer's line under a revocation or lockdown. */
export interface FrontPeer {
  peer: string
  key: KeyId
  user: string
  /** `confirmed`: its receipt says it holds the entry; `waiting`: not yet; `subject`: it is what was revoked. */
  state: 'confirmed' | 'waiting' | 'subject'
  /** Signed time of its first receipt holding the entry (ms). */
  confirmedAt: number | null
  /** Its newest receipt (ms) and the authority seq that receipt holds. */
  lastReceiptAt: number | null
  authSeq: number | null
}

/** One entry of the front. */
export interface FrontEntry {
  seq: number
  kind: 'revoke' | 'lockdown' | 'unlock'
  ts: number
  reason: string
  subject: string
  peers: FrontPeer[]
  confirmed: number
  expected: number
}

/** The page's whole state, pushed on every change of the chain or the records. */
export async function incidentState (
  rt: NodeRuntime,
  run: RunOperation,
  opts: { actions: boolean }
): Promise<Record<string, unknown>> {
  const status = await run('status', {})
  if (rt.chain === null) return { at: rt.now(), status, team: [], front: [], tokens: null, actions: false }
  const [members, sync, book] = await Promise.all([run('agent-list', { filter: 'kind=all' }), run('sync-status', {}), run('peer-list', {})])
  const mothership = rt.mothershipKey !== null
  const tokens = mothership ? await run('list-tokens', {}) : null
  const byKey = new Map<string, any>((sync.peers as any[]).map((p) => [p.key, p]))
  const seen = new Map<string, string | null>((book as any[]).map((b) => [b.key, b.lastSeen]))
  const links = new Map<string, string>()
  for (const c of status.peers as Array<{ key: string, via: string }>) if (links.get(c.key) !== 'direct') links.set(c.key, c.via)
  const team = (members as any[]).map((m) => {
    const s = byKey.get(m.key)
    return {
      ...m,
      human: m.kind === 'peer',
      self: m.key === rt.key,
      lastReceiptAt: s?.lastReceiptAt ?? null,
      authSeq: s?.authSeq ?? null,
      link: m.key === rt.key ? 'self' : m.kind === 'agent' ? null : links.get(m.key) ?? 'offline',
      lastSeen: m.kind === 'agent' ? null : lastSeen(m.key === rt.key || links.has(m.key) ? rt.now() : null, seen.get(m.key) ?? null, s?.lastReceiptAt == null ? null : Date.parse(s.lastReceiptAt))
    }
  })
  return {
    at: rt.now(),
    status,
    team,
    front: revocationFront(rt),
    verdict: sync.verdict,
    tokens,
    actions: opts.actions,
    mothership
  }
}

// Connected now, else the newest of: this node reaching it directly,
// and its newest receipt (which may have come through others).
function lastSeen (now: number | null, dialled: string | null, receipt: number | null): string | null {
  const t = Math.max(now ?? -1, dialled === null ? -1 : Date.parse(dialled), receipt ?? -1)
  return t < 0 ? null : new Date(t).toISOString()
}

/** For the newest revocations, lockdowns and unlocks: which peers have confirmed holding each, and when. */
export function revocationFront (rt: NodeRuntime): FrontEntry[] {
  const chain = rt.requireChain()
  const entries = chain.entries().filter((e) => e.kind === 'revoke' || e.kind === 'lockdown' || e.kind === 'unlock').slice(-FRONT_ENTRIES).reverse()
  if (entries.length === 0) return []
  const receipts = receiptsBySigner(rt.store.intent.log.records())
  return entries.map((e) => {
    const subjects = subjectKeys(e)
    const peers: FrontPeer[] = chain.peers().filter(
      (p) => subjects.has(p.key) || chain.revocation(p.key) === undefined
    ).map((p) => {
      const mine = receipts.get(p.key) ?? []
      const first = mine.find((r) => r.authSeq >= e.seq)
      const last = mine[mine.length - 1]
      return {
        peer: shortId(p.key),
        key: p.key,
        user: p.name,
        state: subjects.has(p.key) ? 'subject' : first === undefined ? 'waiting' : 'confirmed',
        confirmedAt: first?.ts ?? null,
        lastReceiptAt: last?.ts ?? null,
        authSeq: last?.authSeq ?? null
      }
    })
    const expected = peers.filter((p) => p.state !== 'subject')
    const body = e.body as { reason?: string, ts: number }
    return { seq: e.seq, kind: e.kind as FrontEntry['kind'], ts: body.ts, reason: body.reason ?? '', subject: describeSubject(rt, e), peers, confirmed: expected.filter((p) => p.state === 'confirmed').length, expected: expected.length }
  })
}

// Each signer's receipts, oldest first (a signer's seq orders them), with the authority seq each holds.
function receiptsBySigner (
  records: Iterable<{ record: SignedRecord }>
): Map<string, Array<{ seq: number, ts: number, authSeq: number }>> {
  const out = new Map<string, Array<{ seq: number, ts: number, authSeq: number }>>()
  for (const { record } of records) {
    if (record.kind !== 'receipt') continue
    const authSeq = receiptAuthSeq(record.data)
    if (authSeq === null) continue
    const list = out.get(record.signer) ?? []
    list.push({ seq: record.seq, ts: record.ts, authSeq })
    out.set(record.signer, list)
  }
  for (const list of out.values()) list.sort((a, b) => a.seq - b.seq)
  return out
}

function subjectKeys (e: ChainEntry): Set<string> {
  if (e.kind !== 'revoke') return new Set()
  const s = (e.body as { subject: { type: string, key?: string, cuts?: Record<string, unknown> } }).subject
  if (s.type === 'role') return new Set(Object.keys(s.cuts ?? {}))
  return new Set(s.key === undefined ? [] : [s.key])
}

function describeSubject (rt: NodeRuntime, e: ChainEntry): string {
  if (e.kind !== 'revoke') return e.kind === 'lockdown' ? 'the whole team (lockdown)' : 'the whole team (lockdown ended)'
  const s = (e.body as {
    subject: { type: string, key?: string, jti?: string, role?: string, cuts?: Record<string, unknown> }
  }).subject
  if (s.type === 'token') return `token ${s.jti ?? ''}`
  if (s.type === 'role') return `role ${s.role ?? ''} (${Object.keys(s.cuts ?? {}).length} keys)`
  const m = rt.chain?.member(s.key as KeyId)
  if (m?.kind === 'agent') return `agent ${shortId(m.key, m.name)}`
  return `${shortId(s.key ?? '')}${m === undefined ? '' : ` (${m.name})`}`
}

/** An identity's records (trace, quarantined ones with their reason) and zone claims. */
export async function identityEvidence (
  run: RunOperation,
  p: { id: string, since?: string }
): Promise<Record<string, unknown>> {
  const since = p.since === undefined || p.since === '' ? undefined : p.since
  const [records, zones] = await Promise.all([
    run('trace', { actor: p.id, ...(since === undefined ? {} : { since }) }),
    run('zone-list', { owner: p.id, all: true })
  ])
  const quarantined = (records as Array<{ status: string }>).filter((r) => r.status === 'quarantined').length
  return { id: p.id, since: since ?? null, records, quarantined, zones }
}

/** A token's audit: every join attempt with time, source, key and outcome. */
export async function tokenEvidence (run: RunOperation, jti: string): Promise<unknown> {
  return await run('audit-token', { jti })
}

/** `sync status --intent`: which peers hold (and applied) an intent or rewind. */
export async function intentEvidence (run: RunOperation, id: string): Promise<unknown> {
  return await run('sync-status', { intent: id })
}

/** pr-review --security, each flag with the `aura rewind` line that undoes it, and the rewinds already made. */
export async function reviewEvidence (
  run: RunOperation,
  p: { since?: string, cwd?: string }
): Promise<Record<string, unknown>> {
  const since = p.since === undefined || p.since === '' ? '30d' : p.since
  const review = await run('pr-review', { since, security: true, ...(p.cwd === undefined ? {} : { cwd: p.cwd }) })
  const flags = (review.flags as Flag[]).map((f) => ({ ...f, rewind: rewindCommand(f) }))
  const rewinds = await run('trace', { kind: 'rewind', since })
  return { ...review, since, flags, rewinds }
}
