/**
 * Swarm testing: one seed draws a whole scenario (team size, link faults, partition shape and
 * timing, crashes, offline windows, clock skew, freshness bound, adversary behaviours, and the
 * world's capacity: bandwidth and what receiving costs a node), runs it,
 * and checks every property. A failing seed is replayed exactly by its scenario TOML, which the
 * draw produces as text: `aura sim run <file> --seed <seed>`.
 *
 * @example
 * const d = drawScenario(7)
 * d.params            // what was drawn, printed per seed
 * await runScenarioAsync(parseScenario(d.toml, d.file), { seed: 7 })
 */
import { PARTITION_SHAPES } from './partitions.js'
import { RandomStream } from './random.js'
import { runScenarioAsync } from './run.js'
import { parseScenario } from './scenario.js'

/** A drawn scenario: the TOML that replays it and a one-line summary of what was drawn. */
export interface DrawnScenario {
  seed: number
  file: string
  toml: string
  params: string
}

/** One seed's outcome. */
export interface SwarmSeedResult {
  seed: number
  params: string
  ok: boolean
  violations: Array<{ property: string, atMs: number, node: string | null, detail: string }>
  wallMs: number
  virtualMs: number
  /** The drawn scenario, kept only for failing seeds. */
  toml?: string
}

const SHAPES = PARTITION_SHAPES.filter((s) => s !== 'groups' && s !== 'isolate' && s !== 'one-way')

