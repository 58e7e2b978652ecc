/**
 * The storage seam: an ordered key-value store with atomic batches. Keys are strings compared
 * by their UTF-8 bytes (the order LevelDB uses); values are bytes. `LevelKV` (level-kv.ts)
 * persists to disk, `MemoryKV` (memory-kv.ts) serves tests and the simulator; one acceptance
 * suite (test/store/kv-acceptance.ts) holds both to the same contract.
 *
 * @example
 * await kv.batch([{ type: 'put', key: 'doc/inc/1', value: chunk }, { type: 'del', key: 'doc/inc/0' }])
 * for await (const [key, value] of kv.iterator({ prefix: 'audit/' })) console.log(key, value.length)
 */
import { AuraError, MalformedError } from '../../crdt/errors.js'

/** One write in a batch. */
export type KVOp =
  | { readonly type: 'put', readonly key: string, readonly value: Uint8Array }
  | { readonly type: 'del', readonly key: string }

/**
 * A key range. `prefix` and the bounds may be combined: the range is their intersection.
 * `limit` caps the number of entries; `reverse` walks from the high end.
 */
export interface KVRange {
  readonly prefix?: string
  readonly gt?: string
  readonly gte?: string
  readonly lt?: string
  readonly lte?: string
  readonly reverse?: boolean
  readonly limit?: number
}

/** An ordered key-value store. Every method rejects once `close()` has been called. */
export interface KV {
  /** The value at `key`, or undefined. */
  get: (key: string) => Promise<Uint8Array | undefined>
  /** Writes one value. */
  put: (key: string, value: Uint8Array) => Promise<void>
  /** Deletes one key; deleting a missing key is not an error. */
  del: (key: string) => Promise<void>
  /** Applies all ops atomically and in order: after a crash either all of them are there or none. */
  batch: (ops: readonly KVOp[]) => Promise<void>
  /** Entries of a range in key order, read from a snapshot taken when this is called. */
  iterator: (range?: KVRange) => AsyncIterableIterator<[string, Uint8Array]>
  /** Releases the store; idempotent. */
  close: () => Promise<void>
}

/** A bound of a normalised range, as UTF-8 bytes. */
export interface Bound {
  readonly key: Uint8Array
  readonly inclusive: boolean
}

/** A range reduced to at most one lower and one upper bound, shared by every implementation. */
export interface NormalRange {
  readonly lower?: Bound
  readonly upper?: Bound
  readonly reverse: boolean
  readonly limit: number
}

const enc = new TextEncoder()

/** UTF-8 bytes of a key, after checking it is a non-empty string. */
export function keyBytes (key: string): Uint8Array {
  if (typeof key !== 'string' || key.length === 0) throw new MalformedError('a store key is a non-empty string')
  return enc.encode(key)
}

/** Byte-wise comparison: the order of keys in every KV. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** Reduces prefix + bounds to one lower and one upper bound (their intersection). */
export function normaliseRange (range: KVRange = {}): NormalRange {
  let lower: Bound | undefined
  let upper: Bound | undefined
  const raise = (b: Bound): void => {
    if (lower === undefined) { lower = b; return }
    const c = compareBytes(b.key, lower.key)
    if (c > 0 || (c === 0 && !b.inclusive)) lower = b
  }
  const cut = (b: Bound): void => {
    if (upper === undefined) { upper = b; return }
    const c = compareBytes(b.key, upper.key)
    if (c < 0 || (c === 0 && !b.inclusive)) upper = b
  }
  if (range.prefix !== undefined) {
    const p = keyBytes(range.prefix)
    raise({ key: p, inclusive: true })
    const end = prefixEnd(p)
    if (end !== undefined) cut({ key: end, inclusive: false })
  }
  if (range.gte !== undefined) raise({ key: keyBytes(range.gte), inclusive: true })
  if (range.gt !== undefined) raise({ key: keyBytes(range.gt), inclusive: false })
  if (range.lte !== undefined) cut({ key: keyBytes(range.lte), inclusive: true })
  if (range.lt !== undefined) cut({ key: keyBytes(range.lt), inclusive: false })
  const limit = range.limit ?? Infinity
  if (!(limit >= 0)) throw new MalformedError('a range limit is a number >= 0', { limit: String(range.limit) })
  return { lower, upper, reverse: range.reverse === true, limit }
}

/** Whether a normalised range can hold any key at all. */
export function rangeIsEmpty (r: NormalRange): boolean {
  if (r.limit === 0) return true
  if (r.lower === undefined || r.upper === undefined) return false
  const c = compareBytes(r.lower.key, r.upper.key)
  return c > 0 || (c === 0 && !(r.lower.inclusive && r.upper.inclusive))
}

// The smallest byte string greater than every string starting with `p`; undefined when
// `p` is all 0xff bytes (no such string: the range is unbounded above).
function prefixEnd (p: Uint8Array): Uint8Array | undefined {
  const end = new Uint8Array(p)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) { end[i]++; return end.subarray(0, i + 1) }
  }
  return undefined
}

/** The error every KV raises when used after `close()`. */
export function closedError (): AuraError {
  return new AuraError('E_INTERNAL', 'the store is closed')
}
