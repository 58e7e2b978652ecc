/**
 * The log as code history: the records that carry a code delta (intents, incidents, rewinds)
 * or a snapshot manifest, each with its status (effective, or quarantined and why), in one
 * order every node agrees on where it matters: each signer's records in `seq` order, signers
 * interleaved by their claimed time. Only effective records are history (what a rewind goes
 * back to, what is applied); quarantined ones are kept for review.
 *
 * @example
 * const items = readLog(rt)
 * const history = items.filter((i) => i.quarantined === null)
 * const t = resolveTarget(history, items, '3f9a12')
 * const version = await versionAt(history, t, 'src/auth/verify.py', 'verify_token', blobs)
 */
import { canonicalBytes } from '../../crdt/canonical.js'
import { NotFoundError, UsageError } from '../../crdt/errors.js'
import { resolvePrefix, type RecordId } from '../../crdt/ids.js'
import { verifyRecord, type SignedRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../runtime.js'
import {
  parseCodeDelta, parseSnapshotManifest, sha256Hex, versionFromHistory, versionFromSnapshot,
  type BlobStore, type CodeDelta, type Snapshot, type UnitVersion
} from '../workspace/index.js'

/** One record of the code history. */
export interface LogItem {
  id: RecordId
  record: SignedRecord
  /** The quarantine reason, or null when the record is effective. */
  quarantined: string | null
  /** The record's code delta (intents, incidents, rewinds), if it has a valid one. */
  delta: CodeDelta | null
  /** Why the record's delta is not a valid delta, if it is not. */
  deltaError: string | null
  /** The snapshot a `snapshot` record names. */
  snapshot: Snapshot | null
}

const DELTA_KINDS = new Set(['intent', 'incident', 'rewind'])

/** Records in log order: each signer's by seq, signers merged by claimed time, then key. */
export function logOrder<T extends { id: RecordId, record: SignedRecord }> (records: T[]): T[] {
  const bySigner = new Map<string, T[]>()
  for (const r of records) {
    const list = bySigner.get(r.record.signer)
    if (list === undefined) bySigner.set(r.record.signer, [r])
    else list.push(r)
  }
  const queues = [...bySigner.values()].map(
    (l) => l.sort((a, b) => a.record.seq - b.record.seq || (a.id < b.id ? -1 : 1))
  )
  const out: T[] = []
  const at = queues.map(() => 0)
  for (let n = 0; n < records.length; n++) {
    let best = -1
    for (let q = 0; q < queues.length; q++) {
      const head = queues[q][at[q]]
      if (head === undefined) continue
      const cur = best < 0 ? undefined : queues[best][at[best]]
      if (cur === undefined ||
        head.record.ts < cur.record.ts ||
        (head.record.ts === cur.record.ts && head.record.signer < cur.record.signer)) best = q
    }
    out.push(queues[best][at[best]++])
  }
  return out
}

/** Whether each record counts here: null when effective, else why not. */
export function statusOf (rt: NodeRuntime): (id: RecordId, record: SignedRecord) => string | null {
  const view = rt.effectiveView()
  if (view === null) return (_id, record) => verifyRecord(record) ? null : 'bad_signature'
  return (id) => view.effective.has(id) ? null : view.quarantined.get(id)?.reason ?? 'unknown'
}

function snapshotOf (data: unknown): Snapshot | null {
  try {
    const manifest = parseSnapshotManifest(data)
    return { id: sha256Hex(canonicalBytes(manifest)), manifest }
  } catch {
    return null
  }
}

/** Every delta or snapshot record held, in log order, with its status. */
export function readLog (rt: NodeRuntime): LogItem[] {
  const status = statusOf(rt)
  const items: LogItem[] = []
  for (const { id, record } of rt.store.intent.log.records()) {
    if (record.kind === 'snapshot') {
      const snapshot = snapshotOf(record.data)
      if (snapshot !== null) {
        items.push(
          { id, record, quarantined: status(id, record), delta: null, deltaError: null, snapshot }
        )
      }
      continue
    }
    if (!DELTA_KINDS.has(record.kind)) continue
    let delta: CodeDelta | null = null
    let deltaError: string | null = null
    if (record.delta !== null) {
      try { delta = parseCodeDelta(record.delta) } catch (err) { deltaError = (err as Error).message }
    }
    items.push({ id, record, quarantined: status(id, record), delta, deltaError, snapshot: null })
  }
  return logOrder(items)
}

/** A `--to` target: where it is in the history, and the snapshot when it names one. */
export interface Target { index: number, id: RecordId, snapshot: Snapshot | null }

/**
 * Resolves `--to ID`: a record id (or unique prefix) of an effective intent, incident, rewind
 * or snapshot record, or a snapshot id (prefix). A record written in parts stands for its last
 * part. E_NOT_FOUND / E_AMBIGUOUS as for any id; a quarantined record is no point to go back to.
 */
export function resolveTarget (history: LogItem[], all: LogItem[], input: string): Target {
  const candidates = new Set<string>()
  for (const i of all) {
    candidates.add(i.id)
    if (i.snapshot !== null) candidates.add(i.snapshot.id)
  }
  const id = resolvePrefix(input, candidates)
  const bad = all.find((i) => i.id === id && i.quarantined !== null)
  if (bad !== undefined) throw new UsageError(`record ${id.slice(0, 12)} is quarantined (${bad.quarantined ?? ''}): it is evidence, not a state to go back to`, { record: id })
  let index = -1
  let snapshot: Snapshot | null = null
  history.forEach((i, k) => {
    const part = i.record.refs[0] === id && isPart(i.record)
    if (i.id === id || part) index = k
    if (i.snapshot?.id === id && snapshot === null) { index = k; snapshot = i.snapshot }
  })
  if (index < 0) throw new NotFoundError(`${input} is not an intent, rewind or snapshot in this node's history`, { target: input })
  const item = history[index]
  return { index, id: snapshot !== null ? item.id : id as RecordId, snapshot: item.record.kind === 'snapshot' ? item.snapshot : null }
}

function isPart (record: SignedRecord): boolean {
  const d = record.data
  return d !== null && typeof d === 'object' && !Array.isArray(d) && typeof d.part === 'number' && d.part > 1
}

/**
 * What a unit (by its current path and name) looked like just after the target: from the
 * deltas since the latest snapshot at or before it that holds the file, else from that
 * snapshot. null: the unit did not exist then. E_NOT_FOUND when nothing recorded says.
 */
export async function versionAt (
  history: LogItem[],
  target: Target,
  path: string,
  name: string,
  blobs: BlobStore
): Promise<UnitVersion | null> {
  if (target.snapshot !== null) return await versionFromSnapshot(blobs, target.snapshot, path, name)
  let from = -1
  for (let i = target.index; i >= 0; i--) {
    if (history[i].snapshot?.manifest.files[path] !== undefined) { from = i; break }
  }
  const items = history.slice(Math.max(from, 0)).map((i) => ({ id: i.id, delta: i.delta }))
  const v = await versionFromHistory(items, history[target.index].id, path, name, blobs)
  if (v !== undefined) return v
  if (from >= 0) return await versionFromSnapshot(blobs, history[from].snapshot as Snapshot, path, name)
  throw new NotFoundError(`nothing recorded says what ${path}:${name} looked like at ${target.id.slice(0, 12)}: no delta touched it and no snapshot before it holds ${path}`, {
    path, name, target: target.id, hint: 'aura snapshot-list --path ' + path
  })
}
