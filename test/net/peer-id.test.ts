import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyPairFromSeed } from '../../crdt/key-pair.js'
import { peerIdStringFromSeed } from '../../node/net/peer-identity.js'
import { peerIdOf } from '../../node/peer-id.js'

describe('peerIdOf (the PeerId string without libp2p)', () => {
  it('is what @libp2p/peer-id makes of the same ed25519 key, for any seed', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (seed) => {
      expect(peerIdOf(keyPairFromSeed(seed).publicKey)).toBe(await peerIdStringFromSeed(seed))
    }), { numRuns: 200 })
  })

  it('holds at the edges of the key bytes', async () => {
    for (const fill of [0, 1, 0xff]) {
      const seed = new Uint8Array(32).fill(fill)
      expect(peerIdOf(keyPairFromSeed(seed).publicKey)).toBe(await peerIdStringFromSeed(seed))
    }
    expect(peerIdOf(new Uint8Array(32))).toMatch(/^12D3KooW/)
  })
})
