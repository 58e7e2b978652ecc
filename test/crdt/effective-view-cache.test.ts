/**
 * The cached effective view (crdt/effective-view-cache.ts) against `effectiveView` of everything
 * held, recomputed from scratch after every step: records arriving one at a time in any order
 * (including a twin that makes an old record equivocal, an ancestor that brings a cut's records
 * back, a record over quota) and chain entries arriving between them (an admission after the
 * admitted key's records, a revocation with a cut, a lockdown), on a real IntentLog.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { genesisEntry, type ChainEntry } from '../../crdt/chain-entry.js'
import { EffectiveViewCache, type EffectiveViewLike } from '../../crdt/effective-view-cache.js'
import { effectiveView } from '../../crdt/effective-view.js'
import { IntentLog } from '../../crdt/intent-log.js'
import type { EncodedRecord } from '../../crdt/record.js'
import { ChainBuilder, keyOf as chainKey, T0 } from './authority-chain-fixture.js'
import { actorOf, appendAs, Writer } from './record-fixtures.js'

const LATER = T0 + 3_600_000

function summary (view: EffectiveViewLike): string[] {
  return [...[...view.effective.keys()].map((id) => `${id} effective`), ...[...view.quarantined].map(([id, q]) => `${id} ${q.reason}`)].sort()
}

/** A history of one team: chain entries and records, each record after the entry it names. */
function history (): { genesis: ChainEntry, steps: Array<{ entry: ChainEntry } | { record: EncodedRecord }> } {
  const b = new ChainBuilder()
  // Four records an hour: alice's fifth and sixth are over quota.
  b.entries[0] = genesisEntry(b.key, { team: 'acme', ts: b.ts, quotas: { records_per_hour: 4, bytes_per_hour: 1_000_000, max_record_bytes: 65_536 } })
  const steps: Array<{ entry: ChainEntry } | { record: EncodedRecord }> = []
  const entry = (e: ChainEntry): void => { steps.push({ entry: e }) }
  const rec = (r: EncodedRecord): EncodedRecord => { steps.push({ record: r }); return r }
  const alice = new Writer('alice', chainKey(2), LATER)
  const bob = new Writer('bob', chainKey(3), LATER)
  const mallory = new Writer('mallory', chainKey(4), LATER)
  b.admit(2, 'alice'); entry(b.entries[1])
  b.admit(3, 'bob'); entry(b.entries[2])
  const h = { auth: { seq: 2, hash: b.head.hash } }
  rec(alice.write('a1', h)); rec(alice.write('a2', h)); rec(alice.write('a3', h)); rec(alice.write('a4', h))
  rec(alice.write('a5, over quota', h)); rec(alice.write('a6, over quota', h))
  const b1 = rec(bob.write('b1', h)); rec(bob.write('b2', h))
  const twin = new Writer('bob', chainKey(3), LATER); twin.head = b1
  rec(twin.write('b2 again', h))
  rec(bob.write('b3, backdated', { ...h, ts: LATER - 60_000 }))
  // Mallory writes before her admission arrives anywhere: not admitted until it does.
  b.admit(4, 'mallory')
  const hm = { auth: { seq: 3, hash: b.head.hash } }
  rec(mallory.write('m1', hm))
  const m2 = rec(mallory.write('m2', hm))
  rec(mallory.write('m3', hm)); rec(mallory.write('m4', hm))
  entry(b.entries[3])
  b.revoke({ type: 'peer', key: mallory.signer, cut: { seq: 2, hash: m2.id } }); entry(b.entries[4])
  rec(mallory.write('m5', hm))
  b.lockdown(); entry(b.entries[5])
  rec(alice.write('a7 during lockdown', { auth: { seq: 5, hash: b.head.hash } }))
  b.unlock(); entry(b.entries[6])
  // A seq skipped (an honest node's crash, docs/storage.md): a path of its own for the quotas.
  const after = { auth: { seq: 6, hash: b.head.hash } }
  alice.head = rec(alice.write('a9, seq 9', { ...after, seq: 9 }))
  rec(alice.write('a10', after))
  return { genesis: b.entries[0], steps }
}

const world = history()

/** A chain admitting one member (key seed `n`), that member's writer, and the head to cite. */
function oneMember (n: number, name: string): {
  b: ChainBuilder
  chain: AuthorityChain
  writer: Writer
  h: { auth: { seq: number, hash: string } }
} {
  const b = new ChainBuilder()
  b.admit(n, name)
  const h = { auth: { seq: b.head.seq, hash: b.head.hash } }
  return { b, chain: AuthorityChain.fromEntries(b.entries), writer: new Writer(name, chainKey(n), LATER), h }
}

