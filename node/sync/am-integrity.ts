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
 * This only catches damage, not intent: a peer can always compute a correct checksum.
 *
 * @example
 * checkSyncMessageIntegrity(msg.data)   // throws E_MALFORMED on a chunk whose checksum fails
 */
import * as A from '@automerge/automerge'
import { sha256 } from '../../crdt/canonical.js'
import { MalformedError } from '../../crdt/errors.js'

const MAGIC = [0x85, 0x6f, 0x4a, 0x83]
const DOCUMENT_CHUNK = 0
const CHANGE_CHUNK = 1
const COMPRESSED_CHANGE_CHUNK = 2

/** Throws E_MALFORMED unless every chunk the sync message carries matches its own checksum. */
export function checkSyncMessageIntegrity (message: Uint8Array): void {
  let entries: Uint8Array[]
  try {
    entries = A.decodeSyncMessage(message).changes
  } catch (err) {
    throw new MalformedError(`not an Automerge sync message: ${(err as Error).message}`)
  }
  for (const entry of entries) checkChunks(entry)
}

/** Checks every concatenated chunk of one sync message entry. */
export function checkChunks (bytes: Uint8Array): void {
  let at = 0
  while (at < bytes.length) {
    if (bytes.length - at < 10 || MAGIC.some((m, i) => bytes[at + i] !== m)) throw new MalformedError(`sync message entry is not an Automerge chunk at byte ${at}`)
    const type = bytes[at + 8]
    const { value: length, next } = readUleb(bytes, at + 9)
    const end = next + length
    if (end > bytes.length) throw new MalformedError('truncated Automerge chunk')
    const chunk = bytes.subarray(at, end)
    let sum: Uint8Array
    if (type === DOCUMENT_CHUNK || type === CHANGE_CHUNK) {
      sum = sha256(chunk.subarray(8))
    } else if (type === COMPRESSED_CHANGE_CHUNK) {
      // The checksum of a compressed change is that of the change uncompressed: its hash.
      let hash: string
      try {
        hash = A.decodeChange(chunk).hash
      } catch (err) {
        throw new MalformedError(`sync message carries a change that does not decode: ${(err as Error).message}`)
      }
      sum = Uint8Array.from(hash.slice(0, 8).match(/../g) ?? [], (h) => parseInt(h, 16))
    } else {
      throw new MalformedError(`unknown Automerge chunk type ${type}`)
    }
    for (let i = 0; i < 4; i++) {
      if (sum[i] !== chunk[4 + i]) throw new MalformedError(`Automerge ${type === DOCUMENT_CHUNK ? 'document' : 'change'} chunk at byte ${at} fails its checksum (damaged in transit)`)
    }
    at = end
  }
}

function readUleb (bytes: Uint8Array, from: number): { value: number, next: number } {
  let value = 0
  for (let i = 0; i < 8 && from + i < bytes.length; i++) {
    const b = bytes[from + i]
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return { value, next: from + i + 1 }
  }
  throw new MalformedError('bad chunk length in Automerge chunk header')
}
