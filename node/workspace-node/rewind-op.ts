/**
 * `aura rewind --function PATH:NAME --to ID`: puts one unit back as it was at an intent, a
 * rewind or a snapshot, in the file as it is now (node/workspace/rewind.ts does the surgery).
 * The file is saved first as a `pre-rewind` snapshot, recorded and replicated like any other;
 * the change itself is a signed `rewind` record whose delta peers apply, referring to the
 * target and that snapshot. A result that would not parse is refused (E_PARSE) and nothing is
 * written; if the records cannot be written (lockdown, revoked), the file is put back.
 *
 * `aura rewind --to-before-session AGENT`: every unit that agent credential's records changed
 * (its session: from issue to revocation or expiry) goes back as it was before the agent first
 * touched it: from the earliest snapshot taken for it that holds the file (the pre-edit
 * snapshots of its intents, or its own), else from the history just before its first record.
 * One rewind per unit, as above; neighbours others edited keep their edits.
 *
 * @example
 * await rewindOp(rt, { function: 'src/auth/verify.py:verify_token', to: '3f9a12', cwd: root })
 * // { changed: true, record, snapshot, target, diff, ... }
 * await rewindOp(rt, { toBeforeSession: 'claude-7f3a', cwd: root })
 * // { session: 'claude-7f3a', units: [...], rewound: 3 }
 */
import type { Json } from '../../crdt/canonical.js'
import { ConflictError, NotFoundError, UsageError, toAuraError } from '../../crdt/errors.js'
import { shortId, type RecordId } from '../../crdt/ids.js'
import type { NodeRuntime } from '../runtime.js'
import { resolveAgent } from '../agents/agents.js'
import { advanceState, parseUnitRef, rewindUnit, type UnitVersion } from '../workspace/index.js'
import { resolveInside, writeAtomic } from '../workspace/paths.js'
import { actingAs, type Acting } from './acting.js'
import { readLog, resolveTarget, versionAt, type LogItem, type Target } from './history.js'
import { workspaceOf, type WorkspaceNode } from './workspace-node.js'
import { requireWorkspace } from './workspace-root.js'

/** Parameters of rewind. */
export interface RewindParams {
  function?: unknown
  to?: unknown
  toBeforeSession?: unknown
  dryRun?: unknown
  agent?: unknown
  workspace?: unknown
  cwd?: unknown
}

/** Rewinds one unit, or an agent's session; see the module comment. */
export async function rewindOp (rt: NodeRuntime, p: RewindParams): Promise<Record<string, unknown>> {
  if (p.toBeforeSession !== undefined) return await rewindSession(rt, p)
  if (typeof p.function !== 'string') throw new UsageError('missing --function PATH:NAME (or --to-before-session AGENT)', { hint: 'e.g. --function src/auth/verify.py:verify_token' })
  if (typeof p.to !== 'string') throw new UsageError('missing --to ID (an intent, rewind or snapshot id)', { hint: 'find one with `aura trace` or `aura snapshot-list`' })
  const { path, name } = parseUnitRef(p.function)
  const { dryRun, root, who, ws } = await setUp(rt, p)
  return await ws.exclusive(async () => {
    const all = readLog(rt)
    const history = all.filter((i) => i.quarantined === null)
    const target = resolveTarget(history, all, p.to as string)
    return await rewindOne(rt, ws, { root, who, all, history, target, path, name, dryRun })
  })
}

interface OneRewind {
  root: string
  who: Acting
  all: LogItem[]
  history: LogItem[]
  target: Target
  path: string
  name: string
  dryRun: boolean
  /** The version to put back when known already (null: the unit did not exist); else read at target. */
  version?: UnitVersion | null
}