describe('EffectiveViewCache', () => {
  it('equals the view of everything held after every arrival, in any order', () => {
    fc.assert(fc.property(
      fc.array(fc.nat(1_000_000), { minLength: world.steps.length, maxLength: world.steps.length }),
      (keys) => {
        const order = world.steps.map((s, i) => ({ s, k: keys[i] })).sort((a, b) => a.k - b.k).map(({ s }) => s)
        const log = IntentLog.create(actorOf('cache'))
        const chain = AuthorityChain.fromGenesis(world.genesis)
        const pending: ChainEntry[] = []
        const cache = new EffectiveViewCache()
        for (const step of order) {
          if ('record' in step) appendAs(log, [step.record], 0)
          else {
            // Entries apply in chain order: one that arrives early waits for its parent.
            pending.push(step.entry)
            pending.sort((a, b) => a.seq - b.seq)
            while (pending.length > 0 && pending[0].seq === chain.head.seq + 1) chain.applyBatch([pending.shift()!])
          }
          expect(summary(cache.view(log, chain))).toEqual(summary(effectiveView(log.records(), chain)))
        }
      }
    ), { numRuns: 60 })
  })

  it('equals it when everything arrives as it was written (every record at its signer\'s tip)', () => {
    const log = IntentLog.create(actorOf('cache'))
    const chain = AuthorityChain.fromGenesis(world.genesis)
    const cache = new EffectiveViewCache()
    for (const step of world.steps) {
      if ('record' in step) appendAs(log, [step.record], 0)
      else chain.applyBatch([step.entry])
      expect(summary(cache.view(log, chain))).toEqual(summary(effectiveView(log.records(), chain)))
    }
  })

  it('recomputes an old record when its signer\'s new record changes it (a twin: equivocation)', () => {
    const { chain, writer: bob, h } = oneMember(3, 'bob')
    const b1 = bob.write('b1', h)
    const b2 = bob.write('b2', h)
    const twin = new Writer('bob', chainKey(3), LATER); twin.head = b1
    const log = IntentLog.create(actorOf('cache'))
    const cache = new EffectiveViewCache()
    appendAs(log, [b1, b2], 0)
    expect(cache.view(log, chain).effective.has(b2.id)).toBe(true)
    appendAs(log, [twin.write('b2 again', h)], 0)
    expect(cache.view(log, chain).quarantined.get(b2.id)?.reason).toBe('equivocation')
  })

  it('recomputes every signer when the chain moves (a revocation arrives after the records)', () => {
    const { b, chain, writer: mallory, h } = oneMember(4, 'mallory')
    const m1 = mallory.write('m1', h)
    const m2 = mallory.write('m2', h)
    const log = IntentLog.create(actorOf('cache'))
    appendAs(log, [m1, m2], 0)
    const cache = new EffectiveViewCache()
    const before = cache.view(log, chain)
    expect(before.effective.size).toBe(2)
    expect(cache.view(log, chain)).toBe(before)
    chain.applyBatch([b.revoke({ type: 'peer', key: mallory.signer, cut: { seq: 1, hash: m1.id } })])
    const after = cache.view(log, chain)
    expect([after.effective.has(m1.id), after.quarantined.get(m2.id)?.reason]).toEqual([true, 'beyond_cut'])
    expect([after.effective.size, after.quarantined.size, [...after.effective.keys()]]).toEqual([1, 1, [m1.id]])
  })

  it('starts over for another log', () => {
    const { chain, writer: alice, h } = oneMember(2, 'alice')
    const one = IntentLog.create(actorOf('one'))
    const two = IntentLog.create(actorOf('two'))
    const a1 = alice.write('a1', h)
    appendAs(one, [a1], 0)
    appendAs(two, [a1, alice.write('a2', h)], 0)
    const cache = new EffectiveViewCache()
    expect(cache.view(one, chain).effective.size).toBe(1)
    expect(cache.view(two, chain).effective.size).toBe(2)
  })
})

describe('the history above', () => {
  it('has every outcome the kept view must reproduce', () => {
    const chain = AuthorityChain.fromGenesis(world.genesis)
    const log = IntentLog.create(actorOf('all'))
    for (const step of world.steps) {
      if ('entry' in step) chain.applyBatch([step.entry])
      else appendAs(log, [step.record], 0)
    }
    const reasons = new Set(summary(effectiveView(log.records(), chain)).map((line) => line.split(' ')[1]))
    expect([...reasons].sort()).toEqual(['backdated', 'beyond_cut', 'effective', 'equivocation', 'over_quota', 'written_during_lockdown'])
  })
})
