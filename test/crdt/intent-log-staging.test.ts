import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { canonicalBytes, utf8 } from '../../crdt/canonical.js'
import { AuraError, LockdownError } from '../../crdt/errors.js'
import type { RecordId } from '../../crdt/ids.js'
import { documentPuts, GENESIS_ACTOR, genesisDoc, type IntentDoc } from '../../crdt/intent-doc.js'
import { IntentLog, type IncomingCheck, type IncomingRecord } from '../../crdt/intent-log.js'
import { changeHashOf, stageSyncMessage } from '../../crdt/intent-staging.js'
import { recordIdOf } from '../../crdt/record.js'
import { acceptAll, actorOf, syncPair, Writer } from './record-fixtures.js'

type Doc = A.Doc<IntentDoc>

/** Pushes a raw (possibly hostile) Automerge document into a log over the sync protocol. */
function pushRaw (source: Doc, log: IntentLog, check: IncomingCheck = acceptAll): { docChunks: number, changeChunks: number } {
  let doc = A.clone(source, { actor: 'ee'.repeat(16) })
  // Read-only: the hostile side never takes the victim's changes (they could collide with its own).
  let sd = A.initSyncState({ readOnly: true })
  let sl = log.initSyncState()
  const seen = { docChunks: 0, changeChunks: 0 }
  for (let round = 0; round < 10; round++) {
    let m1: Uint8Array | null
    let m2: Uint8Array | null
    ;[sd, m1] = A.generateSyncMessage(doc, sd)
    if (m1 !== null) {
      for (const c of A.decodeSyncMessage(m1).changes) {
        try { A.decodeChange(c); seen.changeChunks++ } catch { seen.docChunks++ }
      }
      sl = log.receiveSyncMessage(sl, m1, check, 0).state
    }
    ;[sl, m2] = log.generateSyncMessage(sl)
    if (m2 !== null) [doc, sd] = A.receiveSyncMessage(doc, sd, m2)
    if (m1 === null && m2 === null) return seen
  }
  throw new AuraError('E_TIMEOUT', 'pushRaw did not settle')
}

function caught (fn: () => unknown): AuraError {
  try { fn() } catch (err) { if (err instanceof AuraError) return err; throw err }
  throw new AuraError('E_INTERNAL', 'expected an error')
}

function snapshot (log: IntentLog): { ids: RecordId[], saved: Uint8Array } {
  return { ids: log.ids().sort(), saved: log.save() }
}

const alice = new Writer('alice')
const mallory = new Writer('mallory')
const a1 = alice.write('a1')
const a2 = alice.write('a2')
const m1 = mallory.write('m1')

/** Mallory's base document: genesis plus alice's first record, as an honest peer would hold it. */
function base (): Doc {
  return A.change(genesisDoc(actorOf('mallory')), { time: 0 }, (d) => { d.records[a1.id] = a1.bytes })
}

function badSignatureBytes (): Uint8Array {
  return canonicalBytes({ ...m1.record, text: 'm1, edited after signing' })
}

const attacks: Array<[string, string, RegExp, (d: Doc) => Doc]> = [
  ['a record with a bad signature next to a good one', 'E_BAD_SIGNATURE', /bad signature/, (d) => A.change(d, (x) => {
    x.records[a2.id] = a2.bytes
    const bad = badSignatureBytes()
    x.records[recordIdOf(bad)] = bad
  })],
  ['a malformed record', 'E_MALFORMED', /malformed/, (d) => A.change(d, (x) => { const junk = utf8('{"v":1}'); x.records[recordIdOf(junk)] = junk })],
  ['a delete of a held record', 'E_MALFORMED', /deletes a key/, (d) => A.change(d, (x) => { delete x.records[a1.id] })],
  // The proxy drops a write of equal bytes, so write something else first, then the original.
  ['an overwrite of a held record, ending on the same bytes', 'E_MALFORMED', /overwrites record/, (d) => A.change(d, (x) => { x.records[a1.id] = a2.bytes; x.records[a1.id] = new Uint8Array(a1.bytes) })],
  ['a record under a key that is not its hash', 'E_MALFORMED', /is not the hash of its value/, (d) => A.change(d, (x) => { x.records['ab'.repeat(32)] = a2.bytes })],
  ['a string value', 'E_MALFORMED', /value is not bytes/, (d) => A.change(d, (x) => { (x.records as Record<string, unknown>)[recordIdOf(a2.bytes)] = new A.ImmutableString('x') })],
  ['a nested object under records', 'E_MALFORMED', /makeMap is not allowed/, (d) => A.change(d, (x) => { (x.records as Record<string, unknown>).nested = { a: 1 } })],
  ['a write at the root', 'E_MALFORMED', /writes outside the records map/, (d) => A.change(d, (x) => { (x as unknown as Record<string, unknown>).evil = 1 })]
]

