/**
 * An in-memory Link pair: what tests and the simulator use in place of a libp2p stream. It keeps
 * the same contract as the real thing (link-base.ts): ordered delivery, the receiver's frame
 * limit (an oversized frame closes the link with E_FRAME_TOO_LARGE and the sender learns it),
 * close reasons that cross as error envelopes, copies instead of shared buffers.
 *
 * Delivery is never synchronous (that would re-enter the sender's code): each send or close puts
 * one message on the receiving side's wire and hands `schedule` one task that takes the oldest
 * message off it. Order therefore holds with any scheduler; the default is queueMicrotask, which
 * is deterministic, and the simulator passes its own virtual-time queue. No timers.
 *
 * @example
 * const [alice, bob] = memoryLinkPair(aliceKey, bobKey)
 * bob.onFrame = (f) => console.log(f)   // Uint8Array [1, 2, 3], one microtask later
 * alice.send(Uint8Array.of(1, 2, 3))
 */
import type { AuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'
import { Fifo } from './fifo.js'
import { checkMaxFrameBytes, DEFAULT_MAX_FRAME_BYTES, frameTooLarge } from './frame.js'
import { type Defer, LinkBase } from './link-base.js'
import { decodeEnvelope, encodeError } from './link-envelope.js'
import type { Link } from './link.js'

/** Options of a memory link pair. */
export interface MemoryLinkInit {
  /** Largest frame each side accepts: one number for both, or `[a, b]`. Default 4 MiB. */
  maxFrameBytes?: number | readonly [number, number]
  /** Runs delivery tasks in the order given. Default queueMicrotask. */
  schedule?: Defer
  /** Told when a side refuses what its peer sent, before that side closes the link. */
  onProtocolError?: (err: AuraError, link: Link) => void
}

type Wire = { readonly data: Uint8Array } | { readonly end: AuraError | undefined }

class MemoryLink extends LinkBase {
  peer!: MemoryLink
  private readonly wire = new Fifo<Wire>()

  constructor (
    local: KeyId,
    remote: KeyId,
    schedule: Defer,
    private readonly maxFrameBytes: number,
    private readonly onProtocolError: ((err: AuraError, link: Link) => void) | undefined
  ) {
    super(local, remote, schedule)
  }

  send (frame: Uint8Array): void {
    if (frame.length > this.maxFrameBytes) throw frameTooLarge(frame.length, this.maxFrameBytes)
    if (this.closed) return
    this.peer.transmit({ data: frame.slice() })
  }

  close (reason?: AuraError): void {
    if (!this.end(reason, 'local')) return
    // Through the real error envelope, so only what the wire carries reaches the peer.
    const decoded = reason === undefined ? undefined : decodeEnvelope(encodeError(reason))
    this.peer.transmit({ end: decoded?.kind === 'error' ? decoded.error : reason })
  }

  private transmit (message: Wire): void {
    this.wire.push(message)
    this.defer(() => this.receiveOne())
  }

  private receiveOne (): void {
    const message = this.wire.shift()
    if (message === undefined || this.closed) return
    if ('end' in message) {
      this.end(message.end, 'remote')
      return
    }
    if (message.data.length > this.maxFrameBytes) {
      const err = frameTooLarge(message.data.length, this.maxFrameBytes)
      this.onProtocolError?.(err, this)
      this.close(err)
      return
    }
    this.arrived(message.data)
  }
}

/** Two connected in-memory Links: the first is `aKey`'s end, the second `bKey`'s. */
export function memoryLinkPair (aKey: KeyId, bKey: KeyId, init: MemoryLinkInit = {}): [Link, Link] {
  const limits = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  const [aMax, bMax] = typeof limits === 'number' ? [limits, limits] : limits
  const schedule = init.schedule ?? queueMicrotask
  const a = new MemoryLink(aKey, bKey, schedule, checkMaxFrameBytes(aMax), init.onProtocolError)
  const b = new MemoryLink(bKey, aKey, schedule, checkMaxFrameBytes(bMax), init.onProtocolError)
  a.peer = b
  b.peer = a
  return [a, b]
}
