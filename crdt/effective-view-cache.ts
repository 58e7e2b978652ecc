/**
 * The effective view of a growing log, kept between queries: what `effectiveView` returns for
 * every record held, recomputed only where records arrived since the last call.
 *
 * Every quarantine rule of `effectiveView` reads one record, its own signer's other records
 * (cut ancestry, equivocation, time order, quotas) and the authority view; none reads another
 * signer's records. So the view of a log is the union of the views of each signer's records,
 * and a new record changes only its signer's part. Within a part, the common arrival is the next
 * record at the tip of its signer's path (seq one above the highest held, `prev` naming it, the
 * signer not revoked): it changes no earlier record's outcome (no seq is shared, no ancestor's
 * chain changes), so only it is judged (`tipReason`, with the QuotaPath kept at the tip); any
 * other arrival recomputes its signer's part. A log only grows (records are never removed)
 * and hands out what it added since a count (`recordsFrom`); a chain that moved (another head,
 * or another chain object) makes every part stale. test/crdt/effective-view-cache.test.ts checks the result
 * against `effectiveView` of the whole log after every step of random histories.
 *
 * The maps returned are read-only unions: lookups go to the signer's part; iteration is by
 * signer, in no particular order within a part (not id order, unlike `effectiveView`).
 *
 * @example
 * const views = new EffectiveViewCache()
 * views.view(log, chain).effective.has(id)   // computed for every signer
 * views.view(log, chain)                     // the same object while nothing changed
 */
import { effectiveView, tipReason, type Quarantined } from './effective-view.js'
import type { AuthorityView } from './authority-view.js'
import type { KeyId, RecordId } from './ids.js'
import { recordSize, verifyRecord, type SignedRecord } from './record.js'
import { QuotaPath, quotasFor } from './write-rules.js'

/** A log that only grows: its record count and the records held after the first `n`. */
export interface GrowingLog {
  readonly size: number
  recordsFrom: (n: number) => Iterable<{ id: RecordId, record: SignedRecord }>
}

/** What a cached view offers: the maps of `EffectiveView`, read-only. */
export interface EffectiveViewLike {
  readonly effective: ReadonlyMap<RecordId, SignedRecord>
  readonly quarantined: ReadonlyMap<RecordId, Quarantined>
}

interface Held { id: RecordId, record: SignedRecord }

/** A signer's validly signed record of the highest seq, and the quota state of its path. */
interface Tip { id: RecordId, seq: number, path: QuotaPath }

/** One signer's records and their outcomes. */
interface Part {
  readonly records: Held[]
  effective: Map<RecordId, SignedRecord>
  quarantined: Map<RecordId, Quarantined>
  /** Null when nothing is validly signed: no arrival is a tip's. */
  tip: Tip | null
}

/** The effective view of one log under one chain, updated per arrival. */
export class EffectiveViewCache {
  private log: GrowingLog | null = null
  private auth: AuthorityView | null = null
  private head = ''
  /** Records read from the log so far (`log.size` when they were read). */
  private seen = 0
  private readonly parts = new Map<KeyId, Part>()
  private readonly signerOf = new Map<RecordId, KeyId>()
  private readonly stale = new Set<KeyId>()
  private memo: EffectiveViewLike | null = null

  /** The effective view of everything `log` holds under `auth`. */
  view (log: GrowingLog, auth: AuthorityView): EffectiveViewLike {
    if (log !== this.log) this.reset(log)
    const head = `${auth.head.seq}:${auth.head.hash}`
    if (auth !== this.auth || head !== this.head) {
      this.auth = auth
      this.head = head
      for (const signer of this.parts.keys()) this.stale.add(signer)
    }
    const added = this.readNew(log, auth)
    if (this.memo !== null && !added && this.stale.size === 0) return this.memo
    for (const signer of this.stale) this.recompute(this.parts.get(signer)!, auth)
    this.stale.clear()
    this.memo = {
      effective: new PartsMap(this.parts, this.signerOf, (p) => p.effective),
      quarantined: new PartsMap(this.parts, this.signerOf, (p) => p.quarantined)
    }
    return this.memo
  }

  private reset (log: GrowingLog): void {
    this.log = log
    this.seen = 0
    this.parts.clear()
    this.signerOf.clear()
    this.stale.clear()
    this.memo = null
  }

