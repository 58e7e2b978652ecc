// SyncEngine in one process, over memory link pairs: session order, push, relay, catch-up,
// refusals (lockdown, unknown, revoked, bad signature) and the races between them.
import * as A from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { encodeEntry } from '../../crdt/authority-chain.js'
import { decodeBeacon } from '../../crdt/beacon.js'
import { canonicalBytes, parseCanonical, toB64u } from '../../crdt/canonical.js'
import { effectiveView } from '../../crdt/effective-view.js'
import { keyIdOf, type RecordId } from '../../crdt/ids.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { nextRecordFields, recordIdOf, signRecord } from '../../crdt/record.js'
import type { SyncMessage } from '../../node/sync/messages.js'
import { actorNamed, keyNamed, settle, tap, TestTeam, type Wire } from './engine-fixture.js'
import { commitSigned, inventedDependency, Writer } from '../crdt/record-fixtures.js'
import { decodeMessage, encodeMessage } from '../../node/sync/messages.js'
import { memoryLinkPair } from '../../node/sync/memory-link.js'

function kinds (msgs: SyncMessage[]): string[] {
  return msgs.map((m) => m.t)
}

/**
 * Where the first dependency hash of the first change chunk (type 1) in an 'am' frame starts,
 * or -1: chunk header (magic, checksum, type, uLEB128 length), then the deps count, then deps.
 */
function firstDependencyAt (frame: Uint8Array): number {
  for (let i = 1; i + 12 < frame.length; i++) {
    if (frame[i] !== 0x85 ||
      frame[i + 1] !== 0x6f ||
      frame[i + 2] !== 0x4a ||
      frame[i + 3] !== 0x83 ||
      frame[i + 8] !== 1) continue
    let at = i + 9
    while ((frame[at] & 0x80) !== 0) at++
    at++
    return frame[at] > 0 ? at + 1 : -1
  }
  return -1
}

function codeOf (r: Wire['closedA']): string | undefined | null {
  return r === null ? null : r?.code
}

/** Canonical bytes of a copy of `bytes` whose text was changed after signing. */
function tampered (bytes: Uint8Array): { id: RecordId, bytes: Uint8Array } {
  const obj = parseCanonical(bytes) as Record<string, unknown>
  const out = canonicalBytes({ ...obj, text: `${String(obj.text)} (altered)` })
  return { id: recordIdOf(out), bytes: out }
}