/** Draws the scenario of one swarm seed. */
export function drawScenario (seed: number, opts: { mode?: 'full' | 'model' } = {}): DrawnScenario {
  const r = new RandomStream(seed, 'swarm')
  const peers = r.int(5, 12)
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']
  const victims = names.slice(0, r.int(1, 3))
  const median = r.pick([5, 20, 50, 120])
  const loss = r.pick([0, 0, 0.01, 0.05])
  const dup = r.pick([0, 0, 0.02])
  const reorder = r.pick([0, 0, 0.05])
  const corrupt = r.pick([0, 0, 0.002, 0.01])
  const staleness = r.pick(['off', '90s', '3m'])
  const shape = r.pick(SHAPES)
  const partAt = r.int(30, 120)
  const revokeAt = partAt + r.int(-20, 60)
  const healAt = Math.max(partAt, revokeAt) + r.int(20, 150)
  const duration = healAt + 30
  const flap = r.chance(0.2)
  const crash = r.chance(0.3) ? r.pick(names.slice(0, Math.min(peers, 6))) : null
  const loseDisk = r.chance(0.3)
  const offline = r.chance(0.3) ? r.pick(names.slice(0, Math.min(peers, 6))) : null
  const skew = r.chance(0.3) ? r.pick(['-3m', '-20s', '45s', '4m']) : null
  const lockdown = r.chance(0.1)
  const equivocate = r.chance(0.7)
  const withhold = r.chance(0.8)
  const flood = r.pick([0, 0, 10, 40])
  // The compromise begins before the partition and before the revocation: an attacker that
  // starts later can find itself cut off from every honest peer until its revocation is
  // everywhere (seed 699), or refused by everyone from its first frame (seed 8248, revoked at
  // 10 s, starting at 11 s) — runs that show nothing (adversary-idle). Clamped rather than drawn
  // from a narrower range, so every later draw, and every seed that started early already,
  // stays as it was.
  const advStart = Math.max(0, Math.min(r.int(10, Math.max(11, revokeAt - 5)), Math.max(10, partAt - 5), revokeAt - 5))
  const mode = opts.mode ?? 'full'
  const steps: string[] = []
  const step = (at: number, body: string): void => { steps.push(`[[schedule]]\nat = "${at}s"\n${body}\n`) }
  if (flap) step(partAt, `flap = "${shape}"\nid = "p"\nperiod = "${r.int(5, 30)}s"\nuntil = "${healAt}s"`)
  else step(partAt, `partition = "${shape}"\nid = "p"`)
  step(Math.max(0, revokeAt), 'revoke = "mallory"\nreason = "swarm"')
  if (!flap) step(healAt, 'heal = "p"')
  if (crash !== null && crash !== 'mallory') {
    const at = r.int(10, healAt - 5)
    step(at, `crash = "${crash}"\ndisk = "${loseDisk ? 'lose' : 'keep'}"`)
    step(Math.min(duration, at + r.int(5, 90)), `restart = "${crash}"`)
  }
  if (offline !== null) {
    const at = r.int(5, healAt - 5)
    step(at, `offline = "${offline}"\nuntil = "${Math.min(duration, at + r.int(10, 120))}s"`)
  }
  if (skew !== null) step(r.int(0, 60), `skew = "${r.pick(names.slice(0, Math.min(peers, 6)))}"\noffset = "${skew}"`)
  if (lockdown) { const at = r.int(10, healAt); step(at, 'lockdown = "swarm"'); step(Math.min(duration, at + r.int(5, 60)), 'unlock = "swarm"') }
  // Drawn last, so every earlier draw of every seed stays as it was. Records forged at the
  // current time are what the cut and the equivocation rule alone stand against: a backdated
  // forgery is quarantined as `backdated` whatever else holds (crdt/write-rules.ts).
  const backdate = r.pick(['0s', '0s', '1h'])
  const forkBelow = r.chance(0.5)
  // The world's capacity, drawn after everything above for the same reason. Most seeds keep an
  // unlimited link and free processing; the others get a team's links (1 MB/s, 125 KB/s: an
  // 8 Mbit/s, a 1 Mbit/s uplink) and a laptop's cost of handling a frame: decoding, signature
  // and Automerge checks, which take this process ~10 µs for a control frame and ~0.4-0.5 ms for
  // an Automerge message carrying records (docs/simulator.md, "Speed").
  const bandwidth = r.pick(['unlimited', 'unlimited', '1MB/s', '125KB/s'])
  const cpu = r.pick([[0, 0], [0, 0], [50, 10], [200, 40]])
  const params = `peers=${peers} latency=${median}ms loss=${loss} dup=${dup} reorder=${reorder} corrupt=${corrupt} staleness=${staleness} shape=${shape}${flap ? '(flapping)' : ''} partition@${partAt}s revoke@${revokeAt}s heal@${healAt}s` +
    `${crash !== null ? ` crash=${crash}${loseDisk ? '(disk lost)' : ''}` : ''}${offline !== null ? ` offline=${offline}` : ''}${skew !== null ? ` skew=${skew}` : ''}${lockdown ? ' lockdown' : ''}` +
    ` adversary(start=${advStart}s equivocate=${equivocate} withhold=${withhold} flood=${flood} backdate=${backdate} fork_below_cut=${forkBelow})` +
    ` world(bandwidth=${bandwidth} cpu=${cpu[0]}us+${cpu[1]}us/KiB)`
  const toml = `# swarm seed ${seed}: ${params}
name = "swarm-${seed}"
seed = ${seed}
mode = "${mode}"
duration = "${duration}s"
settle = "5m"

[peers]
count = ${peers}
names = [${names.slice(0, Math.min(peers, 6)).map((n) => `"${n}"`).join(', ')}]

[topology]
kind = "random"
degree = 3

[link]
latency = { dist = "lognormal", median = ${median}, sigma = 0.6 }
loss = ${loss}
duplicate = ${dup}
reorder = ${reorder}
corrupt = ${corrupt}
${bandwidth === 'unlimited' ? '' : `bandwidth = "${bandwidth}"\n`}${cpu[0] === 0 ? '' : `\n[node]\ncpu_per_message = "${cpu[0]}us"\ncpu_per_kib = "${cpu[1]}us"\n`}
[protocol]
anti_entropy = "10s"
beacon = "30s"
max_staleness = "${staleness}"
# Freshness counts from the Mothership's signed time: the allowance covers the skew drawn.
max_clock_skew = "${skew === null ? '1m' : '5m'}"
# Receipts off, as in the bundled scenarios (each record would cost one from every node).
receipt = "off"

[workload]
rate = 0.5

[adversary]
name = "mallory"
victims = [${victims.map((v) => `"${v}"`).join(', ')}]
start = "${advStart}s"
forge_every = "7s"
equivocate = ${equivocate}
withhold = ${withhold}
replay = true
flood = ${flood}
flood_every = "60s"
backdate = "${backdate}"
fork_below_cut = ${forkBelow}

${steps.join('\n')}`
  return { seed, file: `swarm-${seed}.toml`, toml, params }
}

/** Draws and runs one seed. */
export async function runSwarmSeed (seed: number, opts: { mode?: 'full' | 'model' } = {}): Promise<SwarmSeedResult> {
  const d = drawScenario(seed, opts)
  const started = Date.now()
  let result
  try {
    result = await runScenarioAsync(parseScenario(d.toml, d.file), { seed })
  } catch (err) {
    return { seed, params: d.params, ok: false, violations: [{ property: 'protocol-crash', atMs: 0, node: null, detail: `the run threw: ${(err as Error).stack ?? String(err)}` }], wallMs: Date.now() - started, virtualMs: 0, toml: d.toml }
  }
  const ok = result.ok
  return {
    seed,
    params: d.params,
    ok,
    violations: result.violations.map((v) => ({ ...v })),
    wallMs: Date.now() - started,
    virtualMs: result.metrics.virtualMs,
    ...(ok ? {} : { toml: d.toml })
  }
}
