// The simulator's speedups keep behaviour: what each shortcut stands for gives the same answer
// as the long way (the trace hashes of whole runs are pinned by determinism.test.ts and by
// running the scenarios before and after a change).
import { describe, expect, it } from 'vitest'
import { admitEntry, AuthorityChain, decodeEntryShared, encodeEntry, genesisEntry, headOf, revokeEntry, type ChainEntry } from '../../crdt/authority-chain.js'
import { toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import * as A from '@automerge/automerge'
import { checkChunks } from '../../node/sync/am-integrity.js'
import { decodeMessage, encodeMessage } from '../../node/sync/messages.js'
import { seededBytes } from '../../sim/random.js'
import { buildTeam } from '../../sim/team.js'
import { islandScenario } from './helpers.js'

describe('team keys', () => {
  it('are the key pairs crypto.ts derives from the same seeds', () => {
    const team = buildTeam(islandScenario(), 5)
    for (const n of team.nodes) expect(n.key).toEqual(keyPairFromSeed(seededBytes(5, `key/${n.name}`)))
    expect(team.signing).toEqual(keyPairFromSeed(seededBytes(5, 'key/mothership-signing')))
  })
})

describe('authority chain replicas (copy-on-write state)', () => {
  const m = keyPairFromSeed(seededBytes(1, 'm'))
  const keys = Array.from({ length: 6 }, (_, i) => keyPairFromSeed(seededBytes(1, `k${i}`)))
  const entries: ChainEntry[] = [genesisEntry(m, { team: 't', ts: 1 })]
  for (const [i, k] of keys.entries()) entries.push(admitEntry(m, headOf(entries[entries.length - 1]), { pub: toB64u(k.publicKey), user: `u${i}`, role: 'contributor', jti: null, ts: 2 + i }))
  const id = (i: number): string => AuthorityChain.fromEntries(entries).members()[i + 1]?.key ?? ''

  it('a clone and its source change independently', () => {
    const base = AuthorityChain.fromEntries(entries.slice(0, 4))
    const a = base.clone()
    const b = base.clone()
    a.applyBatch(entries.slice(4, 6))
    const revoke = revokeEntry(m, headOf(entries[3]), { subject: { type: 'peer', key: id(0), cut: { seq: 0, hash: null } }, reason: 'r', ts: 9 })
    b.applyBatch([revoke])
    expect(base.members().length).toBe(3)
    expect(base.revocation(id(0))).toBeUndefined()
    expect(a.members().length).toBe(5)
    expect(a.revocation(id(0))).toBeUndefined()
    expect(b.members().length).toBe(3)
    expect(b.revocation(id(0))?.reason).toBe('r')
    expect(b.revokedMembers()).toEqual([id(0)])
    expect(a.revokedMembers()).toEqual([])
    // The source folds on after its clones did, and they still do not see it.
    base.applyBatch([entries[4]])
    expect(base.members().length).toBe(4)
    expect(b.members().length).toBe(3)
  })

  it('revokedMembers lists exactly the members revocation() finds, in admission order', () => {
    const chain = AuthorityChain.fromEntries(entries)
    let head = headOf(entries[entries.length - 1])
    for (const i of [3, 1]) {
      const e = revokeEntry(m, head, { subject: { type: 'peer', key: id(i), cut: { seq: 0, hash: null } }, reason: `r${i}`, ts: 20 + i })
      chain.applyBatch([e])
      head = headOf(e)
    }
    const e = revokeEntry(m, head, { subject: { type: 'role', role: 'contributor', cuts: {} }, reason: 'all', ts: 30 })
    const before = chain.revokedMembers()
    expect(before).toEqual(chain.members().filter((x) => chain.revocation(x.key) !== undefined).map((x) => x.key))
    expect(before).toEqual([id(1), id(3)])
    chain.applyBatch([e])
    expect(chain.revokedMembers()).toEqual(
      chain.members().filter((x) => chain.revocation(x.key) !== undefined).map((x) => x.key)
    )
    expect(chain.revokedMembers().length).toBe(6)
  })
})

describe('shared decoded chain entries', () => {
  const m = keyPairFromSeed(seededBytes(2, 'm'))
  const k = keyPairFromSeed(seededBytes(2, 'k'))
  const g = genesisEntry(m, { team: 't', ts: 1 })
  const admit = admitEntry(m, headOf(g), { pub: toB64u(k.publicKey), user: 'u', role: 'contributor', jti: null, ts: 2 })

  it('one frozen decoded entry applies to many replicas, and a forged one to none', () => {
    const b64 = toB64u(encodeEntry(admit))
    const shared = decodeEntryShared(b64)
    expect(decodeEntryShared(b64)).toBe(shared)
    expect(Object.isFrozen(shared) && Object.isFrozen(shared.body)).toBe(true)
    const base = AuthorityChain.fromEntries([g])
    for (let i = 0; i < 3; i++) {
      const c = base.clone()
      expect(c.applyBatch([shared]).applied).toBe(1)
      expect(c.head).toEqual(headOf(admit))
    }
    const forged = { ...admit, body: { ...admit.body, user: 'v' } } as ChainEntry
    const forgedShared = decodeEntryShared(toB64u(encodeEntry(forged)))
    for (let i = 0; i < 2; i++) expect(() => base.clone().applyBatch([forgedShared])).toThrow(/bad signature/)
  })
})

describe('decoded control frames', () => {
  it('a frame seen before decodes to an equal, frozen message', () => {
    const frame = encodeMessage({ t: 'heads', head: { seq: 3, hash: 'ab'.repeat(32) }, beacon: null })
    const a = decodeMessage(frame)
    const b = decodeMessage(new Uint8Array(frame))
    expect(b).toEqual({ t: 'heads', head: { seq: 3, hash: 'ab'.repeat(32) }, beacon: null })
    expect(b).toBe(a)
    expect(Object.isFrozen(a)).toBe(true)
    expect(Object.isFrozen((a as { head: object }).head)).toBe(true)
    // A damaged copy is not a hit.
    const bad = new Uint8Array(frame)
    bad[bad.length - 2] ^= 1
    expect(() => decodeMessage(bad)).toThrow()
  })
})

describe('checked Automerge chunks', () => {
  it('a chunk that passed passes again, and a damaged copy of it still fails', () => {
    const d = A.change(A.from<{ r: Record<string, number> }>({ r: {} }, { actor: 'ab'.repeat(16) }), { time: 1 }, (x) => { x.r.a = 1 })
    const chunk = A.getAllChanges(d)[1]
    expect(() => { checkChunks(chunk); checkChunks(chunk.slice()) }).not.toThrow()
    for (let at = 4; at < chunk.length; at += 3) {
      const bad = chunk.slice()
      bad[at] ^= 1
      expect(() => checkChunks(bad)).toThrow()
    }
  })
})
