/**
 * The connection gate: refuses a key before any Aura protocol runs. libp2p asks it after the
 * Noise handshake (so the remote key is proven) in both directions, and before an outbound dial
 * when the target's PeerId is already known. Only ed25519 identities can be Aura keys; anything
 * else is refused. A gate that throws refuses too: failing open would admit a revoked key.
 *
 * The refused side learns no reason here: libp2p just drops the connection. When a peer must
 * learn WHY (E_REVOKED), let it connect and refuse it at the protocol level instead
 * (Host.refuseWithReason, which sends an error frame first).
 *
 * @example
 * connectionGater: auraGater((key) => view.revocation(key) ? new RevokedError('revoked') : null)
 */
import type { ConnectionGater, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { type AuraError, toAuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'
import { keyIdFromPeerId } from './peer-identity.js'

/** Which way a connection goes, from this node's point of view. */
export type Direction = 'inbound' | 'outbound'

/** Decides whether a key may connect: null admits, an AuraError refuses (and says why). */
export type Gate = (key: KeyId, direction: Direction, remoteAddr?: string) => AuraError | null

/** Who a relay serves: only while `serve()` says this host is a relay, and only admitted keys. */
export interface RelayPolicy {
  serve: () => boolean
  admitted: (key: KeyId) => boolean
}

/**
 * A libp2p ConnectionGater that consults `gate` with the remote's Aura key id. `onOutboundRefusal`
 * hears refusals of connections this node dialled, by remote address, so a failed dial can say
 * which rule refused it instead of a bare "connection closed". With `relay`, this host's circuit
 * relay refuses reservations and circuits unless both ends are admitted (strictly: the gate's
 * once-per-30-s "tell them why" allowance does not extend to relaying).
 */
export function auraGater (
  gate: Gate,
  onOutboundRefusal?: (remoteAddr: string, error: AuraError) => void,
  relay?: RelayPolicy
): ConnectionGater {
  const refusal = (peerId: PeerId, direction: Direction, remoteAddr?: string): AuraError | null => {
    try {
      return gate(keyIdFromPeerId(peerId), direction, remoteAddr)
    } catch (err) {
      return toAuraError(err)
    }
  }
  const admitted = (peerId: PeerId): boolean => {
    try {
      return relay?.admitted(keyIdFromPeerId(peerId)) === true
    } catch {
      return false
    }
  }
  return {
    denyInboundRelayReservation: (source) => relay === undefined || !relay.serve() || !admitted(source),
    denyOutboundRelayedConnection: (
      source,
      destination
    ) => relay === undefined || !relay.serve() || !admitted(source) || !admitted(destination),
    // A connection relayed to us is gated again at Noise like any other; refuse it early too.
    denyInboundRelayedConnection: (_relay, remotePeer) => refusal(remotePeer, 'inbound') !== null,
    denyDialPeer: (peerId) => refusal(peerId, 'outbound') !== null,
    denyInboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) => refusal(peerId, 'inbound', maConn.remoteAddr.toString()) !== null,
    denyOutboundEncryptedConnection: (peerId: PeerId, maConn: MultiaddrConnection) => {
      const error = refusal(peerId, 'outbound', maConn.remoteAddr.toString())
      if (error !== null) onOutboundRefusal?.(maConn.remoteAddr.toString(), error)
      return error !== null
    }
  }
}
