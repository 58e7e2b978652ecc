/**
 * Runs one scenario with one seed: builds the World, schedules the workload and the scenario's
 * steps, runs the schedule phase, then heals everything and runs until every honest peer holds
 * the same chain head and the same effective view (or the settle bound passes: a liveness
 * violation). Returns the metrics, the violations, the trace and what the report draws.
 *
 * @example
 * const result = runScenario(loadScenario('sim/scenarios/attacker-island.toml'), { seed: 42 })
 * result.violations   // [] when every property held
 */
import { performance } from 'node:perf_hooks'
import { createHash } from 'node:crypto'
import { realEffectiveIds } from './effective.js'
import { Observer } from './observer.js'
import { Oracle } from './oracle.js'
import type { EffectiveIdsFn, Violation } from './properties.js'
import { buildResult, type RunResult } from './results.js'
import type { Scenario } from './scenario.js'
import { scheduleSteps, settle } from './schedule.js'
import type { SimNode } from './sim-node.js'
import { TraceWriter } from './trace.js'
import { scheduleWorkload } from './workload.js'
import { World } from './world.js'

/** Progress of a long run, for a stderr line. */
export interface Progress {
  phase: 'schedule' | 'settle'
  virtualMs: number
  /** End of the current phase in virtual ms. */
  untilMs: number
  wallMs: number
  events: number
}

/** Options of one run. */
export interface RunOptions {
  seed?: number
  /** Overrides the scenario's `protocol.max_staleness` (null: off). */
  maxStalenessMs?: number | null
  /** The effective-view function under test (default: crdt/effective-view.ts). */
  effectiveIds?: EffectiveIdsFn
  /** Overrides the scenario's mode ("model": no workload records, 16-byte texts). */
  mode?: 'full' | 'model'
  onProgress?: (p: Progress) => void
  /** Wall-clock ms between progress calls (default 1000). */
  progressEveryMs?: number
}

/** Runs a scenario once, synchronously. */
export function runScenario (written: Scenario, opts: RunOptions = {}): RunResult {
  const run = runSlices(written, opts)
  for (;;) {
    const r = run.next()
    if (r.done === true) return r.value
  }
}

/**
 * Runs a scenario once, giving the event loop a turn after every slice of virtual time. The
 * result is the same as `runScenario`'s, byte for byte; what differs is that FinalizationRegistry
 * callbacks get to run. Automerge frees its WebAssembly objects (documents, the sync state it
 * imports on every sync call) only from such callbacks, so a long synchronous run never frees
 * them: its WebAssembly memory only grows, and past V8's external-memory limit every allocation
 * comes with a garbage collection (a 150-peer full run spent most of its time there).
 */
export async function runScenarioAsync (written: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const run = runSlices(written, opts)
  for (;;) {
    const r = run.next()
    if (r.done === true) return r.value
    await new Promise<void>((resolve) => { setImmediate(resolve) })
  }
}

/** Events run between two turns of the event loop (runScenarioAsync). */
const EVENTS_PER_TURN = Number(process.env.AURA_SIM_EVENTS_PER_TURN ?? 500)

