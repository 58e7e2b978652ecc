// The freshness bound in the sync engine: a beacon counts from the time the Mothership signed
// it (never from its arrival), within the clock-skew allowance, only once the node holds the
// chain head it names, and only from an admitted session. Each test feeds beacons the way an
// attacker would: stockpiled, ahead of a withheld revocation, dated in the future, or from a key
// that is not admitted.
import { describe, expect, it } from 'vitest'
import { encodeBeacon, makeBeacon } from '../../crdt/beacon.js'
import { toB64u } from '../../crdt/canonical.js'
import { encodeMessage, PROTOCOL_VERSION } from '../../node/sync/messages.js'
import { memoryLinkPair } from '../../node/sync/memory-link.js'
import { keyIdOf } from '../../crdt/ids.js'
import { keyNamed, settle, TestTeam, type TestNode, type Wire } from './engine-fixture.js'

const MAX = 10_000
const SKEW = 1_000
const limits = { maxStalenessMs: MAX, maxClockSkewMs: SKEW }

/** Sends a beacon over a wire from its `a` end, as a relay would. */
function feed (wire: Wire, beacon: Uint8Array): void {
  wire.a.send(encodeMessage({ t: 'beacon', beacon: toB64u(beacon) }))
}

/** Whether `to` takes a new record of `from` now (it is refused while `to` is stale). */
async function takesRecord (from: TestNode, to: TestNode, text: string): Promise<boolean> {
  const r = from.write(text)
  await settle()
  return to.holds(r)
}

describe('freshness counts from the beacon\'s signed time', () => {
  it('stockpiled old beacons fed later one by one do not make a node fresh, and it refuses a member\'s new records', async () => {
    const team = new TestTeam(['alice', 'mallory'])
    // Collected while the Mothership ran: one beacon a second for a minute.
    const start = team.clock.now
    const stockpile = Array.from({ length: 60 }, (_, i) => team.ms.beacon(start + i * 1000))
    // The Mothership dies; a minute later mallory starts feeding them, one every 5 s, oldest
    // first, each newer than the last. Counted from arrival, each would buy MAX more.
    team.clock.now = start + 120_000
    const alice = team.node('alice', limits)
    const mallory = team.node('mallory')
    const wire = team.connect(mallory, alice)
    await settle()
    for (let i = 0; i < stockpile.length; i += 5) {
      feed(wire, stockpile[i])
      await settle()
      expect(alice.engine.lastBeaconTs).toBe(start + i * 1000)
      expect(alice.engine.isStale()).toBe(true)
      expect(await takesRecord(mallory, alice, `while fed beacon ${i}`)).toBe(false)
      team.clock.now += 5_000
    }
    expect(alice.audits('refused').some((e) => e.code === 'E_STALE')).toBe(true)
  })

  it('goes stale max_staleness + skew after the newest beacon was signed, however recently it arrived', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice', limits)
    const bob = team.node('bob')
    const wire = team.connect(bob, alice)
    await settle()
    const signedAt = team.clock.now - 4_000
    feed(wire, team.ms.beacon(signedAt))
    await settle()
    expect(alice.engine.isStale()).toBe(false)
    expect(await takesRecord(bob, alice, 'while fresh')).toBe(true)
    team.clock.now = signedAt + MAX + SKEW
    expect(alice.engine.isStale()).toBe(false)
    team.clock.now = signedAt + MAX + SKEW + 1
    expect(alice.engine.isStale()).toBe(true)
    expect(await takesRecord(bob, alice, 'once stale')).toBe(false)
    // A fresh one ends it, and the refused record arrives.
    feed(wire, team.ms.beacon(team.clock.now))
    await settle()
    expect(alice.engine.isStale()).toBe(false)
    expect(bob.lastWritten !== undefined && alice.holds(bob.lastWritten)).toBe(true)
  })

  it('a beacon dated in the future counts as signed no later than arrival + skew', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice', limits)
    const bob = team.node('bob')
    const wire = team.connect(bob, alice)
    await settle()
    const arrival = team.clock.now
    feed(wire, team.ms.beacon(arrival + 3_600_000))
    await settle()
    expect(alice.engine.isStale()).toBe(false)
    team.clock.now = arrival + SKEW + MAX + SKEW
    expect(alice.engine.isStale()).toBe(false)
    team.clock.now += 1
    expect(alice.engine.isStale()).toBe(true)
  })

  it('a node holding no beacon is stale (a restart buys no time)', () => {
    const team = new TestTeam(['alice'])
    const alice = team.node('alice', limits)
    expect(alice.engine.isStale()).toBe(true)
    expect(team.node('bob', { maxStalenessMs: null }).engine.isStale()).toBe(false)
  })
})

