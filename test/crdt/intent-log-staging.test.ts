import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { canonicalBytes, canonicalString, utf8 } from '../../crdt/canonical.js'
import { writerActor } from '../../crdt/change-auth.js'
import { AuraError, LockdownError } from '../../crdt/errors.js'
import type { RecordId } from '../../crdt/ids.js'
import { documentPuts, GENESIS_ACTOR, genesisDoc, type IntentDoc } from '../../crdt/intent-doc.js'
import { IntentLog, type IncomingCheck, type IncomingRecord } from '../../crdt/intent-log.js'
import { changeHashOf, documentInflatedBytes, stageSyncMessage } from '../../crdt/intent-staging.js'
import { recordIdOf } from '../../crdt/record.js'
import { appendAs, acceptAll, actorOf, commitSigned, forgedMessage, INVENTED, inventedDependency, syncPair, Writer } from './record-fixtures.js'

type Doc = A.Doc<IntentDoc>

/** Pushes a raw (possibly hostile) Automerge document into a log over the sync protocol. */
function pushRaw (
  source: Doc,
  log: IntentLog,
  check: IncomingCheck = acceptAll
): { docChunks: number, changeChunks: number } {
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

/**
 * Mallory's base document: genesis plus alice's first record in a change of alice's, as an honest peer would hold it.
 */
function base (): Doc {
  return commitSigned(genesisDoc(actorOf('mallory')), alice.key, [a1])
}

function badSignatureBytes (): Uint8Array {
  return canonicalBytes({ ...m1.record, text: 'm1, edited after signing' })
}

const attacks: Array<[string, string, RegExp, (d: Doc) => Doc]> = [
  // In changes mallory signs as writers sign theirs, so what is refused is the record itself.
  ['a record with a bad signature next to a good one', 'E_BAD_SIGNATURE', /bad signature/, (d) => {
    const bad = badSignatureBytes()
    return commitSigned(d, mallory.key, [m1, { id: recordIdOf(bad), bytes: bad }])
  }],
  ['a malformed record', 'E_MALFORMED', /malformed/, (d) => { const junk = utf8('{"v":1}'); return commitSigned(d, mallory.key, [{ id: recordIdOf(junk), bytes: junk }]) }],
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
    const next = commitSigned(base(), alice.key, [a2])
    expect(pushRaw(next, bob).changeChunks).toBeGreaterThan(0)
    expect(bob.has(a2.id)).toBe(true)
  })

  it('keeps working with honest peers after a refusal', () => {
    const bob = IntentLog.create(actorOf('bob'))
    expect(() => pushRaw(attacks[0][3](base()), bob)).toThrow(AuraError)
    const honest = IntentLog.create(actorOf('alice'))
    appendAs(honest, [a1, a2], 0)
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
    const good = commitSigned(base(), alice.key, [a2])
    const bad = A.change(good, (x) => { delete x.records[a1.id] })
    const [goodChange, badChange] = A.getChanges(base(), bad)
    const entry = new Uint8Array([...goodChange, ...badChange])
    const message = A.encodeSyncMessage({ heads: A.getHeads(bad), need: [], have: [], changes: [entry] })
    const before = snapshot(bob)
    const err = caught(() => bob.receiveSyncMessage(bob.initSyncState(), message, acceptAll, 0))
    expect(err.message).toMatch(/deletes a key/)
    expect(snapshot(bob)).toEqual(before)
    const honest = A.encodeSyncMessage(
      { heads: A.getHeads(good), need: [], have: [], changes: [new Uint8Array([...goodChange])] }
    )
    expect(bob.receiveSyncMessage(bob.initSyncState(), honest, acceptAll, 0).added).toEqual([a2.id])
  })

  it('a change that arrives before its deps is refused (E_MISSING_DEPS), never queued; with its deps it applies', () => {
    const bob = IntentLog.create(actorOf('bob'))
    const d1 = base()
    const d2 = commitSigned(d1, alice.key, [a2])
    const [c1] = A.getChanges(genesisDoc(actorOf('z')), d1)
    const [c2] = A.getChanges(d1, d2)
    const msg = (...c: Uint8Array[]) => A.encodeSyncMessage({ heads: A.getHeads(d2), need: [], have: [], changes: c })
    const before = snapshot(bob)
    const err = caught(() => bob.receiveSyncMessage(bob.initSyncState(), msg(c2), acceptAll, 0))
    expect(err.code).toBe('E_MISSING_DEPS')
    expect(err.context.missing).toEqual([A.decodeChange(c1).hash])
    expect(snapshot(bob)).toEqual(before)
    expect(bob.queuedChanges).toBe(0)
    // Sent with its dependency (in either order), it applies.
    expect(
      bob.receiveSyncMessage(bob.initSyncState(), msg(c2, c1), acceptAll, 0).added.sort()
    ).toEqual([a1.id, a2.id].sort())
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

describe('authenticated writers (crdt/change-auth.ts)', () => {
  const bobW = new Writer('bob')
  const b1 = bobW.write('b1')

  /** Alice's log holding a1, synced to a fresh bob: what every test below starts from. */
  function start (): { la: IntentLog, bob: IntentLog } {
    const la = IntentLog.create(actorOf('alice'))
    appendAs(la, [a1], 0)
    const bob = IntentLog.create(actorOf('bob'))
    syncPair(la, bob)
    return { la, bob }
  }

  /** The refusal of pushing `doc`, with bob checked untouched and still syncing with alice. */
  function refusedBy (doc: Doc, code: string, reason: RegExp): void {
    const { la, bob } = start()
    const before = snapshot(bob)
    const err = caught(() => pushRaw(doc, bob))
    expect(err.code).toBe(code)
    expect(err.message).toMatch(reason)
    expect(snapshot(bob)).toEqual(before)
    appendAs(la, [a2], 1000)
    syncPair(la, bob)
    expect(bob.has(a2.id)).toBe(true)
  }

  // The actor alice's log writes as (start() creates it with suffix actorOf('alice')).
  const aliceActor = (): string => writerActor(alice.signer, actorOf('alice'))

  it("refuses a change under another member's actor, signed by the forger (forged actor)", () => {
    const forged = commitSigned(genesisDoc(actorOf('m')), mallory.key, [m1], { actor: aliceActor(), message: forgedMessage(mallory.key) })
    expect(A.decodeChange(A.getAllChanges(forged)[1]).actor).toBe(aliceActor())
    refusedBy(forged, 'E_BAD_SIGNATURE', /claims an actor that is not its signer's/)
  })

  it("refuses a member's own records replayed under its actor with other deps and the genuine signature", () => {
    const { la } = start()
    const genuine = A.decodeChange(A.getAllChanges(A.load<IntentDoc>(la.save()))[1])
    expect(genuine.actor).toBe(aliceActor())
    // The same actor, seq and records, and alice's own message, but depending on bob's change.
    const withBob = commitSigned(genesisDoc(actorOf('m')), bobW.key, [b1])
    const replay = commitSigned(withBob, alice.key, [a1], { actor: genuine.actor, message: () => genuine.message })
    expect(A.decodeChange(A.getAllChanges(replay).at(-1)!)).toMatchObject({ actor: genuine.actor, seq: 1 })
    refusedBy(replay, 'E_BAD_SIGNATURE', /writer signature that does not verify/)
  })

  it('refuses a change whose signature is stripped, altered, or spelled another way', () => {
    const sign = forgedMessage(alice.key)
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2], { message: () => null }), 'E_BAD_SIGNATURE', /is not signed by its writer/)
    const altered = (h: Parameters<typeof sign>[0], ids: string[]): string => {
      const m = JSON.parse(sign(h, ids)) as { pub: string, sig: string }
      return canonicalString({ ...m, sig: (m.sig[0] === 'A' ? 'B' : 'A') + m.sig.slice(1) })
    }
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2], { message: altered }), 'E_BAD_SIGNATURE', /does not verify/)
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2], { message: (h, ids) => sign(h, ids).replace(',', ', ') }), 'E_BAD_SIGNATURE', /canonical form/)
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2], { time: 5, message: (h, ids) => sign({ ...h, time: 6 }, ids) }), 'E_BAD_SIGNATURE', /does not verify/)
  })

  it("refuses a change that carries another signer's record", () => {
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2, m1]), 'E_BAD_SIGNATURE', /carries record .* of peer-/)
  })

  it('lets a carrier rule allow what the node allows (a peer carrying its agents\' records)', () => {
    const { bob } = start()
    bob.useCarrierRule((writer, signer) => writer === signer || (writer === alice.signer && signer === mallory.signer))
    pushRaw(commitSigned(genesisDoc(actorOf('m')), alice.key, [a2, m1]), bob)
    expect(bob.has(m1.id)).toBe(true)
    expect(() => bob.append([b1], 0, alice.key)).toThrow(/does not write for/)
  })

  it('refuses a change that puts no record', () => {
    refusedBy(commitSigned(genesisDoc(actorOf('m')), alice.key, []), 'E_MALFORMED', /puts no record/)
  })

  it('refuses a change that depends on an invented hash: nothing queued, and sync with every honest peer goes on', () => {
    const { la, bob } = start()
    const crafted = A.encodeSyncMessage({ heads: [], need: [], have: [], changes: [inventedDependency(mallory, m1)] })
    expect(A.decodeChange(A.decodeSyncMessage(crafted).changes[0]).deps).toEqual([INVENTED])
    const before = snapshot(bob)
    const err = caught(() => bob.receiveSyncMessage(bob.initSyncState(), crafted, acceptAll, 0))
    expect(err.code).toBe('E_MISSING_DEPS')
    expect(err.context.missing).toEqual([INVENTED])
    expect(snapshot(bob)).toEqual(before)
    expect(bob.queuedChanges).toBe(0)
    // A third, fresh peer still gets everything bob holds, and alice's next record flows through.
    const carol = IntentLog.create(actorOf('carol'))
    syncPair(bob, carol)
    expect(carol.has(a1.id)).toBe(true)
    appendAs(la, [a2], 1000)
    syncPair(la, bob)
    syncPair(bob, carol)
    expect(carol.has(a2.id)).toBe(true)
  })

  it("a change under the log's own actor that it never made is refused", () => {
    const bob = IntentLog.create(actorOf('bob'))
    appendAs(bob, [b1], 0)
    const own = bob.actorId
    const carol = IntentLog.create(actorOf('carol'))
    const forged = commitSigned(genesisDoc(actorOf('m')), bobW.key, [bobW.write('b2')], { actor: own })
    expect(caught(() => pushRaw(forged, bob)).code).toBe('E_FORK')
    pushRaw(forged, carol)
    expect(carol.size).toBe(1)
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
    // Alice in another life (another actor of hers) puts a1 again, and a2.
    const other = commitSigned(genesisDoc(actorOf('olga')), alice.key, [a1, a2], { actor: writerActor(alice.signer, 'ff'.repeat(16)) })
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
    appendAs(bob, [a1], 0)
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
    appendAs(bob, [a2], 1)
    syncPair(bob, carol)
    syncPair(bob, dave)
    const before = snapshot(carol)
    // Dave pushes a2's change, which carol already has from bob.
    expect(exchange().length).toBeGreaterThan(0)
    expect(snapshot(carol).ids).toEqual(before.ids)
    expect(carol.has(a2.id)).toBe(true)
  })
})