describe('SyncEngine: session order', () => {
  it('sends the authority chain before intent data, so a revocation is known before the revoked key\'s records arrive', async () => {
    const team = new TestTeam(['alice', 'carol', 'mallory'])
    const beforeRevoke = team.ms.entries.length - 1
    const alice = team.node('alice')
    const carol = team.node('carol')
    const mallory = team.node('mallory')
    const m1 = mallory.write('legit work')
    const w = team.connect(mallory, carol)
    await settle()
    expect(carol.holds(m1)).toBe(true)
    w.cut()
    await settle()
    // Written after the theft: beyond the cut the Mothership will set at m1.
    const m2 = mallory.write('backdoor')
    const m3 = mallory.write('more backdoor')
    const w2 = team.connect(mallory, carol)
    await settle()
    expect(carol.holds(m2, m3)).toBe(true)
    w2.cut()
    carol.adopt([team.ms.revoke(mallory.id, { seq: 1, hash: m1.id })])
    await settle()
    expect(alice.chain.head.seq).toBe(beforeRevoke)

    const wire = team.connect(carol, alice)
    await settle()

    expect(alice.holds(m1, m2, m3)).toBe(true)
    const firstChain = kinds(wire.aToB).indexOf('chain')
    const firstAm = kinds(wire.aToB).indexOf('am')
    expect(firstChain).toBeGreaterThanOrEqual(0)
    expect(firstChain).toBeLessThan(firstAm)
    const revokedAt = alice.seen.findIndex((s) => s.t === 'chain' && s.head > beforeRevoke)
    const malloryAt = alice.seen.findIndex((s) => s.t === 'records' && s.ids.includes(m2.id))
    expect(revokedAt).toBeGreaterThanOrEqual(0)
    expect(revokedAt).toBeLessThan(malloryAt)
    const view = effectiveView(alice.log.records(), alice.chain)
    expect(view.effective.has(m1.id)).toBe(true)
    expect(view.quarantined.get(m2.id)?.reason).toBe('beyond_cut')
    expect(view.quarantined.get(m3.id)?.reason).toBe('beyond_cut')
  })

  it('pushes a new record to connected peers at once, without an anti-entropy tick', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    team.connect(alice, bob)
    await settle()
    const r = alice.write('fix login')
    await settle()
    expect(bob.holds(r)).toBe(true)
    expect(bob.seen).toContainEqual({ t: 'records', ids: [r.id], from: alice.id })
  })

  it('relays through a middle node, both ways', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol'])
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => team.node(n))
    team.connect(alice, bob)
    team.connect(bob, carol)
    await settle()
    const fromAlice = alice.write('from alice')
    const fromCarol = carol.write('from carol')
    await settle()
    expect(carol.holds(fromAlice)).toBe(true)
    expect(alice.holds(fromCarol)).toBe(true)
    expect(carol.seen).toContainEqual({ t: 'records', ids: [fromAlice.id], from: bob.id })
    expect(alice.engine.connectedPeers()).toEqual([bob.id])
  })

  it('catches up on reconnect after a link was down', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const w = team.connect(alice, bob)
    await settle()
    w.cut()
    await settle()
    expect(alice.engine.connectedPeers()).toEqual([])
    const missed = [alice.write('one'), alice.write('two')]
    await settle()
    expect(bob.holds(...missed)).toBe(false)
    team.connect(bob, alice)
    await settle()
    expect(bob.holds(...missed)).toBe(true)
  })

  it('a record appended without telling the engine still goes out on the next tick (the idle-link shortcut watches the log)', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    team.connect(alice, bob)
    alice.write('first')
    await settle(10)
    for (let i = 0; i < 3; i++) { alice.engine.tick(); bob.engine.tick(); await settle(10) }
    const quiet = alice.write('appended behind the engine\'s back', false)
    await settle(10)
    expect(bob.holds(quiet)).toBe(false)
    alice.engine.tick()
    await settle(10)
    expect(bob.holds(quiet)).toBe(true)
  })

  it('anti-entropy delivers records nobody pushed, from either end of the link', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    team.connect(alice, bob)
    await settle()
    const silent = alice.write('written without a push', false)
    await settle()
    expect(bob.holds(silent)).toBe(false)
    alice.engine.tick()
    await settle()
    expect(bob.holds(silent)).toBe(true)

    const pulled = alice.write('pulled by bob', false)
    await settle()
    expect(bob.holds(pulled)).toBe(false)
    bob.engine.tick()
    await settle()
    expect(bob.holds(pulled)).toBe(true)
  })
})

