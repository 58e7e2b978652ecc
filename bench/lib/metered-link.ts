/**
 * A Link that counts what crosses it, for the replication benchmark: frames and bytes each way
 * at the Link layer, as framed on a stream (length prefix + envelope byte + payload; Yamux,
 * Noise and TCP add their own on top, which the benchmark's TCP meter counts).
 *
 * @example
 * const counts = new LinkCounts()
 * engine.addLink(metered(link, counts))
 * counts.sentBytes
 */
import type { AuraError } from '../../crdt/errors.js'
import { encodeLength } from '../../node/sync/frame.js'
import { ENVELOPE_OVERHEAD } from '../../node/sync/link-envelope.js'
import type { Link } from '../../node/sync/link.js'

/** Running totals over every link metered with them. */
export class LinkCounts {
  sentFrames = 0
  sentBytes = 0
  recvFrames = 0
  recvBytes = 0
  /** The largest frame received, and when (process.hrtime.bigint()) it arrived. */
  largest = 0
  largestAt = 0n

  /** A plain copy, to send over IPC. */
  snapshot (): {
    sentFrames: number
    sentBytes: number
    recvFrames: number
    recvBytes: number
    largest: number
    largestAt: bigint
  } {
    return {
      sentFrames: this.sentFrames,
      sentBytes: this.sentBytes,
      recvFrames: this.recvFrames,
      recvBytes: this.recvBytes,
      largest: this.largest,
      largestAt: this.largestAt
    }
  }
}

/** Bytes a data frame with this payload takes on a stream. */
export function framedSize (payload: number): number {
  return encodeLength(payload + ENVELOPE_OVERHEAD).length + ENVELOPE_OVERHEAD + payload
}

/** `link`, counting into `counts`. */
export function metered (link: Link, counts: LinkCounts): Link {
  let onFrame: Link['onFrame'] = null
  return {
    get local () { return link.local },
    get remote () { return link.remote },
    get closed () { return link.closed },
    send: (frame: Uint8Array) => {
      counts.sentFrames++
      counts.sentBytes += framedSize(frame.length)
      link.send(frame)
    },
    close: (reason?: AuraError) => { link.close(reason) },
    get onFrame () { return onFrame },
    set onFrame (f) {
      onFrame = f
      link.onFrame = f === null
        ? null
        : (frame) => {
            counts.recvFrames++
            counts.recvBytes += framedSize(frame.length)
            if (frame.length > counts.largest) {
              counts.largest = frame.length
              counts.largestAt = process.hrtime.bigint()
            }
            f(frame)
          }
    },
    get onClose () { return link.onClose },
    set onClose (f) { link.onClose = f }
  }
}
