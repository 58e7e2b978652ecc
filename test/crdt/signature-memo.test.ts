// verifyOnce: crypto.ts verify with successes remembered. A remembered success never stands in
// for other bytes, another signature, another key or another domain.
import { describe, expect, it } from 'vitest'
import { sha256, utf8 } from '../../crdt/canonical.js'
import { keyPairFromSeed, sign } from '../../crdt/crypto.js'
import { verifyOnce } from '../../crdt/signature-memo.js'

const alice = keyPairFromSeed(sha256(utf8('memo:alice')))
const bob = keyPairFromSeed(sha256(utf8('memo:bob')))

describe('verifyOnce', () => {
  it('answers like verify, before and after a success is remembered', () => {
    const payload = utf8('head 7')
    const sig = sign('beacon', payload, alice)
    const other = utf8('head 8')
    const flipped = sig.slice(); flipped[10] ^= 1
    for (let round = 0; round < 2; round++) {
      expect(verifyOnce('beacon', payload, sig, alice.publicKey)).toBe(true)
      expect(verifyOnce('beacon', other, sig, alice.publicKey)).toBe(false)
      expect(verifyOnce('beacon', payload, flipped, alice.publicKey)).toBe(false)
      expect(verifyOnce('beacon', payload, sig, bob.publicKey)).toBe(false)
      expect(verifyOnce('chain', payload, sig, alice.publicKey)).toBe(false)
    }
  })

  it('keeps answering correctly past its size bound', () => {
    const sigs = Array.from({ length: 5000 }, (_, i) => ({ payload: utf8(`n${i}`), sig: sign('test', utf8(`n${i}`), alice) }))
    for (const { payload, sig } of sigs) expect(verifyOnce('test', payload, sig, alice.publicKey)).toBe(true)
    for (const { payload, sig } of sigs.slice(0, 10)) expect(verifyOnce('test', payload, sig, alice.publicKey)).toBe(true)
    expect(verifyOnce('test', sigs[0].payload, sigs[1].sig, alice.publicKey)).toBe(false)
  })
})