describe('SyncEngine: refusals', () => {
  it('in lockdown refuses new records with a \'refused\' message, keeps the link, and takes them after unlock', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const first = team.connect(alice, bob)
    await settle()
    first.cut()
    await settle()
    bob.adopt([team.ms.lockdown('incident 42')])
    const late = alice.write('written before alice heard of the lockdown')

    const wire = team.connect(alice, bob)
    await settle()

    expect(bob.holds(late)).toBe(false)
    expect(wire.bToA).toContainEqual(expect.objectContaining({ t: 'refused', code: 'E_LOCKDOWN' }))
    expect(codeOf(wire.closedA)).toBeNull()
    expect(codeOf(wire.closedB)).toBeNull()
    expect(alice.chain.locked).toBe(true)
    expect(bob.audits('refused').map((e) => e.code)).toContain('E_LOCKDOWN')
    // Ticks during the lockdown never get the record in.
    for (let i = 0; i < 3; i++) { alice.engine.tick(); bob.engine.tick(); await settle() }
    expect(bob.holds(late)).toBe(false)

    bob.adopt([team.ms.unlock()])
    await settle()
    expect(bob.holds(late)).toBe(true)
    expect(alice.chain.locked).toBe(false)
  })

  it('refuses a member\'s records past its quota with E_QUOTA, stores the message\'s records within it and none past it, and stops reading that peer for a while', async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'], { records_per_hour: 5, bytes_per_hour: 1 << 30, max_record_bytes: 1 << 20 })
    const alice = team.node('alice')
    const bob = team.node('bob')
    const mallory = team.node('mallory')
    const fine = [1, 2, 3].map((i) => mallory.write(`within quota ${i}`, false))
    const link = team.connect(mallory, bob)
    await settle()
    expect(bob.holds(...fine)).toBe(true)
    link.cut()
    await settle()
    // Mallory's own writer has no gate here: she signs past the quota and pushes.
    const flood = Array.from({ length: 10 }, (_, i) => mallory.write(`flood ${i}`, false))
    const wire = team.connect(mallory, bob)
    team.connect(alice, bob)
    await settle()
    expect(wire.bToA).toContainEqual(expect.objectContaining({ t: 'refused', code: 'E_QUOTA' }))
    expect(bob.audits('refused').map((e) => e.code)).toContain('E_QUOTA')
    // Records 4 and 5 are within the quota of 5: taken, whatever else the message carried.
    expect(flood.map((r) => bob.holds(r))).toEqual(flood.map((_, i) => i < 2))
    expect(codeOf(wire.closedB)).toBeNull()
    // Within the back-off, ticks bring nothing in and no second refusal is needed.
    const refusals = wire.bToA.filter((m) => m.t === 'refused').length
    for (let i = 0; i < 3; i++) { mallory.engine.tick(); bob.engine.tick(); await settle() }
    expect(wire.bToA.filter((m) => m.t === 'refused').length).toBe(refusals)
    // Honest peers still sync with bob, and never hold what he refused.
    const a1 = alice.write('alice keeps working')
    await settle()
    expect(bob.holds(a1)).toBe(true)
    expect(flood.map((r) => alice.holds(r))).toEqual(flood.map((_, i) => i < 2))
  })

  it('refuses a key that was never admitted with E_NOT_ADMITTED and stores none of its records', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    team.connect(alice, bob)
    const mallory = team.node('mallory')
    const forged = mallory.write('let me in')
    const wire = team.connect(alice, mallory)
    await settle()
    expect(codeOf(wire.closedB)).toBe('E_NOT_ADMITTED')
    expect(alice.holds(forged)).toBe(false)
    expect(alice.engine.connectedPeers()).toEqual([bob.id])
    expect(alice.audits('refused').map((e) => e.code)).toContain('E_NOT_ADMITTED')
  })

  it('refuses an unknown key that claims a longer chain once its entries prove it is not a member', async () => {
    const team = new TestTeam(['alice'])
    const alice = team.node('alice')
    team.ms.admit('dave', keyNamed('dave'))
    const mallory = team.node('mallory')
    const forged = mallory.write('let me in')
    const wire = team.connect(alice, mallory)
    await settle()
    expect(codeOf(wire.closedB)).toBe('E_NOT_ADMITTED')
    expect(alice.holds(forged)).toBe(false)
    // The entries it relayed are genuine and were kept.
    expect(alice.chain.head.seq).toBe(mallory.chain.head.seq)
  })

  it('refuses a revoked key at once with E_REVOKED', async () => {
    const team = new TestTeam(['alice', 'mallory'])
    const mallory = team.node('mallory')
    const forged = mallory.write('after the theft')
    team.ms.revoke(mallory.id)
    const alice = team.node('alice')
    const wire = team.connect(alice, mallory)
    await settle()
    expect(codeOf(wire.closedA)).toBe('E_REVOKED')
    expect(codeOf(wire.closedB)).toBe('E_REVOKED')
    expect(wire.aToB).toEqual([])
    expect(alice.holds(forged)).toBe(false)
  })

  it('drops a connected key with E_REVOKED as soon as its revocation arrives, relayed by another peer', async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const [alice, bob, mallory] = ['alice', 'bob', 'mallory'].map((n) => team.node(n))
    team.connect(alice, bob)
    const wire = team.connect(alice, mallory)
    await settle()
    expect(alice.engine.connectedPeers()).toContain(mallory.id)
    bob.adopt([team.ms.revoke(mallory.id)])
    await settle()
    expect(codeOf(wire.closedB)).toBe('E_REVOKED')
    expect(alice.engine.connectedPeers()).toEqual([bob.id])
    expect(alice.audits('revocation-applied').map((e) => e.peer)).toEqual([mallory.id])
    const after = mallory.write('too late')
    await settle()
    expect(alice.holds(after)).toBe(false)
  })

  it('hands a relayed chain entry to the transport before its own bookkeeping (the next hop does not wait for it)', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol', 'mallory'])
    const [alice, bob, carol, mallory] = ['alice', 'bob', 'carol', 'mallory'].map((n) => team.node(n))
    team.connect(bob, alice)
    const toCarol = team.connect(alice, carol)
    team.connect(alice, mallory)
    await settle()
    const applied = (): number => alice.seen.filter((e) => e.t === 'chain').length
    const before = applied()
    const appliedAtFlush: number[] = []
    toCarol.a.flush = () => { appliedAtFlush.push(applied() - before) }
    bob.adopt([team.ms.revoke(mallory.id)])
    await settle()
    expect(applied() - before).toBe(1)
    expect(appliedAtFlush[0]).toBe(0)
    expect(carol.chain.revocation(mallory.id)).toBeDefined()
  })

  it('relays a revocation and the beacon naming it as one frame per hop', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol', 'mallory'])
    const [alice, bob, carol, mallory] = ['alice', 'bob', 'carol', 'mallory'].map((n) => team.node(n))
    const toAlice = team.connect(bob, alice)
    const toCarol = team.connect(alice, carol)
    await settle()
    const [fromBob, fromAlice] = [toAlice.aToB.length, toCarol.aToB.length]
    bob.adopt([team.ms.revoke(mallory.id)], team.ms.beacon())
    await settle()
    const revocation = (w: Wire, from: number): string[] => w.aToB.slice(from).filter((m) => m.t === 'chain' || m.t === 'beacon')
      .map((m) => m.t === 'chain' ? `chain ${m.entries.length}${m.beacon === undefined ? '' : ' + beacon'}` : 'beacon')
    expect(revocation(toAlice, fromBob)).toEqual(['chain 1 + beacon'])
    expect(revocation(toCarol, fromAlice)).toEqual(['chain 1 + beacon'])
    expect(carol.chain.revocation(mallory.id)).toBeDefined()
    expect(carol.engine.lastBeaconTs).toBe(bob.engine.lastBeaconTs)
    expect(carol.engine.lastBeaconTs).not.toBeNull()
  })

  it('keeps the beacon of a chain message whose entries it cannot apply yet (a gap), and acts on it once they arrive', async () => {
    const team = new TestTeam(['alice', 'carol', 'mallory'])
    const [alice, carol, mallory] = ['alice', 'carol', 'mallory'].map((n) => team.node(n))
    const toCarol = team.connect(alice, carol)
    await settle()
    const before = carol.engine.lastBeaconTs
    const first = team.ms.revoke(mallory.id)
    const second = team.ms.lockdown()
    const beacon = team.ms.beacon()
    // Only the second entry, with the beacon naming it: carol lacks the first.
    toCarol.a.send(encodeMessage({ t: 'chain', entries: [toB64u(encodeEntry(second))], beacon: toB64u(beacon) }))
    await settle()
    expect(carol.chain.head.seq).toBe(first.seq - 1)
    expect(carol.engine.lastBeaconTs).toBe(before)
    alice.adopt([first, second])
    await settle()
    expect(carol.chain.head.seq).toBe(second.seq)
    expect(carol.engine.lastBeaconTs).toBe(decodeBeacon(beacon).ts)
  })

  it('to a peer whose hello says version 1, relays the entries and the beacon in two frames, as that version reads them', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol', 'mallory'])
    const [alice, bob, carol, mallory] = ['alice', 'bob', 'carol', 'mallory'].map((n) => team.node(n))
    team.connect(bob, alice)
    // Carol's hellos reach alice saying version 1 (an older peer; the rest is the same protocol).
    const [a, b] = memoryLinkPair(alice.id, carol.id)
    const sent: SyncMessage[] = []
    tap(a, [], sent)
    const send = b.send.bind(b)
    b.send = (frame) => {
      const msg = decodeMessage(frame)
      send(msg.t === 'hello' ? encodeMessage({ ...msg, v: 1 }) : frame)
    }
    alice.engine.addLink(a)
    carol.engine.addLink(b)
    await settle()
    const from = sent.length
    bob.adopt([team.ms.revoke(mallory.id)], team.ms.beacon())
    await settle()
    const got = sent.slice(from).filter((m) => m.t === 'chain' || m.t === 'beacon')
    expect(got.map((m) => m.t === 'chain' ? `chain${m.beacon === undefined ? '' : ' + beacon'}` : 'beacon')).toEqual(['chain', 'beacon'])
    expect(carol.chain.revocation(mallory.id)).toBeDefined()
    expect(carol.engine.lastBeaconTs).toBe(bob.engine.lastBeaconTs)
  })

  it('drops a link that carries a record with a bad signature, stores nothing of that batch, and keeps its other links', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const carol = team.node('carol')
    team.connect(alice, carol)
    await settle()

    const good = bob.write('honest')
    const bad = tampered(bob.write('to be altered').bytes)
    // Bob's log with the altered record put in behind IntentLog's back: a broken or hostile
    // peer running the real engine.
    const actor = actorNamed('evil-bob')
    let doc = A.load<{ records: Record<string, Uint8Array> }>(IntentLog.create(actor).save(), { actor })
    // Signed by bob as writers sign their changes: what is refused is the record itself.
    doc = commitSigned(doc, keyNamed('bob'), [good, bad], { time: 1 })
    const evil = team.node('bob', { log: IntentLog.load(A.save(doc), actor) })
    const wire = team.connect(alice, evil)
    await settle()

    expect(codeOf(wire.closedA)).toBe('E_BAD_SIGNATURE')
    expect(codeOf(wire.closedB)).toBe('E_BAD_SIGNATURE')
    expect(alice.log.has(bad.id)).toBe(false)
    expect(alice.log.has(good.id)).toBe(false)
    expect(alice.audits('dropped').map((e) => e.code)).toEqual(['E_BAD_SIGNATURE'])
    expect(alice.engine.connectedPeers()).toEqual([carol.id])
    const still = carol.write('carol keeps working')
    await settle()
    expect(alice.holds(still)).toBe(true)
  })
})

