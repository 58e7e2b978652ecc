/**
 * What every Link implementation shares: delivery to the owner's handlers in arrival order, one
 * close notification, and the rule for a handler that throws. Implementations (memory-link.ts,
 * node/net/stream-link.ts) only move bytes and call `arrived` / `end`.
 *
 * Contract, identical for every implementation (test/net/link-acceptance.ts checks it):
 * - Frames reach `onFrame` in order, never from inside `send` or `close`. Frames that arrive
 *   while `onFrame` is null wait, in order, until it is set.
 * - `onClose` is called exactly once, after every frame the remote sent before closing, with the
 *   local reason for a local close, the remote's reason (`remote: true`) for a remote one,
 *   undefined for a clean close without reason, and E_UNREACHABLE when the transport failed.
 * - After either side closed, `send` is a no-op; a local close also drops undelivered frames.
 * - If `onFrame` throws, the link closes with that error as its reason (an AuraError keeps its
 *   code, so `throw new BadSignatureError(...)` tells the peer why). A node never crashes on it.
 * Pure: scheduling is the `defer` function the implementation passes in.
 *
 * @example
 * class MyLink extends LinkBase { send (f) { ... }  close (r) { if (this.end(r, 'local')) ... } }
 */
import { type AuraError, toAuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'
import { Fifo } from './fifo.js'
import type { Link } from './link.js'

/** Runs a task later: queueMicrotask, or a simulator's queue. Order of tasks does not matter. */
export type Defer = (task: () => void) => void

type Inbound = { readonly frame: Uint8Array } | { readonly end: AuraError | undefined }

/** Base class of Link implementations: handler delivery and close bookkeeping. */
export abstract class LinkBase implements Link {
  readonly local: KeyId
  readonly remote: KeyId
  protected readonly defer: Defer
  private frameHandler: ((frame: Uint8Array) => void) | null = null
  private closeHandler: ((reason?: AuraError) => void) | null = null
  private readonly inbox = new Fifo<Inbound>()
  private isClosed = false
  private delivering = false

  protected constructor (local: KeyId, remote: KeyId, defer: Defer) {
    this.local = local
    this.remote = remote
    this.defer = defer
  }

  /** True once either side closed the link. */
  get closed (): boolean {
    return this.isClosed
  }

  /** Called once per received frame, in order. */
  get onFrame (): ((frame: Uint8Array) => void) | null {
    return this.frameHandler
  }

  set onFrame (handler: ((frame: Uint8Array) => void) | null) {
    this.frameHandler = handler
    if (handler !== null && this.inbox.length > 0) this.defer(() => this.deliver())
  }

  /** Called once when the link is closed by either side. */
  get onClose (): ((reason?: AuraError) => void) | null {
    return this.closeHandler
  }

  set onClose (handler: ((reason?: AuraError) => void) | null) {
    this.closeHandler = handler
    if (handler !== null && this.inbox.length > 0) this.defer(() => this.deliver())
  }

  /** Queues one frame for the remote; a no-op once closed. */
  abstract send (frame: Uint8Array): void
  /** Closes the link, telling the remote the reason when there is one. */
  abstract close (reason?: AuraError): void

  /** For implementations: a frame arrived from the remote. Delivered at once if a handler is set. */
  protected arrived (frame: Uint8Array): void {
    if (this.isClosed) return
    this.inbox.push({ frame })
    this.deliver()
  }

  /**
   * For implementations: the link is over. A remote end still delivers the frames that arrived
   * before it; a local end drops them. Returns false if the link was already over.
   */
  protected end (reason: AuraError | undefined, by: 'local' | 'remote'): boolean {
    if (this.isClosed) return false
    this.isClosed = true
    if (by === 'local') this.inbox.clear()
    this.inbox.push({ end: reason })
    // Never call the owner back from inside its own close().
    this.defer(() => this.deliver())
    return true
  }

  private deliver (): void {
    // A handler that closes or sends re-enters here; the outer loop keeps the order.
    if (this.delivering) return
    this.delivering = true
    try {
      for (let next = this.inbox.peek(); next !== undefined; next = this.inbox.peek()) {
        if ('frame' in next) {
          const handler = this.frameHandler
          if (handler === null) return
          this.inbox.shift()
          try {
            handler(next.frame)
          } catch (err) {
            this.close(toAuraError(err))
          }
        } else {
          const handler = this.closeHandler
          if (handler === null) return
          this.inbox.shift()
          handler(next.end)
        }
      }
    } finally {
      this.delivering = false
    }
  }
}
