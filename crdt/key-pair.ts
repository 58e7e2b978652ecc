/**
 * Ed25519 key pairs from their 32-byte seed, on node:crypto alone: reading an identity (`aura id`,
 * every command that loads one) needs the public key, not the signing machinery of crypto.ts
 * (libsodium, noble), which takes longer to load than the derivation takes to run.
 *
 * @example
 * const k = keyPairFromSeed(seed)   // { seed, publicKey } — RFC 8032 key derivation
 */
import { createPrivateKey, createPublicKey } from 'node:crypto'
import { MalformedError } from './errors.js'

/** An ed25519 key pair: the 32-byte seed (the private key) and the 32-byte public key. */
export interface KeyPair {
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
}

// PKCS#8 and SPKI DER of an Ed25519 key are a fixed header followed by the 32 key bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_PREFIX_LENGTH = 12

/** Derives the key pair of a 32-byte seed. */
export function keyPairFromSeed (seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new MalformedError('an ed25519 seed is 32 bytes', { length: seed.length })
  const s = new Uint8Array(seed)
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, s]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { seed: s, publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX_LENGTH)) }
}
