/**
 * An in-memory KV for tests and the simulator: same contract as LevelKV (same byte order,
 * atomic batches, snapshot iterators), nothing on disk. Values are copied in and out, so a
 * caller mutating a buffer never changes what is stored.
 *
 * @example
 * const kv = new MemoryKV()
 * await kv.put('meta/format', utf8('1'))
 */
import { closedError, compareBytes, keyBytes, normaliseRange, rangeIsEmpty, type KV, type KVOp, type KVRange } from './kv.js'

interface Entry {
  readonly key: string
  readonly bytes: Uint8Array
  value: Uint8Array
}

/** A KV held in a sorted array. */
export class MemoryKV implements KV {
  private entries: Entry[] = []
  private closed = false

  async get (key: string): Promise<Uint8Array | undefined> {
    this.check()
    const kb = keyBytes(key)
    const i = this.search(kb)
    return i.found ? new Uint8Array(this.entries[i.index].value) : undefined
  }

  async put (key: string, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }])
  }

  async del (key: string): Promise<void> {
    await this.batch([{ type: 'del', key }])
  }

  async batch (ops: readonly KVOp[]): Promise<void> {
    this.check()
    // Validate everything first so a bad op leaves the store untouched, as LevelDB does.
    const prepared = ops.map((op) => {
      const bytes = keyBytes(op.key)
      return op.type === 'put' ? { op, bytes, value: new Uint8Array(op.value) } : { op, bytes, value: undefined }
    })
    for (const { op, bytes, value } of prepared) {
      const i = this.search(bytes)
      if (value === undefined) {
        if (i.found) this.entries.splice(i.index, 1)
      } else if (i.found) {
        this.entries[i.index].value = value
      } else {
        this.entries.splice(i.index, 0, { key: op.key, bytes, value })
      }
    }
  }

  iterator (range?: KVRange): AsyncIterableIterator<[string, Uint8Array]> {
    this.check()
    const r = normaliseRange(range)
    let selected: Entry[] = []
    if (!rangeIsEmpty(r)) {
      let from = 0
      let to = this.entries.length
      if (r.lower !== undefined) {
        const s = this.search(r.lower.key)
        from = s.found && !r.lower.inclusive ? s.index + 1 : s.index
      }
      if (r.upper !== undefined) {
        const s = this.search(r.upper.key)
        to = s.found && r.upper.inclusive ? s.index + 1 : s.index
      }
      selected = this.entries.slice(from, Math.max(from, to))
      if (r.reverse) selected.reverse()
      if (selected.length > r.limit) selected.length = r.limit
    }
    // The snapshot: the entries and their current values, captured now.
    const snapshot = selected.map((e) => [e.key, e.value] as const)
    return (async function * () {
      for (const [k, v] of snapshot) yield [k, new Uint8Array(v)] as [string, Uint8Array]
    })()
  }

  async close (): Promise<void> {
    this.closed = true
    this.entries = []
  }

  private check (): void {
    if (this.closed) throw closedError()
  }

  private search (kb: Uint8Array): { found: boolean, index: number } {
    let lo = 0
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const c = compareBytes(this.entries[mid].bytes, kb)
      if (c === 0) return { found: true, index: mid }
      if (c < 0) lo = mid + 1
      else hi = mid
    }
    return { found: false, index: lo }
  }
}
