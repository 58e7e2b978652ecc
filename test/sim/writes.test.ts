/**
 * A simulated node writes through the daemon's write path (node/peer/writer.ts): its gate, its
 * signer's chain, the push. Revoked or locked, it signs nothing; restarted with its disk, it
 * continues its chain; without its disk, it writes nothing for the rest of the run.
 */
import { describe, expect, it } from 'vitest'
import { parseScenario } from '../../sim/scenario.js'
import type { NodeHooks } from '../../sim/sim-node.js'
import { World } from '../../sim/world.js'

const quiet: NodeHooks = {
  chainApplied: () => {},
  recordsAdded: () => {},
  recordWritten: () => {},
  audit: () => {},
  sessionOpened: () => {},
  sessionClosed: () => {}
}

function team (): World {
  const s = parseScenario(`name = "writes"
duration = "5m"
[peers]
count = 3
names = ["alice", "bob", "carol"]
[topology]
kind = "mesh"
[link]
latency = { dist = "constant", ms = 20 }
[protocol]
receipt = "off"
[workload]
rate = 0
`, 'writes.toml')
  const world = new World(s, 7, quiet)
  world.start()
  return world
}

const run = (world: World, ms: number): void => world.scheduler.runUntil(world.scheduler.now + ms * 1000)

describe('sim: the node write path', () => {
  it('signs each record after its own newest one, pushes it at once, and keeps its chain across a restart', () => {
    const world = team()
    run(world, 2_000)
    const alice = world.byName('alice')
    const bob = world.byName('bob')
    const [a, b] = alice.writeRecords(2)
    expect([a.record.seq, b.record.seq, b.record.prev]).toEqual([1, 2, a.id])
    expect(a.record).toMatchObject({ actor: 'alice', host: 'alice', ts: alice.clock(), auth: alice.chain.head })
    run(world, 200)
    expect(bob.logs[0].has(b.id)).toBe(true)
    alice.crash(false, () => world.team.chainFor())
    run(world, 1_000)
    alice.start()
    const [c] = alice.writeRecords(1)
    expect([c.record.seq, c.record.prev]).toEqual([3, b.id])
  })

  it('writes nothing once revoked, nothing but receipts in a lockdown', () => {
    const world = team()
    run(world, 2_000)
    const bob = world.byName('bob')
    world.lock(true, 'incident')
    run(world, 500)
    expect(bob.writeRecords(1)).toEqual([])
    const locked = bob.logs[0].size
    bob.writeReceipt({ v: 1 })
    expect(bob.logs[0].size).toBe(locked + 1)
    world.lock(false, 'all clear')
    run(world, 500)
    expect(bob.writeRecords(1)).toHaveLength(1)
    world.revoke('bob', 'laptop theft')
    run(world, 500)
    expect(bob.chain.revocation(bob.id)).toBeDefined()
    const before = bob.logs[0].size
    expect(bob.writeRecords(1)).toEqual([])
    bob.writeReceipt({ v: 1 })
    expect(bob.logs[0].size).toBe(before)
  })

  it('after losing its disk writes nothing, not even when its own records come back', () => {
    const world = team()
    run(world, 2_000)
    const carol = world.byName('carol')
    const [first] = carol.writeRecords(1)
    run(world, 500)
    carol.crash(true, () => world.team.chainFor())
    carol.start()
    run(world, 5_000)
    expect(carol.logs[0].has(first.id)).toBe(true)
    expect(carol.writeRecords(1)).toEqual([])
  })
})
