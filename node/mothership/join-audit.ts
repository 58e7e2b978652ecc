/**
 * The Mothership's record of join attempts, bounded. Each attempt is stored one by one
 * (`joins/<jti>/...`, with a `join-refused` audit event when refused) until its token has
 * `perToken` stored attempts; attempts with tokens this Mothership never issued (or no
 * readable token at all) are stored until `unissued` of them are held. Past either bound an
 * attempt is counted in a summary (`joinsum/<jti>` or `joinsum/unissued`: how many, first and
 * last time, by outcome code and by source address) — so a flood of a million attempts costs
 * one row, and `aura mothership audit-token` still tells the whole truth: the attempts kept,
 * plus how many more were counted and what they were.
 *
 * @example
 * const log = new JoinAudit(rt, { perToken: 100, unissued: 1000 })
 * await log.record({ jti, ts, source: '10.0.0.7:4100', peer, outcome: 'refused', reason: 'E_TOKEN_USED: ...' })
 * await JoinAudit.summary(rt.store.kv, jti)   // null, or { count, first, last, outcomes, sources }
 */
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import type { Jti, KeyId } from '../../crdt/ids.js'
import type { KV } from '../store/kv.js'
import { layout } from '../store/layout.js'
import type { NodeRuntime } from '../runtime.js'
import { tokenBook } from './tokens.js'

/** One attempt, as serveJoin saw it. `jti` is null when no token could be read. */
export interface JoinAttemptInput {
  jti: Jti | null
  ts: number
  source: string
  peer: KeyId | null
  outcome: 'accepted' | 'refused'
  /** `CODE: message`, or null when accepted. */
  reason: string | null
}

/** Attempts counted instead of stored. */
export interface JoinSummary {
  count: number
  first: number
  last: number
  /** By outcome: `accepted`, or the refusal's code. */
  outcomes: Record<string, number>
  /** By source address (ip, without port); past SOURCES_KEPT addresses, under `other`. */
  sources: Record<string, number>
}

/** Bounds of a JoinAudit. */
export interface JoinAuditInit {
  /** Attempts stored one by one per issued token. */
  perToken: number
  /** Attempts stored one by one with tokens never issued here, all together. */
  unissued: number
}

const SOURCES_KEPT = 16

/** The bounded join audit trail of one Mothership. */
export class JoinAudit {
  private readonly stored = new Map<string, number>()
  private unissuedStored: number | null = null
  private readonly issued = new Set<string>()
  private readonly summaries = new Map<string, JoinSummary>()
  // One write at a time: counts and summaries are read-modify-write.
  private queue: Promise<void> = Promise.resolve()

  constructor (private readonly rt: NodeRuntime, private readonly init: JoinAuditInit) {}

  /** Records one attempt, stored or counted; never throws (an audit failure must not stop joins). */
  async record (a: JoinAttemptInput): Promise<void> {
    const run = this.queue.then(async () => await this.recordNow(a))
    this.queue = run.catch(() => {})
    await run.catch(() => {})
  }

  /** The summary of attempts counted for `jti` (null: tokens never issued / unreadable). */
  static async summary (kv: KV, jti: Jti | null): Promise<JoinSummary | null> {
    const v = await kv.get(layout.joinSummary(jti))
    return v === undefined ? null : parseCanonical(v) as unknown as JoinSummary
  }

  private async recordNow (a: JoinAttemptInput): Promise<void> {
    const issued = a.jti !== null && await this.isIssued(a.jti)
    if (a.jti !== null && await this.mayStore(a.jti, issued)) {
      await this.rt.store.joins.append(
        { jti: a.jti, ts: a.ts, source: a.source, peer: a.peer, outcome: a.outcome, reason: a.reason }
      )
      this.stored.set(a.jti, (this.stored.get(a.jti) ?? 0) + 1)
      if (!issued) this.unissuedStored = (this.unissuedStored ?? 0) + 1
      if (a.outcome === 'refused') await this.rt.audit('join-refused', { jti: a.jti, source: a.source, peer: a.peer, reason: a.reason })
      return
    }
    await this.count(issued ? a.jti : null, a)
  }

  private async mayStore (jti: Jti, issued: boolean): Promise<boolean> {
    // The unissued bound first: a flood of invented jtis must not grow the per-token counts.
    if (!issued && await this.unissuedCount() >= this.init.unissued) return false
    return await this.storedFor(jti) < this.init.perToken
  }

  private async count (key: Jti | null, a: JoinAttemptInput): Promise<void> {
    const id = key ?? ''
    let s = this.summaries.get(id) ?? await JoinAudit.summary(this.rt.store.kv, key) ?? undefined
    if (s === undefined) {
      s = { count: 0, first: a.ts, last: a.ts, outcomes: {}, sources: {} }
      await this.rt.audit('join-attempts-summarised', { jti: key, source: a.source, note: 'further join attempts are counted, not stored one by one: aura mothership audit-token shows the count' })
    }
    s.count++
    s.last = Math.max(s.last, a.ts)
    const outcome = a.outcome === 'accepted' ? 'accepted' : (a.reason ?? 'refused').split(':')[0]
    s.outcomes[outcome] = (s.outcomes[outcome] ?? 0) + 1
    const ip = addressOf(a.source)
    const where = Object.hasOwn(s.sources, ip) || Object.keys(s.sources).length < SOURCES_KEPT ? ip : 'other'
    s.sources[where] = (s.sources[where] ?? 0) + 1
    this.summaries.set(id, s)
    await this.rt.store.kv.put(layout.joinSummary(key), canonicalBytes(s as unknown as Record<string, number>))
  }

  private async isIssued (jti: Jti): Promise<boolean> {
    if (this.issued.has(jti)) return true
    const known = await tokenBook(this.rt.store.kv).get(jti) !== undefined
    if (known) this.issued.add(jti)
    return known
  }

  private async storedFor (jti: Jti): Promise<number> {
    let n = this.stored.get(jti)
    if (n === undefined) {
      n = (await this.rt.store.joins.list(jti)).length
      this.stored.set(jti, n)
    }
    return n
  }

  // Counted once from the store, then kept up to date here.
  private async unissuedCount (): Promise<number> {
    if (this.unissuedStored === null) {
      let n = 0
      for (const row of await this.rt.store.joins.list()) if (!await this.isIssued(row.jti)) n++
      this.unissuedStored = n
    }
    return this.unissuedStored
  }
}

/** The address part of `ip:port` as serveJoin records it (`::1:4100` -> `::1`). */
export function addressOf (source: string): string {
  const m = /^(.*):\d+$/.exec(source)
  return m === null ? source : m[1]
}
