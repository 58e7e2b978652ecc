/**
 * `aura snapshot [PATH...]` and `aura snapshot-list`. A snapshot stores file contents by hash
 * in the blob store and writes a signed `snapshot` record whose `data` is the manifest (its id
 * is the hash of the manifest), after `blob` records carrying any content the log does not
 * hold yet. The list reads snapshot records of every peer, quarantined ones included and
 * marked, and matches `--author` against the signer, the actor, or the manifest's author.
 *
 * @example
 * await takeSnapshotOp(rt, { paths: ['src/auth'], cwd: root })
 * listSnapshots(rt, { author: 'claude-7f3a', path: 'src/auth/verify.py', since: '6h' })
 */
import path from 'node:path'
import type { Json } from '../../crdt/canonical.js'
import { UsageError } from '../../crdt/errors.js'
import { shortId, type RecordId } from '../../crdt/ids.js'
import { identityFilter } from '../evidence/identity-filter.js'
import { parseSince } from '../evidence/since.js'
import { labeller } from '../evidence/trace.js'
import type { NodeRuntime } from '../runtime.js'
import { filterSnapshots, takeSnapshot } from '../workspace/index.js'
import { actingAs } from './acting.js'
import { readLog } from './history.js'
import { workspaceOf } from './workspace-node.js'
import { requireWorkspace } from './workspace-root.js'

/** Parameters of `aura snapshot`. */
export interface SnapshotParams {
  paths?: unknown
  reason?: unknown
  agent?: unknown
  workspace?: unknown
  cwd?: unknown
  /** 'workspace': relative paths are relative to the workspace root (an agent's MCP call), not to cwd. */
  pathsFrom?: unknown
}

/** Workspace-relative POSIX paths of what the user typed (relative to where they typed it). */
export function relativePaths (root: string, typed: unknown, cwd: unknown): string[] | undefined {
  const list = typed === undefined ? [] : Array.isArray(typed) ? typed : [typed]
  if (list.length === 0) return undefined
  const base = typeof cwd === 'string' ? cwd : root
  return list.map((t) => {
    const rel = path.relative(root, path.resolve(base, String(t)))
    if (rel.startsWith('..') || path.isAbsolute(rel)) throw new UsageError(`${String(t)} is outside the workspace ${root}`, { path: String(t), workspace: root })
    return rel === '' ? '.' : rel.split(path.sep).join('/')
  })
}

/** Takes a snapshot and records it; see the module comment. */
export async function takeSnapshotOp (rt: NodeRuntime, p: SnapshotParams): Promise<Record<string, unknown>> {
  const root = await requireWorkspace(rt, p)
  const who = await actingAs(rt, p, 'intent')
  const paths = relativePaths(root, p.paths, p.pathsFrom === 'workspace' ? root : p.cwd)
  const reason = typeof p.reason === 'string' ? p.reason : 'manual'
  const ws = workspaceOf(rt)
  return await ws.exclusive(async () => {
    const snap = await takeSnapshot({ root, blobs: ws.blobs }, { paths, author: who.actor, ts: rt.now(), reason })
    const files = Object.keys(snap.manifest.files).length
    const blobRecords = await ws.blobs.replicate(rt, Object.values(snap.manifest.files), { actor: who.actor, purpose: `snapshot ${snap.id.slice(0, 12)}` })
    const a = await rt.appendRecord({ kind: 'snapshot', actor: who.actor, text: `snapshot ${snap.id.slice(0, 12)}: ${reason}, ${files} files`, data: snap.manifest as unknown as Json })
    return {
      id: snap.id,
      record: a.id,
      author: who.actor,
      reason,
      files,
      paths: Object.keys(snap.manifest.files),
      blobRecords: blobRecords.length,
      workspace: root
    }
  })
}

/** Filters of `aura snapshot-list`. */
export interface SnapshotListParams { author?: unknown, path?: unknown, since?: unknown }

/** One snapshot as listed. */
export interface SnapshotRow {
  id: string
  record: string
  author: string
  signer: string
  ts: string
  reason: string
  files: number
  status: 'effective' | 'quarantined'
  quarantineReason: string | null
}

/** Snapshot records matching the filters, oldest first. */
export function listSnapshots (rt: NodeRuntime, p: SnapshotListParams): SnapshotRow[] {
  const items = readLog(rt).filter((i) => i.snapshot !== null)
  const label = labeller(rt)
  const author = typeof p.author === 'string' ? p.author : undefined
  const byAuthor = author === undefined ? null : identityFilter(rt, author)
  const wanted = items.filter(
    (i) => author === undefined || byAuthor?.(i.record) === true || i.snapshot?.manifest.author === author
  )
  // Keyed by record id, so each listed snapshot leads back to the record that holds it.
  const snaps = filterSnapshots(wanted.map((i) => ({ id: i.id, manifest: i.snapshot!.manifest })), {
    path: typeof p.path === 'string' ? p.path.replace(/^\.\//, '') : undefined,
    since: typeof p.since === 'string' ? parseSince(p.since, rt.now()) : undefined
  })
  const byRecord = new Map(wanted.map((i) => [i.id, i]))
  return snaps.map((s) => {
    const i = byRecord.get(s.id as RecordId)!
    return {
      id: i.snapshot!.id,
      record: i.id,
      author: s.manifest.author,
      signer: shortId(i.record.signer, label(i.record.signer)),
      ts: new Date(s.manifest.ts).toISOString(),
      reason: s.manifest.reason,
      files: Object.keys(s.manifest.files).length,
      status: i.quarantined === null ? 'effective' : 'quarantined',
      quarantineReason: i.quarantined
    }
  })
}