describe('staged merge refuses hostile sync messages whole', () => {
  for (const [name, code, reason, attack] of attacks) {
    it(`${name}: ${code} (peer already holding the base: change chunks)`, () => {
      const bob = IntentLog.create(actorOf('bob'))
      pushRaw(base(), bob)
      expect(bob.has(a1.id)).toBe(true)
      const before = snapshot(bob)
      const err = caught(() => pushRaw(attack(base()), bob))
      expect(err.code).toBe(code)
      expect(err.message).toMatch(reason)
      expect(snapshot(bob)).toEqual(before)
      expect(bob.has(a2.id)).toBe(false)
    })

    it(`${name}: ${code} (fresh peer: whole-document chunk)`, () => {
      const carol = IntentLog.create(actorOf('carol'))
      const before = snapshot(carol)
      const err = caught(() => pushRaw(attack(base()), carol))
      expect(err.code).toBe(code)
      expect(err.message).toMatch(reason)
      expect(snapshot(carol)).toEqual(before)
      expect(carol.size).toBe(0)
    })
  }

  it('names the record with the bad signature', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const bad = badSignatureBytes()
    const err = caught(() => pushRaw(attacks[0][3](base()), bob))
    expect(err.name).toBe('BadSignatureError')
    expect(err.context.record).toBe(recordIdOf(bad))
    expect(err.message).toContain(recordIdOf(bad))
  })

  it('exercises both chunk kinds', () => {
    const bob = IntentLog.create(actorOf('bob'))
    expect(pushRaw(base(), bob).docChunks).toBeGreaterThan(0)
    const next = A.change(base(), (x) => { x.records[a2.id] = a2.bytes })
    expect(pushRaw(next, bob).changeChunks).toBeGreaterThan(0)
    expect(bob.has(a2.id)).toBe(true)
  })

  it('keeps working with honest peers after a refusal', () => {
    const bob = IntentLog.create(actorOf('bob'))
    expect(() => pushRaw(attacks[0][3](base()), bob)).toThrow(AuraError)
    const honest = IntentLog.create(actorOf('alice'))
    honest.append([a1, a2], 0)
    syncPair(honest, bob)
    expect(bob.ids().sort()).toEqual([a1.id, a2.id].sort())
  })

  it('refuses a batch the caller check throws on, unchanged, after showing it the decoded records', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const shown: IncomingRecord[] = []
    const before = snapshot(bob)
    const err = caught(() => pushRaw(base(), bob, (inc) => { shown.push(...inc); throw new LockdownError('team is in lockdown') }))
    expect(err.code).toBe('E_LOCKDOWN')
    expect(shown.map((r) => [r.id, r.record.text])).toEqual([[a1.id, 'a1']])
    expect(snapshot(bob)).toEqual(before)
    pushRaw(base(), bob)
    expect(bob.has(a1.id)).toBe(true)
  })

  it('refuses changes under the genesis actor', () => {
    const [g] = A.applyChanges(A.init<IntentDoc>({ actor: GENESIS_ACTOR }), A.getAllChanges(genesisDoc(actorOf('x'))))
    const forged = A.change(g, (x) => { x.records[m1.id] = m1.bytes })
    expect(caught(() => pushRaw(forged, IntentLog.create(actorOf('bob')))).code).toBe('E_MALFORMED')
  })

  it('refuses a document that made its own records map', () => {
    const own = A.from<IntentDoc>({ records: {} }, { actor: actorOf('mallory') })
    const withRecord = A.change(own, (x) => { x.records[m1.id] = m1.bytes })
    expect(caught(() => pushRaw(withRecord, IntentLog.create(actorOf('bob')))).code).toBe('E_MALFORMED')
  })

  it('finds a hostile change hidden behind a good one in one concatenated entry', () => {
    const bob = IntentLog.create(actorOf('bob'))
    pushRaw(base(), bob)
    const good = A.change(base(), (x) => { x.records[a2.id] = a2.bytes })
    const bad = A.change(good, (x) => { delete x.records[a1.id] })
    const [goodChange, badChange] = A.getChanges(base(), bad)
    const entry = new Uint8Array([...goodChange, ...badChange])
    const message = A.encodeSyncMessage({ heads: A.getHeads(bad), need: [], have: [], changes: [entry] })
    const before = snapshot(bob)
    const err = caught(() => bob.receiveSyncMessage(bob.initSyncState(), message, acceptAll, 0))
    expect(err.message).toMatch(/deletes a key/)
    expect(snapshot(bob)).toEqual(before)
    const honest = A.encodeSyncMessage({ heads: A.getHeads(good), need: [], have: [], changes: [new Uint8Array([...goodChange])] })
    expect(bob.receiveSyncMessage(bob.initSyncState(), honest, acceptAll, 0).added).toEqual([a2.id])
  })

  it('a change that arrives before its deps is checked on arrival and reported as added when it applies', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const d1 = base()
    const d2 = A.change(d1, (x) => { x.records[a2.id] = a2.bytes })
    const [c1] = A.getChanges(genesisDoc(actorOf('z')), d1)
    const [c2] = A.getChanges(d1, d2)
    const shown: RecordId[] = []
    const check: IncomingCheck = (inc) => { shown.push(...inc.map((r) => r.id)) }
    const msg = (c: Uint8Array) => A.encodeSyncMessage({ heads: A.getHeads(d2), need: [], have: [], changes: [c] })
    let state = bob.initSyncState()
    let res = bob.receiveSyncMessage(state, msg(c2), check, 0)
    state = res.state
    expect(res.added).toEqual([])
    expect(shown).toEqual([a2.id])
    expect(bob.has(a2.id)).toBe(false)
    res = bob.receiveSyncMessage(state, msg(c1), check, 0)
    expect(res.added.sort()).toEqual([a1.id, a2.id].sort())
    expect(shown).toEqual([a2.id, a1.id])
    expect(bob.record(a2.id)?.text).toBe('a2')
  })

  it('refuses sync entries that are not Automerge chunks, or are truncated', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const change = A.getChanges(genesisDoc(actorOf('x')), A.change(genesisDoc(actorOf('x')), (x) => { x.records[a1.id] = a1.bytes }))[0]
    for (const entry of [utf8('not a chunk at all'), change.subarray(0, change.length - 3), new Uint8Array([...change, 1, 2, 3])]) {
      const message = A.encodeSyncMessage({ heads: [], need: [], have: [], changes: [entry] })
      expect(caught(() => bob.receiveSyncMessage(bob.initSyncState(), message, acceptAll, 0)).code).toBe('E_MALFORMED')
    }
    expect(bob.size).toBe(0)
  })

  it('refuses bytes that are not a sync message', () => {
    const bob = IntentLog.create(actorOf('bob'))
    expect(caught(() => bob.receiveSyncMessage(bob.initSyncState(), utf8('hello'), acceptAll, 0)).code).toBe('E_MALFORMED')
  })
})

