/**
 * What the honest side writes during a run. Full fidelity: the scenario's `[workload]`, Poisson
 * writes per peer (the adversary's identity writes too until its compromise, so its revocation
 * has a cut over honest history). Model mode: instead, a small prelude before the adversary's
 * compromise, so the cuts of its revocation (and of any peer the schedule revokes) still land on
 * records the key wrote honestly, which must stay effective while its later records are
 * quarantined. A rogue agent writes through its host before its compromise in both modes.
 *
 * @example
 * scheduleWorkload(world, (fields) => trace.event(ms, 'prelude', fields))
 */
import { RandomStream } from './random.js'
import type { SimNode } from './sim-node.js'
import type { World } from './world.js'

/** Records the compromised identity, and each peer a `revoke` step names, write in the prelude. */
export const PRELUDE_RECORDS = 3
/** Honest peers (the first by index) that write one record each in the prelude. */
export const PRELUDE_HONEST = 2

/** Model mode's prelude: who writes how many records, at one instant (virtual µs). */
export interface Prelude {
  atUs: number
  writers: Array<{ node: SimNode, count: number }>
}

/** Puts the run's writes on the scheduler; `noted` hears the prelude when it is written. */
export function scheduleWorkload (
  world: World,
  noted?: (fields: { writers: string[], records: number }) => void
): void {
  const prelude = world.scenario.mode === 'model' ? preludeOf(world) : null
  if (prelude !== null) {
    world.scheduler.at(prelude.atUs, () => {
      // The node's write path refuses what its gate refuses, and writes nothing after a lost
      // disk (node/peer/writer.ts, SimNode.writeRecords): only what it wrote is noted.
      const wrote = prelude.writers
        .filter(({ node }) => !idle(world, node))
        .map(({ node, count }) => ({ node, count: node.writeRecords(count).length }))
        .filter(({ count }) => count > 0)
      noted?.({ writers: wrote.map(({ node }) => node.name), records: wrote.reduce((sum, w) => sum + w.count, 0) })
    })
  }
  scheduleRandomWrites(world)
}

/**
 * The prelude of a model-mode run with an adversary, halfway to its `start`: `PRELUDE_RECORDS`
 * records, in one append, by the adversary's node and by every peer a `revoke` step names, and
 * one by each of the first `PRELUDE_HONEST` other honest peers. Null without an adversary (a
 * record reaching every peer of scale-1000 costs about as much as the rest of its run) or when
 * it starts at 0 s (there is no before).
 */
export function preludeOf (world: World): Prelude | null {
  const s = world.scenario
  if (s.adversary === undefined || s.adversary.start <= 0) return null
  const revoked = new Set(s.schedule.flatMap((st) => st.action === 'revoke' ? [st.revoke as string] : []))
  if (world.adversary?.node != null) revoked.add(world.adversary.node.name)
  const writers: Prelude['writers'] = []
  let honest = 0
  for (const node of world.nodes) {
    if (node === world.mothership) continue
    if (revoked.has(node.name)) writers.push({ node, count: PRELUDE_RECORDS })
    else if (node.identity.role === 'honest' && honest < PRELUDE_HONEST) { honest++; writers.push({ node, count: 1 }) }
  }
  return { atUs: Math.floor(s.adversary.start * 1000 / 2), writers }
}

// A node does not write while its process is down or it is offline. Its write gate (revoked,
// lockdown) and a lost disk (it would reuse seqs) are its write path's to refuse, not ours.
function idle (world: World, n: SimNode): boolean {
  return !n.up || world.net.isOffline(n.index)
}

// Poisson writes per honest peer (and by the adversary's identity before its compromise, so its
// revocation has a real cut), each node with its own workload stream; none in model mode, but
// for a rogue agent, which writes through its host until its compromise.
function scheduleRandomWrites (world: World): void {
  const s = world.scenario
  const rate = s.mode === 'model' ? 0 : s.workload.rate
  const until = (s.workload.until ?? s.duration) * 1000
  const writers = world.nodes.filter((n) => n.identity.role !== 'mothership')
  if (rate <= 0 && world.adversary?.agent == null) return
  const meanUs = rate > 0 ? 60_000_000 / rate : 60_000_000
  for (const n of writers) {
    const r = new RandomStream(world.seed, `workload/${n.name}`)
    const next = (): void => {
      if (world.scheduler.now >= until) return
      const isAdv = n.identity.role === 'adversary'
      // The node's write path refuses what its gate refuses (node/peer/writer.ts).
      if (!idle(world, n) && !(isAdv && world.adversary?.active() === true) && rate > 0) n.writeRecords(1)
      world.scheduler.after(Math.max(1, Math.round(r.exponential(meanUs))), next)
    }
    world.scheduler.after(Math.max(1, Math.round(r.exponential(meanUs))), next)
  }
  const adv = world.adversary
  if (adv?.agent != null) {
    const r = new RandomStream(world.seed, 'workload/agent')
    const next = (): void => {
      if (world.scheduler.now >= until || adv.active()) return
      adv.agentWrite()
      world.scheduler.after(Math.max(1, Math.round(r.exponential(meanUs / 4))), next)
    }
    world.scheduler.after(1, next)
  }
}