  // Takes in what the log added since the last call; true if anything was.
  private readNew (log: GrowingLog, auth: AuthorityView): boolean {
    const size = log.size
    if (size === this.seen) return false
    for (const held of log.recordsFrom(this.seen)) {
      const signer = held.record.signer
      let part = this.parts.get(signer)
      if (part === undefined) {
        part = { records: [], effective: new Map(), quarantined: new Map(), tip: null }
        this.parts.set(signer, part)
      }
      part.records.push(held)
      this.signerOf.set(held.id, signer)
      if (this.stale.has(signer) || !this.atTip(part, held, auth)) this.stale.add(signer)
    }
    this.seen = size
    return true
  }

  /** Judges `held` alone if it arrived at its signer's tip; false if not. */
  private atTip (part: Part, { id, record }: Held, auth: AuthorityView): boolean {
    const tip = part.tip
    if (tip === null || record.seq !== tip.seq + 1 || record.prev !== tip.id || !verifyRecord(record)) return false
    if (auth.revocation(record.signer) !== undefined) return false
    const member = auth.member(record.signer)
    const size = recordSize(record)
    const found = member === undefined
      ? { backdated: false, overQuota: false }
      : tip.path.judge(record.ts, size, quotasFor(auth.quotas, member))
    const reason = tipReason(id, record, auth, found)
    if (reason === undefined) part.effective.set(id, record)
    else part.quarantined.set(id, { record, reason })
    tip.path.push(record.ts, size)
    tip.path.compact()
    part.tip = { id, seq: record.seq, path: tip.path }
    return true
  }

  private recompute (part: Part, auth: AuthorityView): void {
    const view = effectiveView(part.records, auth)
    part.effective = view.effective
    part.quarantined = view.quarantined
    part.tip = tipOf(part.records)
  }
}

/**
 * The tip of a signer's records: its validly signed record of the highest seq (the first held
 * if two share it: a record arriving on the other one's branch names another `prev` and
 * recomputes the part), with the quota state of its path (its ancestors by `prev` at seqs one
 * apart, as chainFindings walks them).
 */
function tipOf (records: readonly Held[]): Tip | null {
  const byId = new Map<RecordId, SignedRecord>()
  let top: Held | null = null
  for (const held of records) {
    if (!verifyRecord(held.record)) continue
    byId.set(held.id, held.record)
    if (top === null || held.record.seq > top.record.seq) top = held
  }
  if (top === null) return null
  const path: SignedRecord[] = [top.record]
  for (let at = top.record; at.prev !== null;) {
    const parent = byId.get(at.prev)
    if (parent === undefined || parent.seq !== at.seq - 1) break
    path.push(parent)
    at = parent
  }
  const quota = new QuotaPath()
  for (let i = path.length - 1; i >= 0; i--) {
    quota.push(path[i].ts, recordSize(path[i]))
    quota.compact()
  }
  return { id: top.id, seq: top.record.seq, path: quota }
}

/** One of the view's maps as the union of the signers' parts. */
class PartsMap<V> implements ReadonlyMap<RecordId, V> {
  readonly size: number

  constructor (
    private readonly parts: ReadonlyMap<KeyId, Part>,
    private readonly signerOf: ReadonlyMap<RecordId, KeyId>,
    private readonly pick: (part: Part) => ReadonlyMap<RecordId, V>
  ) {
    let size = 0
    for (const p of parts.values()) size += pick(p).size
    this.size = size
  }

  get (id: RecordId): V | undefined {
    const signer = this.signerOf.get(id)
    const part = signer === undefined ? undefined : this.parts.get(signer)
    return part === undefined ? undefined : this.pick(part).get(id)
  }

  has (id: RecordId): boolean {
    return this.get(id) !== undefined
  }

  * entries (): MapIterator<[RecordId, V]> {
    for (const p of this.parts.values()) yield * this.pick(p).entries()
  }

  * keys (): MapIterator<RecordId> {
    for (const [id] of this.entries()) yield id
  }

  * values (): MapIterator<V> {
    for (const [, v] of this.entries()) yield v
  }

  [Symbol.iterator] (): MapIterator<[RecordId, V]> {
    return this.entries()
  }

  forEach (fn: (value: V, key: RecordId, map: ReadonlyMap<RecordId, V>) => void): void {
    for (const [id, v] of this.entries()) fn(v, id, this)
  }
}
