/**
 * `aura rewind --function PATH:NAME --to ID`: puts one unit back as it was at an intent, a
 * rewind or a snapshot, in the file as it is now (node/workspace/rewind.ts does the surgery).
 * The file is saved first as a `pre-rewind` snapshot, recorded and replicated like any other;
 * the change itself is a signed `rewind` record whose delta peers apply, referring to the
 * target and that snapshot. A result that would not parse is refused (E_PARSE) and nothing is
 * written; if the records cannot be written (lockdown, revoked), the file is put back.
 *
 * @example
 * await rewindOp(rt, { function: 'src/auth/verify.py:verify_token', to: '3f9a12', cwd: root })
 * // { changed: true, record, snapshot, target, diff, ... }
 */
import type { Json } from '../../crdt/canonical.js'
import { UsageError } from '../../crdt/errors.js'
import type { RecordId } from '../../crdt/ids.js'
import type { NodeRuntime } from '../runtime.js'
import { advanceState, parseUnitRef, rewindUnit } from '../workspace/index.js'
import { resolveInside, writeAtomic } from '../workspace/paths.js'
import { actingAs } from './acting.js'
import { readLog, resolveTarget, versionAt } from './history.js'
import { workspaceOf } from './workspace-node.js'
import { requireWorkspace } from './workspace-root.js'

/** Parameters of rewind. */
export interface RewindParams { function?: unknown, to?: unknown, dryRun?: unknown, agent?: unknown, workspace?: unknown, cwd?: unknown }

/** Rewinds one unit; see the module comment. */
export async function rewindOp (rt: NodeRuntime, p: RewindParams): Promise<Record<string, unknown>> {
  if (typeof p.function !== 'string') throw new UsageError('missing --function PATH:NAME', { hint: 'e.g. --function src/auth/verify.py:verify_token' })
  if (typeof p.to !== 'string') throw new UsageError('missing --to ID (an intent, rewind or snapshot id)', { hint: 'find one with `aura trace` or `aura snapshot-list`' })
  const { path, name } = parseUnitRef(p.function)
  const dryRun = p.dryRun === true
  const root = await requireWorkspace(rt, p)
  const who = await actingAs(rt, p, 'rewind')
  const ws = workspaceOf(rt)
  return await ws.exclusive(async () => {
    const all = readLog(rt)
    const history = all.filter((i) => i.quarantined === null)
    const target = resolveTarget(history, all, p.to as string)
    const version = await versionAt(history, target, path, name, ws.blobs)
    const recorded = all.some((i) => i.delta?.entries.some((e) => e.path === path && (e.name === name || e.fromName === name)) === true)
    const r = await rewindUnit({ root, blobs: ws.blobs }, { path, name, target: version, dryRun, recorded, author: who.actor, ts: rt.now() })
    const result = { function: `${path}:${name}`, target: target.id, targetSnapshot: target.snapshot?.id ?? null, workspace: root, dryRun, changed: r.changed, diff: r.diff }
    if (dryRun || !r.changed) return { ...result, record: null, snapshot: null }
    try {
      for (const bytes of r.blobs.values()) await ws.blobs.put(bytes)
      const snapshot = r.snapshot!
      await ws.blobs.replicate(rt, [...Object.values(snapshot.manifest.files), ...r.blobs.keys()], { actor: who.actor, purpose: `rewind of ${path}:${name}`, held: new Map([...r.blobs, ...r.snapshotBlobs]) })
      const s = await rt.appendRecord({ kind: 'snapshot', actor: who.actor, text: `snapshot ${snapshot.id.slice(0, 12)}: pre-rewind of ${path}:${name}`, data: snapshot.manifest as unknown as Json })
      const refs: RecordId[] = [target.id, s.id]
      const a = await rt.appendRecord({ kind: 'rewind', actor: who.actor, text: `rewind ${path}:${name} to ${target.snapshot === null ? '' : 'snapshot '}${(target.snapshot?.id ?? target.id).slice(0, 12)}`, delta: r.delta as unknown as Json, refs }, who.signer)
      const ts = rt.now()
      const base = await ws.state.baseline(root)
      await ws.state.commit({
        baseline: base === null ? undefined : { ...base, state: advanceState(base.state, r.delta.entries), ts },
        done: [[a.id, { ts, outcome: 'own', applied: r.delta.entries.length, already: 0, conflicts: 0 }]]
      })
      return { ...result, record: a.id, seq: a.seq, snapshot: snapshot.id, snapshotRecord: s.id }
    } catch (err) {
      // The correction must be in the log: without its records, the file goes back as it was.
      await writeAtomic(await resolveInside(root, path), r.before)
      throw err
    }
  })
}
