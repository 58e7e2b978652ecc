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
 * // { id, seq, kind: 'intent', signer: 'peer-5f3a', workspace: '/home/alice/src/app',
 * //   changes: { files: 1, units: 2, lines: 9 }, ... }
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Json } from '../../crdt/canonical.js'
import { UsageError } from '../../crdt/errors.js'
import { keyIdOf, type RecordId } from '../../crdt/ids.js'
import type { NodeRuntime } from '../runtime.js'
import { zoneGate } from '../zones/zones.js'
import { diffStates, scanWorkspace, splitDelta, storeManifest, summariseState, takeSnapshot, type CodeDelta, type WorkspaceState } from '../workspace/index.js'
import { actingAs, type Acting } from './acting.js'
import { workspaceOf, type WorkspaceNode } from './workspace-node.js'
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
      return {
        id: a.id,
        seq: a.seq,
        ...common,
        changes: null,
        baseline: { snapshot: snap.id, record: s.id, files, blobRecords: blobRecords.length },
        zoneWarnings: []
      }
    }
    const diff = diffStates(base.state, scan.state)
    // Refused inside another identity's zone before anything is written (the baseline stays).
    const { warnings } = zoneGate(rt, writer, diff.delta)
    const changedPaths = [
      ...new Set(
        diff.delta.entries.flatMap(
          (e) => e.fromPath !== null && e.fromPath !== e.path ? [e.path, e.fromPath] : [e.path]
        )
      )
    ].sort()
    // An agent's files are always recoverable: their recorded versions are saved first.
    const preEdit = who.signer === undefined ? null : await preEditSnapshot(rt, ws, base.state, changedPaths, who, ts)
    // Keep this intent's file bytes, so the next pre-edit snapshot finds them by hash.
    await keepFileBytes(root, ws, changedPaths)
    for (const bytes of diff.blobs.values()) await ws.blobs.put(bytes)
    await ws.blobs.replicate(rt, diff.blobs.keys(), { actor: who.actor, purpose: `intent by ${who.actor}` })
    const parts: CodeDelta[] = diff.delta.entries.length === 0
      ? [diff.delta]
      : splitDelta(diff.delta, DELTA_PART_BUDGET)
    const ids: RecordId[] = []
    let seq = 0
    for (let k = 0; k < parts.length; k++) {
      const data = parts.length === 1 ? null : { part: k + 1, parts: parts.length }
      const a = await rt.appendRecord(
        { kind, text, actor: who.actor, delta: parts[k] as unknown as Json, data, refs: k === 0 ? [] : [ids[0]] },
        who.signer
      )
      ids.push(a.id)
      if (k === 0) seq = a.seq
    }
    await ws.state.commit({
      baseline: { ...base, state: summariseState(scan.state), ts },
      done: ids.map((id) => [id, { ts, outcome: 'own', applied: 0, already: 0, conflicts: 0 }])
    })
    const units = diff.delta.entries.length
    return {
      id: ids[0],
      seq,
      ...common,
      changes: { files: diff.stats.files, units, lines: diff.stats.lines, blobs: diff.blobs.size },
      parts: ids,
      zoneWarnings: warnings,
      preEdit
    }
  })
}

/**
 * The `pre-edit` snapshot of an agent's intent: the recorded (baseline) bytes of the files it
 * changed, found in the blob store by the baseline's file hashes, unless a snapshot the agent
 * took since its last intent already holds exactly those bytes. Files whose recorded bytes are
 * not known here (changed by an apply or a rewind since) are listed as `unknown`; their units
 * are still recoverable from the log's deltas. null when there is nothing to save.
 */
async function preEditSnapshot (
  rt: NodeRuntime,
  ws: WorkspaceNode,
  base: WorkspaceState,
  paths: string[],
  who: Acting,
  ts: number
): Promise<{ snapshot: string, record: string, files: number, unknown: string[] } | null> {
  const actor = who.actor
  const already = snappedSinceIntent(rt, who)
  const files: Record<string, string> = {}
  const unknown: string[] = []
  for (const path of paths) {
    const hash = base.files[path]?.fileHash
    if (hash === undefined) continue // new file: nothing to save
    if (hash === '' || !await ws.blobs.has(hash)) { unknown.push(path); continue }
    if (already?.get(path) !== hash) files[path] = hash
  }
  if (Object.keys(files).length === 0) return null
  const snap = await storeManifest(ws.blobs, { v: 1, author: actor, ts, reason: 'pre-edit', files })
  await ws.blobs.replicate(rt, Object.values(files), { actor, purpose: `snapshot ${snap.id.slice(0, 12)}` })
  const n = Object.keys(files).length
  const s = await rt.appendRecord({ kind: 'snapshot', actor, text: `snapshot ${snap.id.slice(0, 12)}: pre-edit, ${n} files`, data: snap.manifest as unknown as Json })
  return { snapshot: snap.id, record: s.id, files: n, unknown }
}

/** The files (path → hash) of the snapshots an agent took since its last intent, from the log. */
function snappedSinceIntent (rt: NodeRuntime, who: Acting): Map<string, string> {
  const agentKey = keyIdOf(who.signer!.publicKey)
  let lastIntent = -1
  const snaps: Array<{ ts: number, files: Record<string, string> }> = []
  for (const { record } of rt.store.intent.log.records()) {
    if (record.signer === agentKey && (record.kind === 'intent' || record.kind === 'incident')) lastIntent = Math.max(lastIntent, record.ts)
    else if (record.kind === 'snapshot' && record.actor === who.actor && record.signer === rt.key) {
      const files = (record.data as { files?: unknown } | null)?.files
      if (typeof files === 'object' && files !== null) snaps.push({ ts: record.ts, files: files as Record<string, string> })
    }
  }
  const out = new Map<string, string>()
  for (const s of snaps.sort((a, b) => a.ts - b.ts)) {
    if (s.ts >= lastIntent) for (const [p, h] of Object.entries(s.files)) out.set(p, h)
  }
  return out
}

/**
 * Stores the current bytes of the given files in the blob store,
 * on this node only (the new baseline's file hashes name them).
 */
async function keepFileBytes (root: string, ws: WorkspaceNode, paths: string[]): Promise<void> {
  for (const p of paths) {
    const bytes = await readFile(join(root, ...p.split('/'))).catch(() => null)
    if (bytes !== null) await ws.blobs.put(new Uint8Array(bytes))
  }
}