describe('what a sync message may inflate to is bounded before anything is decoded', () => {
  const bob = new Writer('bob')
  // One letter repeated: DEFLATE packs ~3 MB of it into a few kilobytes.
  const bombs = Array.from({ length: 30 }, (_, i) => bob.write(`${i}${'x'.repeat(90_000)}`))

  for (const [form, seed] of [['change chunks', true], ['a whole document', false]] as const) {
    it(`a change of 30 records within max_record_bytes each, 2.7 MB in all, is E_QUOTA as ${form}; nothing is held`, () => {
      const victim = IntentLog.create(actorOf('victim'))
      victim.limitRecordBytes(100_000)
      // A peer holding the base gets changes; a fresh one the whole document.
      if (seed) pushRaw(base(), victim)
      const err = caught(() => pushRaw(commitSigned(base(), bob.key, bombs), victim))
      expect(err.code).toBe('E_QUOTA')
      expect(err.message).toMatch(seed ? /inflates past 662144 bytes: refused unread/ : /weighs \d+ bytes in 30 records; a member may sign at most 165536 bytes per change/)
      expect(bombs.some((r) => victim.has(r.id))).toBe(false)
    })
  }

  it('a change over the limit but within the inflate guard is judged alike in both forms', () => {
    // 3 records of 60 KB with a 100 KB record limit: over the 165,536-byte change limit, within the inflate guard.
    const pair = [0, 1, 2].map((i) => bob.write(`p${i}${'y'.repeat(60_000)}`))
    for (const seed of [true, false]) {
      const victim = IntentLog.create(actorOf('victim'))
      victim.limitRecordBytes(100_000)
      if (seed) pushRaw(base(), victim)
      const err = caught(() => pushRaw(commitSigned(base(), bob.key, pair), victim))
      expect(err.message, seed ? 'changes' : 'document').toMatch(/weighs \d+ bytes in 3 records/)
    }
  })

  it('an honest writer splits a batch into changes within that bound, and it all arrives', () => {
    const a = IntentLog.create(actorOf('a'))
    const b = IntentLog.create(actorOf('b'))
    a.limitRecordBytes(100_000)
    b.limitRecordBytes(100_000)
    a.append(bombs, 0, bob.key)
    const changes = A.getAllChanges(A.load<IntentDoc>(a.save()))
    // 30 x ~90 KB with a 100 KB bound: one record per change (and genesis).
    expect(changes.length).toBe(31)
    syncPair(a, b)
    expect(bombs.every((r) => b.has(r.id))).toBe(true)
  })

  it('a whole document is measured column by column: its inflated size is read, and past the cap it is E_QUOTA', () => {
    const doc = commitSigned(base(), bob.key, bombs)
    const saved = A.save(doc)
    expect(saved.length).toBeLessThan(200_000)
    // Read from the columns, not the chunk's length: the values alone inflate to 2.7 MB.
    expect(documentInflatedBytes(saved, 10_000_000)).toBeGreaterThan(2_700_000)
    expect(caught(() => documentInflatedBytes(saved, 1_000_000)).code).toBe('E_QUOTA')
  })
})

