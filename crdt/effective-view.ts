/**
 * The effective view: which records count, as a pure function of (records, authority view).
 * Every other record is quarantined with the first reason that applies, in this order:
 *
 * 1. `bad_signature`           the signature does not verify under the record's own key
 * 2. `not_admitted`            the signer was never admitted
 * 3. `unknown_authority`       its `auth` reference is not an entry of this replica's chain
 * 4. `beyond_cut`              the signer is revoked and the record is not the cut record or one
 *                              of its ancestors by `prev` among held records (cut seq 0: none)
 * 5. `equivocation`            another validly signed record of the signer has the same seq
 * 6. `written_during_lockdown` the chain was locked at the record's `auth` reference
 * 7. `capability`              the signer's credential does not grant the record's kind (an agent
 *                              lacking the capability, any agent signing a receipt, a reader peer
 *                              signing anything but receipts)
 * 8. `expired`                 an agent credential had expired: the record claims a `ts` at or past
 *                              `expires`, or its `auth` names an entry signed at or past it
 * 9. `backdated`               its `ts` is below its parent's (the signer's record its `prev`
 *                              names) or below its signer's admission entry's
 * 10. `over_quota`             past the signer's write quota along its own chain (write-rules.ts)
 *
 * Rules 7-10 live in write-rules.ts, which the local write gate also uses. The claimed `ts` is
 * never trusted for revocation: a revoked key cannot backdate its way past its cut; for expiry
 * and quotas it is held to its chain and the authority entry it names.
 * Records that fail verification cannot make honest records look equivocal (anyone could forge
 * those), and records beyond a cut cannot either (the cut, chosen by the Mothership, decides).
 * The result does not depend on input order or duplicates: both maps iterate in id order.
 *
 * @example
 * const { effective, quarantined } = effectiveView(log.records(), chain)
 * quarantined.get(id)  // { record, reason: 'beyond_cut' }
 */
import type { AuthorityView } from './authority-view.js'
import type { KeyId, RecordId } from './ids.js'
import { recordSize, verifyRecord, type SignedRecord } from './record.js'
import { chainFindings, credentialViolation, predatesAdmission, quotasFor, type ChainFindings } from './write-rules.js'

/** Every quarantine reason, in the order they are tested. */
export const QUARANTINE_REASONS = ['bad_signature', 'not_admitted', 'unknown_authority', 'beyond_cut', 'equivocation', 'written_during_lockdown', 'capability', 'expired', 'backdated', 'over_quota'] as const
/** Why a record is not effective. */
export type QuarantineReason = typeof QUARANTINE_REASONS[number]

/** A record kept as evidence but never applied. */
export interface Quarantined {
  readonly record: SignedRecord
  readonly reason: QuarantineReason
}

/** The records that count, and the ones that do not with their reason; both in id order. */
export interface EffectiveView {
  readonly effective: Map<RecordId, SignedRecord>
  readonly quarantined: Map<RecordId, Quarantined>
}

interface Held { readonly id: RecordId, readonly record: SignedRecord }

/** Splits records into effective and quarantined under `auth`. */
export function effectiveView (
  records: Iterable<{ id: RecordId, record: SignedRecord }>,
  auth: AuthorityView
): EffectiveView {
  const byId = new Map<RecordId, SignedRecord>()
  for (const { id, record } of records) byId.set(id, record)
  const ids = [...byId.keys()].sort()
  const signed = new Set(ids.filter((id) => verifyRecord(byId.get(id)!)))
  const withinCut = cutSets(byId, signed, auth)
  const equivocal = equivocalIds(byId, signed, withinCut)
  const findings = signerFindings(byId, signed, auth)

  const effective = new Map<RecordId, SignedRecord>()
  const quarantined = new Map<RecordId, Quarantined>()
  for (const id of ids) {
    const record = byId.get(id)!
    const reason = quarantineReason({ id, record }, auth, signed, withinCut, equivocal, findings)
    if (reason === undefined) effective.set(id, record)
    else quarantined.set(id, { record, reason })
  }
  return { effective, quarantined }
}

/**
 * Why a record is quarantined, or undefined when it counts, given that its
 * signer is not revoked, holds no other validly signed record of its seq, and `found` is what
 * its signer's chain rules find for it (chainFindings, or a QuotaPath at its parent): the rules
 * above for a record appended at the tip of its signer's path, which changes no other record's
 * outcome (crdt/effective-view-cache.ts).
 */
