/**
 * Received deltas, written to the workspace unit by unit (node/workspace/apply.ts): only those
 * of effective records — never a quarantined one, such as a revoked peer's records past its
 * cut — and never one written here. Each record is dealt with once: what it did is kept under
 * `ws/done/`, the conflicts it left under `ws/conflict/` (`aura conflicts`, and a count in
 * `aura status`), and the baseline moves by the entries now in place, so the next intent
 * records only local edits. `aura apply` also retries the entries that conflicted before.
 *
 * @example
 * const r = await applyPending(rt, root, { dryRun: false, retry: true })
 * r.records.map((x) => `${x.record} ${x.applied} applied, ${x.conflicts.length} conflicts`)
 */
import { resolvePrefix, shortId, type RecordId } from '../../crdt/ids.js'
import { labeller } from '../evidence/trace.js'
import type { NodeRuntime } from '../runtime.js'
import { advanceState, applyDelta, type CodeDelta, type DeltaEntry, type FileChange } from '../workspace/index.js'
import { readLog, type LogItem } from './history.js'
import type { Done, StoredConflict } from './ws-store.js'
import { workspaceOf } from './workspace-node.js'
import type { WorkspaceSummary } from '../sync/receipts.js'

/** What applying one record did. */
export interface AppliedRecord {
  record: RecordId
  signer: string
  actor: string
  text: string
  applied: number
  already: number
  conflicts: StoredConflict[]
  files: Array<Omit<FileChange, 'before' | 'after'>>
}

/** What an apply run did. */
export interface ApplyRun { workspace: string, dryRun: boolean, records: AppliedRecord[] }

/** Effective records from elsewhere whose deltas were never dealt with here, in log order. */
export async function pendingRecords (rt: NodeRuntime, items: LogItem[] = readLog(rt)): Promise<LogItem[]> {
  const done = await workspaceOf(rt).state.doneIds()
  return items.filter((i) => i.quarantined === null && i.record.signer !== rt.key && !done.has(i.id) &&
    (i.deltaError !== null || (i.delta !== null && i.delta.entries.length > 0)))
}

/** The entries of a delta that a stored conflict names (by unit, change and expected hash). */
function conflicted (delta: CodeDelta, conflicts: StoredConflict[]): CodeDelta {
  const hit = (e: DeltaEntry): boolean => conflicts.some(
    (c) => c.change === e.change && c.expected === e.beforeHash && (c.name === e.name || c.name === e.fromName)
  )
  return { v: 1, entries: delta.entries.filter(hit) }
}

/** Applies pending deltas (and, with `retry`, what conflicted before) to the workspace at `root`. */
export async function applyPending (
  rt: NodeRuntime,
  root: string,
  opts: { dryRun?: boolean, retry?: boolean } = {}
): Promise<ApplyRun> {
  const ws = workspaceOf(rt)
  const dryRun = opts.dryRun === true
  return await ws.exclusive(async () => {
    const items = readLog(rt)
    const pending = await pendingRecords(rt, items)
    const stored = opts.retry === true ? await ws.state.conflicts() : new Map<RecordId, StoredConflict[]>()
    const work: Array<{ item: LogItem, delta: CodeDelta | null }> = []
    for (const item of items) {
      if (pending.includes(item)) work.push({ item, delta: item.delta })
      else if (stored.has(item.id) &&
        item.delta !== null &&
        item.quarantined === null) work.push({ item, delta: conflicted(item.delta, stored.get(item.id)!) })
    }
    const label = labeller(rt)
    const records: AppliedRecord[] = []
    let base = await ws.state.baseline(root)
    for (const { item, delta } of work) {
      const ts = rt.now()
      const signer = shortId(item.record.signer, label(item.record.signer))
      const out: AppliedRecord = {
        record: item.id,
        signer,
        actor: item.record.actor,
        text: item.record.text,
        applied: 0,
        already: 0,
        conflicts: [],
        files: []
      }
      if (delta === null) {
        out.conflicts.push({ recordId: item.id, path: '', name: '', change: 'modified', expected: null, actual: null, reason: 'malformed', message: item.deltaError ?? 'not a code delta', signer, actor: item.record.actor, ts })
      } else {
        const r = await applyDelta({ root, blobs: ws.blobs }, { recordId: item.id, delta, dryRun })
        out.applied = r.applied.length
        out.already = r.already.length
        out.conflicts = r.conflicts.map((c) => ({ ...c, signer, actor: item.record.actor, ts }))
        out.files = r.files.map(({ path, diff }) => ({ path, diff }))
        if (!dryRun &&
          base !== null) base = { ...base, state: advanceState(base.state, [...r.applied, ...r.already]), ts }
      }
      records.push(out)
      if (dryRun) continue
      const done: Done = { ts, outcome: delta === null ? 'malformed' : out.conflicts.length > 0 ? 'conflicts' : 'applied', applied: out.applied, already: out.already, conflicts: out.conflicts.length }
      await ws.state.commit(
        { baseline: base ?? undefined, done: [[item.id, done]], conflicts: [[item.id, out.conflicts]] }
      )
    }
    return { workspace: root, dryRun, records }
  })
}

/**
 * Every conflict kept here, oldest first; `clear` forgets those of the records named (by id prefix; all when empty).
 */
export async function listConflicts (rt: NodeRuntime, clear?: string[]): Promise<StoredConflict[]> {
  const ws = workspaceOf(rt)
  return await ws.exclusive(async () => {
    const all = await ws.state.conflicts()
    if (clear !== undefined) {
      const ids = clear.length === 0 ? [...all.keys()] : clear.map((c) => resolvePrefix(c, all.keys()))
      await ws.state.commit({ conflicts: ids.map((id) => [id, []]) })
      for (const id of ids) all.delete(id)
    }
    return [...all.values()].flat().sort((a, b) => a.ts - b.ts)
  })
}

/**
 * For receipts: what this node holds but has not applied to its workspace (pending, or left in
 * conflict); null when the node has no workspace (none configured, none recorded).
 */
export async function unappliedSummary (rt: NodeRuntime): Promise<WorkspaceSummary | null> {
  const ws = workspaceOf(rt)
  if (rt.config.workspace.path === null && await ws.state.recordedRoot() === null) return null
  const pending = (await pendingRecords(rt)).map((i) => i.id as string)
  const conflicted = [
    ...(await ws.state.conflicts()).entries()
  ].filter(([, list]) => list.length > 0).map(([id]) => id as string)
  return { apply: rt.config.workspace.apply, unapplied: [...new Set([...pending, ...conflicted])], more: 0 }
}

/** The workspace line of `aura status`: pending deltas and conflicts kept here. */
export async function workspaceSummary (rt: NodeRuntime): Promise<{
  apply: string
  pending: number
  conflicts: number
}> {
  const ws = workspaceOf(rt)
  const conflicts = [...(await ws.state.conflicts()).values()].reduce((n, l) => n + l.length, 0)
  return { apply: rt.config.workspace.apply, pending: (await pendingRecords(rt)).length, conflicts }
}
