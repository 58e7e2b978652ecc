/**
 * Integrity of an incoming Automerge sync message, checked before the intent log sees it.
 *
 * Every Automerge chunk (change or document) carries in its header a checksum: the first four
 * bytes of the SHA-256 of the chunk from its type byte on (for a change, that hash is the change
 * hash itself). Automerge's `decodeChange` does not check it, so a change whose bytes were
 * altered on the way (a flipped bit in a dependency hash, say) decodes as a different but
 * well-formed change under the same (actor, seq): the staged merge indexes it as held and then
 * refuses the genuine change for ever as a fork, and the peers never converge. Such a message
 * is E_MALFORMED here (the engine drops the link, as for any other malformed frame; the redial
 * syncs again from scratch).
 *
 * A document chunk is left to Automerge: loading one checks its checksum (a flipped bit anywhere
 * is "bad checksum"; test/sync/am-integrity.test.ts pins this), and documents reach the log
 * only through a load. Hashing a whole log here again would cost ~25 ms per 10,000 records.
 *
 * This only catches damage, not intent: a peer can always compute a correct checksum.
 *
 * @example
 * checkSyncMessageIntegrity(msg.data)   // throws E_MALFORMED on a chunk whose checksum fails
 */
import * as A from '@automerge/automerge'
import { sha256 } from '../../crdt/canonical.js'
import { MalformedError } from '../../crdt/errors.js'
import { COMPRESSED_CHANGE_CHUNK, DOCUMENT_CHUNK, splitChunks } from '../../crdt/intent-staging.js'
import { readEnvelope } from '../../crdt/sync-envelope.js'

/** Throws E_MALFORMED unless every chunk the sync message carries matches its own checksum. */
export function checkSyncMessageIntegrity (message: Uint8Array): void {
  for (const entry of syncMessageChanges(message)) checkChunks(entry)
}

/**
 * The change entries of a sync message, read from its envelope (crdt/sync-envelope.ts) without
 * decoding the rest into objects, which costs more than the check itself; whatever that reading
 * does not recognise goes to Automerge's own decoder, so a message is never refused here that
 * Automerge would read.
 */
export function syncMessageChanges (message: Uint8Array): Uint8Array[] {
  const fast = readEnvelope(message)
  if (fast !== null) return fast.changes
  try {
    return A.decodeSyncMessage(message).changes
  } catch (err) {
    throw new MalformedError(`not an Automerge sync message: ${(err as Error).message}`)
  }
}

// Chunks (up to CHECKED_MAX_BYTES) whose checksum matched, by their bytes (latin1): the same
// change reaches a node from several sessions, and in the simulator every node of the team.
const CHECKED_MAX = 4096
const CHECKED_MAX_BYTES = 4096
const checked = new Set<string>()

/** Checks every concatenated chunk of one sync message entry. */
export function checkChunks (bytes: Uint8Array): void {
  for (const { type, bytes: chunk, at } of splitChunks(bytes)) {
    if (type === DOCUMENT_CHUNK) continue
    const key = chunk.length <= CHECKED_MAX_BYTES ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1') : null
    if (key !== null && checked.has(key)) continue
    let sum: Uint8Array
    if (type === COMPRESSED_CHANGE_CHUNK) {
      // The checksum of a compressed change is that of the change uncompressed: its hash.
      let hash: string
      try {
        hash = A.decodeChange(chunk).hash
      } catch (err) {
        throw new MalformedError(`sync message carries a change that does not decode: ${(err as Error).message}`)
      }
      sum = Uint8Array.from(hash.slice(0, 8).match(/../g) ?? [], (h) => parseInt(h, 16))
    } else {
      sum = sha256(chunk.subarray(8))
    }
    for (let i = 0; i < 4; i++) {
      if (sum[i] !== chunk[4 + i]) throw new MalformedError(`Automerge change chunk at byte ${at} fails its checksum (damaged in transit)`)
    }
    if (key !== null) {
      if (checked.size >= CHECKED_MAX) checked.delete(checked.values().next().value as string)
      checked.add(key)
    }
  }
}
