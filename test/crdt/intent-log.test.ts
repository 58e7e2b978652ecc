import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import type { RecordId } from '../../crdt/ids.js'
import { GENESIS_ACTOR, GENESIS_HASH, type IntentDoc } from '../../crdt/intent-doc.js'
import { writerActor } from '../../crdt/change-auth.js'
import { IntentLog, type IncomingRecord } from '../../crdt/intent-log.js'
import { canonicalBytes } from '../../crdt/canonical.js'
import { recordIdOf } from '../../crdt/record.js'
import { appendAs, acceptAll, actorOf, syncPair, Writer } from './record-fixtures.js'

function changesIn (log: IntentLog): A.DecodedChange[] {
  return A.getAllChanges(A.load<IntentDoc>(log.save(), { actor: 'ab' })).map((c) => A.decodeChange(c))
}

function isDocChunk (chunk: Uint8Array): boolean {
  try { A.decodeChange(chunk); return false } catch { return true }
}

describe('IntentLog basics', () => {
  const alice = new Writer('alice')
  const r1 = alice.write('one')
  const r2 = alice.write('two')
  const r3 = alice.write('three')
  const w4 = alice.write('four')

  it('starts from the pinned genesis change', () => {
    let g = A.init<IntentDoc>({ actor: GENESIS_ACTOR })
    g = A.change(g, { time: 0 }, (d) => { d.records = {} })
    expect(A.getHeads(g)).toEqual([GENESIS_HASH])
    const log = IntentLog.create(actorOf('alice'))
    expect(log.size).toBe(0)
    expect(changesIn(log).map((c) => c.hash)).toEqual([GENESIS_HASH])
  })

  it('leaves a sync state it is given as it was (the backend mutates states; the log clones them)', () => {
    const la = IntentLog.create(actorOf('alice'))
    appendAs(la, [r1], 1_000)
    const lb = IntentLog.create(actorOf('bob'))
    const s0 = la.initSyncState()
    const [s1, m1] = la.generateSyncMessage(s0)
    expect(m1).not.toBeNull()
    // The untouched state still has something to say; the advanced one waits for an answer.
    expect(la.generateSyncMessage(s0)[1]).not.toBeNull()
    expect(la.generateSyncMessage(s1)[1]).toBeNull()
    const sb0 = lb.initSyncState()
    const { state: sb1 } = lb.receiveSyncMessage(sb0, m1!, acceptAll, 0)
    expect(sb1).not.toBe(sb0)
    expect(lb.generateSyncMessage(sb0)[1]).not.toBeNull()
  })

  it('appends a batch as one change and skips ids already held', () => {
    const log = IntentLog.create(actorOf('alice'))
    appendAs(log, [r1, r2, r1], 1_000)
    expect(log.size).toBe(2)
    appendAs(log, [r2, r3], 2_000)
    expect(log.size).toBe(3)
    appendAs(log, [r1, r3], 3_000)
    const changes = changesIn(log)
    expect(changes.length).toBe(3)
    expect(changes[1].ops.length).toBe(2)
    expect(changes[2].ops.length).toBe(1)
    expect(changes[1].time).toBe(1)
    expect(changes[1].actor).toBe(writerActor(alice.signer, actorOf('alice')))
    expect(log.has(r3.id)).toBe(true)
    expect(log.get(r1.id)).toEqual(r1.bytes)
    expect(log.get('00'.repeat(32) as RecordId)).toBeUndefined()
    expect(log.ids().sort()).toEqual([r1.id, r2.id, r3.id].sort())
    const recs = log.records()
    expect(recs.map((r) => r.id).sort()).toEqual([r1.id, r2.id, r3.id].sort())
    expect(recs.find((r) => r.id === r2.id)?.record).toEqual(r2.record)
  })

  it('is deterministic: same actor, times and batches give the same bytes', () => {
    const build = () => { const l = IntentLog.create(actorOf('alice')); appendAs(l, [r1, r2], 5_000); appendAs(l, [r3], 9_000); return l.save() }
    expect(build()).toEqual(build())
  })

  it('refuses to append a record whose id is not its hash, or that does not verify, or is malformed', () => {
    const log = IntentLog.create(actorOf('alice'))
    expect(() => appendAs(log, [{ id: r2.id, bytes: r1.bytes }], 0)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    const forged = canonicalBytes({ ...r1.record, text: 'changed' })
    expect(() => appendAs(log, [{ id: recordIdOf(forged), bytes: forged }], 0)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    const junk = new TextEncoder().encode('{"a":1}')
    expect(() => appendAs(log, [{ id: recordIdOf(junk), bytes: junk }], 0)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(log.size).toBe(0)
    expect(changesIn(log).length).toBe(1)
  })

  it('saves and loads, including save + incremental chunks concatenated', () => {
    const log = IntentLog.create(actorOf('alice'))
    appendAs(log, [r1], 1_000)
    const base = log.save()
    appendAs(log, [r2], 2_000)
    const inc1 = log.saveIncremental()
    appendAs(log, [r3], 3_000)
    const inc2 = log.saveIncremental()
    expect(log.saveIncremental().length).toBe(0)
    const joined = new Uint8Array([...base, ...inc1, ...inc2])
    const back = IntentLog.load(joined, actorOf('alice2'))
    expect(back.ids().sort()).toEqual(log.ids().sort())
    // What was loaded is stored already: the next increment holds only what is new.
    expect(back.saveIncremental().length).toBe(0)
    appendAs(back, [w4], 4_000)
    const inc3 = back.saveIncremental()
    expect(IntentLog.load(new Uint8Array([...joined, ...inc3]), actorOf('alice3')).has(w4.id)).toBe(true)
    expect(back.records().map((r) => r.record.text).sort()).toEqual(['four', 'one', 'three', 'two'])
    expect(IntentLog.load(new Uint8Array(0), actorOf('x')).size).toBe(0)
  })

  it('refuses data that is not an intent log, and bad actor ids', () => {
    expect(() => IntentLog.load(new Uint8Array([1, 2, 3]), actorOf('a'))).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    const foreign = A.save(A.from<{ x: number }>({ x: 1 }, { actor: 'cd' }))
    expect(() => IntentLog.load(foreign, actorOf('a'))).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => IntentLog.create('XYZ')).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => IntentLog.create(GENESIS_ACTOR)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })
})

describe('IntentLog sync', () => {
  it('syncs two logs both ways and reports what was added', () => {
    const alice = new Writer('alice')
    const bob = new Writer('bob')
    const la = IntentLog.create(actorOf('alice'))
    const lb = IntentLog.create(actorOf('bob'))
    const ra = [alice.write('a1'), alice.write('a2')]
    const rb = [bob.write('b1')]
    appendAs(la, ra, 1_000)
    appendAs(lb, rb, 1_000)
    const seenByB: IncomingRecord[] = []
    const addedToB: RecordId[] = []
    let sa = la.initSyncState()
    let sb = lb.initSyncState()
    for (let round = 0; round < 10; round++) {
      let m1: Uint8Array | null
      let m2: Uint8Array | null
      ;[sa, m1] = la.generateSyncMessage(sa)
      if (m1 !== null) {
        const res = lb.receiveSyncMessage(sb, m1, (inc) => { seenByB.push(...inc) }, 0)
        sb = res.state
        addedToB.push(...res.added)
      }
      ;[sb, m2] = lb.generateSyncMessage(sb)
      if (m2 !== null) sa = la.receiveSyncMessage(sa, m2, () => {}, 0).state
      if (m1 === null && m2 === null) break
    }
    expect(la.ids().sort()).toEqual(lb.ids().sort())
    expect(la.size).toBe(3)
    expect(addedToB.sort()).toEqual(ra.map((r) => r.id).sort())
    expect(seenByB.map((r) => r.id).sort()).toEqual(ra.map((r) => r.id).sort())
    expect(seenByB.every((r) => r.record.signer === alice.signer)).toBe(true)
    // Later appends flow as small change chunks.
    const more = alice.write('a3')
    appendAs(la, [more], 2_000)
    const { messages } = syncPair(la, lb)
    expect(lb.has(more.id)).toBe(true)
    expect(messages.some((m) => A.decodeSyncMessage(m).changes.length > 0)).toBe(true)
  })

  it('a fresh peer receives a whole-document chunk on first sync and takes it', () => {
    const alice = new Writer('alice')
    const la = IntentLog.create(actorOf('alice'))
    for (let i = 0; i < 5; i++) appendAs(la, [alice.write(`r${i}`), alice.write(`s${i}`)], i * 1000)
    const fresh = IntentLog.create(actorOf('fresh'))
    const { messages } = syncPair(la, fresh)
    const chunks = messages.flatMap((m) => A.decodeSyncMessage(m).changes)
    expect(chunks.some(isDocChunk)).toBe(true)
    expect(fresh.ids().sort()).toEqual(la.ids().sort())
    expect(fresh.records().length).toBe(10)
  })

  it('converges when three logs sync in a ring and records are written concurrently', () => {
    const names = ['alice', 'bob', 'carol']
    const logs = names.map((n) => IntentLog.create(actorOf(n)))
    const writers = names.map((n) => new Writer(n))
    // The same record appended by two logs independently is one record.
    const shared = writers[0].write('shared')
    logs.forEach((l, i) => appendAs(l, [writers[i].write('own'), ...(i < 2 ? [shared] : [])], 1_000))
    syncPair(logs[0], logs[1]); syncPair(logs[1], logs[2]); syncPair(logs[2], logs[0])
    const want = logs[0].ids().sort()
    expect(want.length).toBe(4)
    for (const l of logs) expect(l.ids().sort()).toEqual(want)
  })

  it('stages sync entries that carry several concatenated change chunks', () => {
    const w = new Writer('alice')
    const rs = Array.from({ length: 5 }, (_, i) => w.write(`r${i}`))
    const [l0, l1, l2] = ['r0', 'r1', 'r2'].map((n) => IntentLog.create(actorOf(n)))
    // Another Automerge implementation's sender: it may send documents, and with them
    // entries of several chunks.
    l1.sendWholeDocuments(true)
    appendAs(l0, [rs[0]], 0); appendAs(l0, [rs[1]], 0); appendAs(l0, [rs[3]], 0)
    appendAs(l2, [rs[2]], 0)
    appendAs(l1, [rs[4]], 0)
    syncPair(l2, l1)
    const { messages } = syncPair(l1, l0)
    const entries = messages.flatMap((m) => A.decodeSyncMessage(m).changes)
    expect(entries.some((e) => { try { A.decodeChange(e); return false } catch (err) { return /leftover/.test((err as Error).message) } })).toBe(true)
    expect(l0.ids().sort()).toEqual(rs.map((r) => r.id).sort())
  })

  it('a peer far behind takes a whole document by merging into it, keeps its own records, and persists everything', () => {
    const alice = new Writer('alice')
    const bobW = new Writer('bob')
    const la = IntentLog.create(actorOf('alice'))
    const lb = IntentLog.create(actorOf('bob'))
    // As another Automerge implementation sends (this log sends such a peer the changes).
    la.sendWholeDocuments(true)
    for (let i = 0; i < 4; i++) appendAs(la, Array.from({ length: 10 }, (_, k) => alice.write(`early ${i}.${k}`)), i * 1000)
    let sa = la.initSyncState()
    let sb = lb.initSyncState()
    for (let round = 0; round < 10; round++) {
      let m1: Uint8Array | null
      let m2: Uint8Array | null
      ;[sa, m1] = la.generateSyncMessage(sa)
      if (m1 !== null) sb = lb.receiveSyncMessage(sb, m1, acceptAll, 0).state
      ;[sb, m2] = lb.generateSyncMessage(sb)
      if (m2 !== null) sa = la.receiveSyncMessage(sa, m2, acceptAll, 0).state
      if (m1 === null && m2 === null) break
    }
    const stored = [lb.save()]
    // Apart: bob writes one record, alice sixty; alice speaks first, not knowing of bob's.
    const own = bobW.write('written while apart')
    appendAs(lb, [own], 10_000)
    for (let i = 0; i < 60; i++) appendAs(la, [alice.write(`late ${i}`)], 20_000 + i)
    let m: Uint8Array | null
    ;[sa, m] = la.generateSyncMessage(sa)
    expect(m).not.toBeNull()
    expect(A.decodeSyncMessage(m!).changes.some(isDocChunk)).toBe(true)
    const res = lb.receiveSyncMessage(sb, m!, acceptAll, 0)
    expect(res.added.length).toBe(60)
    expect(lb.size).toBe(101)
    expect(lb.has(own.id)).toBe(true)
    stored.push(lb.saveIncremental())
    const reloaded = IntentLog.load(new Uint8Array(stored.flatMap((c) => [...c])), actorOf('bob-2'))
    expect(reloaded.ids().sort()).toEqual(lb.ids().sort())
    syncPair(lb, la)
    expect(la.has(own.id)).toBe(true)
    expect(la.ids().sort()).toEqual(lb.ids().sort())
    // Bob keeps writing under his actor after the merge: no reused (actor, seq).
    appendAs(lb, [bobW.write('after the merge')], 30_000)
    syncPair(lb, la)
    expect(la.size).toBe(102)
  })

  it('survives save/load between sync rounds', () => {
    const alice = new Writer('alice')
    const la = IntentLog.create(actorOf('alice'))
    appendAs(la, [alice.write('1')], 0)
    let lb = IntentLog.create(actorOf('bob'))
    syncPair(la, lb)
    lb = IntentLog.load(lb.save(), actorOf('bob-2'))
    appendAs(la, [alice.write('2')], 0)
    syncPair(la, lb)
    expect(lb.size).toBe(2)
    appendAs(lb, [new Writer('bob').write('b')], 0)
    syncPair(lb, la)
    expect(la.size).toBe(3)
  })
})
