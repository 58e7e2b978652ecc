import { describe, expect, it } from 'vitest'
import { canonicalBytes, toB64u } from '../../crdt/canonical.js'
import { keyIdOf, parseRecordId, type KeyId } from '../../crdt/ids.js'
import { AuthorityChain, FORK_REASON } from '../../crdt/authority-chain.js'
import {
  admitEntry, decodeEntry, encodeEntry, genesisEntry, hashEntry,
  lockdownEntry, makeEntry, revokeEntry, rotateEntry, signEntry,
  type ChainEntry
} from '../../crdt/chain-entry.js'
import { ChainBuilder, jtiOf, keyOf, NO_CUT, snapshot, T0 } from './authority-chain-fixture.js'

const mallory = keyOf(666)

function rejects (chain: AuthorityChain, batch: ChainEntry[], code: string, reason?: RegExp): void {
  const before = snapshot(chain)
  let caught: unknown
  try {
    chain.applyBatch(batch)
  } catch (err) {
    caught = err
  }
  expect(caught).toMatchObject({ code })
  if (reason !== undefined) expect((caught as Error).message).toMatch(reason)
  expect(snapshot(chain)).toEqual(before)
}

describe('entries', () => {
  it('round-trip through canonical bytes, and their hash is the hash of those bytes', () => {
    const b = new ChainBuilder()
    b.admit(2, 'alice')
    for (const e of b.entries) {
      expect(decodeEntry(encodeEntry(e))).toEqual(e)
      expect(hashEntry(e)).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(b.entries[1].prev).toBe(hashEntry(b.entries[0]))
  })

  it('decoding refuses bad shapes and non-canonical bytes with E_MALFORMED', () => {
    const g = new ChainBuilder().entries[0]
    const bad = [
      { ...g, extra: 1 },
      { ...g, seq: 1 },
      { ...g, kind: 'admit' },
      { ...g, sig: 'AAAA' },
      { ...g, body: { ...g.body, team: '' } }
    ]
    for (const v of bad) expect(() => decodeEntry(canonicalBytes(v))).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    const spaced = new TextEncoder().encode(JSON.stringify(g, null, 1))
    expect(() => decodeEntry(spaced)).toThrow(/canonical/)
  })

  it('builders refuse to sign what replicas would refuse as malformed', () => {
    const b = new ChainBuilder()
    expect(() => admitEntry(b.key, b.head, { pub: 'nope', user: 'alice', role: 'contributor', jti: null, ts: T0 }))
      .toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => revokeEntry(b.key, b.head, { subject: { type: 'peer', key: keyIdOf(keyOf(2).publicKey), cut: { seq: 3, hash: null } }, reason: '', ts: T0 }))
      .toThrow(/cut/)
    expect(() => makeEntry(b.key, b.head, 'genesis', { team: 'x', mothership: toB64u(b.key.publicKey), ts: T0 })).toThrow(/genesis/)
  })
})

