/**
 * Receipts: every node periodically signs a summary of what it holds — its authority head and,
 * per signer, the highest `seq` of that signer's non-receipt records. Receipts replicate like
 * any record, so `aura sync status` can tell which peers hold a revocation or an intent,
 * including peers this node never talks to. Receipts leave receipts out of the summary: counting
 * them would make every receipt trigger a new receipt on every peer, forever.
 *
 * A node with a workspace also says which of the records it holds it has **not** applied to that
 * workspace (`ws`: received deltas pending under `apply = "manual"`, or left in conflict), so
 * `sync status --intent` can tell "received" from "applied": a peer that holds a rewind but has
 * not applied it still runs the code the rewind removes. Receipts without `ws` (older nodes, nodes
 * without a workspace) say nothing about it: "applied" is then unknown, never assumed.
 *
 * Holding a signer's record `seq` n implies holding all of its records below n: a signer's
 * records are written by one Automerge actor, whose changes always replicate in order.
 *
 * @example
 * const data = receiptSummary(records, chain.head)
 * const report = syncStatus({ records, members, self, now, intent })
 */
import type { Json } from '../../crdt/canonical.js'
import type { Member } from '../../crdt/authority-view.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import { shortId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'

/** What a receipt record carries in its `data` field. */
export interface ReceiptSummary {
  auth: { seq: number, hash: string }
  heads: Record<string, number>
  /** Present when the node has a workspace: what it holds but has not applied there. */
  ws?: WorkspaceSummary
}

/** A workspace's backlog: ids of held records whose deltas are not (fully) applied, at most MAX_UNAPPLIED. */
export interface WorkspaceSummary {
  apply: 'auto' | 'manual'
  unapplied: string[]
  /** How many more there are beyond `unapplied`. */
  more: number
}

/** How many unapplied record ids a receipt names; beyond that, "applied" reads as unknown. */
export const MAX_UNAPPLIED = 64

/** The summary of a set of records under an authority head (with the workspace's backlog, if any). */
export function receiptSummary (
  records: Iterable<{ record: SignedRecord }>,
  auth: { seq: number, hash: string },
  ws?: WorkspaceSummary | null
): ReceiptSummary {
  const heads: Record<string, number> = {}
  for (const { record } of records) {
    if (record.kind === 'receipt') continue
    if ((heads[record.signer] ?? 0) < record.seq) heads[record.signer] = record.seq
  }
  const summary: ReceiptSummary = { auth: { seq: auth.seq, hash: auth.hash }, heads: sortKeys(heads) }
  if (ws != null) {
    summary.ws = {
      apply: ws.apply,
      unapplied: [...ws.unapplied].sort().slice(0, MAX_UNAPPLIED),
      more: ws.more + Math.max(0, ws.unapplied.length - MAX_UNAPPLIED)
    }
  }
  return summary
}

/** Whether two summaries say the same thing (the trigger for writing a new receipt). */
export function sameSummary (a: ReceiptSummary | null, b: ReceiptSummary): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b)
}

/** The summary as the JSON stored in a receipt record. */
export function summaryJson (s: ReceiptSummary): Json {
  return s.ws === undefined
    ? { auth: s.auth, heads: s.heads }
    : { auth: s.auth, heads: s.heads, ws: { apply: s.ws.apply, unapplied: s.ws.unapplied, more: s.ws.more } }
}

/** One admitted peer's line in `aura sync status`. */
export interface PeerSyncState {
  peer: string
  key: KeyId
  user: string
  role: string
  revoked: boolean
  self: boolean
  /** When its newest receipt was signed (ISO 8601); null: none yet. */
  lastReceiptAt: string | null
  authSeq: number | null
  holdsIntent: boolean | null
  /** Whether its workspace has the intent's change applied; null when unknown or not a change. */
  appliedIntent: boolean | null
  /** Its `[workspace] apply` mode, when its receipt says. */
  apply: string | null
}

/** The whole answer of `aura sync status`. */
export interface SyncStatusReport {
  intent: RecordId | null
  peers: PeerSyncState[]
  verdict: string
  missing: string[]
  /** Peers that hold the intent but have not applied it to their workspace. */
  unapplied: string[]
}

