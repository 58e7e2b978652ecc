/**
 * Scenario files: TOML, validated with zod, errors that name the key (and its line). A scenario
 * says who takes part, how they are connected, what the links do, what receiving costs a node,
 * the protocol intervals, the adversary, and a schedule of faults and operator actions. Times
 * are durations ("30s", "7d") from the start of the run; `loadScenario` turns them into
 * milliseconds (the `[node]` costs into microseconds).
 *
 * @example
 * const s = parseScenario(readFileSync('sim/scenarios/attacker-island.toml', 'utf8'), 'attacker-island.toml')
 * s.peers.count   // honest peers besides the Mothership
 * s.schedule[0]   // { at: 30000, action: 'partition', shape: 'attacker-island', ... }
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parse as parseToml, TomlError } from 'smol-toml'
import { z } from 'zod'
import { ConfigError } from '../crdt/errors.js'
import { parseDuration, parseSize } from '../node/config/values.js'
import { keyLines, lineOf } from '../node/config/toml-lines.js'
import { NO_CPU, parseMicros, type CpuModel } from './cpu-model.js'
import { DEFAULT_LINK_MODEL, type LinkModel } from './link-model.js'
import { PARTITION_SHAPES } from './partitions.js'

const DURATION_HINT = 'expected a duration such as "250ms", "30s", "5m", "7d"'

/** A duration in ms: a string like "30s" or a number of seconds. */
const duration = z.union([z.string(), z.number().min(0)]).transform((v, ctx) => {
  const seconds = typeof v === 'number' ? v : parseDuration(v)
  if (seconds === undefined) { ctx.addIssue({ code: 'custom', message: DURATION_HINT }); return z.NEVER }
  return Math.round(seconds * 1000)
})
/** A signed duration in ms ("-5m" for a clock that runs behind). */
const signedDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  if (typeof v === 'number') return Math.round(v * 1000)
  const neg = v.trim().startsWith('-')
  const seconds = parseDuration(neg ? v.trim().slice(1) : v)
  if (seconds === undefined) { ctx.addIssue({ code: 'custom', message: `${DURATION_HINT} (optionally negative)` }); return z.NEVER }
  return Math.round((neg ? -seconds : seconds) * 1000)
})
/** A processing cost in µs: "50us", "0.2ms", or a number of seconds; at most a second. */
const cpuCost = z.union([z.string(), z.number().min(0)]).transform((v, ctx) => {
  const us = typeof v === 'number' ? v * 1_000_000 : parseMicros(v)
  if (us === undefined || us > 1_000_000) {
    ctx.addIssue({ code: 'custom', message: 'expected a cost from 0 to 1s such as "50us", "0.2ms" (or a number of seconds)' })
    return z.NEVER
  }
  return us
})
const optionalDuration = z.union([z.literal('off'), duration]).transform((v) => v === 'off' ? null : v)
const probability = z.number().min(0).max(1)
const bytesPerSecond = z.union([z.string(), z.number().positive()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : parseSize(v.replace(/\/s$/, ''))
  if (n === undefined || n <= 0) { ctx.addIssue({ code: 'custom', message: 'expected bytes per second such as "1MB/s" or 125000' }); return z.NEVER }
  return n
})
const nodeName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, 'expected a peer name (a letter, then letters, digits, _ . -)')
const names = z.array(nodeName)

const latency = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('constant'), ms: z.number().min(0) }),
  z.strictObject({ dist: z.literal('uniform'), min: z.number().min(0), max: z.number().min(0) }),
  z.strictObject({ dist: z.literal('normal'), mean: z.number().min(0), stddev: z.number().min(0) }),
  z.strictObject({ dist: z.literal('lognormal'), median: z.number().positive(), sigma: z.number().min(0) }),
  z.strictObject({ dist: z.literal('exponential'), mean: z.number().positive() })
])

