/**
 * The Mothership's revoke path (node/mothership/revoke.ts), which its operations and the
 * simulator's operator both sign revocations with: the subject by membership, the real cut, a
 * batch that applies whole, and refusals when there is nothing to revoke.
 */
import { describe, expect, it } from 'vitest'
import { agentEntry, AuthorityChain } from '../../crdt/authority-chain.js'
import { toB64u } from '../../crdt/canonical.js'
import { keyIdOf, makeJti, type KeyId, type RecordId } from '../../crdt/ids.js'
import { signRecord, type SignedRecord } from '../../crdt/record.js'
import { agentsToRevoke, keyRevocation, keyRevocations, tokenRevocation, type RevokeContext } from '../../node/mothership/revoke.js'
import { keyNamed, MothershipBook, T0 } from '../sync/engine-fixture.js'

const id = (name: string): KeyId => keyIdOf(keyNamed(name).publicKey)

// A team: the Mothership's node, alice and bob (people, bob a maintainer), two agents (roles
// agent and reader), with alice's first two records held by the Mothership.
function team (): { ctx: RevokeContext, held: Array<{ id: RecordId, record: SignedRecord }> } {
  const book = new MothershipBook()
  book.admit('ms', keyNamed('ms'), 'admin')
  book.admit('alice', keyNamed('alice'))
  book.admit('bob', keyNamed('bob'), 'maintainer')
  const chain = AuthorityChain.fromEntries(book.entries)
  for (const [name, role] of [['coder', 'agent'], ['scribe', 'reader']] as const) {
    chain.applyBatch([agentEntry(book.key, chain.head, { pub: toB64u(keyNamed(name).publicKey), name, role, capabilities: ['read'], quotas: {}, expires: null, owner: 'alice', ts: T0 + 10 })])
  }
  const held: Array<{ id: RecordId, record: SignedRecord }> = []
  let prev: RecordId | null = null
  for (let seq = 1; seq <= 2; seq++) {
    const r = signRecord({ kind: 'intent', actor: 'alice', host: 'a', seq, prev, ts: T0 + seq, auth: chain.head, text: `r${seq}` }, keyNamed('alice'))
    held.push({ id: r.id, record: r.record })
    prev = r.id
  }
  const ctx = { chain, signing: book.key, holdings: { store: { intent: { log: { records: () => held } } } }, self: id('ms'), ts: T0 + 100 }
  return { ctx, held }
}

describe('the Mothership\'s revoke path', () => {
  it('revokes a peer with the cut at its newest whole record, an agent as an agent', () => {
    const { ctx, held } = team()
    const alice = keyRevocation(ctx, id('alice'), 'laptop theft')
    expect(alice.cut).toEqual({ seq: 2, hash: held[1].id })
    expect(alice.entry.body).toMatchObject({ subject: { type: 'peer', key: id('alice'), cut: alice.cut }, reason: 'laptop theft', ts: T0 + 100 })
    expect(keyRevocation(ctx, id('coder'), 'rogue').entry.body).toMatchObject({ subject: { type: 'agent', key: id('coder'), cut: { seq: 0, hash: null } } })
    ctx.chain.applyBatch([alice.entry])
    expect(ctx.chain.revocation(id('alice'))?.reason).toBe('laptop theft')
  })

  it('signs a batch each on the one before, which the chain takes whole', () => {
    const { ctx } = team()
    const batch = keyRevocations(ctx, [id('coder'), id('scribe')], 'pause')
    expect(batch.map((r) => r.entry.seq)).toEqual([ctx.chain.head.seq + 1, ctx.chain.head.seq + 2])
    ctx.chain.applyBatch(batch.map((r) => r.entry))
    expect([id('coder'), id('scribe')].every((k) => ctx.chain.revocation(k) !== undefined)).toBe(true)
  })

  it('refuses a key revoked already, the Mothership\'s own, and a stranger', () => {
    const { ctx } = team()
    ctx.chain.applyBatch([keyRevocation(ctx, id('bob'), 'left').entry])
    expect(() => keyRevocation(ctx, id('bob'), 'again', 'peer-bob')).toThrow(expect.objectContaining({ code: 'E_CONFLICT', message: expect.stringMatching(/^peer-bob is already revoked \(entry \d+: left\)/) }))
    expect(() => keyRevocation(ctx, id('ms'), 'no')).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
    expect(() => keyRevocation(ctx, id('mallory'), 'who')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }))
  })

  it('revoke-all: `agent` reaches every agent, another role its agents only, never a person', () => {
    const { ctx } = team()
    expect(agentsToRevoke(ctx.chain, 'agent').map((m) => m.name).sort()).toEqual(['coder', 'scribe'])
    expect(agentsToRevoke(ctx.chain, 'reader').map((m) => m.name)).toEqual(['scribe'])
    expect(() => agentsToRevoke(ctx.chain, 'maintainer')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND' }))
    ctx.chain.applyBatch(keyRevocations(ctx, [id('scribe')], 'pause').map((r) => r.entry))
    expect(agentsToRevoke(ctx.chain, 'agent').map((m) => m.name)).toEqual(['coder'])
  })

  it('revokes a token once', () => {
    const { ctx } = team()
    const jti = makeJti(T0, new Uint8Array(10))
    const entry = tokenRevocation(ctx, jti, 'leaked')
    expect(entry.body).toMatchObject({ subject: { type: 'token', jti } })
    ctx.chain.applyBatch([entry])
    expect(() => tokenRevocation(ctx, jti, 'again')).toThrow(expect.objectContaining({ code: 'E_CONFLICT' }))
  })
})
