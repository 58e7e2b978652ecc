/**
 * DEFLATE of sync frames, one context per direction of a stream: each frame is compressed with
 * the last 8 KiB of payloads sent before it as the preset dictionary, and the receiver keeps the
 * same history, so what a frame repeats from the ones before it (the signer's key and id, the
 * previous record's id as `prev`, change hashes, JSON keys) costs a few bytes. A new intent
 * pushed to a peer goes from ~1,160 to ~430 bytes at the link layer (docs/protocol.md).
 *
 * Frames under 64 bytes or over 64 KiB are sent as they are, and so is a frame that DEFLATE does
 * not shrink. Large frames (16 KiB and more: the pieces of a fresh peer's whole document) are
 * compressed at level 1, half the CPU of level 6 for ~7% more bytes; after a large frame that
 * barely shrinks (already compressed data) the next 32 large frames are not tried. Every data payload, sent
 * compressed or not, joins the history in order. A fresh `deflateRawSync` per frame with
 * an 8 KiB dictionary costs ~25 µs here, against ~115 µs with zlib's full 32 KiB window.
 *
 * Only records every member may read share a context (the sync protocol), so the length of a
 * compressed frame tells an observer nothing a member could not read anyway.
 *
 * @example
 * const out = new FrameDeflater(); const into = new FrameInflater(maxFrameBytes)
 * const f = out.encode(payload)  // { deflated, bytes }
 * const p = f.deflated ? into.inflate(f.bytes) : into.plain(f.bytes)
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { MalformedError } from '../../crdt/errors.js'
import { frameTooLarge } from '../sync/frame.js'

/** Bytes of history used as the dictionary (zlib window of 2^13). */
export const DEFLATE_WINDOW = 8192
const WINDOW_BITS = 13
const MIN_BYTES = 64
const MAX_BYTES = 64 * 1024
// A large frame that did not shrink by an eighth (already compressed data, such as a whole
// document Automerge compressed) turns compression off for the next SKIP_FRAMES large frames:
// a whole log goes out in ~60 KiB pieces, and trying each costs ~1 ms for nothing.
const LARGE_BYTES = 16 * 1024
const SKIP_FRAMES = 32

/** The last DEFLATE_WINDOW bytes of the payloads of one direction. */
class History {
  private bytes: Uint8Array = new Uint8Array(0)

  get dictionary (): Uint8Array {
    return this.bytes
  }

  push (payload: Uint8Array): void {
    if (payload.length >= DEFLATE_WINDOW) {
      this.bytes = payload.slice(payload.length - DEFLATE_WINDOW)
      return
    }
    const keep = Math.min(this.bytes.length, DEFLATE_WINDOW - payload.length)
    const next = new Uint8Array(keep + payload.length)
    next.set(this.bytes.subarray(this.bytes.length - keep))
    next.set(payload, keep)
    this.bytes = next
  }
}

/** The sending side of one direction. */
export class FrameDeflater {
  private readonly history = new History()
  private skipLarge = 0

  /** The bytes to send for `payload`, compressed when that is smaller. */
  encode (payload: Uint8Array): { deflated: boolean, bytes: Uint8Array } {
    let out: { deflated: boolean, bytes: Uint8Array } = { deflated: false, bytes: payload }
    const large = payload.length >= LARGE_BYTES
    if (large && this.skipLarge > 0) {
      this.skipLarge--
    } else if (payload.length >= MIN_BYTES && payload.length <= MAX_BYTES) {
      const packed = deflateRawSync(
        payload,
        { dictionary: this.history.dictionary, windowBits: WINDOW_BITS, level: large ? 1 : 6 }
      )
      if (packed.length < payload.length) {
        out = {
          deflated: true,
          bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.byteLength)
        }
      }
      if (large && packed.length > payload.length - payload.length / 8) this.skipLarge = SKIP_FRAMES
    }
    this.history.push(payload)
    return out
  }
}

/** The receiving side of one direction. */
export class FrameInflater {
  private readonly history = new History()

  constructor (private readonly maxFrameBytes: number) {}

  /** A payload that came uncompressed: returned as it is, and remembered. */
  plain (payload: Uint8Array): Uint8Array {
    this.history.push(payload)
    return payload
  }

  /** The payload of a compressed frame: E_MALFORMED if it does not inflate, E_FRAME_TOO_LARGE past the limit. */
  inflate (bytes: Uint8Array): Uint8Array {
    let payload: Uint8Array
    try {
      const out = inflateRawSync(
        bytes,
        { dictionary: this.history.dictionary, windowBits: WINDOW_BITS, maxOutputLength: this.maxFrameBytes + 1 }
      )
      payload = new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw frameTooLarge(this.maxFrameBytes + 1, this.maxFrameBytes, true)
      throw new MalformedError(`a compressed frame does not inflate: ${(err as Error).message}`)
    }
    if (payload.length > this.maxFrameBytes) throw frameTooLarge(payload.length, this.maxFrameBytes)
    this.history.push(payload)
    return payload
  }
}