describe('records refused one by one: the rest of the message is taken', () => {
  it('every change that carries no refused record and depends on none that does is applied, whatever the cut', async () => {
    const { QuotaError } = await import('../../crdt/errors.js')
    const bob = new Writer('bob')
    const carol = new Writer('carol')
    const [r0, r1, r2, r3] = ['r0', 'r1', 'r2', 'r3'].map((t) => bob.write(t))
    const c1 = carol.write('c1')
    const a = IntentLog.create(actorOf('a'))
    a.append([r0], 0, bob.key)
    // The refusal is a function of the record alone (as the quota rule is).
    const refuseR2: IncomingCheck = (incoming) => incoming.some((r) => r.id === r2.id) ? { refuse: [r2.id], error: new QuotaError('r2 is past its signer\'s quota') } : undefined
    const receivers = [IntentLog.create(actorOf('b')), IntentLog.create(actorOf('c'))]
    for (const b of receivers) syncPair(a, b)
    // One receiver hears of each change as it is written, the other of all four at once.
    const cut = receivers[0]
    for (const [r, w] of [[r1, bob], [c1, carol], [r2, bob], [r3, bob]] as const) {
      a.append([r], 0, w.key)
      try { syncPair(a, cut, refuseR2) } catch (err) { if (!(err instanceof AuraError)) throw err }
    }
    let sa = a.initSyncState()
    let sb = receivers[1].initSyncState()
    let refused: AuraError | undefined
    for (let round = 0; round < 10; round++) {
      let m: Uint8Array | null
      ;[sa, m] = a.generateSyncMessage(sa)
      if (m !== null) {
        const got = receivers[1].receiveSyncMessage(sb, m, refuseR2, 0)
        sb = got.state
        refused ??= got.refused
      }
      let back: Uint8Array | null
      ;[sb, back] = receivers[1].generateSyncMessage(sb)
      if (back !== null) sa = a.receiveSyncMessage(sa, back, acceptAll, 0).state
      if (m === null && back === null) break
    }
    expect(refused?.code).toBe('E_QUOTA')
    for (const b of receivers) {
      // r3's change depends on r2's, so it goes with it; carol's came before and stands.
      expect([r0, r1, r2, r3, c1].map((r) => b.has(r.id))).toEqual([true, true, false, false, true])
    }
  })
})

