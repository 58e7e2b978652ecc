/**
 * The Mothership's key rotation (node/mothership/rotate.ts), which `aura mothership rotate-key`
 * and the simulator's `rotate` steps both sign with: the entry the current key signs on the head,
 * the chain following it to the next key, and refusals for a retired key and a rotation to the
 * key in use.
 */
import { describe, expect, it } from 'vitest'
import { AuthorityChain, lockdownEntry } from '../../crdt/authority-chain.js'
import { keyIdOf } from '../../crdt/ids.js'
import { keyRotation } from '../../node/mothership/rotate.js'
import { keyNamed, MothershipBook, T0 } from '../sync/engine-fixture.js'

function chain (): { chain: AuthorityChain, book: MothershipBook } {
  const book = new MothershipBook()
  book.admit('ms', keyNamed('ms'), 'admin')
  return { chain: AuthorityChain.fromEntries(book.entries), book }
}

describe('the Mothership\'s key rotation', () => {
  it('signs a rotate entry with the key in use; the chain then takes only what the next key signs', () => {
    const { chain: c, book } = chain()
    const next = keyNamed('ms-signing-2')
    const { entry, from, to } = keyRotation({ chain: c, signing: book.key, ts: T0 + 5 }, next)
    expect([from, to]).toEqual([keyIdOf(book.key.publicKey), keyIdOf(next.publicKey)])
    expect(entry).toMatchObject({ kind: 'rotate', seq: c.head.seq + 1, signer: from })
    c.applyBatch([entry])
    expect(c.mothershipKeyId).toBe(to)
    expect(() => c.applyBatch([lockdownEntry(book.key, c.head, { reason: 'old key', ts: T0 + 6 })])).toThrow(/not the current Mothership key/)
    c.applyBatch([lockdownEntry(next, c.head, { reason: 'new key', ts: T0 + 6 })])
    expect(c.locked).toBe(true)
  })

  it('refuses a key the chain rotated away from (E_CONFLICT) and a rotation to the key in use (E_USAGE)', () => {
    const { chain: c, book } = chain()
    const next = keyNamed('ms-signing-2')
    c.applyBatch([keyRotation({ chain: c, signing: book.key, ts: T0 + 5 }, next).entry])
    expect(() => keyRotation({ chain: c, signing: book.key, ts: T0 + 6 }, keyNamed('ms-signing-3'))).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }))
    expect(() => keyRotation({ chain: c, signing: next, ts: T0 + 6 }, next)).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
  })
})
