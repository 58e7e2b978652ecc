/**
 * Ed25519 on one core over 305-byte payloads: verifications/s for the fast path (libsodium via
 * sodium-native), the reference (the same rule on @noble/ed25519 arithmetic) and raw node:crypto
 * (OpenSSL, a different rule, for comparison); then signatures/s. Median of 5 runs of 1 s.
 *
 * @example
 * npm run bench -- verify
 */
import { createPrivateKey, createPublicKey, randomBytes, sign as osslSign, verify as osslVerify, type KeyObject } from 'node:crypto'
import * as ed from '@noble/ed25519'
import { keyPairFromSeed, sign, signedMessage, verify, verifyReference, type KeyPair } from '../crdt/crypto.js'
import { measure, report } from './lib/harness.js'

const PAYLOAD_BYTES = 305
const POOL = 32

interface Item {
  key: KeyPair
  payload: Uint8Array
  message: Uint8Array
  sig: Uint8Array
  pub: KeyObject
  priv: KeyObject
}

// Distinct keys and messages, cycled, so no run verifies one signature over and over.
const items: Item[] = Array.from({ length: POOL }, () => {
  const key = keyPairFromSeed(randomBytes(32))
  const payload = new Uint8Array(randomBytes(PAYLOAD_BYTES))
  const x = Buffer.from(key.publicKey).toString('base64url')
  const d = Buffer.from(key.seed).toString('base64url')
  return {
    key,
    payload,
    message: signedMessage('record', payload),
    sig: sign('record', payload, key),
    pub: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
    priv: createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' })
  }
})

let failures = 0
const check = (ok: boolean): void => { if (!ok) failures++ }

process.stderr.write(`verify: ${POOL} keys, ${PAYLOAD_BYTES}-byte payloads (+ ${items[0].message.length - PAYLOAD_BYTES}-byte domain tag)\n`)
const rows = [
  measure('verify: fast path (sodium-native)', 'verifications/s', (i) => { const t = items[i % POOL]; check(verify('record', t.payload, t.sig, t.key.publicKey)) }),
  measure('verify: reference (noble arithmetic)', 'verifications/s', (i) => { const t = items[i % POOL]; check(verifyReference('record', t.payload, t.sig, t.key.publicKey)) }),
  measure('verify: node:crypto (OpenSSL, KeyObject)', 'verifications/s', (i) => { const t = items[i % POOL]; check(osslVerify(null, t.message, t.pub, t.sig)) }, 'RFC 8032 without the small-order checks; comparison only'),
  measure('sign: fast path (sodium-native)', 'signatures/s', (i) => { const t = items[i % POOL]; sign('record', t.payload, t.key) }),
  measure('sign: noble ed.sign', 'signatures/s', (i) => { const t = items[i % POOL]; ed.sign(t.message, t.key.seed) }),
  measure('sign: node:crypto (OpenSSL, KeyObject)', 'signatures/s', (i) => { const t = items[i % POOL]; osslSign(null, t.message, t.priv) })
]
if (failures > 0) {
  process.stderr.write(`verify: ${failures} valid signatures were rejected\n`)
  process.exit(1)
}
report('verify', `ed25519 on one core, ${PAYLOAD_BYTES}-byte payloads`, rows)