describe('a writer whose actor another holder of its key took', () => {
  it('gives the actor up at the refused seq, offers its records again under a new one, and both logs converge', () => {
    const alice = new Writer('alice')
    const [r1, r2] = [alice.write('r1'), alice.write('r2')]
    const log = IntentLog.create(actorOf('alice-node'))
    const peer = IntentLog.create(actorOf('peer'))
    log.append([r1], 0, alice.key)
    syncPair(log, peer)
    // The thief holds alice's key and writes at seq 2 of her actor before she does.
    const stolen = alice.write('written with the stolen key')
    pushRaw(commitSigned(A.load<IntentDoc>(peer.save()), alice.key, [stolen], { actor: log.actorId }), peer)
    log.append([r2], 0, alice.key)
    const err = caught(() => syncPair(log, peer))
    expect(err.code).toBe('E_FORK')
    expect(err.context).toMatchObject({ actor: log.actorId, seq: 2 })
    const old = log.actorId
    const orphaned = log.leaveActor(2, 'ab'.repeat(16))
    expect(orphaned).toEqual([r2.id])
    expect(log.actorId).not.toBe(old)
    expect(log.actorId.slice(0, 32)).toBe(old.slice(0, 32))
    log.append(orphaned.map((id) => ({ id, bytes: log.get(id) as Uint8Array })), 0, alice.key)
    syncPair(log, peer)
    expect(log.ids().sort()).toEqual(peer.ids().sort())
    expect([r1, r2, stolen].every((r) => peer.has(r.id) && log.has(r.id))).toBe(true)
    // A saved log loads as it was left: the old actor's change at seq 2 is gone for good.
    const reloaded = IntentLog.load(log.save(), actorOf('alice-node'))
    expect(reloaded.ids().sort()).toEqual(log.ids().sort())
  })
})
