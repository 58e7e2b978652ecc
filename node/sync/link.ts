/**
 * The seam between sync logic and a transport: a Link is one ordered, reliable, bidirectional
 * channel of frames between two authenticated keys. node/net/ implements it over a libp2p
 * stream (Noise already proved `remote`); sim/ implements it over the simulated network;
 * test/ has an in-memory pair. One acceptance suite (test/net/link-acceptance.ts) runs against
 * every implementation.
 *
 * @example
 * link.onFrame = (frame) => session.receive(frame)
 * link.send(encodeFrame(msg))
 */
import type { AuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'

/** One authenticated, ordered, reliable channel of frames to a remote key. */
export interface Link {
  /** Our key, and the key the transport proved is on the other end. */
  readonly local: KeyId
  readonly remote: KeyId
  /** Queues one frame. Frames arrive in order, or the link closes. */
  send: (frame: Uint8Array) => void
  /** Closes the link; the reason (if any) is reported to the other side when possible. */
  close: (reason?: AuraError) => void
  /** Set by the owner: called once per received frame, in order. */
  onFrame: ((frame: Uint8Array) => void) | null
  /** Set by the owner: called once when the link is closed by either side. */
  onClose: ((reason?: AuraError) => void) | null
  readonly closed: boolean
  /**
   * Tells the transport the remote is now admitted (its hello or join checked out): the byte
   * budget and the handshake deadline of a stream not yet admitted stop applying. Optional:
   * links without such bounds (in-memory, simulated) need not have it.
   */
  admit?: () => void
  /**
   * Hands the frames queued so far to the transport now, not at the end of the current task
   * (a transport may gather a task's frames into one write). For frames others wait on: the
   * engine flushes a relayed chain entry before its own bookkeeping runs. Optional: links that
   * send at once need not have it.
   */
  flush?: () => void
}
