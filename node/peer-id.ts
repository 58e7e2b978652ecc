/**
 * The libp2p PeerId string of an ed25519 public key, without loading libp2p: commands that only
 * show an identity (`aura id`, `aura init`) stay quick. A PeerId of an ed25519 key is the
 * base58btc text of the identity multihash over the key's protobuf encoding; test/net checks
 * this against @libp2p/peer-id, which the daemon uses.
 *
 * @example
 * peerIdOf(identity.keyPair.publicKey)   // '12D3KooW...'
 */

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
// identity multihash (0x00), length 36, then protobuf PublicKey { Type: Ed25519 (1), Data: 32 bytes }.
const ED25519_PREFIX = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20]

/** The PeerId string (`12D3KooW...`) of a 32-byte ed25519 public key. */
export function peerIdOf (publicKey: Uint8Array): string {
  return base58btc(Uint8Array.from([...ED25519_PREFIX, ...publicKey]))
}

function base58btc (bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  let n = bytes.length === zeros ? 0n : BigInt(`0x${Buffer.from(bytes.subarray(zeros)).toString('hex')}`)
  let digits = ''
  while (n > 0n) {
    digits = BASE58[Number(n % 58n)] + digits
    n /= 58n
  }
  return '1'.repeat(zeros) + digits
}
