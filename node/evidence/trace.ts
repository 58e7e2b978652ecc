/**
 * `aura trace`: the records of the intent log, newest first, each with its effective status —
 * quarantined records are shown with the reason, never hidden (they are the evidence).
 *
 * @example
 * const rows = traceRecords(rt, { actor: 'peer-5f3a', since: '30d' })
 */
import type { KeyRevocation } from '../../crdt/authority-view.js'
import type { EffectiveViewLike } from '../../crdt/effective-view-cache.js'
import { shortId, type KeyId, type RecordId } from '../../crdt/ids.js'
import { verifyRecord, type SignedRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../runtime.js'
import { identityFilter } from './identity-filter.js'
import { parseSince } from './since.js'

/** Filters of `aura trace` and `aura audit export`. */
export interface RecordFilter {
  actor?: string
  signer?: string
  since?: string
  kind?: string
  /** Include receipts and blobs (left out by default: they are bookkeeping). */
  receipts?: boolean
}

/** One record as shown by trace and export. */
export interface TraceRow {
  id: RecordId
  kind: string
  signer: string
  signerKey: KeyId
  actor: string
  host: string
  seq: number
  ts: string
  text: string
  status: 'effective' | 'quarantined' | 'pending'
  reason: string | null
  /** The revocation of the signer, if revoked: why, and the chain entry (the cut decides status). */
  revoked: { reason: string, entry: number, cutSeq: number } | null
  auth: { seq: number, hash: string }
  refs: readonly string[]
  delta: unknown
}

/** Labels for short ids: agents by their name, everyone else `peer`. */
export function labeller (rt: NodeRuntime): (key: KeyId) => string {
  return (key) => {
    const m = rt.chain?.member(key)
    return m?.kind === 'agent' ? m.name : 'peer'
  }
}

/** The records matching `filter`, newest first, with their status. */
export function traceRecords (rt: NodeRuntime, filter: RecordFilter): TraceRow[] {
  return Array.from(traceRows(rt, filter))
}

/**
 * The same rows one at a time: the matching records are chosen and ordered first (a filter that
 * names nobody fails before any row), and each row is built only when it is read, so a
 * streamed trace of a large store holds one row at a time, not all of them.
 */
export function * traceRows (rt: NodeRuntime, filter: RecordFilter): Generator<TraceRow, void, undefined> {
  const all = rt.store.intent.log.records()
  const from = filter.since === undefined ? -Infinity : parseSince(filter.since, rt.now())
  const label = labeller(rt)
  const byActor = filter.actor === undefined ? null : identityFilter(rt, filter.actor)
  const bySigner = filter.signer === undefined ? null : identityFilter(rt, filter.signer)
  const view = rt.effectiveView()
  const chosen: Array<{ id: RecordId, record: SignedRecord }> = []
  for (const entry of all) {
    const record = entry.record
    if ((record.kind === 'receipt' || record.kind === 'blob') && filter.receipts !== true && filter.kind !== record.kind) continue
    if (filter.kind !== undefined && record.kind !== filter.kind) continue
    if (record.ts < from) continue
    if (byActor !== null && !byActor(record)) continue
    if (bySigner !== null && !bySigner(record)) continue
    chosen.push(entry)
  }
  chosen.sort((a, b) => (b.record.ts - a.record.ts) || (b.record.seq - a.record.seq))
  for (const { id, record } of chosen) yield row(id, record, view, label, rt.chain?.revocation(record.signer))
}

function row (
  id: RecordId,
  record: SignedRecord,
  view: EffectiveViewLike | null,
  label: (k: KeyId) => string,
  rev: KeyRevocation | undefined
): TraceRow {
  let status: TraceRow['status']
  let reason: string | null = null
  if (view === null) {
    status = verifyRecord(record) ? 'pending' : 'quarantined'
    reason = status === 'pending' ? 'no authority chain yet (not part of a team)' : 'bad_signature'
  } else if (view.effective.has(id)) {
    status = 'effective'
  } else {
    status = 'quarantined'
    reason = view.quarantined.get(id)?.reason ?? 'unknown'
  }
  return {
    id,
    kind: record.kind,
    signer: shortId(record.signer, label(record.signer)),
    signerKey: record.signer,
    actor: record.actor,
    host: record.host,
    seq: record.seq,
    ts: new Date(record.ts).toISOString(),
    text: record.text,
    status,
    reason,
    revoked: rev === undefined ? null : { reason: rev.reason, entry: rev.seq, cutSeq: rev.cut.seq },
    auth: record.auth,
    refs: record.refs,
    delta: record.delta
  }
}
