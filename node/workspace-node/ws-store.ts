/**
 * What a node keeps about its workspace, in the node store under `ws/` (docs/storage.md): the
 * baseline (the last recorded state, which the next intent is diffed against), which records'
 * deltas have been dealt with here (applied, refused, or written here in the first place), and
 * the conflicts they left. Related changes go in one batch, so a crash never leaves a delta
 * marked applied with the baseline not advanced, or the reverse.
 *
 * @example
 * const ws = new WorkspaceStore(rt.store.kv)
 * const base = await ws.baseline(root)            // null before the first intent here
 * await ws.commit({ baseline: next, done: [[id, { ts, outcome: 'own', applied: 0, already: 0, conflicts: 0 }]] })
 */
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import { parseRecordId, type RecordId } from '../../crdt/ids.js'
import type { KV, KVOp } from '../store/kv.js'
import { layout } from '../store/layout.js'
import type { Conflict, ConflictReason, WorkspaceState } from '../workspace/index.js'

/** The last recorded state of one workspace (units and hashes, no texts). */
export interface Baseline {
  v: 1
  /** The absolute, real path of the workspace it describes. */
  root: string
  state: WorkspaceState
  /** The snapshot taken when the workspace was first recorded. */
  snapshot: string | null
  ts: number
}

/** What dealing with one record's delta here came to. */
export interface Done {
  ts: number
  /**
   * `own`: written here; `applied`: applied without conflicts;
   * `conflicts`: some entries refused; `malformed`: not a delta.
   */
  outcome: 'own' | 'applied' | 'conflicts' | 'malformed'
  applied: number
  already: number
  conflicts: number
}

/** A conflict as kept here, with the record it came from. */
export interface StoredConflict extends Omit<Conflict, 'reason'> {
  reason: ConflictReason | 'malformed'
  /** Short id of the record's signer, and its actor. */
  signer: string
  actor: string
  /** When it was found here (ms). */
  ts: number
}

/** One atomic update of the workspace state. */
export interface WorkspaceCommit {
  baseline?: Baseline
  done?: Array<[RecordId, Done]>
  /** Conflicts per record; an empty list clears that record's conflicts. */
  conflicts?: Array<[RecordId, StoredConflict[]]>
}

/** The `ws/` part of a node store. */
export class WorkspaceStore {
  constructor (private readonly kv: KV) {}

  /** The baseline of the workspace at `root`, or null when none was recorded there. */
  async baseline (root: string): Promise<Baseline | null> {
    const v = await this.kv.get(layout.wsBaseline)
    if (v === undefined) return null
    const b = parseCanonical(v) as unknown as Baseline
    // One baseline per home: another root has never been recorded from here.
    return b.root === root ? b : null
  }

  /** The root of the workspace this node last recorded, if any. */
  async recordedRoot (): Promise<string | null> {
    const v = await this.kv.get(layout.wsBaseline)
    return v === undefined ? null : (parseCanonical(v) as unknown as Baseline).root
  }

  /** Ids of the records whose deltas were dealt with here. */
  async doneIds (): Promise<Set<RecordId>> {
    const out = new Set<RecordId>()
    for await (const [k] of this.kv.iterator({ prefix: layout.wsDonePrefix })) {
      out.add(
        parseRecordId(k.slice(layout.wsDonePrefix.length))
      )
    }
    return out
  }

  /** Every conflict kept here, by record. */
  async conflicts (): Promise<Map<RecordId, StoredConflict[]>> {
    const out = new Map<RecordId, StoredConflict[]>()
    for await (const [k, v] of this.kv.iterator({ prefix: layout.wsConflictPrefix })) {
      out.set(parseRecordId(k.slice(layout.wsConflictPrefix.length)), parseCanonical(v) as unknown as StoredConflict[])
    }
    return out
  }

  /** Writes a baseline, done marks and conflicts in one batch. */
  async commit (c: WorkspaceCommit): Promise<void> {
    const ops: KVOp[] = []
    if (c.baseline !== undefined) ops.push({ type: 'put', key: layout.wsBaseline, value: canonicalBytes(c.baseline) })
    for (const [id, d] of c.done ?? []) ops.push({ type: 'put', key: layout.wsDone(id), value: canonicalBytes(d) })
    for (const [id, list] of c.conflicts ?? []) {
      ops.push(list.length === 0 ? { type: 'del', key: layout.wsConflict(id) } : { type: 'put', key: layout.wsConflict(id), value: canonicalBytes(list) })
    }
    if (ops.length > 0) await this.kv.batch(ops)
  }
}
