/**
 * Receipts in the simulator: every node runs the daemon's receipt schedule (node/peer/receipts.ts)
 * on the virtual clock, so the fold `aura sync status` runs over receipts (node/sync/receipts.ts)
 * can be asked of a simulated Mothership, and the effective view treats them as any daemon does.
 */
import { describe, expect, it } from 'vitest'
import { effectiveView } from '../../crdt/effective-view.js'
import type { SignedRecord } from '../../crdt/record.js'
import { receiptAuthSeq, receiptSummary, syncStatus } from '../../node/sync/receipts.js'
import { parseScenario } from '../../sim/scenario.js'
import type { NodeHooks, SimNode } from '../../sim/sim-node.js'
import { World } from '../../sim/world.js'

const quiet: NodeHooks = {
  chainApplied: () => {},
  recordsAdded: () => {},
  recordWritten: () => {},
  audit: () => {},
  sessionOpened: () => {},
  sessionClosed: () => {}
}

function team (receipt: string): World {
  const s = parseScenario(`name = "receipts"
duration = "5m"
[peers]
count = 3
names = ["alice", "bob", "carol"]
[topology]
kind = "mesh"
[link]
latency = { dist = "constant", ms = 20 }
[protocol]
receipt = "${receipt}"
[workload]
rate = 0
`, 'receipts.toml')
  const world = new World(s, 7, quiet)
  world.start()
  return world
}

const run = (world: World, ms: number): void => world.scheduler.runUntil(world.scheduler.now + ms * 1000)
const receiptsIn = (node: SimNode): SignedRecord[] => node.logs[0].records().map((r) => r.record).filter((r) => r.kind === 'receipt')

// `aura sync status` as the Mothership would answer it from what its node holds.
function statusAt (m: SimNode, about: { intent?: { id: string, record: SignedRecord }, authSeq?: number }) {
  const records = m.logs[0].records()
  return syncStatus({
    records,
    members: m.chain.members(),
    isRevoked: (k) => m.chain.revocation(k) !== undefined,
    self: { key: m.id, summary: receiptSummary(records, m.chain.head), now: m.clock() },
    ...(about.intent === undefined ? {} : { intent: about.intent as never }),
    ...(about.authSeq === undefined ? {} : { authSeq: about.authSeq })
  })
}

describe('sim: receipts', () => {
  it('every node confirms a record, a revocation and an unlock by receipt; none is signed while locked or revoked', () => {
    const world = team('1m')
    const [m, alice, , carol] = world.nodes
    run(world, 5_000)
    const [written] = alice.writeRecords(1)
    run(world, 2_000)
    expect(statusAt(m, { intent: written }).verdict).toBe(`all 4 admitted peers have received intent ${written.id.slice(0, 12)}`)

    const revocation = world.revoke('carol', 'laptop theft')!
    run(world, 2_000)
    const revoked = statusAt(m, { authSeq: revocation.seq })
    expect(revoked.missing).toEqual([])
    expect(revoked.peers.filter((p) => !p.revoked).map((p) => p.user).sort()).toEqual(['alice', 'bob', 'mothership'])
    expect(revoked.peers.filter((p) => !p.revoked).every((p) => (p.authSeq ?? -1) >= revocation.seq)).toBe(true)

    const lock = world.lock(true, 'incident')!
    alice.writeRecords(1)
    run(world, 150_000)
    const unlock = world.lock(false, 'all clear')!
    run(world, 2_000)
    for (const node of world.nodes.filter((n) => n !== carol)) {
      const seqs = receiptsIn(node).map((r) => receiptAuthSeq(r.data))
      expect(seqs.some((s) => s !== null && s >= lock.seq && s < unlock.seq)).toBe(false)
      expect(seqs.some((s) => s === unlock.seq)).toBe(true)
    }
    for (const node of world.nodes) {
      expect(receiptsIn(node).filter((r) => r.signer === carol.id && r.auth.seq >= revocation.seq)).toEqual([])
      // Receipts count as the daemon's do: each one effective, none quarantined.
      const view = effectiveView(node.logs[0].records(), node.chain)
      const quarantined = [...view.quarantined.values()].filter((q) => q.record.kind === 'receipt')
      expect(quarantined).toEqual([])
    }
    const heard = new Set(receiptsIn(m).map((r) => r.signer))
    expect(heard).toEqual(new Set(world.nodes.map((n) => n.id)))
  }, 60_000)

  it('with receipt = "off" no node signs one, and sync status hears nobody', () => {
    const world = team('off')
    const [m, alice] = world.nodes
    run(world, 5_000)
    const [written] = alice.writeRecords(1)
    run(world, 130_000)
    expect(world.nodes.flatMap(receiptsIn)).toEqual([])
    expect(statusAt(m, { intent: written }).missing).toHaveLength(3)
  }, 60_000)
})
