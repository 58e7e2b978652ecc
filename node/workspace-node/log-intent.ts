/**
 * `aura log-intent "TEXT"` with a workspace: the record's `delta` holds the units changed since
 * the last recorded state (the baseline in `ws/baseline`), and the baseline moves to what was
 * recorded. The first intent on a workspace has nothing to diff against: it takes a snapshot of
 * the whole workspace (a `snapshot` record, with `blob` records carrying the files) and refers
 * to it, so later rewinds have a starting point. Unit texts over 16 KiB go to blobs, which are
 * replicated the same way; a delta too big for one record is split into parts (`data.part`,
 * `data.parts`; parts after the first refer to the first). Without a workspace, the record is
 * written as before, with no delta.
 *
 * @example
 * await logIntent(rt, { text: 'fix token expiry', cwd: '/home/alice/src/app' })
 * // { id, seq, kind: 'intent', signer: 'peer-5f3a', workspace: '/home/alice/src/app', changes: { files: 1, units: 2, lines: 9 }, ... }
 */
import type { Json } from '../../crdt/canonical.js'
import { UsageError } from '../../crdt/errors.js'
import { keyIdOf, type RecordId } from '../../crdt/ids.js'
import type { NodeRuntime } from '../runtime.js'
import { zoneGate } from '../zones/zones.js'
import { diffStates, scanWorkspace, splitDelta, summariseState, takeSnapshot, type CodeDelta } from '../workspace/index.js'
import { actingAs } from './acting.js'
import { workspaceOf } from './workspace-node.js'
import { workspaceRoot } from './workspace-root.js'

/** Largest canonical delta in one record: well under the record and sync frame limits. */
export const DELTA_PART_BUDGET = 1024 * 1024

/** Parameters of log-intent. */
export interface LogIntentParams {
  text?: unknown
  agent?: unknown
  actor?: unknown
  /** A delta supplied by the caller, used only when there is no workspace. */
  delta?: unknown
  workspace?: unknown
  cwd?: unknown
}

/** Appends an intent (or incident), with the workspace's delta when there is a workspace. */
export async function logIntent (rt: NodeRuntime, p: LogIntentParams): Promise<Record<string, unknown>> {
  if (typeof p.text !== 'string' || p.text.trim() === '') throw new UsageError('missing text')
  const text = p.text
  const kind = text.startsWith('INCIDENT:') ? 'incident' : 'intent'
  const who = await actingAs(rt, p, 'intent')
  const writer = who.signer === undefined ? rt.key : keyIdOf(who.signer.publicKey)
  const root = await workspaceRoot(rt, p)
  if (root === null) {
    const { warnings } = zoneGate(rt, writer, p.delta)
    const a = await rt.appendRecord({ kind, text, delta: (p.delta ?? null) as Json, actor: who.actor }, who.signer)
    return { id: a.id, seq: a.seq, kind, signer: who.label, workspace: null, changes: null, zoneWarnings: warnings }
  }
  const ws = workspaceOf(rt)
  return await ws.exclusive(async () => {
    const ts = rt.now()
    const base = await ws.state.baseline(root)
    const scan = await scanWorkspace(root, { baseline: base?.state })
    const common = { kind, signer: who.label, workspace: root, skipped: scan.skipped, syntaxErrors: scan.syntaxErrors }
    if (base === null) {
      const snap = await takeSnapshot({ root, blobs: ws.blobs }, { author: who.actor, ts, reason: 'baseline' })
      const files = Object.keys(snap.manifest.files).length
      const blobRecords = await ws.blobs.replicate(rt, Object.values(snap.manifest.files), { actor: who.actor, purpose: `snapshot ${snap.id.slice(0, 12)}` })
      const s = await rt.appendRecord({ kind: 'snapshot', actor: who.actor, text: `snapshot ${snap.id.slice(0, 12)}: baseline of ${files} files`, data: snap.manifest as unknown as Json })
      const a = await rt.appendRecord({ kind, text, actor: who.actor, refs: [s.id] }, who.signer)
      await ws.state.commit({
        baseline: { v: 1, root, state: summariseState(scan.state), snapshot: snap.id, ts },
        done: [[a.id, { ts, outcome: 'own', applied: 0, already: 0, conflicts: 0 }]]
      })
      return { id: a.id, seq: a.seq, ...common, changes: null, baseline: { snapshot: snap.id, record: s.id, files, blobRecords: blobRecords.length }, zoneWarnings: [] }
    }
    const diff = diffStates(base.state, scan.state)
    // Refused inside another identity's zone before anything is written (the baseline stays).
    const { warnings } = zoneGate(rt, writer, diff.delta)
    for (const bytes of diff.blobs.values()) await ws.blobs.put(bytes)
    await ws.blobs.replicate(rt, diff.blobs.keys(), { actor: who.actor, purpose: `intent by ${who.actor}` })
    const parts: CodeDelta[] = diff.delta.entries.length === 0 ? [diff.delta] : splitDelta(diff.delta, DELTA_PART_BUDGET)
    const ids: RecordId[] = []
    let seq = 0
    for (let k = 0; k < parts.length; k++) {
      const data = parts.length === 1 ? null : { part: k + 1, parts: parts.length }
      const a = await rt.appendRecord({ kind, text, actor: who.actor, delta: parts[k] as unknown as Json, data, refs: k === 0 ? [] : [ids[0]] }, who.signer)
      ids.push(a.id)
      if (k === 0) seq = a.seq
    }
    await ws.state.commit({
      baseline: { ...base, state: summariseState(scan.state), ts },
      done: ids.map((id) => [id, { ts, outcome: 'own', applied: 0, already: 0, conflicts: 0 }])
    })
    const units = diff.delta.entries.length
    return { id: ids[0], seq, ...common, changes: { files: diff.stats.files, units, lines: diff.stats.lines, blobs: diff.blobs.size }, parts: ids, zoneWarnings: warnings }
  })
}