// The run, one slice of virtual time per step.
function * runSlices (written: Scenario, opts: RunOptions): Generator<void, RunResult, void> {
  const scenario = opts.mode === undefined ? written : { ...written, mode: opts.mode }
  const seed = opts.seed ?? scenario.seed
  const wallStart = performance.now()
  const trace = new TraceWriter()
  const obs = new Observer(trace, opts.effectiveIds ?? realEffectiveIds)
  const world = new World(
    scenario,
    seed,
    obs.hooks(),
    opts.maxStalenessMs === undefined ? {} : { maxStalenessMs: opts.maxStalenessMs }
  )
  obs.attach(world)
  const oracle = new Oracle(
    world,
    obs.registry,
    opts.effectiveIds ?? realEffectiveIds,
    (property, node, detail) => obs.violation(property, node, detail)
  )
  obs.oracle = oracle
  const setupMs = performance.now() - wallStart
  const s = scenario
  trace.event(0, 'start', {
    scenario: s.name,
    seed,
    mode: s.mode,
    nodes: world.names().length,
    honest: world.honest.length,
    maxStalenessMs: world.ctx.maxStalenessMs,
    team: world.team.name
  })
  for (const n of world.nodes) trace.event(0, 'node', { name: n.name, role: n.identity.role, key: n.id.slice(0, 16), neighbors: n.neighbors.length })

  world.start()
  oracle.start()
  scheduleWorkload(world, (fields) => trace.event(world.scheduler.now / 1000, 'prelude', fields))
  scheduleSteps(world, obs, s.schedule)

  const sched = world.scheduler
  let lastProgress = performance.now()
  const every = opts.progressEveryMs ?? 1000
  const runPhase = function * (phase: Progress['phase'], untilUs: number): Generator<void, void, void> {
    const slice = 1_000_000
    while (sched.now < untilUs) {
      // A busy second of virtual time (a thousand full-fidelity peers) is many thousand events:
      // the event loop also gets a turn every `EVENTS_PER_TURN` events, so Automerge's objects are
      // freed while the slice runs. Events run in the same order either way.
      const end = Math.min(untilUs, sched.now + slice)
      for (;;) {
        const limit = sched.executed + EVENTS_PER_TURN
        let paused = false
        sched.runUntil(end, () => (paused = sched.executed >= limit))
        if (!paused) break
        yield
      }
      yield
      const now = performance.now()
      if (opts.onProgress !== undefined && now - lastProgress >= every) {
        lastProgress = now
        opts.onProgress({
          phase,
          virtualMs: sched.now / 1000,
          untilMs: untilUs / 1000,
          wallMs: now - wallStart,
          events: sched.executed
        })
      }
      if (sched.now % 60_000_000 === 0) trace.digest(sched.now / 1000)
    }
  }

  yield * runPhase('schedule', s.duration * 1000)
  world.adversary?.stop()
  trace.digest(sched.now / 1000)
  const settleUs = sched.now
  settle(world, obs)
  trace.event(settleUs / 1000, 'settle', { boundMs: s.settle })

  // Converged: every honest, unrevoked peer holds the Mothership's chain head and the same records, and
  // (unless the team is locked down, when records are frozen by design) the same effective view.
  const step = s.protocol.anti_entropy * 1000
  let convergedUs: number | null = null
  const deadline = settleUs + s.settle * 1000
  while (sched.now < deadline) {
    yield * runPhase('settle', Math.min(deadline, sched.now + step))
    if (converged(world, obs)) { convergedUs = sched.now; break }
  }
  const livenessViolation: Violation | null = convergedUs === null
    ? { property: 'liveness', atMs: sched.now / 1000, node: null, detail: `honest peers did not converge within ${s.settle / 1000}s after the final heal (${describeDivergence(world)})` }
    : null
  if (livenessViolation !== null) { obs.violations.push(livenessViolation); trace.event(livenessViolation.atMs, 'violation', { property: 'liveness', node: null, detail: livenessViolation.detail }) }

  oracle.finish()
  checkAdversaryTried(world, obs)
  trace.digest(sched.now / 1000)
  trace.event(sched.now / 1000, 'end', { converged: convergedUs !== null, convergedMs: convergedUs === null ? null : (convergedUs - settleUs) / 1000, violations: obs.violations.length })
  return buildResult(
    { world, obs, oracle, trace, seed, settleUs, convergedUs, wallMs: performance.now() - wallStart, setupMs }
  )
}

// The peers liveness is about: honest ones the team still counts as members. A peer the
// Mothership revoked (the scale scenario revokes an honest peer) is refused by everyone from then
// on, by design, so it can never hold the records written after it; it is left out, as the
// adversary is.
function members (world: World): SimNode[] {
  const ref = world.mothership
  return world.honest.map((i) => world.nodes[i]).filter((n) => ref.chain.revocation(n.id) === undefined)
}

function converged (world: World, obs: Observer): boolean {
  const ref = world.mothership
  const honest = members(world)
  if (!honest.every((n) => n.up && n.chain.head.hash === ref.chain.head.hash)) return false
  if (ref.chain.locked) return true
  const size = ref.logs[0].size
  if (!honest.every((n) => n.logs[0].size === size)) return false
  const digest = (ids: Iterable<string>): string => createHash('sha256').update([...ids].sort().join(',')).digest('hex')
  const records = digest(ref.logs[0].ids())
  if (!honest.every((n) => digest(n.logs[0].ids()) === records)) return false
  if (obs.effectiveIds === null) return true
  const view = (n: typeof ref): string => digest(obs.effectiveIds?.(n.logs[0].records(), n.chain) ?? [])
  const refView = view(ref)
  return honest.every((n) => view(n) === refView)
}

function describeDivergence (world: World): string {
  const ref = world.mothership
  const honest = members(world)
  const behind = honest.filter((n) => n.chain.head.hash !== ref.chain.head.hash).map((n) => n.name)
  const sizes = honest.filter((n) => n.logs[0].size !== ref.logs[0].size).map((n) => `${n.name}:${n.logs[0].size}`)
  return `chain behind: ${behind.slice(0, 5).join(', ') || 'none'}; record counts differing from the Mothership's ${ref.logs[0].size}: ${sizes.slice(0, 5).join(', ') || 'none'}`
}

// A run where the adversary never got a forgery onto the wire proves nothing about containment.
function checkAdversaryTried (world: World, obs: Observer): void {
  const adv = world.adversary
  if (adv === null) return
  const sent = adv.node !== null ? adv.stats.forgedFramesToHonest : adv.stats.forged
  if (adv.stats.forged === 0 || sent === 0) {
    obs.violation('adversary-idle', adv.identity.name, `the adversary forged ${adv.stats.forged} records and sent ${sent} intent-log frames carrying them to honest peers: the run does not show containment`)
  }
}

export type { RunResult } from './results.js'
