/**
 * A Link over one libp2p 3 stream (Yamux over Noise over TCP). Noise has already proved the
 * remote key; this adds framing (node/sync/frame.ts), the data/error envelope
 * (node/sync/link-envelope.ts) and the Link contract shared with the in-memory pair
 * (node/sync/link-base.ts).
 *
 * libp2p 3 streams are event targets: incoming bytes come as 'message' events (a listener is
 * attached at once, so libp2p never has to buffer them), and `stream.send()` returns false when
 * the muxer's window is full. Frames then wait in our own queue, in order, until 'drain'.
 *
 * A frame over the limit, or a malformed one, closes the link with that error (the peer gets it
 * as an error frame), is reported through `onProtocolError`, and touches nothing else.
 *
 * Bounds for peers that are not admitted yet (a stranger at the Mothership): with
 * `unadmittedBytes` the stream may deliver only that many bytes until the owner calls `admit()`
 * (E_FRAME_TOO_LARGE past it), and with `handshakeTimeoutMs` it must be admitted in that time
 * (E_TIMEOUT). With `idleTimeoutMs`, a stream that receives nothing for that long is closed
 * (E_TIMEOUT) whether admitted or not.
 *
 * @example
 * const link = new StreamLink(stream, { local: me, remote: keyIdFromPeerId(conn.remotePeer) })
 * link.onFrame = (f) => session.receive(f)
 * link.send(bytes)
 */
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import { type AuraError, FrameTooLargeError, MalformedError, TimeoutError, toAuraError, UnreachableError } from '../../crdt/errors.js'
import { type KeyId, shortId } from '../../crdt/ids.js'
import { Fifo } from '../sync/fifo.js'
import { checkMaxFrameBytes, DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameDecoder, frameTooLarge } from '../sync/frame.js'
import { LinkBase } from '../sync/link-base.js'
import { decodeEnvelope, encodeData, encodeError, ENVELOPE_OVERHEAD, type Envelope, MAX_ERROR_ENVELOPE_BYTES } from '../sync/link-envelope.js'
import { FrameDeflater, FrameInflater } from './frame-deflate.js'

// Small frames queued together are written as one send of at most this many bytes.
const BATCH_BYTES = 64 * 1024

/** Default time a closing link may take to flush and hear the peer close, before a reset. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5000

/** Options of a StreamLink. */
export interface StreamLinkInit {
  local: KeyId
  remote: KeyId
  /** Largest frame sent or accepted. Default 4 MiB. */
  maxFrameBytes?: number
  /** Told of a frame this side refused (E_FRAME_TOO_LARGE, E_MALFORMED), before the link closes. */
  onProtocolError?: (err: AuraError) => void
  /** How long a closing link may take before the stream is reset. Default 5 s. */
  closeTimeoutMs?: number
  /** Compress frames (node/net/frame-deflate.ts); both ends must agree (the protocol id says so). */
  deflate?: boolean
  /** Bytes the remote may send before `admit()`; unset: admitted from the start. */
  unadmittedBytes?: number
  /** Time the remote has to be admitted (`admit()`), ms; unset: no deadline. */
  handshakeTimeoutMs?: number
  /** Longest silence from the remote, ms; unset: no limit. */
  idleTimeoutMs?: number
  /** Told once when `admit()` is first called (the host's count of unadmitted streams). */
  onAdmit?: () => void
}

/** A Link over a libp2p stream. */
export class StreamLink extends LinkBase {
  readonly maxFrameBytes: number
  /** Settles once the stream is fully closed or reset. */
  readonly finished: Promise<void>
  private readonly stream: Stream
  private readonly decoder: FrameDecoder
  private readonly outbox = new Fifo<Uint8Array>()
  private readonly onProtocolError: ((err: AuraError) => void) | undefined
  private readonly closeTimeoutMs: number
  private waitingForDrain = false
  private pumpScheduled = false
  private ending = false
  private writeClosed = false
  private closeTimer: ReturnType<typeof setTimeout> | undefined
  private markFinished!: () => void
  private readonly deflater: FrameDeflater | undefined
  private readonly inflater: FrameInflater | undefined
  /** Bytes the remote may still send before admission; null once admitted (or never bounded). */
  private budget: number | null
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  private lastHeard = Date.now()
  private onAdmit: (() => void) | undefined
  /** Bytes received from and sent to the remote on this stream (as on the wire, after deflate). */
  bytesIn = 0
  bytesOut = 0

