// What an existing store may hold that this version never lets in, healed on load: Automerge's
// saved queue of changes waiting for dependencies, and unsigned changes of older versions (their
// records kept as orphans until their writers offer them again in signed changes).
import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { genesisDoc, type IntentDoc } from '../../crdt/intent-doc.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { actorOf, appendAs, commitSigned, syncPair, Writer } from './record-fixtures.js'

const alice = new Writer('alice')
const bob = new Writer('bob')
const a1 = alice.write('a1')
const a2 = alice.write('a2')
const b1 = bob.write('b1')

describe('IntentLog.load heals', () => {
  it('a saved Automerge queue: queued changes are dropped, applied ones kept, and the genuine changes apply later', () => {
    const d1 = commitSigned(genesisDoc(actorOf('x')), alice.key, [a1])
    const d2 = commitSigned(d1, alice.key, [a2])
    const c2 = A.getAllChanges(d2)[2]
    // An older node that let c2 in before c1: Automerge queued it, and saves its queue.
    const older = A.getBackend(commitSigned(genesisDoc(actorOf('y')), bob.key, [b1]))
    older.applyChanges([c2])
    const saved = older.save()
    expect(A.getBackend(A.load<IntentDoc>(saved)).getMissingDeps([]).length).toBeGreaterThan(0)
    const log = IntentLog.load(saved, actorOf('y'))
    expect(log.queuedChanges).toBe(0)
    expect(log.ids()).toEqual([b1.id])
    // c1 and c2 now arrive from alice and apply.
    const la = IntentLog.load(A.save(d2), actorOf('alice'))
    syncPair(la, log)
    expect(log.ids().sort()).toEqual([a1.id, a2.id, b1.id].sort())
  })

  it('unsigned changes of an older version: left out of the document, their records kept as orphans, and offered again by their writer', () => {
    const unsigned = A.change(commitSigned(genesisDoc(actorOf('x')), bob.key, [b1]), { time: 0 }, (d) => { d.records[a1.id] = a1.bytes })
    const log = IntentLog.load(A.save(unsigned), actorOf('y'))
    expect(log.ids().sort()).toEqual([a1.id, b1.id].sort())
    expect(log.orphaned()).toEqual([a1.id])
    expect(log.record(a1.id)?.text).toBe('a1')
    // A peer gets only what signed changes carry...
    const carol = IntentLog.create(actorOf('carol'))
    syncPair(log, carol)
    expect(carol.ids()).toEqual([b1.id])
    // ...until alice's node offers her record again.
    appendAs(log, [a1], 1000)
    expect(log.orphaned()).toEqual([])
    syncPair(log, carol)
    expect(carol.ids().sort()).toEqual([a1.id, b1.id].sort())
  })

  it('holds orphans a store kept apart, and leaves a document of signed changes as it is', () => {
    const la = IntentLog.create(actorOf('alice'))
    appendAs(la, [a1], 0)
    const again = IntentLog.load(la.save(), actorOf('z'))
    expect(again.orphaned()).toEqual([])
    again.holdOrphans([{ id: b1.id, bytes: b1.bytes }])
    expect(again.orphaned()).toEqual([b1.id])
    expect(again.has(b1.id)).toBe(true)
    expect(() => again.holdOrphans([{ id: a2.id, bytes: b1.bytes }])).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })
})