const link = z.strictObject({
  latency: latency.optional(),
  /** Sigma of each node pair's own lognormal factor on its latency (0: every pair alike). */
  latency_spread: z.number().min(0).max(3).optional(),
  loss: probability.optional(),
  duplicate: probability.optional(),
  reorder: probability.optional(),
  reorder_window: duration.optional(),
  corrupt: probability.optional(),
  bandwidth: bytesPerSecond.optional(),
  rto: duration.optional(),
  detect: duration.optional(),
  dial_timeout: duration.optional(),
  delivery: z.enum(['reliable', 'raw']).optional()
}).transform((l): LinkModel => ({
  latency: l.latency ?? DEFAULT_LINK_MODEL.latency,
  latencySpread: l.latency_spread ?? DEFAULT_LINK_MODEL.latencySpread,
  loss: l.loss ?? DEFAULT_LINK_MODEL.loss,
  duplicate: l.duplicate ?? DEFAULT_LINK_MODEL.duplicate,
  reorder: l.reorder ?? DEFAULT_LINK_MODEL.reorder,
  reorderMs: l.reorder_window ?? DEFAULT_LINK_MODEL.reorderMs,
  corrupt: l.corrupt ?? DEFAULT_LINK_MODEL.corrupt,
  bandwidth: l.bandwidth ?? DEFAULT_LINK_MODEL.bandwidth,
  rtoMs: l.rto ?? DEFAULT_LINK_MODEL.rtoMs,
  detectMs: l.detect ?? DEFAULT_LINK_MODEL.detectMs,
  dialTimeoutMs: l.dial_timeout ?? DEFAULT_LINK_MODEL.dialTimeoutMs,
  delivery: l.delivery ?? DEFAULT_LINK_MODEL.delivery
}))

const node = z.strictObject({
  /** Virtual CPU time each inbound frame costs the node that receives it. */
  cpu_per_message: cpuCost.optional(),
  /** Virtual CPU time each KiB of an inbound frame costs, on top. */
  cpu_per_kib: cpuCost.optional()
}).transform((n): CpuModel => ({
  perMessageUs: n.cpu_per_message ?? NO_CPU.perMessageUs,
  perKibUs: n.cpu_per_kib ?? NO_CPU.perKibUs
}))

const peers = z.strictObject({
  count: z.int().min(1).max(100_000),
  names: names.default([])
})

const topology = z.strictObject({
  kind: z.enum(['random', 'mesh', 'ring', 'star']).default('random'),
  degree: z.int().min(1).max(64).default(4)
})

const protocol = z.strictObject({
  anti_entropy: duration.default(10_000),
  beacon: duration.default(30_000),
  max_staleness: optionalDuration.default(null),
  /** Allowance for clock disagreement with the Mothership (`[sync] max_clock_skew`). */
  max_clock_skew: duration.default(60_000),
  reconnect: duration.default(5_000),
  /** Every node's `[sync] receipt_interval` (node/peer/receipts.ts); "off": no receipts. */
  receipt: optionalDuration.default(60_000)
})

const workload = z.strictObject({
  /** Records each honest peer writes per minute, on average (Poisson). */
  rate: z.number().min(0).default(0.5),
  /** Bytes of intent text per record. */
  record_bytes: z.int().min(1).max(65_536).default(200),
  /** No workload writes after this time (default: the end of the schedule phase). */
  until: duration.optional()
})