describe('SyncEngine: damaged intent data', () => {
  it('refuses a change whose dependency nobody has with E_MISSING_DEPS: keeps the link, counts it, and sync flows on', async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const mallory = team.node('mallory')
    team.connect(alice, bob)
    const wire = team.connect(mallory, bob)
    await settle(10)
    const crafted = inventedDependency(new Writer('mallory', keyNamed('mallory')), mallory.write('never applies', false))
    wire.a.send(encodeMessage({ t: 'am', data: A.encodeSyncMessage({ heads: [], need: [], have: [], changes: [crafted] }) }))
    await settle(10)
    expect(codeOf(wire.closedB)).toBeNull()
    expect(bob.log.queuedChanges).toBe(0)
    expect(bob.engine.refusedChanges()).toMatchObject([{ peer: mallory.id, direction: 'in', code: 'E_MISSING_DEPS', count: 1 }])
    expect(mallory.engine.refusedChanges()).toMatchObject([{ peer: bob.id, direction: 'out', code: 'E_MISSING_DEPS', count: 1 }])
    const later = alice.write('after the attempt')
    const own = mallory.write('mallory, honestly')
    await settle(10)
    mallory.engine.tick()
    await settle(10)
    expect(bob.holds(later, own)).toBe(true)
  })

  it('drops a link whose Automerge change fails its checksum, so the damaged copy never stands in for the genuine change', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const wire = team.connect(alice, bob)
    const first = alice.write('first')
    await settle(10)
    expect(bob.holds(first)).toBe(true)
    // One bit of the next pushed change's dependency hash flips on the way (the simulator's
    // link corruption): the change still decodes, with the same (actor, seq) and another hash,
    // and waits in Automerge for a dependency that does not exist.
    const send = wire.a.send.bind(wire.a)
    let flipped = false
    wire.a.send = (frame) => {
      const dep = flipped || frame[0] !== 0x02 ? -1 : firstDependencyAt(frame)
      if (dep >= 0) {
        frame = frame.slice()
        frame[dep + 5] ^= 0x10
        flipped = true
      }
      send(frame)
    }
    const r = alice.write('fix login')
    await settle(10)
    expect(flipped).toBe(true)
    expect(codeOf(wire.closedB)).toBe('E_MALFORMED')
    expect(bob.audits('dropped').map((e) => e.code)).toEqual(['E_MALFORMED'])
    expect(bob.holds(r)).toBe(false)

    // The redial brings the genuine change: it is not refused as a fork of the damaged one.
    team.connect(alice, bob)
    await settle(10)
    alice.engine.tick()
    await settle(10)
    expect(bob.audits('refused').map((e) => e.code)).not.toContain('E_FORK')
    expect(bob.holds(r)).toBe(true)
  })
})