describe('forged Automerge actors', () => {
  /** A change that claims `actor`'s next seq but carries mallory's record. */
  function forgedUnder (actor: string): Doc {
    return A.change(genesisDoc(actor), { time: 0 }, (d) => { d.records[m1.id] = m1.bytes })
  }

  it('a change reusing a held (actor, seq) is refused with E_FORK and the log is untouched', () => {
    const la = IntentLog.create(actorOf('alice'))
    la.append([a1], 0)
    const bob = IntentLog.create(actorOf('bob'))
    syncPair(la, bob)
    const before = snapshot(bob)
    const err = caught(() => pushRaw(forgedUnder(actorOf('alice')), bob))
    expect(err.code).toBe('E_FORK')
    expect(err.context.actor).toBe(actorOf('alice'))
    expect(err.context.seq).toBe(1)
    expect(snapshot(bob)).toEqual(before)
  })

  it('whoever arrives first wins: the honest change is then refused as a fork (known limit)', () => {
    const la = IntentLog.create(actorOf('alice'))
    la.append([a1], 0)
    const carol = IntentLog.create(actorOf('carol'))
    pushRaw(forgedUnder(actorOf('alice')), carol)
    expect(carol.has(m1.id)).toBe(true)
    const before = snapshot(carol)
    expect(caught(() => syncPair(la, carol)).code).toBe('E_FORK')
    expect(snapshot(carol)).toEqual(before)
  })

  it('a forged change that can never apply (an invented dependency) does not block the genuine one', () => {
    const la = IntentLog.create(actorOf('alice'))
    la.append([a1], 0)
    const bob = IntentLog.create(actorOf('bob'))
    // Alice's seq 2 as mallory fakes it: under alice's actor, carrying mallory's record, and
    // depending on a seq 1 that only mallory has (bob can never get it), so Automerge can only
    // queue it.
    const m0 = mallory.write('m0')
    const fake1 = A.change(genesisDoc(actorOf('alice')), { time: 0 }, (d) => { d.records[m0.id] = m0.bytes })
    const fake2 = A.change(fake1, { time: 0 }, (d) => { d.records[m1.id] = m1.bytes })
    const [forged] = A.getChanges(fake1, fake2)
    expect(A.decodeChange(forged)).toMatchObject({ actor: actorOf('alice'), seq: 2 })
    const message = A.encodeSyncMessage({ heads: A.getHeads(fake2), need: [], have: [], changes: [forged] })
    expect(bob.receiveSyncMessage(bob.initSyncState(), message, acceptAll, 0).added).toEqual([])
    expect(bob.has(m1.id)).toBe(false)
    // Alice's genuine changes (seq 1 and 2) still arrive and apply.
    la.append([a2], 1000)
    syncPair(la, bob)
    expect(bob.has(a1.id) && bob.has(a2.id)).toBe(true)
  })

  it('changes held back for deps that never come are dropped past a bound, and sync goes on', () => {
    const la = IntentLog.create(actorOf('alice'))
    la.append([a1], 0)
    const bob = IntentLog.create(actorOf('bob'))
    bob.limitQueuedChanges(3)
    // Each depends on a change only mallory has: Automerge can only queue it.
    const forge = (n: number): Uint8Array => {
      const r = mallory.write(`queued ${n}`)
      const first = A.change(genesisDoc(actorOf(`q${n}`)), { time: 0 }, (d) => { d.records[m1.id] = m1.bytes })
      const second = A.change(first, { time: 0 }, (d) => { d.records[r.id] = r.bytes })
      const [change] = A.getChanges(first, second)
      return A.encodeSyncMessage({ heads: A.getHeads(second), need: [], have: [], changes: [change] })
    }
    for (let n = 0; n < 3; n++) bob.receiveSyncMessage(bob.initSyncState(), forge(n), acceptAll, 0)
    expect(bob.queuedChanges).toBe(3)
    bob.receiveSyncMessage(bob.initSyncState(), forge(3), acceptAll, 0)
    expect(bob.queuedChanges).toBe(0)
    expect(bob.size).toBe(0)
    la.append([a2], 1000)
    syncPair(la, bob)
    expect(bob.has(a1.id) && bob.has(a2.id)).toBe(true)
  })

  it("a change under the log's own actor that it never made is refused", () => {
    const bob = IntentLog.create(actorOf('bob'))
    const err = caught(() => pushRaw(forgedUnder(actorOf('bob')), bob))
    expect(err.code).toBe('E_FORK')
    expect(bob.size).toBe(0)
    bob.append([a1], 0)
    expect(bob.size).toBe(1)
  })
})

