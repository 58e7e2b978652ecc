/**
 * Receipts: every node periodically signs a summary of what it holds — its authority head and,
 * per signer, the highest `seq` of that signer's non-receipt records. Receipts replicate like
 * any record, so `aura sync status` can tell which peers hold a revocation or an intent,
 * including peers this node never talks to. Receipts leave receipts out of the summary: counting
 * them would make every receipt trigger a new receipt on every peer, forever.
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
}

/** The summary of a set of records under an authority head. */
export function receiptSummary (records: Iterable<{ record: SignedRecord }>, auth: { seq: number, hash: string }): ReceiptSummary {
  const heads: Record<string, number> = {}
  for (const { record } of records) {
    if (record.kind === 'receipt') continue
    if ((heads[record.signer] ?? 0) < record.seq) heads[record.signer] = record.seq
  }
  return { auth: { seq: auth.seq, hash: auth.hash }, heads: sortKeys(heads) }
}

/** Whether two summaries say the same thing (the trigger for writing a new receipt). */
export function sameSummary (a: ReceiptSummary | null, b: ReceiptSummary): boolean {
  return a !== null && JSON.stringify(a) === JSON.stringify(b)
}

/** The summary as the JSON stored in a receipt record. */
export function summaryJson (s: ReceiptSummary): Json {
  return { auth: s.auth, heads: s.heads }
}

/** One admitted peer's line in `aura sync status`. */
export interface PeerSyncState {
  peer: string
  key: KeyId
  user: string
  role: string
  revoked: boolean
  self: boolean
  lastReceiptAt: number | null
  authSeq: number | null
  holdsIntent: boolean | null
}

/** The whole answer of `aura sync status`. */
export interface SyncStatusReport {
  intent: RecordId | null
  peers: PeerSyncState[]
  verdict: string
  missing: string[]
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
    if (prev === undefined || prev.seq < record.seq) latest.set(record.signer, { seq: record.seq, ts: record.ts, summary })
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
    peers.push({
      peer: shortId(m.key),
      key: m.key,
      user: m.name,
      role: m.role,
      revoked: input.isRevoked(m.key),
      self,
      lastReceiptAt: r?.ts ?? null,
      authSeq: r?.summary.auth.seq ?? null,
      holdsIntent: input.authSeq !== undefined ? holdsRevocation : holds
    })
  }
  const active = peers.filter((p) => !p.revoked)
  const missing = active.filter((p) => p.holdsIntent === false)
  const what = intent !== null ? `intent ${intent.id.slice(0, 12)}` : input.authSeq !== undefined ? `authority entry ${input.authSeq}` : null
  let verdict: string
  if (what === null) {
    const heard = active.filter((p) => p.lastReceiptAt !== null).length
    verdict = `${heard} of ${active.length} admitted peers have sent receipts`
  } else if (missing.length === 0) {
    verdict = `all ${active.length} admitted peers have received ${what}`
  } else {
    const list = missing.map((p) => `${p.peer} (${p.lastReceiptAt === null ? 'never seen' : `last seen ${ago(input.self.now - p.lastReceiptAt)}`})`)
    verdict = `${missing.length} of ${active.length} have not received ${what}: ${list.join(', ')}`
  }
  return { intent: intent?.id ?? null, peers, verdict, missing: missing.map((p) => p.peer) }
}

function parseSummary (data: Json): ReceiptSummary | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null
  const auth = data.auth as { seq?: unknown, hash?: unknown } | undefined
  const heads = data.heads
  if (auth === undefined || typeof auth !== 'object' || typeof auth.seq !== 'number' || typeof auth.hash !== 'string') return null
  if (heads === null || typeof heads !== 'object' || Array.isArray(heads)) return null
  const h: Record<string, number> = {}
  for (const [k, v] of Object.entries(heads)) if (typeof v === 'number') h[k] = v
  return { auth: { seq: auth.seq, hash: auth.hash }, heads: h }
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