const adversary = z.strictObject({
  name: nodeName.default('mallory'),
  /** peer: a stolen peer key; token: a peer admitted with a leaked join token; agent: a rogue agent key. */
  identity: z.enum(['peer', 'token', 'agent']).default('peer'),
  /** agent: the honest peer whose node the agent writes through. */
  host: nodeName.optional(),
  victims: names.default([]),
  /** When the adversary starts acting. */
  start: duration.default(0),
  /** A forged (backdated) record every this often. */
  forge_every: duration.default(5_000),
  /** How far back forged records claim to be written. */
  backdate: duration.default(3_600_000),
  equivocate: z.boolean().default(true),
  withhold: z.boolean().default(true),
  replay: z.boolean().default(true),
  /**
   * Hands every Mothership beacon, as it is signed, at once to every peer it is connected to:
   * beacons are no secret (any key that dials the Mothership gets one in its hello), and a
   * revoked peer that withholds its revocation wants its victims to feel fresh.
   */
  feed_beacons: z.boolean().default(false),
  /**
   * Once it knows it is revoked, forks its own log from the bottom: a record at seq 1 (prev none)
   * at each forgery, a seq at or below the cut that is no ancestor of the cut record.
   */
  fork_below_cut: z.boolean().default(false),
  /** Records sent in one burst at each flood; 0: no flood. */
  flood: z.int().min(0).max(10_000).default(0),
  flood_every: duration.default(60_000),
  /** Period of the hostile behaviours below that cost it its connection (each its own phase). */
  hostile_every: duration.default(30_000),
  /** Chain entries claiming the Mothership's signature (a bad one, or its own key's), on each peer's head. */
  forge_chain: z.boolean().default(false),
  /** Beacons claiming the Mothership's key with a bad signature, dated now, every `forge_every`. */
  forge_beacons: z.boolean().default(false),
  /**
   * Keeps the genuine beacons it receives, strips them from what it sends, and hands each peer
   * the oldest one newer than what that peer last showed, every `forge_every`.
   */
  stockpile_beacons: z.boolean().default(false),
  /** Intent-log changes under another member's Automerge actor, signed with its own key. */
  claim_actor: z.boolean().default(false),
  /** Intent-log changes that depend on a change nobody else holds. */
  invent_deps: z.boolean().default(false),
  /** A key the team never admitted dials its victims (or every honest peer) and says hello. */
  stranger: z.boolean().default(false),
  /** One frame past the frame limit (node/sync/frame.ts) to each peer it is connected to. */
  oversized_frames: z.boolean().default(false),
  /**
   * Holds the Mothership signing key the schedule's first `rotate` retires (a leaked backup):
   * from the rotation on, signs beacons and chain entries with it for the peers that hold it.
   */
  retired_key: z.boolean().default(false)
})

/** The wider adversary's behaviours (issue 16 item 6): each needs the adversary's own node. */
const WIDER_ADVERSARY = ['forge_chain', 'forge_beacons', 'stockpile_beacons', 'claim_actor', 'invent_deps', 'stranger', 'oversized_frames', 'retired_key'] as const

const shape = z.enum(PARTITION_SHAPES)
const step = z.strictObject({
  at: duration,
  id: z.string().min(1).max(64).optional(),
  partition: shape.optional(),
  nodes: names.optional(),
  attacker: nodeName.optional(),
  victims: names.optional(),
  minority: z.number().gt(0).lt(0.5).optional(),
  from: names.optional(),
  to: names.optional(),
  groups: z.array(names).optional(),
  flap: shape.optional(),
  period: duration.optional(),
  until: duration.optional(),
  heal: z.string().min(1).optional(),
  revoke: z.string().min(1).optional(),
  reason: z.string().max(500).optional(),
  offline: nodeName.optional(),
  lockdown: z.string().max(500).optional(),
  unlock: z.string().max(500).optional(),
  /** Free text for the trace: a rotate entry carries no reason, as `aura mothership rotate-key` takes none. */
  rotate: z.string().max(500).optional(),
  crash: nodeName.optional(),
  disk: z.enum(['keep', 'lose']).optional(),
  restart: nodeName.optional(),
  writes: nodeName.optional(),
  count: z.int().min(1).max(100_000).optional(),
  skew: nodeName.optional(),
  offset: signedDuration.optional()
})

const ACTIONS = ['partition', 'flap', 'heal', 'revoke', 'offline', 'lockdown', 'unlock', 'rotate', 'crash', 'restart', 'writes', 'skew'] as const
/** One scheduled action. */
export type Action = typeof ACTIONS[number]
/** A schedule step as written, with times in ms and its action named. */
export type Step = z.output<typeof step> & { action: Action, index: number }

const scenarioSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  description: z.string().max(2000).default(''),
  seed: z.int().min(0).max(2 ** 32 - 1).default(1),
  mode: z.enum(['full', 'model']).default('full'),
  /** How long the schedule phase lasts; the settle phase follows. */
  duration,
  /** Longest time after the last heal/restart for honest peers to converge (the liveness bound). */
  settle: duration.default(300_000),
  /** Also run with the freshness bound toggled, to report exposure with and without it. */
  compare_freshness: z.boolean().default(true),
  peers,
  topology: topology.prefault({}),
  link: link.prefault({}),
  node: node.prefault({}),
  protocol: protocol.prefault({}),
  workload: workload.prefault({}),
  adversary: adversary.optional(),
  schedule: z.array(step).default([])
})

/** A validated scenario, times in milliseconds. */
export type Scenario = Omit<z.output<typeof scenarioSchema>, 'schedule' | 'name'> & { name: string, schedule: Step[] }

/** Reads and validates a scenario file. */
export function loadScenario (path: string): Scenario {
  let source: string
  try {
    source = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read scenario ${path}: ${(err as Error).message}`, { file: path })
  }
  return parseScenario(source, basename(path))
}

/** Validates scenario TOML text; `file` names it in errors. */
export function parseScenario (source: string, file = 'scenario.toml'): Scenario {
  let raw: unknown
  try {
    raw = parseToml(source)
  } catch (err) {
    const line = err instanceof TomlError ? err.line : undefined
    throw new ConfigError(`${file}${line === undefined ? '' : `:${line}`}: TOML syntax error: ${(err as Error).message.split('\n')[0]}`, { file, line })
  }
  const parsed = scenarioSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue.path.map((p) => typeof p === 'number' ? `[${p}]` : `.${String(p)}`).join('').replace(/^\./, '')
    throw problem(source, file, path, issue.message)
  }
  const s = parsed.data
  const schedule = s.schedule.map((st, index) => {
    const present = ACTIONS.filter((a) => st[a] !== undefined)
    if (present.length !== 1) {
      throw problem(source, file, `schedule[${index}]`, present.length === 0
        ? `a step needs exactly one action (${ACTIONS.join(', ')})`
        : `a step has exactly one action, this one has ${present.join(' and ')}`)
    }
    return { ...st, action: present[0], index }
  })
  const scenario: Scenario = { ...s, name: s.name ?? file.replace(/\.toml$/, ''), schedule }
  checkReferences(scenario, source, file)
  return scenario
}

/** Every node name a scenario defines: the Mothership, the named and numbered peers, the adversary. */
export function nodeNames (s: Scenario): { mothership: string, honest: string[], adversary: string | null } {
  const honest: string[] = []
  for (let i = 0; i < s.peers.count; i++) honest.push(s.peers.names[i] ?? `peer-${String(i).padStart(3, '0')}`)
  const adversaryNode = s.adversary !== undefined && s.adversary.identity !== 'agent' ? s.adversary.name : null
  return { mothership: 'mothership', honest, adversary: adversaryNode }
}

function checkReferences (s: Scenario, source: string, file: string): void {
  if (s.peers.names.length > s.peers.count) {
    throw problem(source, file, 'peers.names', `lists ${s.peers.names.length} names but peers.count is ${s.peers.count}`)
  }
  const { mothership, honest, adversary } = nodeNames(s)
  const known = new Set([mothership, ...honest, ...(adversary === null ? [] : [adversary])])
  if (known.size !== honest.length + 1 + (adversary === null ? 0 : 1)) {
    throw problem(source, file, 'peers.names', 'peer names must be unique and differ from "mothership" and the adversary')
  }
  const adv = s.adversary
  if (adv !== undefined) {
    adv.victims.forEach((v, i) => { if (!honest.includes(v)) throw problem(source, file, `adversary.victims[${i}]`, `unknown honest peer '${v}'`) })
    if (adv.identity === 'agent' && (adv.host === undefined || !honest.includes(adv.host))) {
      throw problem(source, file, 'adversary.host', 'a rogue agent needs host = the name of an honest peer it writes through')
    }
    const wider = WIDER_ADVERSARY.find((k) => adv[k])
    if (adv.identity === 'agent' && wider !== undefined) {
      throw problem(source, file, `adversary.${wider}`, 'needs a node of the adversary\'s own (identity = "peer" or "token"), not a rogue agent')
    }
    if (adv.retired_key && !s.schedule.some((st) => st.action === 'rotate')) {
      throw problem(source, file, 'adversary.retired_key', 'needs a rotate step in [[schedule]]: the key it holds is the one the first rotation retires')
    }
  }
  const revocable = new Set([...(adversary === null ? [] : [adversary]), ...honest, ...(adv?.identity === 'agent' ? [adv.name] : [])])
  for (const st of s.schedule) {
    const at = `schedule[${st.index}]`
    const check = (key: string, n: string | undefined): void => {
      if (n !== undefined && !known.has(n)) throw problem(source, file, `${at}.${key}`, `unknown node '${n}' (known: ${[...known].slice(0, 8).join(', ')}${known.size > 8 ? ', ...' : ''})`)
    }
    for (const key of ['offline', 'crash', 'restart', 'skew', 'attacker'] as const) check(key, st[key])
    if (st.writes !== undefined && st.writes !== 'all') check('writes', st.writes)
    for (const key of ['nodes', 'victims', 'from', 'to'] as const) st[key]?.forEach((n) => check(key, n))
    st.groups?.forEach((g) => g.forEach((n) => check('groups', n)))
    if (st.action === 'revoke') {
      const target = st.revoke as string
      const m = /^(token|role):(.+)$/.exec(target)
      if (m === null && !revocable.has(target)) throw problem(source, file, `${at}.revoke`, `unknown identity '${target}' (a peer or agent name, token:<peer>, or role:<role>)`)
      if (m?.[1] === 'token' && !revocable.has(m[2])) throw problem(source, file, `${at}.revoke`, `unknown peer '${m[2]}' for token:`)
    }
    if (st.action === 'offline' && st.until === undefined) throw problem(source, file, `${at}.until`, 'offline needs until (the time it comes back)')
    if (st.action === 'flap' && (st.period === undefined || st.until === undefined)) throw problem(source, file, `${at}`, 'flap needs period and until')
    if (st.until !== undefined && st.until <= st.at) throw problem(source, file, `${at}.until`, 'until must be later than at')
    if (st.action === 'skew' && st.offset === undefined) throw problem(source, file, `${at}.offset`, 'skew needs offset (e.g. "-5m")')
    if (st.at > s.duration) throw problem(source, file, `${at}.at`, `step is after the end of the schedule phase (duration ${s.duration / 1000}s)`)
  }
}

function problem (source: string, file: string, path: string, message: string): InstanceType<typeof ConfigError> {
  const line = lineFor(source, path)
  return new ConfigError(`${file}${line === undefined ? '' : `:${line}`}: ${path || '(root)'}: ${message}`, { file, key: path, line })
}

// keyLines knows tables and keys; `[[schedule]]` entries are counted here so schedule[3].at
// points at the fourth step.
function lineFor (source: string, path: string): number | undefined {
  const m = /^schedule\[(\d+)\](?:\.(\w+))?/.exec(path)
  if (m !== null) {
    const lines = source.split(/\r?\n/)
    let seen = -1
    for (let i = 0; i < lines.length; i++) {
      if (/^\s*\[\[\s*schedule\s*\]\]/.test(lines[i])) seen++
      else if (seen === Number(m[1]) && m[2] !== undefined && new RegExp(`^\\s*${m[2]}\\s*=`).test(lines[i])) return i + 1
      if (seen === Number(m[1]) && m[2] === undefined) return i + 1
      if (seen > Number(m[1])) return undefined
    }
    return undefined
  }
  return lineOf(keyLines(source), path.replace(/\[\d+\]/g, ''))
}
