/**
 * Persistence of the authority chain: `chain/<seq>` → the entry's canonical bytes, and fork
 * evidence (`forks/<seq>/<hash>` → a second validly signed entry for a held seq), so a
 * replica that saw a fork stays locked across restarts. The store
 * checks only what it needs to stay a contiguous sequence; verifying entries is the
 * AuthorityChain's job (crdt/), done before anything reaches here.
 *
 * @example
 * await store.chain.append([encodeEntry(genesis)])
 * const entries = await store.chain.load() // Uint8Array[] in seq order, from 0
 * await store.chain.addFork(encodeEntry(evidence.other))
 */
import { parseCanonical, sha256, toHex } from '../../crdt/canonical.js'
import { ConflictError, MalformedError } from '../../crdt/errors.js'
import type { KV } from './kv.js'
import { layout, parseTrailingNumber } from './layout.js'
import type { WriteQueue } from './write-queue.js'

/** The stored authority chain. */
export class ChainStore {
  private constructor (private readonly kv: KV, private readonly queue: WriteQueue, private length: number) {}

  /** Reads the stored head position. */
  static async open (kv: KV, queue: WriteQueue): Promise<ChainStore> {
    let length = 0
    for await (const [key] of kv.iterator(
      { prefix: layout.chainPrefix, reverse: true, limit: 1 }
    )) length = parseTrailingNumber(key) + 1
    return new ChainStore(kv, queue, length)
  }

  /** Number of stored entries; the next entry to append has this seq. */
  get size (): number {
    return this.length
  }

  /** Every stored entry, in seq order. E_MALFORMED if the stored sequence has a hole. */
  async load (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [key, value] of this.kv.iterator({ prefix: layout.chainPrefix })) {
      if (parseTrailingNumber(key) !== out.length) throw new MalformedError(`stored authority chain has a gap before ${key}`, { key })
      out.push(value)
    }
    return out
  }

  /**
   * Appends entries (canonical bytes) atomically. They must continue the stored chain: the
   * first has seq `size`, the rest follow by one. E_CONFLICT otherwise, and nothing is written.
   */
  async append (entries: readonly Uint8Array[]): Promise<void> {
    await this.queue.run(async () => {
      const ops = entries.map((bytes, i) => {
        const seq = seqOf(bytes)
        if (seq !== this.length + i) {
          throw new ConflictError(`chain entry seq ${seq} does not follow the stored head (next is ${this.length + i})`, { seq, expected: this.length + i })
        }
        return { type: 'put' as const, key: layout.chain(seq), value: bytes }
      })
      await this.kv.batch(ops)
      this.length += ops.length
    })
  }

  /** Keeps the second entry of a fork (the first is the held `chain/<seq>`); idempotent. */
  async addFork (other: Uint8Array): Promise<void> {
    await this.kv.put(layout.fork(seqOf(other), toHex(sha256(other))), other)
  }

  /** Every stored fork entry, by seq. */
  async forks (): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [, value] of this.kv.iterator({ prefix: layout.forksPrefix })) out.push(value)
    return out
  }
}

function seqOf (bytes: Uint8Array): number {
  const v = parseCanonical(bytes)
  const seq = typeof v === 'object' && v !== null && !Array.isArray(v) ? v.seq : undefined
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new MalformedError('chain entry has no valid seq')
  return seq
}