describe('AuthorityChain: every kind of entry', () => {
  it('starts from a genesis signed by the key it names', () => {
    const b = new ChainBuilder()
    const chain = AuthorityChain.fromGenesis(b.entries[0])
    expect(chain.head).toEqual({ seq: 0, hash: hashEntry(b.entries[0]) })
    expect(chain.team).toBe('acme')
    expect(chain.mothershipKey).toEqual(keyOf(1).publicKey)
    expect(chain.mothershipKeyId).toBe(keyIdOf(keyOf(1).publicKey))
    expect(chain.locked).toBe(false)
    const forged = signEntry({ ...b.entries[0], signer: keyIdOf(mallory.publicKey) }, mallory)
    expect(() => AuthorityChain.fromGenesis(forged)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    expect(() => AuthorityChain.fromEntries(b.entries.slice(1))).toThrow(expect.objectContaining({ code: 'E_BAD_CHAIN' }))
  })

  it('admits peers and agents and answers member queries', () => {
    const b = new ChainBuilder()
    const alice = b.admit(2, 'alice')
    const bob = b.admit(3, 'bob', 'reader')
    const claude = b.agent(4, 'claude')
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(chain.head.seq).toBe(3)
    expect(chain.member(alice)).toMatchObject({ kind: 'peer', name: 'alice', role: 'contributor', since: 1, jti: jtiOf(2) })
    expect(chain.member(claude)).toMatchObject({ kind: 'agent', name: 'claude', role: 'agent', since: 3, owner: 'alice', capabilities: ['read', 'commit'] })
    expect(chain.peers().map((m) => m.key)).toEqual([alice, bob])
    expect(chain.agents().map((m) => m.key)).toEqual([claude])
    expect(chain.members()).toHaveLength(3)
    expect(chain.admissionsByJti(jtiOf(2))).toEqual([alice])
    expect(chain.admissionsByJti(jtiOf(99))).toEqual([])
    expect(chain.entries(2).map((e) => e.seq)).toEqual([2, 3])
    expect(chain.entry(1)?.kind).toBe('admit')
    expect(chain.entryHash(3)).toBe(hashEntry(b.entries[3]))
    expect(chain.entryHash(4)).toBeUndefined()
  })

  it('revokes peers and agents with their cut, and tokens by jti', () => {
    const b = new ChainBuilder()
    const alice = b.admit(2, 'alice')
    const claude = b.agent(4, 'claude')
    const cut = { seq: 7, hash: parseRecordId('ab'.repeat(32)) }
    b.revoke({ type: 'peer', key: alice, cut }, 'laptop theft')
    b.revoke({ type: 'agent', key: claude, cut: NO_CUT }, 'rogue')
    b.revoke({ type: 'token', jti: jtiOf(9) }, 'posted to #general')
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(chain.revocation(alice)).toEqual({ seq: 3, cut, reason: 'laptop theft' })
    expect(chain.revocation(claude)).toEqual({ seq: 4, cut: NO_CUT, reason: 'rogue' })
    expect(chain.isTokenRevoked(jtiOf(9))).toMatchObject({ jti: jtiOf(9), seq: 5, reason: 'posted to #general' })
    expect(chain.isTokenRevoked(jtiOf(2))).toBeUndefined()
    expect(chain.tokenRevocations().map((t) => t.jti)).toEqual([jtiOf(9)])
    expect(chain.revocation(keyIdOf(mallory.publicKey))).toBeUndefined()
  })

  it('revokes a whole role: members admitted before it, each with its own cut or none', () => {
    const b = new ChainBuilder()
    const c1 = b.agent(4, 'claude')
    const c2 = b.agent(5, 'codex')
    const human = b.admit(2, 'alice')
    const early = b.agent(6, 'early')
    b.revoke({ type: 'agent', key: early, cut: NO_CUT }, 'first')
    const cut = { seq: 3, hash: parseRecordId('cd'.repeat(32)) }
    b.revoke({ type: 'role', role: 'agent', cuts: { [c1]: cut } }, 'investigating prompt injection')
    const late = b.agent(7, 'late')
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(chain.revocation(c1)).toEqual({ seq: 6, cut, reason: 'investigating prompt injection' })
    expect(chain.revocation(c2)).toEqual({ seq: 6, cut: NO_CUT, reason: 'investigating prompt injection' })
    expect(chain.revocation(early)).toEqual({ seq: 5, cut: NO_CUT, reason: 'first' })
    expect(chain.revocation(human)).toBeUndefined()
    expect(chain.revocation(late)).toBeUndefined()
    rejects(chain, [revokeEntry(b.key, b.head, { subject: { type: 'agent', key: c2, cut: NO_CUT }, reason: '', ts: T0 })], 'E_BAD_CHAIN', /already revoked/)
  })

  it('lockdown and unlock: the latest wins, and lockedAt answers for any seq', () => {
    const b = new ChainBuilder()
    b.admit(2, 'alice')
    b.lockdown('first incident')
    b.lockdown('still investigating')
    b.admit(3, 'bob')
    b.unlock()
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(chain.locked).toBe(false)
    expect(chain.lockdownReason).toBeUndefined()
    expect([0, 1, 2, 3, 4, 5].map((s) => chain.lockedAt(s))).toEqual([false, false, true, true, true, false])
    chain.applyBatch([lockdownEntry(b.key, chain.head, { reason: 'again', ts: T0 })])
    expect(chain.locked).toBe(true)
    expect(chain.lockdownReason).toBe('again')
    expect(chain.lockedAt(5)).toBe(false)
    expect(chain.lockedAt(6)).toBe(true)
    expect(chain.lockedAt(1000)).toBe(true)
  })

  it('rotate: a replica holding only the old key follows the chain forward', () => {
    const b = new ChainBuilder()
    b.admit(2, 'alice')
    const replica = AuthorityChain.fromEntries(b.entries)
    const next = keyOf(100)
    b.rotate(next)
    const bob = b.admit(3, 'bob')
    b.revoke({ type: 'token', jti: jtiOf(5) })
    expect(replica.applyBatch(b.entries.slice(2).reverse())).toEqual({ applied: 3 })
    expect(replica.mothershipKey).toEqual(next.publicKey)
    expect(replica.member(bob)?.since).toBe(3)
    expect(b.entries[3].signer).toBe(keyIdOf(next.publicKey))
    rejects(replica, [admitEntry(keyOf(1), replica.head, { pub: toB64u(keyOf(8).publicKey), user: 'eve', role: 'contributor', jti: null, ts: T0 })], 'E_BAD_SIGNATURE', /not the current Mothership key/)
  })

  it('sorts out-of-order batches and skips entries it already holds', () => {
    const b = new ChainBuilder()
    for (let i = 2; i < 8; i++) b.admit(i, `user${i}`)
    const chain = AuthorityChain.fromGenesis(b.entries[0])
    expect(chain.applyBatch([b.entries[3], b.entries[1], b.entries[2]])).toEqual({ applied: 3 })
    const before = snapshot(chain)
    expect(chain.applyBatch(b.entries.slice(0, 4))).toEqual({ applied: 0 })
    expect(snapshot(chain)).toEqual(before)
    expect(chain.applyBatch([...b.entries, ...b.entries].reverse())).toEqual({ applied: 3 })
    expect(snapshot(chain)).toEqual(snapshot(AuthorityChain.fromEntries(b.entries)))
  })
})

describe('AuthorityChain.clone', () => {
  it('gives replicas that grow apart without touching each other or the original', () => {
    const b = new ChainBuilder()
    const alice = b.admit(2, 'alice')
    const base = AuthorityChain.fromEntries(b.entries)
    const before = snapshot(base)
    const one = base.clone()
    const two = base.clone()
    expect(snapshot(one)).toEqual(before)
    b.admit(3, 'bob')
    const revoke = b.revoke({ type: 'peer', key: alice, cut: NO_CUT })
    expect(one.applyBatch(b.entries)).toEqual({ applied: 2 })
    expect(one.revocation(alice)?.seq).toBe(revoke.seq)
    expect(snapshot(base)).toEqual(before)
    expect(snapshot(two)).toEqual(before)
    expect(two.revocation(alice)).toBeUndefined()
    two.applyBatch([b.entries[b.entries.length - 2]])
    expect(two.head.seq).toBe(revoke.seq - 1)
    expect(snapshot(one)).toEqual(snapshot(AuthorityChain.fromEntries(b.entries)))
    expect(snapshot(base)).toEqual(before)
  })
})

describe('AuthorityChain: refused batches leave the state unchanged', () => {
  function setup (): { b: ChainBuilder, chain: AuthorityChain, alice: KeyId } {
    const b = new ChainBuilder()
    const alice = b.admit(2, 'alice')
    b.agent(4, 'claude')
    return { b, chain: AuthorityChain.fromEntries(b.entries), alice }
  }
  const pubOf = (n: number): string => toB64u(keyOf(n).publicKey)

  it('bad signature', () => {
    const { b, chain } = setup()
    const e = admitEntry(b.key, chain.head, { pub: pubOf(3), user: 'bob', role: 'contributor', jti: null, ts: T0 })
    rejects(chain, [{ ...e, body: { ...e.body, role: 'admin' } } as ChainEntry], 'E_BAD_SIGNATURE', /bad signature/)
  })

  it('wrong prev, and the valid entries in the same batch are not applied either', () => {
    const { b, chain } = setup()
    const good = admitEntry(b.key, chain.head, { pub: pubOf(3), user: 'bob', role: 'contributor', jti: null, ts: T0 })
    const wrongPrev = admitEntry(b.key, { seq: chain.head.seq + 1, hash: '00'.repeat(32) }, { pub: pubOf(5), user: 'carol', role: 'contributor', jti: null, ts: T0 })
    rejects(chain, [good, wrongPrev], 'E_BAD_CHAIN', /prev/)
  })

  it('wrong signer (mallory signs a well-formed entry)', () => {
    const { chain } = setup()
    rejects(chain, [admitEntry(mallory, chain.head, { pub: pubOf(666), user: 'mallory', role: 'admin', jti: null, ts: T0 })], 'E_BAD_SIGNATURE', /not the current Mothership key/)
  })

  it('gap: reports the first missing seq', () => {
    const { b, chain } = setup()
    const e1 = admitEntry(b.key, chain.head, { pub: pubOf(3), user: 'bob', role: 'contributor', jti: null, ts: T0 })
    const e2 = admitEntry(b.key, { seq: e1.seq, hash: hashEntry(e1) }, { pub: pubOf(5), user: 'carol', role: 'contributor', jti: null, ts: T0 })
    let caught: unknown
    try { chain.applyBatch([e2]) } catch (err) { caught = err }
    expect(caught).toMatchObject({ code: 'E_BAD_CHAIN', context: { missingFrom: 3, seq: 4, reason: 'gap' } })
    expect(chain.applyBatch([e2, e1])).toEqual({ applied: 2 })
  })

  it('forged rotate: signed by the key it names, or by mallory', () => {
    const { chain } = setup()
    const byNew = rotateEntry(mallory, chain.head, { mothership: toB64u(mallory.publicKey), ts: T0 })
    rejects(chain, [byNew], 'E_BAD_SIGNATURE')
    const next = keyOf(100)
    const relabelled = {
      ...rotateEntry(next, chain.head, { mothership: toB64u(next.publicKey), ts: T0 }),
      signer: chain.mothershipKeyId
    }
    rejects(chain, [relabelled], 'E_BAD_SIGNATURE', /bad signature/)
  })

  it('rotate back to a key that was already the Mothership key', () => {
    const b = new ChainBuilder()
    const first = b.key
    b.rotate(keyOf(100))
    const chain = AuthorityChain.fromEntries(b.entries)
    rejects(chain, [rotateEntry(b.key, chain.head, { mothership: toB64u(first.publicKey), ts: T0 })], 'E_BAD_CHAIN', /already used/)
  })

  it('admitting a key twice (as a peer or as an agent)', () => {
    const { b, chain } = setup()
    rejects(chain, [admitEntry(b.key, chain.head, { pub: pubOf(2), user: 'alice', role: 'contributor', jti: null, ts: T0 })], 'E_BAD_CHAIN', /already admitted/)
    rejects(chain, [admitEntry(b.key, chain.head, { pub: pubOf(4), user: 'x', role: 'contributor', jti: null, ts: T0 })], 'E_BAD_CHAIN', /already admitted/)
  })

  it('admitting with a revoked token', () => {
    const { b } = setup()
    b.revoke({ type: 'token', jti: jtiOf(9) })
    const chain = AuthorityChain.fromEntries(b.entries)
    rejects(chain, [admitEntry(b.key, chain.head, { pub: pubOf(3), user: 'bob', role: 'contributor', jti: jtiOf(9), ts: T0 })], 'E_BAD_CHAIN', /revoked/)
    rejects(chain, [revokeEntry(b.key, chain.head, { subject: { type: 'token', jti: jtiOf(9) }, reason: '', ts: T0 })], 'E_BAD_CHAIN', /already revoked/)
  })

  it('revoking an unknown key, the wrong kind, twice, or a role cut for a non-member', () => {
    const { b, chain, alice } = setup()
    const revoke = (subject: Parameters<typeof revokeEntry>[2]['subject']): ChainEntry[] => [revokeEntry(b.key, chain.head, { subject, reason: '', ts: T0 })]
    rejects(chain, revoke({ type: 'peer', key: keyIdOf(mallory.publicKey), cut: NO_CUT }), 'E_BAD_CHAIN', /unknown key/)
    rejects(chain, revoke({ type: 'agent', key: alice, cut: NO_CUT }), 'E_BAD_CHAIN', /is a peer, not a agent/)
    rejects(chain, revoke({ type: 'role', role: 'agent', cuts: { [alice]: NO_CUT } }), 'E_BAD_CHAIN', /not a member with role agent/)
    chain.applyBatch(revoke({ type: 'peer', key: alice, cut: NO_CUT }))
    rejects(chain, revoke({ type: 'peer', key: alice, cut: NO_CUT }), 'E_BAD_CHAIN', /already revoked/)
  })

  it('a malformed object in a batch', () => {
    const { b, chain } = setup()
    const e = admitEntry(b.key, chain.head, { pub: pubOf(3), user: 'bob', role: 'contributor', jti: null, ts: T0 })
    rejects(chain, [{ ...e, v: 2 } as unknown as ChainEntry], 'E_BAD_CHAIN', /malformed/)
    rejects(chain, [null as unknown as ChainEntry], 'E_BAD_CHAIN', /malformed/)
  })
})

describe('AuthorityChain: forks', () => {
  function forked (): { b: ChainBuilder, chain: AuthorityChain, other: ChainEntry } {
    const b = new ChainBuilder()
    b.admit(2, 'alice')
    b.admit(3, 'bob')
    b.admit(5, 'carol')
    const chain = AuthorityChain.fromEntries(b.entries)
    const other = admitEntry(b.key, { seq: 1, hash: hashEntry(b.entries[1]) }, { pub: toB64u(mallory.publicKey), user: 'mallory', role: 'admin', jti: null, ts: T0 })
    return { b, chain, other }
  }

  it('two signed entries with one seq: evidence kept, nothing applied, the node locks', () => {
    const { b, chain, other } = forked()
    const before = snapshot(chain) as Record<string, unknown>
    expect(() => chain.applyBatch([other])).toThrow(expect.objectContaining({ code: 'E_FORK', context: expect.objectContaining({ seq: 2 }) }))
    expect(chain.isForked).toBe(true)
    expect(chain.forks).toEqual([{ seq: 2, held: b.entries[2], other }])
    expect(chain.locked).toBe(true)
    expect(chain.lockdownReason).toBe(FORK_REASON)
    expect(chain.lockedAt(1)).toBe(false)
    expect(chain.lockedAt(2)).toBe(true)
    expect(chain.head).toEqual(before.head)
    expect(chain.member(keyIdOf(mallory.publicKey))).toBeUndefined()
    expect(() => chain.applyBatch([other])).toThrow(expect.objectContaining({ code: 'E_FORK' }))
    expect(chain.forks).toHaveLength(1)
    const alice2 = b.admit(6, 'dave')
    expect(chain.applyBatch(b.entries)).toEqual({ applied: 1 })
    expect(chain.member(alice2)).toBeDefined()
    expect(chain.locked).toBe(true)
  })

  it('the other branch trailing after the fork reports the fork, not a broken link', () => {
    const { b, chain, other } = forked()
    const next = lockdownEntry(b.key, { seq: other.seq, hash: hashEntry(other) }, { reason: 'x', ts: T0 })
    const after = lockdownEntry(b.key, { seq: next.seq, hash: hashEntry(next) }, { reason: 'y', ts: T0 })
    expect(() => chain.applyBatch([other, next, after])).toThrow(expect.objectContaining({ code: 'E_FORK' }))
    expect(chain.forks.map((f) => f.seq)).toEqual([2, 3])
  })

  it('a conflicting entry not signed by the Mothership key is a forgery, not a fork', () => {
    const { chain, other } = forked()
    const byMallory = signEntry({ ...other, signer: keyIdOf(mallory.publicKey) }, mallory)
    const tampered = { ...other, body: { ...other.body, user: 'eve' } } as ChainEntry
    rejects(chain, [byMallory], 'E_BAD_SIGNATURE')
    rejects(chain, [tampered], 'E_BAD_SIGNATURE')
    expect(chain.isForked).toBe(false)
  })

  it('two different new entries for one seq in one batch is a fork too', () => {
    const b = new ChainBuilder()
    const chain = AuthorityChain.fromGenesis(b.entries[0])
    const x = lockdownEntry(b.key, b.head, { reason: 'x', ts: T0 })
    const y = lockdownEntry(b.key, b.head, { reason: 'y', ts: T0 })
    expect(() => chain.applyBatch([x, y])).toThrow(expect.objectContaining({ code: 'E_FORK' }))
    expect(chain.head.seq).toBe(0)
    expect(chain.locked).toBe(true)
  })

  it('fork evidence survives a reload, and evidence that proves nothing is refused', () => {
    const { b, chain, other } = forked()
    expect(() => chain.applyBatch([other])).toThrow()
    const reloaded = AuthorityChain.fromEntries(chain.entries(), chain.forks)
    expect(reloaded.isForked).toBe(true)
    expect(reloaded.lockdownReason).toBe(FORK_REASON)
    const forged = signEntry({ ...other, signer: keyIdOf(mallory.publicKey) }, mallory)
    expect(() => AuthorityChain.fromEntries(b.entries, [{ seq: 2, held: b.entries[2], other: forged }])).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    expect(() => AuthorityChain.fromEntries(b.entries, [{ seq: 2, held: b.entries[2], other: b.entries[2] }])).toThrow(expect.objectContaining({ code: 'E_BAD_CHAIN' }))
  })

  it('a different genesis signed by the same key is a fork at seq 0', () => {
    const b = new ChainBuilder()
    const chain = AuthorityChain.fromGenesis(b.entries[0])
    expect(() => chain.applyBatch([genesisEntry(b.key, { team: 'acme', ts: T0 + 1 })])).toThrow(expect.objectContaining({ code: 'E_FORK' }))
    expect(chain.lockedAt(0)).toBe(true)
    const other = genesisEntry(mallory, { team: 'acme', ts: T0 })
    expect(() => AuthorityChain.fromGenesis(b.entries[0]).applyBatch([other])).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
  })
})