describe('a beacon naming a chain head the node does not hold is deferred', () => {
  it('does not lift staleness, nor is it relayed, until the entries it names arrive; then it does', async () => {
    const team = new TestTeam(['alice', 'bob', 'carol', 'mallory'])
    const before = team.ms.entries.length - 1
    const malloryKey = keyIdOf(keyNamed('mallory').publicKey)
    team.ms.revoke(malloryKey)
    const ahead = team.ms.beacon(team.clock.now)
    const alice = team.node('alice', { upTo: before, ...limits })
    const mallory = team.node('mallory', { upTo: before })
    const carol = team.node('carol', { upTo: before })
    const toMallory = team.connect(mallory, alice)
    const toCarol = team.connect(alice, carol)
    await settle()
    // Mallory withholds her revocation and relays the Mothership's newest beacon.
    feed(toMallory, ahead)
    await settle()
    expect(alice.engine.isStale()).toBe(true)
    expect(alice.engine.lastBeaconTs).toBeNull()
    expect(toCarol.aToB.some((m) => m.t === 'beacon')).toBe(false)
    expect(await takesRecord(mallory, alice, 'written after my revocation')).toBe(false)

    // Bob brings the chain: the revocation is applied and mallory dropped before the beacon
    // counts; carol gets the entries before the beacon.
    const bob = team.node('bob')
    team.connect(bob, alice)
    await settle()
    expect(alice.chain.revocation(malloryKey)).toBeDefined()
    expect(toMallory.closedB?.code).toBe('E_REVOKED')
    expect(alice.engine.isStale()).toBe(false)
    expect(alice.engine.lastBeaconTs).toBe(team.clock.now)
    const kinds = toCarol.aToB.map((m) => m.t)
    expect(kinds.indexOf('beacon')).toBeGreaterThan(kinds.indexOf('chain'))
    expect(mallory.lastWritten !== undefined && alice.holds(mallory.lastWritten)).toBe(false)
  })

  it('a beacon naming a held seq with another hash never counts', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice', limits)
    const bob = team.node('bob')
    const wire = team.connect(bob, alice)
    await settle()
    const forkHead = makeBeacon({ team: team.ms.team, headSeq: alice.chain.head.seq, headHash: 'ab'.repeat(32), ts: team.clock.now }, team.ms.key)
    feed(wire, encodeBeacon(forkHead))
    await settle()
    expect(alice.engine.isStale()).toBe(true)
    expect(await takesRecord(bob, alice, 'refused')).toBe(false)
    // A beacon naming an older head it holds counts.
    const older = makeBeacon(
      { team: team.ms.team, headSeq: 1, headHash: alice.chain.entryHash(1) as string, ts: team.clock.now },
      team.ms.key
    )
    feed(wire, encodeBeacon(older))
    await settle()
    expect(alice.engine.isStale()).toBe(false)
  })

  it('a beacon naming a chain head past the node\'s makes it stale until those entries arrive (the revoked key is refused meanwhile)', async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const before = team.ms.entries.length - 1
    const fresh = team.ms.beacon(team.clock.now)
    team.ms.revoke(keyIdOf(keyNamed('mallory').publicKey))
    const ahead = team.ms.beacon(team.clock.now + 1000)
    const alice = team.node('alice', { upTo: before, ...limits })
    const mallory = team.node('mallory', { upTo: before })
    const wire = team.connect(mallory, alice)
    await settle()
    feed(wire, fresh)
    await settle()
    expect(alice.engine.isStale()).toBe(false)
    expect(await takesRecord(mallory, alice, 'before the revocation is known')).toBe(true)
    feed(wire, ahead)
    await settle()
    expect(alice.engine.isStale()).toBe(true)
    expect(await takesRecord(mallory, alice, 'after a beacon names the revocation')).toBe(false)
    // The entries arrive from an honest peer: the beacon counts, and mallory is revoked.
    team.connect(team.node('bob'), alice)
    await settle()
    expect(alice.chain.head.seq).toBe(team.ms.entries.length - 1)
    expect(alice.engine.isStale()).toBe(false)
    expect(alice.engine.lastBeaconTs).toBe(team.clock.now + 1000)
  })

  it('with the freshness bound off too, a beacon naming a chain head past the node\'s makes it refuse records until those entries arrive', async () => {
    // Swarm seeds 529 and 777 (max_staleness off): a peer got a hello whose beacon named the
    // head of mallory's revocation, the chain frame behind it was lost, and it stored mallory's
    // records until the entries came again.
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const before = team.ms.entries.length - 1
    const malloryKey = keyIdOf(keyNamed('mallory').publicKey)
    const fresh = team.ms.beacon(team.clock.now)
    team.ms.revoke(malloryKey)
    const ahead = team.ms.beacon(team.clock.now + 1000)
    const alice = team.node('alice', { upTo: before, maxStalenessMs: null })
    const mallory = team.node('mallory', { upTo: before })
    const wire = team.connect(mallory, alice)
    await settle()
    feed(wire, fresh)
    await settle()
    expect(alice.engine.isStale()).toBe(false)
    expect(await takesRecord(mallory, alice, 'before the revocation is known')).toBe(true)
    feed(wire, ahead)
    await settle()
    expect(alice.engine.isStale()).toBe(true)
    const after = mallory.write('after a beacon names the revocation')
    await settle()
    expect(alice.holds(after)).toBe(false)
    expect(alice.audits('refused').some((e) => e.code === 'E_STALE')).toBe(true)
    // The entries arrive from an honest peer: mallory is revoked before anything is taken again,
    // and bob's records flow.
    const bob = team.node('bob')
    team.connect(bob, alice)
    await settle()
    expect(alice.chain.revocation(malloryKey)).toBeDefined()
    expect(wire.closedB?.code).toBe('E_REVOKED')
    expect(alice.engine.isStale()).toBe(false)
    expect(alice.holds(after)).toBe(false)
    expect(await takesRecord(bob, alice, 'once the entries arrived')).toBe(true)
  })

  it('keeps one deferred beacon, the newest, whatever order they come in', async () => {
    const team = new TestTeam(['alice', 'bob', 'mallory'])
    const before = team.ms.entries.length - 1
    team.ms.revoke(keyIdOf(keyNamed('mallory').publicKey))
    const now = team.clock.now
    const beacons = Array.from({ length: 50 }, (_, i) => team.ms.beacon(now - 50_000 + i * 1000))
    const alice = team.node('alice', { upTo: before, ...limits })
    const mallory = team.node('mallory', { upTo: before })
    const wire = team.connect(mallory, alice)
    await settle()
    feed(wire, beacons[49])
    for (let i = 0; i < 49; i++) feed(wire, beacons[i])
    await settle()
    expect(alice.engine.lastBeaconTs).toBeNull()
    team.connect(team.node('bob'), alice)
    await settle()
    expect(alice.engine.lastBeaconTs).toBe(now - 1000)
  })
})

