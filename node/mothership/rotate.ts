/**
 * The Mothership's key rotation, once for `aura mothership rotate-key` (mothership.ts) and for
 * the simulator's operator (sim/world.ts): the `rotate` entry naming the next signing key,
 * signed by the current one, on the chain's head. Never a fresh genesis: a peer that was away
 * follows the chain forward through this entry, and verifies what the next key signs after it.
 *
 * Appending is the caller's, in this order: put the next key in use, then append (the append
 * hands the entry to the peer core, which signs a beacon at once, and that beacon must verify
 * under the rotated chain); if the append fails and the chain never took the entry, put the old
 * key back (once the chain holds it, the old key signs nothing that verifies).
 *
 * @example
 * const { entry } = keyRotation({ chain, signing: oldKey, ts: rt.now() }, nextKey)
 * rt.mothershipKey = nextKey
 * await rt.appendOwnEntries([entry])
 */
import { rotateEntry, type AuthorityChain } from '../../crdt/authority-chain.js'
import { toB64u } from '../../crdt/canonical.js'
import type { ChainEntry } from '../../crdt/chain-entry.js'
import type { KeyPair } from '../../crdt/crypto.js'
import { ConflictError, UsageError } from '../../crdt/errors.js'
import { keyIdOf, shortId, type KeyId } from '../../crdt/ids.js'

/** What a rotation is signed from. */
export interface RotateContext {
  chain: AuthorityChain
  /** The signing key in use: the chain's current Mothership key. */
  signing: KeyPair
  ts: number
}

/** The rotate entry, and the key ids it retires and puts in use. */
export interface KeyRotation {
  entry: ChainEntry
  from: KeyId
  to: KeyId
}

/**
 * The entry rotating the Mothership key to `next`; E_CONFLICT when the key held is not the
 * chain's current Mothership key (a retired one), E_USAGE when `next` is the key in use.
 */
export function keyRotation (c: RotateContext, next: KeyPair): KeyRotation {
  const from = keyIdOf(c.signing.publicKey)
  const current = c.chain.mothershipKeyId
  if (from !== current) {
    throw new ConflictError(`the signing key held here (${shortId(from, 'key')}) is not the chain's current Mothership key (${shortId(current, 'key')}): it was rotated already`, { held: from, current })
  }
  const to = keyIdOf(next.publicKey)
  if (to === from) throw new UsageError('the next Mothership key is the one in use')
  return { entry: rotateEntry(c.signing, c.chain.head, { mothership: toB64u(next.publicKey), ts: c.ts }), from, to }
}
