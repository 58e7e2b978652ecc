/**
 * The run trace: one JSON object per line, canonical (RFC 8785: sorted keys, one spelling per
 * value), so the same seed and scenario give the same file byte for byte and a trace hash
 * proves it. Times are virtual milliseconds. Every delivered frame also feeds a running SHA-256
 * (`frames` digest), written in periodic `digest` lines: the trace stays readable at 1,000 peers
 * while still pinning every byte that crossed the simulated network.
 *
 * @example
 * const t = new TraceWriter()
 * t.event(1500, 'revocation-held', { peer: 'bob', hops: 2 })
 * t.lines() // ['{"ev":"revocation-held","hops":2,"peer":"bob","t":1.5}', ...]
 */
import { createHash, type Hash } from 'node:crypto'
import { canonicalString, type Json } from '../crdt/canonical.js'

/** A trace line's fields besides `t` and `ev`. */
export type TraceFields = Record<string, Json>

/** Collects trace lines and the frame digest. */
export class TraceWriter {
  private readonly out: string[] = []
  private readonly frames: Hash = createHash('sha256')
  private frameCount = 0
  private readonly scratch = new DataView(new ArrayBuffer(12))

  /** Adds one event at virtual time `timeMs`. */
  event (timeMs: number, ev: string, fields: TraceFields = {}): void {
    this.out.push(canonicalString({ ...fields, t: round(timeMs), ev }))
  }

  /** Feeds one delivered frame into the frame digest. */
  frame (timeUs: number, from: number, to: number, bytes: Uint8Array): void {
    this.scratch.setFloat64(0, timeUs)
    this.scratch.setUint16(8, from & 0xffff)
    this.scratch.setUint16(10, to & 0xffff)
    this.frames.update(new Uint8Array(this.scratch.buffer))
    this.frames.update(bytes)
    this.frameCount++
  }

  /** Writes a digest line: frames so far and the running hash of them. */
  digest (timeMs: number): void {
    this.event(timeMs, 'digest', { frames: this.frameCount, sha256: this.frames.copy().digest('hex') })
  }

  /** Number of lines so far. */
  get length (): number { return this.out.length }

  /** The lines, without newlines. */
  lines (): readonly string[] { return this.out }

  /** The whole trace as JSON lines text. */
  text (): string {
    return this.out.length === 0 ? '' : this.out.join('\n') + '\n'
  }

  /** SHA-256 of the JSON lines text. */
  hash (): string {
    return createHash('sha256').update(this.text()).digest('hex')
  }
}

// Virtual times are microsecond integers; ms with three decimals keeps them exact.
function round (ms: number): number {
  return Math.round(ms * 1000) / 1000
}
