/**
 * The local write gate: before a node signs a record (its own or an agent's), the record it is
 * about to sign is judged by the same rules the effective view applies (crdt/write-rules.ts), so
 * a node never signs what its peers would quarantine. It refuses with E_CAPABILITY (kind not
 * granted, credential expired) or E_QUOTA (past a quota), and gives the writer the time to sign
 * with: never below the signer's previous record, its admission or the chain head it references
 * (an honest clock that stepped back must not make its own records `backdated`).
 *
 * @example
 * const gate = new WriteGate(log)
 * gate.admit(chain, member, head, { kind: 'intent', ts: now(), authSeq, size }) // throws when refused
 * writer clock: Math.max(now(), gate.floor(member.key))
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { Member } from '../../crdt/authority-view.js'
import { CapabilityError, QuotaError } from '../../crdt/errors.js'
import { shortId, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { IntentLog } from '../../crdt/intent-log.js'
import { recordSize, type RecordKind } from '../../crdt/record.js'
import { credentialViolation, QUOTA_WINDOW_MS, QuotaPath, quotasFor } from '../../crdt/write-rules.js'

/** A record about to be signed: its kind, the time it would claim, the chain seq it names, its size. */
export interface Prospective {
  readonly kind: RecordKind
  readonly ts: number
  readonly authSeq: number
  /** Canonical bytes, or an upper bound of them. */
  readonly size: number
}

/** Per signing key, the path of its recent records (from the log on first use). */
export class WriteGate {
  private readonly paths = new Map<KeyId, QuotaPath>()
  private readonly lastTs = new Map<KeyId, number>()

  constructor (private readonly log: IntentLog) {}

  /**
   * Checks the record against the signer's credential and quotas (E_CAPABILITY, E_QUOTA) at the
   * time it may claim (`ts` raised to the signer's last record, its admission and the entry it
   * references), and counts it: the writer signs it at `floor(key)` or later, in the same call
   * turn or the next batch. `head` is the signer's newest record, if any. With `count` false,
   * only checks (an operation asking early whether it may write at all).
   */
  admit (
    chain: AuthorityChain,
    member: Member,
    head: { id: RecordId } | undefined,
    p: Prospective,
    count = true
  ): number {
    const who = shortId(member.key, member.kind === 'agent' ? member.name : 'peer')
    const path = this.pathOf(member.key, head, p.ts)
    const ts = Math.max(p.ts, this.lastTs.get(member.key) ?? 0, member.ts ?? 0, chain.entryTs(p.authSeq) ?? 0)
    const violation = credentialViolation(member, { kind: p.kind, ts, auth: { seq: p.authSeq, hash: '' } }, chain)
    if (violation === 'capability') {
      throw new CapabilityError(`${who} may not sign ${p.kind} records (${member.kind} with role ${member.role}${member.capabilities === undefined ? '' : `, capabilities: ${member.capabilities.join(', ') || 'none'}`})`, { signer: who, kind: p.kind })
    }
    if (violation === 'expired') throw new CapabilityError(`${who}'s credential expired at ${new Date(member.expires ?? 0).toISOString()}`, { signer: who })
    const quotas = quotasFor(chain.quotas, member)
    if (p.size > quotas.max_record_bytes) {
      throw new QuotaError(`a ${p.kind} record of ${p.size} bytes exceeds the largest record ${who} may sign (${quotas.max_record_bytes} bytes)`, { signer: who, limit: quotas.max_record_bytes })
    }
    if (path.judge(ts, p.size, quotas).overQuota) {
      throw new QuotaError(`${who} reached its write quota (${quotas.records_per_hour} records or ${quotas.bytes_per_hour} bytes per hour)`, { signer: who, records: quotas.records_per_hour, bytes: quotas.bytes_per_hour })
    }
    if (!count) return ts
    path.push(ts, p.size)
    path.compact()
    this.lastTs.set(member.key, ts)
    return ts
  }

  /** The earliest time `key` may sign at: its last admitted record's. */
  floor (key: KeyId): number {
    return this.lastTs.get(key) ?? 0
  }

  // The signer's recent chain, walked back from its head once: at most a window's worth.
  private pathOf (key: KeyId, head: { id: RecordId } | undefined, now: number): QuotaPath {
    let path = this.paths.get(key)
    if (path !== undefined) return path
    path = new QuotaPath()
    const recent: Array<{ ts: number, size: number }> = []
    let at = head?.id ?? null
    for (let steps = 0; at !== null && steps < 1_000_000; steps++) {
      const record = this.log.record(at)
      if (record === undefined || record.signer !== key) break
      recent.push({ ts: record.ts, size: recordSize(record) })
      if (record.ts <= now - QUOTA_WINDOW_MS) break
      at = record.prev
    }
    for (const r of recent.reverse()) path.push(r.ts, r.size)
    this.paths.set(key, path)
    if (recent.length > 0) this.lastTs.set(key, Math.max(...recent.map((r) => r.ts)))
    return path
  }
}
