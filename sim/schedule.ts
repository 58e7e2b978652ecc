/**
 * Applies a scenario's schedule to a World: partitions (and flapping ones), heals, revocations,
 * offline windows, lockdown, key rotation, crashes and restarts, write bursts, clock skew. Each
 * step is one event on the virtual clock and one trace line. An operator action the Mothership
 * fails to sign or apply (beyond the operations' refusals: nothing to revoke) is a violation,
 * `operator-action-failed`.
 *
 * @example
 * scheduleSteps(world, observer, scenario.schedule)
 */
import { buildPartition, type PartitionSpec } from './partitions.js'
import type { Observer } from './observer.js'
import type { Step } from './scenario.js'
import type { World } from './world.js'

/** Puts every step on the scheduler. */
export function scheduleSteps (world: World, obs: Observer, steps: readonly Step[]): void {
  steps.forEach((step, i) => {
    world.scheduler.at(step.at * 1000, () => applyStep(world, obs, step, i))
  })
}

/** Heals everything and brings every node back: what the liveness phase starts from. */
export function settle (world: World, obs: Observer): void {
  const healed = world.net.heal('all')
  if (healed.length > 0) markHeal(world, obs, healed, 'settle')
  for (const n of world.nodes) {
    if (world.net.isOffline(n.index)) { world.net.setOffline(n.index, false); closeSpan(world, obs, n.index, 'offline') }
    if (!n.up) restart(world, obs, n.index)
  }
}

function applyStep (world: World, obs: Observer, step: Step, i: number): void {
  const t = obs.ms()
  const idx = (name: string): number => world.byName(name).index
  const note = (
    fields: Record<string, string | number | boolean | null | string[]>
  ): void => obs.trace.event(t, step.action, { step: i, ...fields })
  const operate = <T>(fn: () => T): T | null => {
    try {
      return fn()
    } catch (err) {
      obs.violation('operator-action-failed', world.mothership.name, `the Mothership could not carry out step ${i} (${step.action}): ${(err as Error).message}`)
      return null
    }
  }
  switch (step.action) {
    case 'partition':
    case 'flap': {
      const shape = (step.partition ?? step.flap) as PartitionSpec['shape']
      const id = step.id ?? `p${i}`
      const spec: PartitionSpec = {
        shape,
        nodes: step.nodes?.map(idx),
        attacker: step.attacker === undefined ? world.adversary?.node?.index : idx(step.attacker),
        victims: (step.victims ?? world.scenario.adversary?.victims)?.map(idx),
        minority: step.minority,
        from: step.from?.map(idx),
        to: step.to?.map(idx),
        groups: step.groups?.map((g) => g.map(idx))
      }
      const ctx = { nodes: world.nodes.map((n) => n.index), mothership: world.mothership.index, random: world.faults }
      const on = (): void => {
        const p = buildPartition(id, spec, ctx)
        world.net.addPartition(p)
        obs.trace.event(obs.ms(), 'partition-on', { id, shape, groups: p.groupOf === null ? null : groupsOf(world, p.groupOf) })
        for (const n of world.nodes) {
          if (p.blocks(n.index, world.mothership.index) || p.blocks(world.mothership.index, n.index)) obs.spans.push({ node: n.index, kind: 'partitioned', fromUs: world.scheduler.now, toUs: null })
        }
      }
      note({ id, shape })
      on()
      if (step.action === 'flap') {
        const period = (step.period as number) * 1000
        const until = Math.min(step.until as number, world.scenario.duration) * 1000
        let up = true
        const toggle = (): void => {
          if (world.scheduler.now >= until) { if (world.net.heal(id).length > 0) markHeal(world, obs, [id], 'flap-end'); return }
          if (up) { world.net.heal(id); markHeal(world, obs, [id], 'flap') } else on()
          up = !up
          world.scheduler.after(period, toggle)
        }
        world.scheduler.after(period, toggle)
      }
      return
    }
    case 'heal': {
      const healed = world.net.heal(step.heal as string)
      note({ heal: step.heal as string, healed })
      markHeal(world, obs, healed, 'heal')
      return
    }
    case 'revoke': {
      const r = operate(() => world.revoke(step.revoke as string, step.reason ?? 'simulated incident'))
      note({ revoke: step.revoke as string, issued: r !== null })
      if (r !== null) obs.issued(r)
      return
    }
    case 'offline': {
      const n = idx(step.offline as string)
      world.net.setOffline(n, true)
      obs.spans.push({ node: n, kind: 'offline', fromUs: world.scheduler.now, toUs: null })
      note({ offline: step.offline as string, until: step.until as number })
      world.scheduler.at((step.until as number) * 1000, () => {
        if (!world.net.isOffline(n)) return
        world.net.setOffline(n, false)
        closeSpan(world, obs, n, 'offline')
        obs.healTimesUs.push(world.scheduler.now)
        obs.trace.event(obs.ms(), 'online', { peer: step.offline as string })
      })
      return
    }
    case 'lockdown':
    case 'unlock': {
      const e = operate(() => world.lock(step.action === 'lockdown', (step.lockdown ?? step.unlock) as string))
      note({ seq: e?.seq ?? null })
      return
    }
    case 'rotate': {
      const r = operate(() => world.rotate())
      const key = (id: string | undefined): string | null => id?.slice(0, 16) ?? null
      note({ rotate: step.rotate as string, seq: r?.seq ?? null, from: key(r?.from), to: key(r?.to) })
      return
    }
    case 'crash': {
      const node = world.byName(step.crash as string)
      node.crash(step.disk === 'lose', () => world.team.chainFor())
      obs.spans.push({ node: node.index, kind: 'crashed', fromUs: world.scheduler.now, toUs: null })
      note({ crash: node.name, disk: step.disk ?? 'keep' })
      return
    }
    case 'restart': {
      note({ restart: step.restart as string })
      restart(world, obs, idx(step.restart as string))
      return
    }
    case 'writes': {
      const targets = step.writes === 'all' ? world.honest.map((h) => world.nodes[h]) : [world.byName(step.writes as string)]
      for (const n of targets) if (n.up) n.writeRecords(step.count ?? 1)
      note({ writes: step.writes as string, count: step.count ?? 1 })
      return
    }
    case 'skew': {
      const n = world.byName(step.skew as string)
      n.skewMs += step.offset as number
      note({ skew: n.name, offset: step.offset as number })
    }
  }
}

