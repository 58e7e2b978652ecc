/**
 * The read-only view of the authority chain that the intent log's effective view depends on.
 * `AuthorityChain` (authority-chain.ts) implements it; tests may implement it directly.
 *
 * @example
 * const rev = view.revocation(signer)   // { seq, cut, reason } when the key is revoked
 */
import type { KeyId, RecordId } from './ids.js'
import type { Quotas } from './write-rules.js'

/** The last record of a revoked key that the Mothership accepts as legitimate. seq 0: none. */
export interface Cut {
  readonly seq: number
  readonly hash: RecordId | null
}

/** An admitted identity: a peer key (admit entry) or an agent credential (agent entry). */
export interface Member {
  readonly key: KeyId
  readonly publicKey: string
  readonly kind: 'peer' | 'agent'
  /** The user a peer belongs to, or the agent's name. */
  readonly name: string
  readonly role: string
  /** Chain seq of the entry that admitted it. */
  readonly since: number
  /** The admission entry's signed time (ms); a member's records may not claim an earlier one. */
  readonly ts?: number
  /** An agent credential's capabilities (write-rules.ts KIND_CAPABILITY); peers have none. */
  readonly capabilities?: readonly string[]
  /** An agent credential's own quotas (e.g. `max_commits_per_hour`), narrowing the team's. */
  readonly quotas?: Readonly<Record<string, number>>
  /** When an agent credential expires (ms), or null. */
  readonly expires?: number | null
}

/** A revocation as it applies to one key. */
export interface KeyRevocation {
  readonly seq: number
  readonly cut: Cut
  readonly reason: string
}

/** What the effective view needs from the authority chain. */
export interface AuthorityView {
  /** Seq and hash of the newest entry. */
  readonly head: { readonly seq: number, readonly hash: string }
  /** Hash of the entry at `seq`, if this replica holds it. */
  entryHash: (seq: number) => string | undefined
  /** The member admitted with this key, revoked or not. */
  member: (key: KeyId) => Member | undefined
  /** The revocation that applies to this key (directly or through its role), if any. */
  revocation: (key: KeyId) => KeyRevocation | undefined
  /** Whether the team was in lockdown in the state just after entry `seq`. */
  lockedAt: (seq: number) => boolean
  /** The signed time (ms) of the entry at `seq`, if this replica holds it. */
  entryTs: (seq: number) => number | undefined
  /** The team's per-member write quotas (genesis, else write-rules.ts DEFAULT_QUOTAS). */
  readonly quotas: Quotas
}
