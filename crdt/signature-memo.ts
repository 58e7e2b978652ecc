/**
 * Remembers which (domain, public key, payload, signature) checks succeeded, so the same signed
 * bytes are not verified again: every peer relays each beacon and chain entry to every session,
 * and a simulator process holds a thousand replicas that each check the same ones. Only
 * successes are kept, under the SHA-256 of the length-prefixed inputs (a hit means these exact
 * bytes verified before); at most `MAX` of them, the oldest forgotten first.
 *
 * @example
 * verifyOnce('beacon', payload, sig, pub)   // crypto.ts verify, at most once per distinct input
 */
import { createHash } from 'node:crypto'
import { verify, type SignDomain } from './crypto.js'

const MAX = 4096
const ok = new Map<string, true>()

/** `verify` (crypto.ts), remembering successes. */
export function verifyOnce (domain: SignDomain, payload: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): boolean {
  const key = memoKey(domain, payload, sig, publicKey)
  if (ok.has(key)) return true
  if (!verify(domain, payload, sig, publicKey)) return false
  if (ok.size >= MAX) ok.delete(ok.keys().next().value as string)
  ok.set(key, true)
  return true
}

function memoKey (domain: string, payload: Uint8Array, sig: Uint8Array, publicKey: Uint8Array): string {
  const h = createHash('sha256')
  const len = new DataView(new ArrayBuffer(16))
  len.setUint32(0, domain.length)
  len.setUint32(4, payload.length)
  len.setUint32(8, sig.length)
  len.setUint32(12, publicKey.length)
  h.update(new Uint8Array(len.buffer))
  h.update(domain)
  h.update(payload)
  h.update(sig)
  h.update(publicKey)
  return h.digest('base64')
}