function restart (world: World, obs: Observer, index: number): void {
  const node = world.nodes[index]
  if (node.up) return
  node.start()
  closeSpan(world, obs, index, 'crashed')
  obs.healTimesUs.push(world.scheduler.now)
}

function markHeal (world: World, obs: Observer, ids: string[], why: string): void {
  if (ids.length === 0) return
  obs.healTimesUs.push(world.scheduler.now)
  obs.trace.event(obs.ms(), 'partition-off', { ids, why })
  const still = world.net.activePartitions()
  for (const span of obs.spans) {
    if (span.kind !== 'partitioned' || span.toUs !== null) continue
    const m = world.mothership.index
    if (!still.some((p) => p.blocks(span.node, m) || p.blocks(m, span.node))) span.toUs = world.scheduler.now
  }
  // No redial here: peers find their neighbours again at their own next reconnect tick, as
  // daemons do, so the reconnect interval is part of what the run measures.
}

function closeSpan (world: World, obs: Observer, node: number, kind: 'offline' | 'crashed'): void {
  for (const s of obs.spans) if (s.node === node && s.kind === kind && s.toUs === null) s.toUs = world.scheduler.now
}

function groupsOf (world: World, groupOf: ReadonlyMap<number, number>): string[] {
  const sizes = new Map<number, string[]>()
  for (const [n, g] of groupOf) {
    const list = sizes.get(g) ?? []
    if (list.length < 12) list.push(world.nodes[n].name)
    sizes.set(g, list)
  }
  return [...sizes.entries()].sort((a, b) => a[0] - b[0]).map(([g, names]) => `${g}: ${names.join(' ')}${names.length === 12 ? ' ...' : ''}`)
}