/** One unit back to `target`: the surgery, then the pre-rewind snapshot and the rewind record. */
async function rewindOne (rt: NodeRuntime, ws: WorkspaceNode, o: OneRewind): Promise<Record<string, unknown>> {
  const { root, who, all, history, target, path, name, dryRun } = o
  const version = o.version !== undefined ? o.version : await versionAt(history, target, path, name, ws.blobs)
  const recorded = all.some(
    (i) => i.delta?.entries.some((e) => e.path === path && (e.name === name || e.fromName === name)) === true
  )
  const r = await rewindUnit(
    { root, blobs: ws.blobs },
    { path, name, target: version, dryRun, recorded, author: who.actor, ts: rt.now() }
  )
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
}

// What every rewind needs first: the workspace, who acts, the node's workspace lock.
async function setUp (rt: NodeRuntime, p: RewindParams): Promise<{
  dryRun: boolean
  root: string
  who: Awaited<ReturnType<typeof actingAs>>
  ws: ReturnType<typeof workspaceOf>
}> {
  return { dryRun: p.dryRun === true, root: await requireWorkspace(rt, p), who: await actingAs(rt, p, 'rewind'), ws: workspaceOf(rt) }
}

/** `--to-before-session AGENT`; see the module comment. */
async function rewindSession (rt: NodeRuntime, p: RewindParams): Promise<Record<string, unknown>> {
  if (typeof p.toBeforeSession !== 'string' || p.toBeforeSession.trim() === '') throw new UsageError('--to-before-session needs an agent id, e.g. claude-7f3a (see `aura agent list`)')
  if (p.to !== undefined || p.function !== undefined) throw new UsageError('--to-before-session rewinds every unit of the session: give it without --to and --function', { hint: 'for one unit: aura rewind --function PATH:NAME --to ID' })
  const agent = resolveAgent(rt, p.toBeforeSession)
  const label = shortId(agent.key, agent.name)
  const { dryRun, root, who, ws } = await setUp(rt, p)
  return await ws.exclusive(async () => {
    const all = readLog(rt)
    const history = all.filter((i) => i.quarantined === null)
    const mine = (i: LogItem): boolean => i.record.signer === agent.key || i.record.actor === label
    const first = history.findIndex(mine)
    if (first < 0) throw new NotFoundError(`${label} recorded nothing in this node's history: no session to rewind`, { agent: label, hint: `aura trace --actor ${label}` })
    // The units the session changed, by their name after its change, in the order it changed them.
    const units = new Map<string, { path: string, name: string }>()
    for (const i of all) {
      if (!mine(i) || i.delta === null) continue
      for (const e of i.delta.entries) units.set(`${e.path}:${e.name}`, { path: e.path, name: e.name })
    }
    // Before the session: the record just before its first; when it began the history, nothing existed.
    const before: Target = { index: Math.max(first - 1, 0), id: history[Math.max(first - 1, 0)].id, snapshot: null }
    const done: Array<Record<string, unknown>> = []
    const failed: Array<{ function: string, code: string, message: string }> = []
    for (const { path, name } of units.values()) {
      // The earliest snapshot of the session holding the file: its bytes before the agent's first edit of it.
      const snap = history.findIndex((i, k) => k >= first && mine(i) && i.snapshot?.manifest.files[path] !== undefined)
      const target: Target = snap >= 0
        ? { index: snap, id: history[snap].id, snapshot: history[snap].snapshot }
        : before
      const version = snap < 0 && first === 0 ? null : undefined
      try {
        done.push(await rewindOne(rt, ws, { root, who, all, history, target, path, name, dryRun, version }))
      } catch (err) {
        const e = toAuraError(err)
        failed.push({ function: `${path}:${name}`, code: e.code, message: e.message })
      }
    }
    const result = {
      session: label,
      workspace: root,
      dryRun,
      units: done,
      rewound: done.filter((d) => d.changed === true).length,
      failed
    }
    if (failed.length > 0) {
      throw new ConflictError(`${failed.length} of ${units.size} units of ${label}'s session could not be rewound (${result.rewound} were): ${failed.map((f) => `${f.function}: ${f.code} ${f.message}`).join('; ')}`, { agent: label, rewound: result.rewound, failed: failed.map((f) => f.function), hint: 'rewind those units one by one: aura rewind --function PATH:NAME --to ID' })
    }
    return result
  })
}
