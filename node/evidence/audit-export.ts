/**
 * `aura audit export`: every record and audit event in range, one JSON object per line.
 * Records are exported whole (signer public key and signature included) with their status, so
 * anyone can verify them later without trusting this node. Local audit events (join attempts,
 * refusals, revocations, lockdowns, dropped connections) are signed by this node's key under the
 * `audit` domain as they are exported. Revocation deletes nothing: exporting before and after it
 * gives the same records.
 *
 * @example
 * const lines = await auditExportLines(rt, { signer: 'peer-5f3a', since: '30d' })
 * for (const line of lines) console.log(JSON.stringify(line))
 */
import { canonicalBytes, toB64u, type Json } from '../../crdt/canonical.js'
import { sign } from '../../crdt/crypto.js'
import { verifyRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../runtime.js'
import { identityFilter } from './identity-filter.js'
import { traceRows, type RecordFilter, type TraceRow } from './trace.js'
import { parseSince } from './since.js'

/** One exported line. */
export type ExportLine = Record<string, Json>

/**
 * The export, oldest first, one line at a time: what to export is chosen and ordered first (a
 * filter that names nobody fails at once), and each line is built (and an audit event signed)
 * only when read.
 */
export async function auditExportLines (rt: NodeRuntime, filter: RecordFilter): Promise<Iterable<ExportLine>> {
  const from = filter.since === undefined ? undefined : parseSince(filter.since, rt.now())
  const who = filter.signer ?? filter.actor
  const match = who === undefined ? null : identityFilter(rt, who)
  const order: Array<{ ts: number, line: () => ExportLine | undefined }> = []
  // Only what a line needs is kept of each row until the line is built.
  for (const { id, status, reason } of traceRows(rt, { ...filter, receipts: true })) {
    const record = rt.store.intent.log.record(id)
    if (record !== undefined) order.push({ ts: record.ts, line: () => recordLine(rt, { id, status, reason })?.line })
  }
  for (const event of await rt.store.audit.list({ from })) {
    if (match !== null && !eventConcerns(event, match)) continue
    order.push({ ts: event.ts, line: () => auditLine(rt, event).line })
  }
  order.sort((a, b) => a.ts - b.ts)
  return (function * () {
    for (const o of order) {
      const line = o.line()
      if (line !== undefined) yield line
    }
  })()
}

/** The export line of one record (as `traceRecords` reports it), with the time it claims. */
export function recordLine (rt: NodeRuntime, row: Pick<TraceRow, 'id' | 'status' | 'reason'>): { ts: number, line: ExportLine } | undefined {
  const record = rt.store.intent.log.record(row.id)
  if (record === undefined) return undefined
  return { ts: record.ts, line: { type: 'record', id: row.id, status: row.status, reason: row.reason, verified: verifyRecord(record), record: record as unknown as Json } }
}

/** The export line of one local audit event, signed by this node under the `audit` domain. */
export function auditLine (rt: NodeRuntime, event: Record<string, Json>): { ts: number, line: ExportLine } {
  const body = { ...event, node: rt.key } as Record<string, Json>
  const sig = toB64u(sign('audit', canonicalBytes(body), rt.identity.keyPair))
  return { ts: event.ts as number, line: { type: 'audit', event: body, signer: rt.key, pub: rt.identity.publicKey, sig } }
}

function eventConcerns (event: Record<string, Json>, match: (r: any) => boolean): boolean {
  // Events name the key they concern as `peer` (joins, refusals, revocations) or `agent`.
  return [event.peer, event.agent].some((key) => typeof key === 'string' && match({ signer: key, actor: key }))
}
