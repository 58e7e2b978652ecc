/**
 * `aura pr-review [--actor ID] [--signer ID] [--since 30d] [--security]`: the records in range
 * that carry code deltas — quarantined ones included and marked, since they are the evidence —
 * each with the units it changed, and with `--security` the findings of the security review
 * (node/workspace/review.ts) with the `[hooks]` thresholds. Earlier versions of units, which
 * "newly introduced" is measured against, come from the effective records before the range
 * and from the snapshots taken before it.
 *
 * @example
 * const r = await prReview(rt, { actor: 'peer-5f3a', since: '30d', security: true })
 * r.flags.filter((f) => f.severity === 'high')
 */
import { shortId } from '../../crdt/ids.js'
import { identityFilter } from '../evidence/identity-filter.js'
import { parseSince } from '../evidence/since.js'
import { labeller } from '../evidence/trace.js'
import type { NodeRuntime } from '../runtime.js'
import { deltaPaths, extractUnits, getBlobText, securityReview, type DeltaEntry, type Flag, type ReviewItem } from '../workspace/index.js'
import { readLog, type LogItem } from './history.js'
import { workspaceOf } from './workspace-node.js'

/** Filters of pr-review. */
export interface ReviewParams { actor?: unknown, signer?: unknown, since?: unknown, security?: unknown }

/** One reviewed record. */
export interface ReviewedRecord {
  id: string
  kind: string
  signer: string
  actor: string
  ts: string
  text: string
  status: 'effective' | 'quarantined'
  reason: string | null
  changes: string[]
  flags: number
}

/** Units of the snapshot's files that the range touches, as `added` entries to learn texts from. */
async function snapshotEntries (rt: NodeRuntime, item: LogItem, paths: Set<string>): Promise<DeltaEntry[]> {
  const out: DeltaEntry[] = []
  for (const [path, hash] of Object.entries(item.snapshot?.manifest.files ?? {})) {
    if (!paths.has(path)) continue
    const text = await getBlobText(workspaceOf(rt).blobs, hash)
    if (text === null) continue
    for (const u of extractUnits(path, text).units) {
      out.push({ path, name: u.name, kind: u.kind, change: 'added', beforeHash: null, afterHash: u.hash, bodyHash: u.bodyHash, text: u.text, blob: null, indent: u.indent, parent: u.parent, after: null, fromPath: null, fromName: null })
    }
  }
  return out
}

/** Reviews the records in range; see the module comment. */
export async function prReview (rt: NodeRuntime, p: ReviewParams): Promise<Record<string, unknown>> {
  const all = readLog(rt)
  const from = typeof p.since === 'string' ? parseSince(p.since, rt.now()) : -Infinity
  const label = labeller(rt)
  const byActor = typeof p.actor === 'string' ? identityFilter(rt, p.actor) : null
  const bySigner = typeof p.signer === 'string' ? identityFilter(rt, p.signer) : null
  const inRange = all.filter((i) => i.snapshot === null && ((i.delta?.entries.length ?? 0) > 0 ||
    i.deltaError !== null) && i.record.ts >= from &&
    (byActor === null || byActor(i.record)) && (bySigner === null || bySigner(i.record)))
  const signerOf = (i: LogItem): string => shortId(i.record.signer, label(i.record.signer))
  const items: ReviewItem[] = inRange.map(
    (i) => ({ recordId: i.id, signer: signerOf(i), actor: i.record.actor, quarantined: i.quarantined, delta: i.delta })
  )

  let flags: Flag[] = []
  if (p.security === true && inRange.length > 0) {
    const first = all.indexOf(inRange[0])
    const last = all.indexOf(inRange[inRange.length - 1])
    const chosen = new Set(inRange)
    const paths = new Set(inRange.flatMap((i) => i.delta === null ? [] : deltaPaths(i.delta)))
    const history: ReviewItem[] = []
    for (let k = 0; k < last; k++) {
      const i = all[k]
      if (chosen.has(i) || i.quarantined !== null) continue
      if (i.snapshot !== null) {
        if (k < first) {
          history.push({
            recordId: i.id,
            signer: signerOf(i),
            actor: i.record.actor,
            delta: { v: 1, entries: await snapshotEntries(rt, i, paths) }
          })
        }
      } else if (i.delta !== null) {
        history.push({ recordId: i.id, signer: signerOf(i), actor: i.record.actor, delta: i.delta })
      }
    }
    const hooks = rt.config.hooks
    flags = await securityReview(
      items,
      {
        thresholds: { files: hooks.large_diff_threshold_files, lines: hooks.large_diff_threshold_lines },
        history,
        blobs: workspaceOf(rt).blobs
      }
    )
  }

  const records: ReviewedRecord[] = inRange.map((i) => ({
    id: i.id,
    kind: i.record.kind,
    signer: signerOf(i),
    actor: i.record.actor,
    ts: new Date(i.record.ts).toISOString(),
    text: i.record.text,
    status: i.quarantined === null ? 'effective' : 'quarantined',
    reason: i.quarantined,
    changes: i.delta === null ? [`(not a valid delta: ${i.deltaError ?? ''})`] : i.delta.entries.map((e) => `${e.change} ${e.path}:${e.name}${e.fromName !== null && (e.fromPath !== e.path || e.fromName !== e.name) ? ` (from ${e.fromPath ?? ''}:${e.fromName})` : ''}`),
    flags: flags.filter((f) => f.recordId === i.id).length
  }))
  const count = (s: string): number => flags.filter((f) => f.severity === s).length
  return {
    security: p.security === true,
    records,
    flags,
    summary: { records: records.length, flagged: records.filter((r) => r.flags > 0).length, high: count('high'), medium: count('medium'), low: count('low') }
  }
}