describe('SyncEngine: bounded traffic', () => {
  it("a member cannot squat another's Automerge actor: its log writes under an actor of its own key, and everyone converges", async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const own = bob.write('bob\'s own first change')
    // Mallory copies bob's log, actor included, and writes her own records.
    const mallory = team.node('mallory', { log: IntentLog.load(bob.log.save(), bob.log.actorId) })
    const squat = mallory.write('trying to write as bob\'s actor')
    expect(mallory.log.actorId).not.toBe(bob.log.actorId)
    const m = team.connect(mallory, alice)
    await settle()
    expect(alice.holds(own, squat)).toBe(true)
    m.cut()
    const wire = team.connect(alice, bob)
    await settle(10)
    expect(wire.runaway).toBe(false)
    expect(bob.holds(squat)).toBe(true)
    expect([...bob.audits('refused'), ...alice.audits('refused')]).toEqual([])
    expect(codeOf(wire.closedA)).toBeNull()
  })
})

describe('SyncEngine: races between honest peers', () => {
  it('a peer that missed a Mothership key rotation catches up from peers holding beacons of the new key', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const oldBeacon = team.ms.beacon()
    team.ms.rotate(keyNamed('mothership-2'))
    const alice = team.node('alice', { upTo: team.ms.entries.length - 2 })
    const bob = team.node('bob')
    alice.engine.localBeacon(oldBeacon)
    bob.engine.localBeacon(team.ms.beacon())
    const wire = team.connect(alice, bob)
    await settle()
    expect(codeOf(wire.closedA)).toBeNull()
    expect(codeOf(wire.closedB)).toBeNull()
    expect(alice.chain.head).toEqual(bob.chain.head)
    const r = bob.write('after the rotation')
    await settle()
    expect(alice.holds(r)).toBe(true)
    // A beacon of the new key now reaches alice and is accepted.
    const fresh = team.ms.beacon()
    bob.engine.localBeacon(fresh)
    await settle()
    expect(alice.engine.lastBeaconTs).toBe(bob.engine.lastBeaconTs)
  })

  it('a chain entry pushed before the hello exchange finished does not drop a peer that is behind', async () => {
    const team = new TestTeam(['alice', 'dave'])
    const daveSeq = team.ms.entries.length - 1
    team.ms.admit('erin', keyNamed('erin'))
    team.ms.admit('frank', keyNamed('frank'))
    const alice = team.node('alice')
    const dave = team.node('dave', { upTo: daveSeq })
    const wire = team.connect(alice, dave)
    // In the same tick: the Mothership's next entry reaches alice while dave's hello is in flight.
    alice.adopt([team.ms.revoke(keyIdOf(keyNamed('erin').publicKey))])
    await settle()
    expect(codeOf(wire.closedA)).toBeNull()
    expect(codeOf(wire.closedB)).toBeNull()
    expect(dave.chain.head).toEqual(alice.chain.head)
    expect(dave.audits('dropped')).toEqual([])
  })

  it('a newly admitted peer is accepted by a peer that has not heard of it, even when a new entry overtakes the hello answer', async () => {
    const team = new TestTeam(['alice'])
    const aliceSeq = team.ms.entries.length - 1
    team.ms.admit('paul', keyNamed('paul'))
    const paul = team.node('paul')
    const alice = team.node('alice', { upTo: aliceSeq })
    const r = paul.write('first day')
    const wire = team.connect(paul, alice)
    paul.adopt([team.ms.admit('quinn', keyNamed('quinn'))])
    await settle()
    expect(codeOf(wire.closedA)).toBeNull()
    expect(codeOf(wire.closedB)).toBeNull()
    expect(alice.chain.head).toEqual(paul.chain.head)
    expect(alice.engine.connectedPeers()).toEqual([paul.id])
    expect(alice.holds(r)).toBe(true)
  })
})

