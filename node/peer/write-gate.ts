/**
 * The local write gate's first rule: whether this node may sign a record at all. A revoked key
 * writes nothing (its new records would count nowhere), and nothing but receipts is written
 * during a lockdown. The record rules that follow (capabilities, quotas, expiry:
 * crdt/write-rules.ts through node/agents/write-gate.ts) need the log and are the daemon's.
 *
 * @example
 * const refusal = writeRefusal(chain, key, 'intent')
 * if (refusal !== null) throw refusal
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import { type AuraError, LockdownError, RevokedError } from '../../crdt/errors.js'
import { shortId, type KeyId } from '../../crdt/ids.js'
import type { RecordKind } from '../../crdt/record.js'

/** Null when `key` may sign a record of `kind` now; else why not (E_REVOKED, E_LOCKDOWN). */
export function writeRefusal (chain: AuthorityChain | null, key: KeyId, kind: RecordKind): AuraError | null {
  if (chain === null) return null
  const rev = chain.revocation(key)
  if (rev !== undefined) return new RevokedError(`${shortId(key)} is revoked: ${rev.reason}; its new records count nowhere`, { peer: shortId(key) })
  if (chain.locked && kind !== 'receipt') {
    return new LockdownError(`the team is in lockdown (${chain.lockdownReason ?? 'no reason given'}): no new records are accepted`, { hint: 'wait for `aura mothership unlock`' })
  }
  return null
}
