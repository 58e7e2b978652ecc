/**
 * Length-prefixed frames: the unit every Link carries on a byte stream.
 *
 * Wire form: an unsigned LEB128 varint length (minimal encoding, at most 5 bytes), then that many
 * bytes. A varint rather than a fixed 4-byte length because libp2p protocols already speak it
 * and small frames (hellos, heads) cost one byte of overhead instead of four. Minimal encoding is
 * required, so every frame has exactly one spelling.
 *
 * The decoder refuses a frame as soon as its length prefix proves it too large, before buffering
 * a single byte of the body. Within the limit, memory follows the bytes that actually arrived,
 * never the length a peer declared: the body is kept as a list of the chunks received and joined
 * once it is complete, so fifty frames that declare 16 MiB and send ten bytes each hold ~500
 * bytes, not 800 MiB. Pure: no I/O, no clock.
 *
 * @example
 * const decoder = new FrameDecoder({ maxFrameBytes: 1024 })
 * for (const frame of decoder.decode(chunk)) handle(frame)   // throws E_FRAME_TOO_LARGE / E_MALFORMED
 * stream.send(encodeFrame(payload))
 */
import { type AuraError, ConfigError, FrameTooLargeError, MalformedError } from '../../crdt/errors.js'

/** Default largest frame body: 4 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024

/** The largest limit a caller may configure: 1 GiB, so a length always fits in 5 varint bytes. */
export const MAX_FRAME_LIMIT = 2 ** 30

/** Checks a configured frame limit: an integer from 1 to MAX_FRAME_LIMIT. */
export function checkMaxFrameBytes (maxFrameBytes: number): number {
  if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > MAX_FRAME_LIMIT) {
    throw new ConfigError(`maxFrameBytes must be an integer from 1 to ${MAX_FRAME_LIMIT}`, { maxFrameBytes })
  }
  return maxFrameBytes
}

/** The varint length prefix of a body of `length` bytes. */
export function encodeLength (length: number): Uint8Array {
  const out: number[] = []
  let n = length
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** One frame on the wire: the length prefix followed by a copy of `body`. */
export function encodeFrame (body: Uint8Array, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  if (body.length > maxFrameBytes) throw frameTooLarge(body.length, maxFrameBytes)
  const prefix = encodeLength(body.length)
  const out = new Uint8Array(prefix.length + body.length)
  out.set(prefix, 0)
  out.set(body, prefix.length)
  return out
}

/** Options of a FrameDecoder. */
export interface FrameDecoderInit {
  /** Largest body accepted; a longer length prefix fails at once. Default 4 MiB. */
  maxFrameBytes?: number
}

/**
 * Incremental decoder: feed it chunks as they arrive, split anywhere, and get whole frames back.
 * Returned frames are fresh copies: they never alias the chunks passed in. After an error the
 * decoder stays failed and throws the same error again, since the rest of the stream is garbage.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  private prefixValue = 0
  private prefixBytes = 0
  /** Length of the body being received, or -1 while reading a prefix. */
  private bodyLength = -1
  /** Copies of the body's bytes received so far, joined when the last one arrives. */
  private parts: Uint8Array[] = []
  private filled = 0
  private failure: AuraError | null = null

  constructor (init: FrameDecoderInit = {}) {
    this.maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
  }

  /** Bytes of a partial frame held between chunks (prefix and body so far). */
  get buffered (): number {
    return this.prefixBytes + this.filled
  }

  /**
   * Decodes one chunk, yielding each completed frame in order; frames that precede a bad prefix
   * are yielded before the error is thrown. Iterate to the end: stopping early loses the rest.
   */
  * decode (chunk: Uint8Array): Generator<Uint8Array, void, undefined> {
    if (this.failure !== null) throw this.failure
    let i = 0
    while (i < chunk.length) {
      if (this.bodyLength < 0) {
        if (this.readPrefixByte(chunk[i++]) && this.bodyLength === 0) yield this.takeBody(new Uint8Array(0))
        continue
      }
      const n = Math.min(this.bodyLength - this.filled, chunk.length - i)
      // A body that arrives in one chunk is copied once; only a split body is held in parts.
      if (this.filled === 0 && n === this.bodyLength) {
        yield this.takeBody(new Uint8Array(chunk.subarray(i, i + n)))
        i += n
        continue
      }
      this.parts.push(new Uint8Array(chunk.subarray(i, i + n)))
      this.filled += n
      i += n
      if (this.filled === this.bodyLength) yield this.takeBody(joinParts(this.parts, this.bodyLength))
    }
  }

  /** Decodes one chunk and returns all frames it completes; throws on a bad prefix. */
  push (chunk: Uint8Array): Uint8Array[] {
    return Array.from(this.decode(chunk))
  }

  // True once the prefix is complete (the body's length is then known), false while it continues.
  private readPrefixByte (byte: number): boolean {
    const shift = 2 ** (7 * this.prefixBytes)
    this.prefixValue += (byte & 0x7f) * shift
    this.prefixBytes++
    const more = (byte & 0x80) !== 0
    if (!more && byte === 0 && this.prefixBytes > 1) {
      throw this.fail(new MalformedError('frame length prefix is not minimally encoded', { prefixBytes: this.prefixBytes }))
    }
    // A minimal varint that continues adds at least 2^(7·bytes so far): the length is known to
    // exceed the limit before the prefix even ends.
    const least = more ? this.prefixValue + 2 ** (7 * this.prefixBytes) : this.prefixValue
    // Since the limit is at most 2^30, this also ends every prefix by its fifth byte.
    if (least > this.maxFrameBytes) throw this.fail(frameTooLarge(least, this.maxFrameBytes, more))
    if (more) return false
    this.bodyLength = this.prefixValue
    this.filled = 0
    return true
  }

  private takeBody (body: Uint8Array): Uint8Array {
    this.bodyLength = -1
    this.parts = []
    this.filled = 0
    this.prefixValue = 0
    this.prefixBytes = 0
    return body
  }

  private fail (err: AuraError): AuraError {
    this.failure = err
    return err
  }
}

function joinParts (parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** The E_FRAME_TOO_LARGE error for a frame of `length` (or at least that) bytes. */
export function frameTooLarge (length: number, max: number, atLeast = false): AuraError {
  return new FrameTooLargeError(`frame of ${atLeast ? 'at least ' : ''}${length} bytes exceeds the maximum of ${max}`, { length, max })
}
