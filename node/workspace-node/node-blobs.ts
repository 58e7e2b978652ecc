/**
 * The node's blobs: files in `<home>/blobs/` (FsBlobStore), backed by the log. Blobs must reach
 * every peer that may apply or rewind with them, so the writer of a snapshot or a delta that
 * refers to blobs first appends `blob` records carrying the bytes (base64url in `data`, a few
 * per record, each record under BLOB_RECORD_BUDGET). A blob this node does not hold on disk is
 * looked up in those records, checked against its hash and kept on disk from then on.
 *
 * @example
 * const blobs = new NodeBlobStore(home, rt.store.intent.log)
 * await blobs.replicate(rt, [...hashes], { actor: 'alice', purpose: 'snapshot 3f9a12' })
 * await blobs.get(hash)   // from disk, else from a blob record of any peer
 */
import { join } from 'node:path'
import { fromB64u, toB64u, type Json } from '../../crdt/canonical.js'
import type { RecordId } from '../../crdt/ids.js'
import type { IntentLog } from '../../crdt/intent-log.js'
import type { KeyPair } from '../../crdt/crypto.js'
import type { NodeRuntime } from '../runtime.js'
import { BLOBS_DIR, FsBlobStore, checkBlobHash, sha256Hex, type BlobStore } from '../workspace/index.js'

/** Most blob bytes (before base64) one blob record carries; a larger blob travels alone. */
export const BLOB_RECORD_BUDGET = 1024 * 1024

const HEX64 = /^[0-9a-f]{64}$/
const B64U = /^[A-Za-z0-9_-]*$/

/** The blobs a `blob` record's data carries (hash → base64url), or null when it is not one. */
export function blobsOfData (data: Json): Record<string, string> | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || data.v !== 1) return null
  const blobs = data.blobs
  if (blobs === null || typeof blobs !== 'object' || Array.isArray(blobs)) return null
  for (const [h, b] of Object.entries(blobs)) if (!HEX64.test(h) || typeof b !== 'string' || !B64U.test(b)) return null
  return blobs as Record<string, string>
}

/** Blobs on disk, with the log's `blob` records behind them. */
export class NodeBlobStore implements BlobStore {
  readonly disk: FsBlobStore
  private readonly carried = new Map<string, RecordId>()
  private readonly indexed = new Set<RecordId>()

  constructor (home: string, private readonly log: IntentLog) {
    this.disk = new FsBlobStore(join(home, BLOBS_DIR))
  }

  async put (bytes: Uint8Array): Promise<string> {
    return await this.disk.put(bytes)
  }

  async get (hash: string): Promise<Uint8Array | null> {
    const held = await this.disk.get(hash)
    if (held !== null) return held
    const id = this.carrier(hash)
    const data = id === undefined ? null : blobsOfData(this.log.record(id)?.data ?? null)
    const b64 = data?.[hash]
    if (b64 === undefined) return null
    const bytes = fromB64u(b64)
    // Anyone can write a blob record; only the hash makes its bytes the blob asked for.
    if (sha256Hex(bytes) !== hash) return null
    await this.disk.put(bytes)
    return bytes
  }

  async has (hash: string): Promise<boolean> {
    return await this.disk.has(hash) || this.carrier(checkBlobHash(hash)) !== undefined
  }

  /** Whether some record of the log carries this blob. */
  inLog (hash: string): boolean {
    return this.carrier(hash) !== undefined
  }

  private carrier (hash: string): RecordId | undefined {
    if (this.indexed.size !== this.log.size) {
      for (const id of this.log.ids()) {
        if (this.indexed.has(id)) continue
        this.indexed.add(id)
        const r = this.log.record(id)
        if (r?.kind !== 'blob') continue
        for (const h of Object.keys(blobsOfData(r.data) ?? {})) if (!this.carried.has(h)) this.carried.set(h, id)
      }
    }
    return this.carried.get(hash)
  }

  /**
   * Appends `blob` records for the given blobs that no record of the log carries yet, so they
   * replicate; returns the ids written. Every blob must be on disk here; `held` gives the bytes
   * of blobs the caller has just stored (by hash), which are then not read back from disk.
   */
  async replicate (
    rt: NodeRuntime,
    hashes: Iterable<string>,
    opts: { actor: string, purpose: string, signer?: KeyPair, held?: Map<string, Uint8Array> }
  ): Promise<RecordId[]> {
    const missing = [...new Set(hashes)].filter((h) => !this.inLog(h)).sort()
    const ids: RecordId[] = []
    let batch: Record<string, string> = {}
    let size = 0
    const flush = async (): Promise<void> => {
      const n = Object.keys(batch).length
      if (n === 0) return
      const a = await rt.appendRecord({ kind: 'blob', actor: opts.actor, text: `${n} blob${n === 1 ? '' : 's'} for ${opts.purpose}`, data: { v: 1, blobs: batch } }, opts.signer)
      ids.push(a.id)
      batch = {}
      size = 0
    }
    for (const h of missing) {
      const bytes = opts.held?.get(h) ?? await this.disk.get(h)
      if (bytes === null) continue
      if (size > 0 && size + bytes.length > BLOB_RECORD_BUDGET) await flush()
      batch[h] = toB64u(bytes)
      size += bytes.length
    }
    await flush()
    return ids
  }
}
