/**
 * Append-only event logs: audit events (`audit/<ts>/<n>`) and join attempts
 * (`joins/<jti>/<ts>/<n>`), both canonical JSON. `n` is one store-wide counter kept at
 * `meta/counter` and written in the same batch as the event, so two events never share a key
 * even when the clock repeats or goes backwards across restarts.
 *
 * @example
 * await store.audit.append({ ts: clock.now(), type: 'revoke', peer: 'peer-5f3a' })
 * await store.audit.list({ from: dayStart, to: dayEnd })
 * await store.joins.append({
 *   jti, ts, source: '10.0.0.7:4100', peer: null, outcome: 'refused', reason: 'E_TOKEN_EXPIRED'
 * })
 */
import { canonicalBytes, parseCanonical, type Json } from '../../crdt/canonical.js'
import { MalformedError } from '../../crdt/errors.js'
import type { Jti, KeyId } from '../../crdt/ids.js'
import type { KV, KVOp } from './kv.js'
import { layout } from './layout.js'
import type { WriteQueue } from './write-queue.js'

/** An audit event: when (ms), what kind, and any JSON context. */
export interface AuditEvent {
  readonly ts: number
  readonly type: string
  readonly [key: string]: Json
}

/** One attempt to redeem a join token, whatever its outcome. */
export interface JoinAttempt {
  readonly jti: Jti
  readonly ts: number
  /** The remote address, `ip:port`. */
  readonly source: string
  /** The key that tried to join, when the handshake got far enough to know it. */
  readonly peer: KeyId | null
  readonly outcome: 'accepted' | 'refused'
  /** Why it was refused (an error code and message), or null. */
  readonly reason: string | null
  readonly [key: string]: Json
}

/** A time range of events: `from` inclusive, `to` exclusive, both ms. */
export interface TimeRange {
  readonly from?: number
  readonly to?: number
  readonly limit?: number
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The store-wide event counter shared by audit and joins. */
export class EventCounter {
  private constructor (private next: number) {}

  /** Reads the counter. */
  static async open (kv: KV): Promise<EventCounter> {
    const v = await kv.get(layout.counter)
    const next = v === undefined ? 0 : Number(dec.decode(v))
    if (!Number.isSafeInteger(next) || next < 0) throw new MalformedError(`${layout.counter} is not a counter`, { key: layout.counter })
    return new EventCounter(next)
  }

  /** Takes the next number; the op persists the counter past it (write it in the same batch). */
  take (): { n: number, op: KVOp } {
    const n = this.next++
    return { n, op: { type: 'put', key: layout.counter, value: enc.encode(String(this.next)) } }
  }
}

/** Audit events in time order. */
export class AuditStore {
  constructor (private readonly kv: KV, private readonly queue: WriteQueue, private readonly counter: EventCounter) {}

  /** Appends one event durably. */
  async append (event: AuditEvent): Promise<void> {
    const value = canonicalBytes(event)
    await this.queue.run(async () => {
      const { n, op } = this.counter.take()
      await this.kv.batch([{ type: 'put', key: layout.audit(event.ts, n), value }, op])
    })
  }

  /** Events with `from <= ts < to`, oldest first (ties in append order). */
  async list (range: TimeRange = {}): Promise<AuditEvent[]> {
    const out: AuditEvent[] = []
    const it = this.kv.iterator({
      prefix: layout.auditPrefix,
      gte: range.from === undefined ? undefined : layout.auditFrom(range.from),
      lt: range.to === undefined ? undefined : layout.auditFrom(range.to),
      limit: range.limit
    })
    for await (const [, value] of it) out.push(parseCanonical(value) as unknown as AuditEvent)
    return out
  }
}

/** Join attempts, grouped by token. */
export class JoinStore {
  constructor (private readonly kv: KV, private readonly queue: WriteQueue, private readonly counter: EventCounter) {}

  /** Records one attempt durably. */
  async append (attempt: JoinAttempt): Promise<void> {
    const value = canonicalBytes(attempt)
    await this.queue.run(async () => {
      const { n, op } = this.counter.take()
      await this.kv.batch([{ type: 'put', key: layout.join(attempt.jti, attempt.ts, n), value }, op])
    })
  }

  /** Attempts on one token (oldest first), or on every token (by token, then time). */
  async list (jti?: Jti): Promise<JoinAttempt[]> {
    const out: JoinAttempt[] = []
    for await (const [, value] of this.kv.iterator(
      { prefix: jti === undefined ? layout.joinsPrefix : layout.joinsOf(jti) }
    )) {
      out.push(parseCanonical(value) as unknown as JoinAttempt)
    }
    return out
  }
}
