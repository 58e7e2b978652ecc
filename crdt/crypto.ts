/**
 * Ed25519 keys, signatures with domain separation, and the one verification rule.
 *
 * The rule is libsodium's `crypto_sign_verify_detached` (strict RFC 8032, cofactorless):
 * signature and key have the right length; S < L; the public key A is the canonical encoding
 * of a curve point that is not of small order; R is not of small order; and
 * [S]B = R + [k]A with R compared as its canonical encoding, k = SHA-512(R || A || M) mod L.
 *
 * Two implementations follow it: the fast path (`verify`: libsodium through sodium-native,
 * about 19,000 verifications/s on one core here) and the portable reference (`verifyReference`:
 * the same rule written on @noble/ed25519's curve arithmetic). test/crdt/crypto.test.ts proves
 * they accept and reject exactly the same signatures, edge cases included.
 *
 * Signing is deterministic; key generation takes its 32-byte seed from the caller.
 *
 * @example
 * const k = keyPairFromSeed(seed)
 * const sig = sign('record', bytes, k)
 * verify('record', bytes, sig, k.publicKey) // true
 */
import sodium from 'sodium-native'
import * as ed from '@noble/ed25519'
import { sha512 } from '@noble/hashes/sha2.js'
import { utf8 } from './canonical.js'
import type { KeyPair } from './key-pair.js'

export { keyPairFromSeed, type KeyPair } from './key-pair.js'

ed.hashes.sha512 = sha512

/** What a signature is for; part of every signed message so one kind never passes as another. */
export type SignDomain = 'record' | 'change' | 'chain' | 'token' | 'beacon' | 'hello' | 'join' | 'backup' | 'audit' | 'test'

const L = 2n ** 252n + 27742317777372353535851937790883648493n
const secretKeys = new WeakMap<Uint8Array, Buffer>()

/** The bytes actually signed: a domain tag, a NUL, then the canonical payload. */
export function signedMessage (domain: SignDomain, payload: Uint8Array): Uint8Array {
  const tag = utf8(`aura/v1/${domain}\0`)
  const out = new Uint8Array(tag.length + payload.length)
  out.set(tag, 0)
  out.set(payload, tag.length)
  return out
}

/** Signs `payload` under `domain`. */
export function sign (domain: SignDomain, payload: Uint8Array, key: KeyPair): Uint8Array {
  let sk = secretKeys.get(key.seed)
  if (sk === undefined) {
    const pk = Buffer.alloc(32)
    sk = Buffer.alloc(64)
    sodium.crypto_sign_seed_keypair(pk, sk, Buffer.from(key.seed))
    secretKeys.set(key.seed, sk)
  }
  const sig = Buffer.alloc(64)
  sodium.crypto_sign_detached(sig, Buffer.from(signedMessage(domain, payload)), sk)
  return new Uint8Array(sig)
}

/** Fast-path verification of `sig` over `payload` under `domain` by `publicKey`. */
export function verify (domain: SignDomain, payload: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  return verifyRaw(signedMessage(domain, payload), sig, publicKey)
}

/** Fast-path verification of a raw message (no domain tag), via libsodium. */
export function verifyRaw (message: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== 64 || publicKey.length !== 32) return false
  return sodium.crypto_sign_verify_detached(asBuffer(sig), asBuffer(message), asBuffer(publicKey))
}

/** Reference verification of a raw message: the same rule on @noble/ed25519's arithmetic. */
export function verifyRawReference (message: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  if (sig.length !== 64 || publicKey.length !== 32) return false
  const s = bytesToNumberLE(sig.subarray(32))
  if (s >= L) return false
  let A: ed.Point
  try {
    A = ed.Point.fromBytes(publicKey, false)
  } catch {
    return false
  }
  if (A.isSmallOrder()) return false
  if (hasSmallOrderEncoding(sig.subarray(0, 32))) return false
  const k = ed.etc.mod(bytesToNumberLE(sha512(ed.etc.concatBytes(sig.subarray(0, 32), publicKey, message))), L)
  const r = ed.Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes()
  for (let i = 0; i < 32; i++) if (r[i] !== sig[i]) return false
  return true
}

/** Reference verification with a domain tag, mirroring `verify`. */
export function verifyReference (
  domain: SignDomain,
  payload: Uint8Array,
  sig: Uint8Array,
  publicKey: Uint8Array
): boolean {
  return verifyRawReference(signedMessage(domain, payload), sig, publicKey)
}

/**
 * True when a key may be admitted: canonical, on the curve, not of small order, and in the
 * prime-order subgroup. The last check is stricter than verification: a mixed-order key (A + T)
 * verifies some of its owner's signatures and not others, so the chain never admits one.
 */
export function isAcceptablePublicKey (publicKey: Uint8Array): boolean {
  if (publicKey.length !== 32) return false
  return sodium.crypto_core_ed25519_is_valid_point(asBuffer(publicKey))
}

// An R whose point has small order is refused whatever its spelling (either sign bit, or a
// non-canonical y), as libsodium does.
function hasSmallOrderEncoding (enc: Uint8Array): boolean {
  const y = new Uint8Array(enc)
  y[31] &= 0x7f
  for (const sign of [0, 0x80]) {
    const candidate = new Uint8Array(y)
    candidate[31] |= sign
    try {
      if (ed.Point.fromBytes(candidate, true).isSmallOrder()) return true
    } catch {}
  }
  return false
}

function asBuffer (b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)
}

function bytesToNumberLE (b: Uint8Array): bigint {
  let n = 0n
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i])
  return n
}
