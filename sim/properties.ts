/**
 * The ground truth the oracle (sim/oracle.ts) judges by, trusting nothing of the code under test:
 * - a node "holds" a revocation when its chain has the revoke entry's exact hash at its seq
 *   (read with `entryHash`, not `revocation()`), and the records legitimately within a cut are
 *   the cut record and its `prev` ancestors, taken from the simulator's own registry of every
 *   record signed in the run;
 * - a record's signature is checked again here, once per record id, with the verification rule
 *   itself (crdt/crypto.ts `verify`), not with the record module's cached answer.
 * The effective view is computed by the real crdt code (or by a deliberately broken one that a
 * test injects, to prove the oracle can fail).
 *
 * @example
 * const registry = new RecordRegistry()
 * registry.add(id, record); registry.legitimateWithin(cut).has(id)
 */
import { canonicalBytes, fromB64u } from '../crdt/canonical.js'
import { verify } from '../crdt/crypto.js'
import type { AuthorityView } from '../crdt/authority-view.js'
import type { KeyId, RecordId } from '../crdt/ids.js'
import { decodeRecord, type SignedRecord } from '../crdt/record.js'

/** A property that failed, with what a person needs to replay and understand it. */
export interface Violation {
  property: 'beyond-cut-effective' | 'bad-signature-stored' | 'adversary-idle' | 'protocol-crash' | 'liveness' |
  'effective-bad-signature' | 'effective-not-admitted' | 'effective-unknown-authority' | 'effective-equivocation' |
  'effective-during-lockdown' | 'effective-backdated' | 'exposure-after-revocation' | 'exposure-after-beacon' |
  'accepted-while-stale' | 'accepted-during-lockdown' | 'revoked-session-kept' | 'revocation-not-relayed' |
  'chain-entry-forged' | 'smuggled-record-stored' | 'change-queued' | 'stranger-admitted' | 'stranger-past-gate' |
  'oversized-frame-delivered' | 'within-cut-quarantined' | 'operator-action-failed'
  atMs: number
  node: string | null
  detail: string
}

/** Computes the ids a node's effective view accepts (the function under test). */
export type EffectiveIdsFn = (
  records: Array<{ id: RecordId, record: SignedRecord }>,
  view: AuthorityView
) => Set<RecordId>

/** A revocation as the simulator issued it. */
export interface IssuedRevocation {
  readonly index: number
  readonly seq: number
  readonly hash: string
  readonly label: string
  readonly issuedUs: number
  /** Key → cut record id (null: no record is legitimate). */
  readonly cuts: ReadonlyMap<KeyId, { seq: number, hash: string | null }>
}

/** Every record signed in the run: the oracle's ground truth. */
export class RecordRegistry {
  private readonly records = new Map<RecordId, SignedRecord>()
  private readonly sigOk = new Map<RecordId, boolean>()
  private readonly legit = new Map<string, Set<RecordId>>()

  /** Registers a record signed in the run. */
  add (id: RecordId, record: SignedRecord): void {
    this.records.set(id, record)
  }

  /** The record, if it was signed in the run. */
  get (id: RecordId): SignedRecord | undefined { return this.records.get(id) }

  /** Independent signature check of stored bytes, once per id (same id, same bytes). */
  signatureOk (id: RecordId, bytes: Uint8Array): boolean {
    const known = this.sigOk.get(id)
    if (known !== undefined) return known
    let ok = false
    try {
      const { record } = decodeRecord(bytes)
      const { sig, ...unsigned } = record
      ok = verify('record', canonicalBytes(unsigned), fromB64u(sig), fromB64u(record.pub))
    } catch {
      ok = false
    }
    this.sigOk.set(id, ok)
    return ok
  }

  /** The cut record and its ancestors by `prev`: what a revocation with this cut still accepts. */
  legitimateWithin (cut: { seq: number, hash: string | null }): ReadonlySet<RecordId> {
    const key = `${cut.seq}:${cut.hash}`
    const cached = this.legit.get(key)
    if (cached !== undefined) return cached
    const out = new Set<RecordId>()
    let at = cut.hash as RecordId | null
    for (let guard = 0; at !== null && guard <= cut.seq; guard++) {
      out.add(at)
      at = this.records.get(at)?.prev ?? null
    }
    this.legit.set(key, out)
    return out
  }
}