  /** When the remote last sent anything (ms since the epoch). */
  get lastHeardAt (): number { return this.lastHeard }

  constructor (stream: Stream, init: StreamLinkInit) {
    super(init.local, init.remote, queueMicrotask)
    this.stream = stream
    this.maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
    // The decoder bounds the envelope; error envelopes may exceed a tiny data limit.
    this.decoder = new FrameDecoder(
      { maxFrameBytes: Math.max(this.maxFrameBytes, MAX_ERROR_ENVELOPE_BYTES) + ENVELOPE_OVERHEAD }
    )
    this.onProtocolError = init.onProtocolError
    this.closeTimeoutMs = init.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS
    this.finished = new Promise((resolve) => { this.markFinished = resolve })
    if (init.deflate === true) {
      this.deflater = new FrameDeflater()
      this.inflater = new FrameInflater(this.maxFrameBytes)
    }
    this.budget = init.unadmittedBytes ?? null
    this.onAdmit = init.onAdmit
    if (init.handshakeTimeoutMs !== undefined) {
      const ms = init.handshakeTimeoutMs
      this.handshakeTimer = setTimeout(() => this.close(new TimeoutError(`${shortId(this.remote)} was not admitted within ${ms} ms`, { peer: this.remote })), ms)
      this.handshakeTimer.unref?.()
    }
    if (init.idleTimeoutMs !== undefined) this.watchIdle(init.idleTimeoutMs)
    stream.addEventListener('message', this.onMessage)
    stream.addEventListener('drain', this.onDrain)
    stream.addEventListener('end', this.onRemoteEnd)
    stream.addEventListener('close', this.onStreamClose)
    if (stream.status !== 'open') this.onStreamClose()
  }