export function tipReason (
  id: RecordId,
  record: SignedRecord,
  auth: AuthorityView,
  found: { backdated: boolean, overQuota: boolean }
): QuarantineReason | undefined {
  const signed = new Set<RecordId>(verifyRecord(record) ? [id] : [])
  const findings = new Map<KeyId, ChainFindings>([[record.signer, {
    backdated: new Set(found.backdated ? [id] : []),
    overQuota: new Set(found.overQuota ? [id] : [])
  }]])
  return quarantineReason({ id, record }, auth, signed, new Map(), new Set(), findings)
}

function quarantineReason (
  { id, record }: Held,
  auth: AuthorityView,
  signed: Set<RecordId>,
  withinCut: Map<KeyId, Set<RecordId>>,
  equivocal: Set<RecordId>,
  findings: Map<KeyId, ChainFindings>
): QuarantineReason | undefined {
  if (!signed.has(id)) return 'bad_signature'
  const member = auth.member(record.signer)
  if (member === undefined) return 'not_admitted'
  if (auth.entryHash(record.auth.seq) !== record.auth.hash) return 'unknown_authority'
  const cut = withinCut.get(record.signer)
  if (cut !== undefined && !cut.has(id)) return 'beyond_cut'
  if (equivocal.has(id)) return 'equivocation'
  if (auth.lockedAt(record.auth.seq)) return 'written_during_lockdown'
  const violation = credentialViolation(member, record, auth)
  if (violation !== undefined) return violation
  const found = findings.get(record.signer)
  if (predatesAdmission(member, record) || found?.backdated.has(id) === true) return 'backdated'
  if (found?.overQuota.has(id) === true) return 'over_quota'
  return undefined
}

/**
 * Time order and quotas along each admitted signer's validly signed records (every one of them
 * counts, quarantined or not: they were all signed and all take space).
 */
function signerFindings (
  byId: Map<RecordId, SignedRecord>,
  signed: Set<RecordId>,
  auth: AuthorityView
): Map<KeyId, ChainFindings> {
  const links = new Map<KeyId, Array<{ id: RecordId, seq: number, prev: RecordId | null, ts: number, size: number }>>()
  for (const id of signed) {
    const r = byId.get(id)!
    let list = links.get(r.signer)
    if (list === undefined) {
      if (auth.member(r.signer) === undefined) continue
      list = []
      links.set(r.signer, list)
    }
    list.push({ id, seq: r.seq, prev: r.prev, ts: r.ts, size: recordSize(r) })
  }
  const out = new Map<KeyId, ChainFindings>()
  for (const [signer, list] of links) out.set(signer, chainFindings(list, quotasFor(auth.quotas, auth.member(signer)!)))
  return out
}

/**
 * For each revoked signer with held records: the ids of the cut record and its ancestors. The
 * walk follows `prev` through validly signed records of that signer whose seq falls at each
 * step (by one, or by more where an honest node skipped seqs it may have used before a crash:
 * docs/storage.md), and stops at the first ancestor not held, so it hides the older records
 * (they become effective when it arrives, on every replica alike).
 */
function cutSets (
  byId: Map<RecordId, SignedRecord>,
  signed: Set<RecordId>,
  auth: AuthorityView
): Map<KeyId, Set<RecordId>> {
  const out = new Map<KeyId, Set<RecordId>>()
  for (const id of signed) {
    const signer = byId.get(id)!.signer
    if (out.has(signer)) continue
    const revocation = auth.revocation(signer)
    if (revocation === undefined) continue
    const within = new Set<RecordId>()
    out.set(signer, within)
    const { seq, hash } = revocation.cut
    if (seq === 0 || hash === null) continue
    let at: RecordId | null = hash
    // The cut record must hold the cut's seq; each ancestor a lower seq than its child.
    let below = seq + 1
    while (at !== null && signed.has(at)) {
      const r: SignedRecord = byId.get(at)!
      if (r.signer !== signer || r.seq >= below || (at === hash && r.seq !== seq)) break
      within.add(at)
      at = r.prev
      below = r.seq
    }
  }
  return out
}

// Two validly signed records of one signer with one seq, neither excluded by a cut.
function equivocalIds (
  byId: Map<RecordId, SignedRecord>,
  signed: Set<RecordId>,
  withinCut: Map<KeyId, Set<RecordId>>
): Set<RecordId> {
  const slots = new Map<string, RecordId[]>()
  for (const id of signed) {
    const r = byId.get(id)!
    const cut = withinCut.get(r.signer)
    if (cut !== undefined && !cut.has(id)) continue
    const slot = `${r.signer}:${r.seq}`
    const held = slots.get(slot)
    if (held === undefined) slots.set(slot, [id])
    else held.push(id)
  }
  const out = new Set<RecordId>()
  for (const held of slots.values()) if (held.length > 1) for (const id of held) out.add(id)
  return out
}
