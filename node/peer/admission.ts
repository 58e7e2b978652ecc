/**
 * Who may connect: the chain's rule (revoked, not admitted) and the gate's once-per-interval
 * allowance that lets a refused key through so the protocol can tell it why. The daemon asks it
 * from libp2p's connection gater (node/net/gater.ts); the simulator from its network's dials.
 *
 * @example
 * const gate = new AdmissionGate({ chain: () => chain, isMothership: () => false, now: () => clock() })
 * gate.gate(key, 'inbound')   // null admits, an AuraError refuses
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import { type AuraError, NotAdmittedError, RevokedError } from '../../crdt/errors.js'
import { shortId, type KeyId } from '../../crdt/ids.js'

/** Which way a connection goes, from this node's point of view. */
export type Direction = 'inbound' | 'outbound'

/** A refused key is let through once in this long, so the protocol can tell it why. */
export const TELL_INTERVAL_MS = 30_000

/** What the gate reads. */
export interface AdmissionComponents {
  /** The node's chain; null before it belongs to a team (then every key may connect). */
  chain: () => AuthorityChain | null
  /** The Mothership lets keys it has not admitted connect: they may come to join. */
  isMothership: () => boolean
  now: () => number
}

/** Heard when the gate refuses a key by rule (whether or not it is let through to be told). */
export type RefusalListener = (key: KeyId, direction: Direction, error: AuraError, address?: string) => void

/** The chain's rule: revoked (E_REVOKED), not a member (E_NOT_ADMITTED), or null. */
export function admission (chain: AuthorityChain, key: KeyId): AuraError | null {
  if (chain.revocation(key) !== undefined) return new RevokedError(`${shortId(key)} is revoked`, { peer: shortId(key) })
  if (chain.member(key) === undefined) return new NotAdmittedError(`${shortId(key)} is not admitted to this team`, { peer: shortId(key) })
  return null
}

/** The connection gate of one node. */
export class AdmissionGate {
  private readonly told = new Map<KeyId, number>()

  constructor (
    private readonly c: AdmissionComponents,
    private readonly tellIntervalMs = TELL_INTERVAL_MS,
    private readonly onRefused?: RefusalListener
  ) {}

  /**
   * Null admits the connection, an error refuses it before any protocol runs. A key refused by
   * rule is let through once per interval: the sync engine then refuses it with an error frame
   * saying why (E_REVOKED, E_NOT_ADMITTED). Refused either way.
   */
  gate (key: KeyId, direction: Direction, address?: string): AuraError | null {
    const chain = this.c.chain()
    if (chain === null) return null
    const err = admission(chain, key)
    if (err === null) return null
    if (this.c.isMothership() && err.code === 'E_NOT_ADMITTED') return null
    this.onRefused?.(key, direction, err, address)
    const now = this.c.now()
    if (now - (this.told.get(key) ?? -Infinity) > this.tellIntervalMs) {
      this.told.set(key, now)
      return null
    }
    return err
  }

  /** Strictly admitted and not revoked: the telling allowance does not extend to relaying or addresses. */
  admitted (key: KeyId): boolean {
    const chain = this.c.chain()
    return chain !== null && admission(chain, key) === null
  }
}