  send (frame: Uint8Array): void {
    if (frame.length > this.maxFrameBytes) throw frameTooLarge(frame.length, this.maxFrameBytes)
    if (this.closed) return
    const out = this.deflater?.encode(frame)
    this.outbox.push(this.frame(out === undefined ? encodeData(frame) : encodeData(out.bytes, out.deflated)))
    // Frames sent in one burst leave together: one muxer frame and one Noise seal per batch
    // instead of per frame, which is most of the cost of small frames.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true
      queueMicrotask(() => {
        this.pumpScheduled = false
        this.pump()
      })
    }
  }

  /** Writes what is queued now (the microtask scheduled by `send` then finds nothing to do). */
  flush (): void {
    if (!this.closed) this.pump()
  }

  /** The remote is admitted: the pre-admission budget and deadline no longer apply. */
  admit (): void {
    this.budget = null
    clearTimeout(this.handshakeTimer)
    const told = this.onAdmit
    this.onAdmit = undefined
    told?.()
  }

  /** Closes after every frame already sent has gone out, then the reason. */
  close (reason?: AuraError): void {
    if (!this.end(reason, 'local')) return
    if (reason !== undefined) this.outbox.push(this.frame(encodeError(reason)))
    this.finishWriting()
  }

  /** Closes at once: frames still queued here are dropped and only the reason goes out. */
  closeNow (reason?: AuraError): void {
    if (!this.end(reason, 'local')) return
    this.outbox.clear()
    if (reason !== undefined) this.outbox.push(this.frame(encodeError(reason)))
    this.finishWriting()
  }

  private frame (envelope: Uint8Array): Uint8Array {
    return encodeFrame(envelope, this.decoder.maxFrameBytes)
  }

  private pump (): void {
    while (!this.waitingForDrain && this.outbox.length > 0) {
      const bytes = this.nextBatch()
      try {
        // false: libp2p kept these bytes but wants no more until 'drain'.
        this.bytesOut += bytes.length
        if (!this.stream.send(bytes)) this.waitingForDrain = true
      } catch (err) {
        this.lost(err)
        return
      }
    }
    if (this.ending && !this.writeClosed && this.outbox.length === 0) {
      this.writeClosed = true
      // Resolves once libp2p has handed every queued byte to the muxer, then sends FIN.
      this.stream.close().catch((err: Error) => this.stream.abort(err))
    }
  }

  // The oldest queued frame, joined with those after it up to BATCH_BYTES.
  private nextBatch (): Uint8Array {
    const first = this.outbox.shift() as Uint8Array
    let total = first.length
    const parts = [first]
    for (let next = this.outbox.peek(); next !== undefined &&
      total + next.length <= BATCH_BYTES; next = this.outbox.peek()) {
      parts.push(this.outbox.shift() as Uint8Array)
      total += next.length
    }
    if (parts.length === 1) return first
    const out = new Uint8Array(total)
    let at = 0
    for (const p of parts) {
      out.set(p, at)
      at += p.length
    }
    return out
  }

  private finishWriting (): void {
    this.ending = true
    // A peer that never reads (or never closes its end) must not hold the stream forever.
    this.closeTimer ??= setTimeout(() => {
      this.stream.abort(new TimeoutError(`link to ${shortId(this.remote)} did not close within ${this.closeTimeoutMs} ms`))
    }, this.closeTimeoutMs)
    this.closeTimer.unref?.()
    this.pump()
  }

  private readonly onDrain = (): void => {
    this.waitingForDrain = false
    this.pump()
  }

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    if (this.closed) return
    const chunks = evt.data instanceof Uint8Array ? [evt.data] : evt.data
    this.lastHeard = Date.now()
    try {
      for (const chunk of chunks) {
        this.bytesIn += chunk.length
        if (this.budget !== null) {
          this.budget -= chunk.length
          if (this.budget < 0) throw new FrameTooLargeError(`${shortId(this.remote)} sent more than the bytes allowed before admission`, { peer: this.remote })
        }
        for (const body of this.decoder.decode(chunk)) {
          this.receive(decodeEnvelope(body))
          if (this.closed) return
        }
      }
    } catch (err) {
      const reason = toAuraError(err)
      try {
        this.onProtocolError?.(reason)
      } finally {
        this.close(reason)
      }
    }
  }

  private receive (envelope: Envelope): void {
    if (envelope.kind === 'error') {
      this.remoteEnded(envelope.error)
      return
    }
    if (envelope.payload.length > this.maxFrameBytes) throw frameTooLarge(envelope.payload.length, this.maxFrameBytes)
    if (this.inflater === undefined) {
      if (envelope.kind === 'deflated') throw new MalformedError('a compressed frame on a link that did not agree to compression')
      this.arrived(envelope.payload)
      return
    }
    this.arrived(envelope.kind === 'deflated' ? this.inflater.inflate(envelope.payload) : this.inflater.plain(envelope.payload))
  }

  // The peer is done: nothing more of ours is worth sending.
  private remoteEnded (reason: AuraError | undefined): void {
    if (!this.end(reason, 'remote')) return
    this.outbox.clear()
    this.finishWriting()
  }

  // 'end': the peer closed its writable end and every byte it sent has been read. libp2p also
  // emits it on the way to an abort or reset; the 'close' event that follows carries the error.
  private readonly onRemoteEnd = (): void => {
    if (this.stream.status === 'aborted' || this.stream.status === 'reset') return
    this.remoteEnded(undefined)
  }

  // One timer per idle period, not one per message: it re-arms for what is left of the period.
  private watchIdle (ms: number): void {
    const check = (): void => {
      if (this.closed) return
      const quiet = Date.now() - this.lastHeard
      if (quiet >= ms) {
        this.close(new TimeoutError(`${shortId(this.remote)} sent nothing for ${ms} ms`, { peer: this.remote }))
        return
      }
      this.idleTimer = setTimeout(check, ms - quiet)
      this.idleTimer.unref?.()
    }
    this.idleTimer = setTimeout(check, ms)
    this.idleTimer.unref?.()
  }

  private readonly onStreamClose = (evt?: StreamCloseEvent): void => {
    clearTimeout(this.closeTimer)
    clearTimeout(this.handshakeTimer)
    clearTimeout(this.idleTimer)
    this.lost(evt?.error)
    this.markFinished()
  }

  private lost (cause: unknown): void {
    const detail = cause instanceof Error ? `: ${cause.message}` : ''
    this.end(new UnreachableError(`link to ${shortId(this.remote)} lost${detail}`, { peer: this.remote }), 'remote')
  }
}