describe('beacons from a session that is not admitted count for nothing', () => {
  it('a hello or heads from an unknown key claiming a longer chain does not lift staleness', async () => {
    const team = new TestTeam(['alice'])
    const alice = team.node('alice', limits)
    const zed = keyNamed('zed')
    const [mine, theirs] = memoryLinkPair(alice.id, keyIdOf(zed.publicKey))
    alice.engine.addLink(mine)
    theirs.onFrame = () => {}
    const beacon = toB64u(team.ms.beacon(team.clock.now))
    // A longer chain than alice's: she waits for its entries before deciding.
    const head = { seq: alice.chain.head.seq + 5, hash: 'cd'.repeat(32) }
    theirs.send(encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, team: team.ms.team, head, beacon }))
    theirs.send(encodeMessage({ t: 'heads', head, beacon }))
    theirs.send(encodeMessage({ t: 'beacon', beacon }))
    await settle()
    expect(mine.closed).toBe(false)
    expect(alice.engine.isStale()).toBe(true)
    expect(alice.engine.lastBeaconTs).toBeNull()
  })

  it('the hello beacon of a peer admitted by the entries it brings counts once it is admitted', async () => {
    const team = new TestTeam(['alice'])
    const aliceSeq = team.ms.entries.length - 1
    team.ms.admit('paul', keyNamed('paul'))
    const paul = team.node('paul')
    paul.engine.localBeacon(team.ms.beacon(team.clock.now))
    const alice = team.node('alice', { upTo: aliceSeq, ...limits })
    team.connect(paul, alice)
    await settle()
    expect(alice.engine.connectedPeers()).toEqual([paul.id])
    expect(alice.engine.isStale()).toBe(false)
  })
})
