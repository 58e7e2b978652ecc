/**
 * The rule every batch of records from elsewhere passes before it reaches the live log, however
 * it came (a peer's sync message, a backup file): refused whole while the team is in lockdown
 * (E_LOCKDOWN) or the node has no fresh Mothership beacon, or holds one naming chain entries it
 * lacks (E_STALE), or when a record's signer was never admitted (E_NOT_ADMITTED). Signatures
 * were checked before this; what counts among the records accepted is the effective view's
 * decision.
 *
 * @example
 * log.mergeRecords(list, (incoming) => checkIncomingRecords(chain, incoming, false), now)
 */
import { LockdownError, NotAdmittedError, StaleError } from './errors.js'
import { shortId, type KeyId, type RecordId } from './ids.js'
import type { SignedRecord } from './record.js'

/** What the rule reads of the authority chain. */
export interface IncomingAuthority {
  readonly locked: boolean
  readonly lockdownReason: string | null | undefined
  member: (key: KeyId) => unknown
}

/** Throws E_LOCKDOWN, E_STALE or E_NOT_ADMITTED to refuse the batch; an empty batch passes. */
export function checkIncomingRecords (
  chain: IncomingAuthority,
  incoming: ReadonlyArray<{ id: RecordId, record: SignedRecord }>,
  stale: boolean
): void {
  if (incoming.length === 0) return
  if (chain.locked) throw new LockdownError(`team is in lockdown (${chain.lockdownReason ?? ''}): no new records accepted`)
  if (stale) throw new StaleError('no fresh Mothership beacon, or one names chain entries not held yet: new records from others are refused until that changes')
  for (const { id, record } of incoming) {
    if (chain.member(record.signer) === undefined) {
      throw new NotAdmittedError(`record ${id.slice(0, 12)} is signed by ${shortId(record.signer)}, which is not admitted`, { record: id })
    }
  }
}
