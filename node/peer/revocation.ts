/**
 * What a node does when a revocation is applied locally. The sync engine has closed the revoked
 * key's sessions with E_REVOKED (the revoke entry queued to it goes out first, so the peer learns
 * it is revoked) and reports the key (its `revoked` event); here every connection with the key
 * is hung up and its addresses forgotten, and the gate (admission.ts) refuses it from then on,
 * since the chain holds the revocation. When each took effect is kept for the `revocations` call.
 *
 * @example
 * const rev = new RevocationEnforcer({ chain: () => chain, links, now })
 * engineEvents.revoked = (keys) => rev.apply(keys)
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { KeyRevocation } from '../../crdt/authority-view.js'
import type { AuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'
import { revokedError } from '../sync/engine.js'

/** The transport under the sessions. */
export interface PeerLinks {
  /** Closes every connection with `key`; a promise when that takes time. */
  hangUp: (key: KeyId, reason: AuraError) => Promise<void> | void
  /** Forgets where `key` can be reached (address book, dial targets). */
  forget?: (key: KeyId) => void
}

/** What applying a revocation needs. */
export interface RevocationComponents {
  chain: () => AuthorityChain | null
  links: PeerLinks
  /** Time stamps of enforcement (the daemon gives sub-ms wall time, for the bench). */
  now: () => number
}

/** When a revocation took effect here, and when the last connection to the key was closed. */
export interface AppliedRevocation { key: KeyId, appliedAt: number, closedAt: number | null }

/** Heard for each key as its revocation is enforced. */
export type RevocationListener = (key: KeyId, revocation: KeyRevocation | undefined) => void

/** Enforces revocations on one node's connections. */
export class RevocationEnforcer {
  private readonly applied = new Map<KeyId, AppliedRevocation>()

  constructor (private readonly c: RevocationComponents, private readonly onApplied?: RevocationListener) {}

  /** Hangs up every connection of each newly revoked key and forgets its addresses. */
  apply (keys: readonly KeyId[]): void {
    for (const key of keys) {
      const r = this.c.chain()?.revocation(key)
      const t: AppliedRevocation = { key, appliedAt: this.c.now(), closedAt: null }
      this.applied.set(key, t)
      this.onApplied?.(key, r)
      const closing = this.c.links.hangUp(key, revokedError(key, r))
      if (closing === undefined) t.closedAt = this.c.now()
      else void closing.finally(() => { t.closedAt = this.c.now() })
      this.c.links.forget?.(key)
    }
  }

  /** The revocations enforced here, in order. */
  list (): AppliedRevocation[] {
    return [...this.applied.values()]
  }
}
