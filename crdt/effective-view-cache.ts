/**
 * The effective view of a growing log, kept between queries: what `effectiveView` returns for
 * every record held, recomputed only for the signers whose records arrived since the last call.
 *
 * Every quarantine rule of `effectiveView` reads one record, its own signer's other records
 * (cut ancestry, equivocation, time order, quotas) and the authority view; none reads another
 * signer's records. So the view of a log is the union of the views of each signer's records,
 * and a new record changes only its signer's part. A log only grows (records are never removed)
 * and hands out what it added since a count (`recordsFrom`); a chain that moved (another head,
 * or another chain object) makes every part stale, so all are recomputed from the held records.
 * test/crdt/effective-view-cache.test.ts checks the union against `effectiveView` of the whole
 * log after every step of random histories.
 *
 * The maps returned are read-only unions: lookups go to the signer's part; iteration is by
 * signer, each part in id order (not id order overall, unlike `effectiveView`).
 *
 * @example
 * const views = new EffectiveViewCache()
 * views.view(log, chain).effective.has(id)   // computed for every signer
 * views.view(log, chain)                     // the same object while nothing changed
 */
import { effectiveView, type EffectiveView, type Quarantined } from './effective-view.js'
import type { AuthorityView } from './authority-view.js'
import type { KeyId, RecordId } from './ids.js'
import type { SignedRecord } from './record.js'

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

type Held = { id: RecordId, record: SignedRecord }

/** The effective view of one log under one chain, updated per signer. */
export class EffectiveViewCache {
  private log: GrowingLog | null = null
  private auth: AuthorityView | null = null
  private head = ''
  /** Records read from the log so far (`log.size` when they were read). */
  private seen = 0
  private readonly bySigner = new Map<KeyId, Held[]>()
  private readonly signerOf = new Map<RecordId, KeyId>()
  private readonly parts = new Map<KeyId, EffectiveView>()
  private readonly stale = new Set<KeyId>()
  private memo: EffectiveViewLike | null = null

  /** The effective view of everything `log` holds under `auth`. */
  view (log: GrowingLog, auth: AuthorityView): EffectiveViewLike {
    if (log !== this.log) this.reset(log)
    const head = `${auth.head.seq}:${auth.head.hash}`
    if (auth !== this.auth || head !== this.head) {
      this.auth = auth
      this.head = head
      for (const signer of this.bySigner.keys()) this.stale.add(signer)
    }
    this.readNew(log)
    if (this.memo !== null && this.stale.size === 0) return this.memo
    for (const signer of this.stale) this.parts.set(signer, effectiveView(this.bySigner.get(signer)!, auth))
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
    this.bySigner.clear()
    this.signerOf.clear()
    this.parts.clear()
    this.stale.clear()
    this.memo = null
  }

  private readNew (log: GrowingLog): void {
    const size = log.size
    if (size === this.seen) return
    for (const held of log.recordsFrom(this.seen)) {
      const signer = held.record.signer
      let list = this.bySigner.get(signer)
      if (list === undefined) this.bySigner.set(signer, list = [])
      list.push(held)
      this.signerOf.set(held.id, signer)
      this.stale.add(signer)
    }
    this.seen = size
  }
}

/** One of the view's maps as the union of the signers' parts. */
class PartsMap<V> implements ReadonlyMap<RecordId, V> {
  readonly size: number

  constructor (
    private readonly parts: ReadonlyMap<KeyId, EffectiveView>,
    private readonly signerOf: ReadonlyMap<RecordId, KeyId>,
    private readonly pick: (part: EffectiveView) => ReadonlyMap<RecordId, V>
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