/** Folds receipts into, for every admitted (non-revoked) peer, what it last said it holds. */
export function syncStatus (input: {
  records: Iterable<{ id: RecordId, record: SignedRecord }>
  members: Iterable<Member>
  isRevoked: (key: KeyId) => boolean
  self: { key: KeyId, summary: ReceiptSummary, now: number }
  intent?: { id: RecordId, record: SignedRecord } | null
  authSeq?: number
}): SyncStatusReport {
  const latest = new Map<KeyId, { seq: number, ts: number, summary: ReceiptSummary }>()
  for (const { record } of input.records) {
    if (record.kind !== 'receipt') continue
    const summary = parseSummary(record.data)
    if (summary === null) continue
    const prev = latest.get(record.signer)
    if (prev === undefined ||
      prev.seq < record.seq) latest.set(record.signer, { seq: record.seq, ts: record.ts, summary })
  }
  const intent = input.intent ?? null
  const peers: PeerSyncState[] = []
  for (const m of input.members) {
    if (m.kind !== 'peer') continue
    const self = m.key === input.self.key
    const r = self ? { ts: input.self.now, summary: input.self.summary } : latest.get(m.key)
    const holds = intent === null
      ? null
      : r === undefined ? false : (r.summary.heads[intent.record.signer] ?? 0) >= intent.record.seq
    const holdsRevocation = input.authSeq === undefined || r === undefined ? holds : r.summary.auth.seq >= input.authSeq
    const applied = intent === null || holds !== true || r === undefined ? null : appliedBy(m.key, r.summary, intent)
    peers.push({
      peer: shortId(m.key),
      key: m.key,
      user: m.name,
      role: m.role,
      revoked: input.isRevoked(m.key),
      self,
      lastReceiptAt: r === undefined ? null : new Date(r.ts).toISOString(),
      authSeq: r?.summary.auth.seq ?? null,
      holdsIntent: input.authSeq !== undefined ? holdsRevocation : holds,
      appliedIntent: applied,
      apply: r?.summary.ws?.apply ?? null
    })
  }
  const active = peers.filter((p) => !p.revoked)
  const missing = active.filter((p) => p.holdsIntent === false)
  const unapplied = active.filter((p) => p.appliedIntent === false)
  const what = intent !== null ? `intent ${intent.id.slice(0, 12)}` : input.authSeq !== undefined ? `authority entry ${input.authSeq}` : null
  let verdict: string
  if (what === null) {
    const heard = active.filter((p) => p.lastReceiptAt !== null).length
    verdict = `${heard} of ${active.length} admitted peers have sent receipts`
  } else if (missing.length === 0) {
    verdict = `all ${active.length} admitted peers have received ${what}`
    if (unapplied.length > 0) {
      verdict += `, but ${unapplied.length} ha${unapplied.length === 1 ? 's' : 've'} not applied it to the workspace: ${unapplied.map((p) => `${p.peer} (apply = ${p.apply ?? '?'}: run \`aura apply\` there)`).join(', ')}`
    }
  } else {
    const list = missing.map((p) => `${p.peer} (${p.lastReceiptAt === null ? 'never seen' : `last seen ${ago(input.self.now - Date.parse(p.lastReceiptAt))}`})`)
    verdict = `${missing.length} of ${active.length} have not received ${what}: ${list.join(', ')}`
  }
  return {
    intent: intent?.id ?? null,
    peers,
    verdict,
    missing: missing.map((p) => p.peer),
    unapplied: unapplied.map((p) => p.peer)
  }
}

// Whether a peer's workspace has the intent's change: its own records are; a record without a
// code delta has nothing to apply; otherwise only a receipt with a workspace backlog can say.
function appliedBy (
  peer: KeyId,
  summary: ReceiptSummary,
  intent: { id: RecordId, record: SignedRecord }
): boolean | null {
  const entries = (intent.record.delta as { entries?: unknown } | null)?.entries
  if (!Array.isArray(entries) || entries.length === 0) return null
  if (intent.record.signer === peer) return true
  const ws = summary.ws
  if (ws === undefined) return null
  if (ws.unapplied.includes(intent.id)) return false
  return ws.more === 0 ? true : null
}

function parseSummary (data: Json): ReceiptSummary | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  const auth = data.auth as { seq?: unknown, hash?: unknown } | undefined
  const heads = data.heads
  if (auth === undefined || typeof auth !== 'object' || typeof auth.seq !== 'number' || typeof auth.hash !== 'string') return null
  if (heads === null || typeof heads !== 'object' || Array.isArray(heads)) return null
  const h: Record<string, number> = {}
  for (const [k, v] of Object.entries(heads)) if (typeof v === 'number') h[k] = v
  const out: ReceiptSummary = { auth: { seq: auth.seq, hash: auth.hash }, heads: h }
  const ws = data.ws as { apply?: unknown, unapplied?: unknown, more?: unknown } | undefined
  if (ws !== undefined && ws !== null && typeof ws === 'object' && (ws.apply === 'auto' || ws.apply === 'manual') &&
    Array.isArray(ws.unapplied) && ws.unapplied.every((x) => typeof x === 'string') && typeof ws.more === 'number') {
    out.ws = { apply: ws.apply, unapplied: ws.unapplied as string[], more: ws.more }
  }
  return out
}

/** "3 h ago" style durations for people. */
export function ago (ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

function sortKeys (o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
}

/** The authority chain seq a receipt's signer held when it signed (`data.auth.seq`); null if absent. */
export function receiptAuthSeq (data: Json): number | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  const auth = data.auth
  if (auth === null || typeof auth !== 'object' || Array.isArray(auth) || typeof auth.seq !== 'number') return null
  return auth.seq
}