describe('SyncEngine: a writer whose actor another holder of its key took', () => {
  it('hears E_FORK naming its actor and seq, gives the actor up, and its record reaches the peer under a new one', async () => {
    const { syncPair } = await import('../crdt/record-fixtures.js')
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const wire = team.connect(alice, bob)
    const r1 = alice.write('r1')
    await settle()
    expect(bob.holds(r1)).toBe(true)
    // The thief copies alice's log and key and writes at seq 2 of her actor; bob takes it first.
    const thief = IntentLog.load(alice.log.save(), alice.log.actorId)
    const stolen = signRecord({ ...nextRecordFields(alice.lastWritten), kind: 'intent', actor: 'alice', host: 'thief', ts: team.clock.now, auth: { ...alice.chain.head }, text: 'stolen' }, alice.key)
    thief.append([stolen], team.clock.now, alice.key)
    syncPair(thief, bob.log)
    const old = alice.log.actorId
    const r2 = alice.write('r2')
    await settle(6)
    expect(wire.bToA).toContainEqual(expect.objectContaining({ t: 'refused', code: 'E_FORK', actor: old, seq: 2 }))
    expect(alice.seen).toContainEqual({ t: 'claimed', seq: 2 })
    expect(alice.log.actorId).not.toBe(old)
    expect(bob.holds(r2)).toBe(true)
    expect(alice.holds(stolen)).toBe(true)
  })
})
