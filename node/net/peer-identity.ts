/**
 * One key, two names: a peer's Aura identity and its libp2p identity are the same ed25519 key,
 * so the Noise handshake already proves which Aura key is on the other end. This file converts
 * between the forms: 32-byte seed -> libp2p private key / PeerId, and PeerId -> Aura KeyId.
 *
 * @example
 * const pid = await peerIdStringFromSeed(seed)       // '12D3KooW...'
 * keyIdFromPeerId(connection.remotePeer)             // hex SHA-256 of the ed25519 public key
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { MalformedError } from '../../crdt/errors.js'
import { type KeyId, keyIdOf } from '../../crdt/ids.js'

/** The libp2p private key of an Aura identity seed (the same ed25519 key). */
export async function privateKeyFromSeed (seed: Uint8Array): Promise<Ed25519PrivateKey> {
  if (seed.length !== 32) throw new MalformedError('an ed25519 seed is 32 bytes', { length: seed.length })
  return await generateKeyPairFromSeed('Ed25519', seed)
}

/** The libp2p PeerId string (`12D3KooW...`) of an Aura identity seed. */
export async function peerIdStringFromSeed (seed: Uint8Array): Promise<string> {
  return peerIdFromPrivateKey(await privateKeyFromSeed(seed)).toString()
}

/** The Aura key id of a libp2p PeerId; E_MALFORMED unless it is an ed25519 identity. */
export function keyIdFromPeerId (peerId: PeerId): KeyId {
  if (peerId.type !== 'Ed25519') {
    throw new MalformedError(`peer ${peerId.toString()} is not an ed25519 identity`, { peerId: peerId.toString(), type: peerId.type })
  }
  return keyIdOf(peerId.publicKey.raw)
}

/** The Aura key id named by the `/p2p/` part of a multiaddr string, or null when it has none. */
export function keyIdFromMultiaddr (addr: string): KeyId | null {
  let id: string | undefined
  try {
    // The last /p2p/ names the peer: in a circuit address the first one is the relay.
    id = multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value
  } catch (err) {
    throw new MalformedError(`not a multiaddr: ${addr}`, { addr, cause: (err as Error).message })
  }
  if (id === undefined) return null
  try {
    return keyIdFromPeerId(peerIdFromString(id))
  } catch (err) {
    if (err instanceof MalformedError) throw err
    throw new MalformedError(`not a peer id: ${id}`, { addr })
  }
}