describe('documentPuts (the counting proof for whole documents)', () => {
  const proof = (d: Doc) => documentPuts(A.getBackend(d), A.getChangesMetaSince(d, []))

  it('proves an honest document and lists its records', () => {
    expect(proof(base())?.map((p) => p.id)).toEqual([a1.id])
    expect(proof(genesisDoc(actorOf('x')))).toEqual([])
  })

  it('declines anything it cannot prove, including honest concurrent duplicate puts', () => {
    for (const [, , , attack] of attacks.slice(2)) expect(proof(attack(base()))).toBeUndefined()
    const other = A.change(genesisDoc(actorOf('olga')), { time: 0 }, (d) => { d.records[a1.id] = a1.bytes })
    expect(proof(A.merge(base(), other))).toBeUndefined()
  })

  it('a fresh peer still takes a document with honest duplicate puts (read change by change)', () => {
    const other = A.change(genesisDoc(actorOf('olga')), { time: 0 }, (d) => { d.records[a1.id] = a1.bytes; d.records[a2.id] = a2.bytes })
    const carol = IntentLog.create(actorOf('carol'))
    expect(pushRaw(A.merge(base(), other), carol).docChunks).toBeGreaterThan(0)
    expect(carol.ids().sort()).toEqual([a1.id, a2.id].sort())
  })
})

describe('staging copies of held changes', () => {
  it('names a change chunk by the hash Automerge gives it', () => {
    for (const c of A.getAllChanges(base())) expect(changeHashOf(c)).toBe(A.decodeChange(c).hash)
  })

  it('leaves out, unread, the change chunks the log says it holds', () => {
    const doc = A.change(base(), { time: 0 }, (d) => { d.records[a2.id] = a2.bytes })
    const changes = A.getAllChanges(doc).slice(1)
    const message = A.encodeSyncMessage({ heads: A.getHeads(doc), need: [], have: [], changes })
    const all = stageSyncMessage(message, actorOf('bob'))
    expect(all.puts.map((p) => p.id).sort()).toEqual([a1.id, a2.id].sort())
    const held = new Set([A.decodeChange(changes[0]).hash])
    const rest = stageSyncMessage(message, actorOf('bob'), (h) => held.has(h))
    expect(rest.changes.map((c) => c.hash)).toEqual([A.decodeChange(changes[1]).hash])
    expect(rest.puts.map((p) => p.id)).toEqual([a2.id])
  })

  it('takes a change it holds again, pushed by a second neighbour, without error or new records', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const carol = IntentLog.create(actorOf('carol'))
    const dave = IntentLog.create(actorOf('dave'))
    bob.append([a1], 0)
    syncPair(bob, carol)
    syncPair(bob, dave)
    // Dave and carol in sync, with states kept, before bob writes again.
    let sd = dave.initSyncState()
    let sc = carol.initSyncState()
    const exchange = (): Uint8Array[] => {
      const pushed: Uint8Array[] = []
      for (let round = 0; round < 5; round++) {
        let m1: Uint8Array | null
        let m2: Uint8Array | null
        ;[sd, m1] = dave.generateSyncMessage(sd)
        if (m1 !== null) {
          pushed.push(...A.decodeSyncMessage(m1).changes)
          const r = carol.receiveSyncMessage(sc, m1, acceptAll, 0)
          sc = r.state
          expect(r.added).toEqual([])
        }
        ;[sc, m2] = carol.generateSyncMessage(sc)
        if (m2 !== null) sd = dave.receiveSyncMessage(sd, m2, acceptAll, 0).state
        if (m1 === null && m2 === null) break
      }
      return pushed
    }
    expect(exchange()).toEqual([])
    bob.append([a2], 1)
    syncPair(bob, carol)
    syncPair(bob, dave)
    const before = snapshot(carol)
    // Dave pushes a2's change, which carol already has from bob.
    expect(exchange().length).toBeGreaterThan(0)
    expect(snapshot(carol).ids).toEqual(before.ids)
    expect(carol.has(a2.id)).toBe(true)
  })
})
