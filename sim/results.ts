/**
 * Turns what the Observer saw into the run's numbers (run.json) and what the report draws.
 * Definitions the report repeats:
 * - delay: virtual time from the revocation's issue at the Mothership until a peer's chain
 *   first holds the exact revoke entry;
 * - hops: relay hops the entry took, against the Mothership's eccentricity in the dial graph of
 *   the honest peers; delays also in multiples of the median link latency; messages per peer:
 *   chain messages carrying the entry that honest peers received, over the peers to reach;
 * - since heal: for peers that got it after a heal, reconnect or restart that followed the
 *   issue, the delay from the latest such event before their arrival;
 * - exposure window: from the first revocation's issue until the last moment an honest peer
 *   stored a forged record that the production effective view then counted (0 if none).
 * - exposure: those (peer, record) pairs by when the peer stored the record: before the issue,
 *   before the peer knew (the operator's triage), after it knew (must be zero).
 * - queue delay (with a CPU model, scenario `[node]`): how long a frame that reached a node
 *   waited for the node's processor before its own processing began; busy fraction: the share
 *   of the run's virtual time a node spent processing inbound frames.
 *
 * @example
 * const result = buildResult({ world, obs, trace, seed, settleUs, convergedUs, wallMs })
 */
import type { HostileStats } from './adversary.js'
import { cpuEnabled } from './cpu-model.js'
import { medianLatencyMs } from './link-model.js'
import { eccentricity, percentiles, round3, type Percentiles } from './metrics.js'
import type { Observer, LaneSpan } from './observer.js'
import type { Exposure, Oracle, PeerExposure } from './oracle.js'
import type { Violation } from './properties.js'
import type { TraceWriter } from './trace.js'
import type { World } from './world.js'

/** Propagation of one revocation to the honest peers. */
export interface RevocationMetrics {
  label: string
  chainSeq: number
  issuedMs: number
  /** Honest peers besides the Mothership that must learn it. */
  peers: number
  coverage: number
  coverageAtScheduleEnd: number
  delayMs: Percentiles
  /** The delays in multiples of the link model's median latency. */
  delayInLinkMedians: Percentiles
  hops: Percentiles
  /** The most hops an honest peer is from the Mothership in the dial graph (honest peers only). */
  eccentricity: number
  /** Max relay hops / eccentricity: 1 when the entry took shortest paths to the farthest peer. */
  hopsOverEccentricity: number
  sinceHealMs: Percentiles
  /** Chain messages carrying the entry delivered to honest peers, per peer that must learn it. */
  messagesPerPeer: number
}

/** Everything run.json holds. */
export interface RunMetrics {
  nodes: number
  honest: number
  virtualMs: number
  antiEntropyMs: number
  beaconMs: number
  maxStalenessMs: number | null
  linkMedianMs: number
  revocations: RevocationMetrics[]
  traffic: {
    framesPerPeer: Percentiles,
    bytesPerPeer: Percentiles,
    totalFrames: number,
    totalBytes: number,
    duplicateFrames: number,
    duplicateChainEntries: number,
    retransmits: number,
    corrupted: number
  }
  /**
   * Intent-log replication to honest peers. `receipts`: (record, peer) pairs where a sync
   * message added the record; `carrying`: Automerge sync messages delivered that carried
   * changes, `adding` those that added records; `copiesPerRecordPerPeer`: changes carried over
   * receipts (1 when every record reaches every peer exactly once); `messagesPerRecordPerPeer`:
   * change-carrying messages over receipts; `spreadMs`: from a record's write to each receipt.
   */
  records: {
    receipts: number,
    amMessages: number,
    carrying: number,
    adding: number,
    changesCarried: number,
    copiesPerRecordPerPeer: number,
    messagesPerRecordPerPeer: number,
    spreadMs: Percentiles
  }
  forged: {
    attempted: number
    badSignatureAttempts: number
    equivocations: number
    replays: number
    floods: number
    withheldEntries: number
    framesToHonest: number
    refusedByHost: number
    beaconsFed: number
    /** The wider adversary's attempts and the refusals that answered them (sim/adversary.ts). */
    hostile: HostileStats
    storedBeforeHeal: number
    /** (honest peer, forged record) pairs the production effective view counted at some check. */
    effectiveBeforeHeal: number
    /** Forged records still effective on some honest peer at the end: within the Mothership's cut. */
    effectiveAfterHeal: number
    honestPeersExposed: number
    /** The same pairs by when the peer stored the record (sim/oracle.ts); after* must be 0. */
    exposure: Exposure
  } | null
  exposureWindowMs: number | null
  liveness: { converged: boolean, convergedAfterMs: number | null, boundMs: number }
  sessions: { opened: number, closed: number }
  /** Inbound processing of the honest nodes (scenario `[node]`); null without a CPU model. */
  cpu: CpuMetrics | null
  audits: Record<string, number>
  /** Wall ms of the whole run and of building the World (keys, chain, logs) before it. */
  perf: { wallMs: number, setupMs: number, speedup: number, events: number }
}

/** What the CPU model did to the honest nodes (the Mothership included). */
export interface CpuMetrics {
  perMessageUs: number
  perKibUs: number
  /** Frames that reached honest nodes and how long each waited for its node's processor (ms). */
  queueDelayMs: Percentiles
  /** The (at most five) honest nodes busiest processing, busiest first. */
  busiest: Array<{ node: string, busyMs: number, busyFraction: number, queueDelayMs: Percentiles }>
}

/** What the HTML report draws. */
export interface ReportData {
  lanes: Array<{ name: string, role: string, arrivals: Array<number | null>, hops: Array<number | null> }>
  spans: Array<{ node: number, kind: LaneSpan['kind'], fromMs: number, toMs: number }>
  revocations: Array<{ label: string, issuedMs: number }>
  marks: Array<{ atMs: number, label: string }>
  forgedAccepted: Array<{ node: number, atMs: number }>
  endMs: number
  settleMs: number
  /**
   * One row per honest node, the Mothership first (node index into `lanes`): which peer's chain
   * message brought it each revocation (null: not held, or not through a peer), when the
   * oracle's poll first saw its chain hold it, and the forged records the oracle saw effective
   * there by class, with how many of those are still effective there at the last check (the
   * rest were quarantined). Optional: results built before these fields existed lack them.
   */
  peers?: Array<{ node: number, relayedBy: Array<string | null>, heldAtMs: Array<number | null>, forged: PeerExposure }>
  /**
   * Partitions as they came on and went off (from the trace's
   * partition-on/-off lines; a flap gives one interval per time on).
   */
  partitions?: Array<{ id: string, shape: string, fromMs: number, toMs: number, groups: string[] | null }>
}

/** One run's result. */
export interface RunResult {
  scenario: string
  seed: number
  mode: 'full' | 'model'
  ok: boolean
  violations: Violation[]
  metrics: RunMetrics
  report: ReportData
  trace: TraceWriter
  /** Set by simRun when the scenario asks for the freshness comparison. */
  freshness?: FreshnessRow[]
}

/** One line of the with/without freshness bound comparison. */
export interface FreshnessRow {
  label: string
  maxStalenessMs: number | null
  effectiveBeforeHeal: number
  honestPeersExposed: number
  exposureWindowMs: number | null
  violations: number
}

/** Inputs of buildResult. */
export interface ResultInputs {
  world: World
  obs: Observer
  oracle: Oracle
  trace: TraceWriter
  seed: number
  settleUs: number
  convergedUs: number | null
  wallMs: number
  setupMs: number
}

/** Builds the result of a finished run. */
export function buildResult (
  { world, obs, oracle, trace, seed, settleUs, convergedUs, wallMs, setupMs }: ResultInputs
): RunResult {
  const s = world.scenario
  const now = world.scheduler.now
  const interval = s.protocol.anti_entropy
  const peers = world.honest.filter((i) => i !== world.mothership.index)
  const median = medianLatencyMs(s.link.latency)
  const ecc = eccentricity(undirected(world), world.mothership.index, new Set(world.honest))
  const revocations = world.revocations.map((r): RevocationMetrics => {
    const seen = obs.arrivals[r.index]
    const delays: number[] = []; const hops: number[] = []; const sinceHeal: number[] = []
    let atScheduleEnd = 0
    for (const p of peers) {
      const a = seen.get(p)
      if (a === undefined) continue
      const d = (a.atUs - r.issuedUs) / 1000
      delays.push(d); hops.push(a.hops)
      if (a.atUs <= settleUs) atScheduleEnd++
      const heal = obs.healTimesUs.filter((t) => t >= r.issuedUs && t <= a.atUs).pop()
      if (heal !== undefined) sinceHeal.push((a.atUs - heal) / 1000)
    }
    const hp = percentiles(hops)
    return {
      label: r.label,
      chainSeq: r.seq,
      issuedMs: r.issuedUs / 1000,
      peers: peers.length,
      coverage: round3(delays.length / Math.max(1, peers.length)),
      coverageAtScheduleEnd: round3(atScheduleEnd / Math.max(1, peers.length)),
      delayMs: percentiles(delays),
      delayInLinkMedians: percentiles(delays.map((d) => round3(d / Math.max(median, 0.001)))),
      hops: hp,
      eccentricity: ecc,
      hopsOverEccentricity: ecc === 0 ? 0 : round3(hp.max / ecc),
      sinceHealMs: percentiles(sinceHeal),
      messagesPerPeer: round3((obs.revocationMessages[r.index] ?? 0) / Math.max(1, peers.length))
    }
  })

  const stats = peers.map((p) => world.net.stats(p))
  const all = world.nodes.map((n) => world.net.stats(n.index))
  const sum = (f: (x: typeof all[number]) => number): number => all.reduce((a, x) => a + f(x), 0)
  const adv = world.adversary
  const firstIssue = world.revocations[0]?.issuedUs
  let storedBefore = 0
  for (const nodes of obs.forgedStored.values()) if ([...nodes.values()].some((x) => x.atUs <= settleUs)) storedBefore++
  const exposure = oracle.exposure()
  const accepted = oracle.accepted()
  const afterIssue = accepted.filter((a) => firstIssue !== undefined && a.atUs >= firstIssue)
  const lastEffectiveUs = afterIssue.length === 0 ? null : Math.max(...afterIssue.map((a) => a.atUs))

  const metrics: RunMetrics = {
    nodes: world.nodes.length,
    honest: world.honest.length,
    virtualMs: now / 1000,
    antiEntropyMs: interval,
    beaconMs: s.protocol.beacon,
    maxStalenessMs: world.ctx.maxStalenessMs,
    linkMedianMs: medianLatencyMs(s.link.latency),
    revocations,
    traffic: {
      framesPerPeer: percentiles(stats.map((x) => x.framesSent)),
      bytesPerPeer: percentiles(stats.map((x) => x.bytesSent)),
      totalFrames: sum((x) => x.framesSent),
      totalBytes: sum((x) => x.bytesSent),
      duplicateFrames: sum((x) => x.duplicateFrames),
      duplicateChainEntries: obs.duplicateEntries,
      retransmits: sum((x) => x.retransmits),
      corrupted: sum((x) => x.corrupted)
    },
    records: {
      ...obs.recordTraffic,
      copiesPerRecordPerPeer: round3(obs.recordTraffic.changesCarried / Math.max(1, obs.recordTraffic.receipts)),
      messagesPerRecordPerPeer: round3(obs.recordTraffic.carrying / Math.max(1, obs.recordTraffic.receipts)),
      spreadMs: percentiles(obs.recordDelaysMs)
    },
    forged: adv === null
      ? null
      : {
          attempted: adv.stats.forged,
          badSignatureAttempts: adv.stats.badSignatureAttempts,
          equivocations: adv.stats.equivocations,
          replays: adv.stats.replays,
          floods: adv.stats.floods,
          withheldEntries: adv.stats.withheldEntries,
          framesToHonest: adv.stats.forgedFramesToHonest,
          refusedByHost: adv.stats.refusedByHost,
          beaconsFed: adv.stats.beaconsFed,
          hostile: {
            ...adv.stats.hostile,
            refusals: Object.fromEntries(Object.entries(adv.stats.hostile.refusals).sort())
          },
          storedBeforeHeal: storedBefore,
          effectiveBeforeHeal: exposure.beforeIssue + exposure.beforeKnown + exposure.afterKnown + exposure.afterBeacon,
          effectiveAfterHeal: exposure.effectiveAtEnd,
          honestPeersExposed: exposure.peers,
          exposure
        },
    exposureWindowMs: adv === null || firstIssue === undefined
      ? null
      : lastEffectiveUs === null ? 0 : (lastEffectiveUs - firstIssue) / 1000,
    liveness: {
      converged: convergedUs !== null,
      convergedAfterMs: convergedUs === null ? null : (convergedUs - settleUs) / 1000,
      boundMs: s.settle
    },
    sessions: { opened: obs.sessionsOpened, closed: obs.sessionsClosed },
    cpu: cpuMetrics(world),
    audits: Object.fromEntries(Object.entries(obs.audits).sort()),
    perf: {
      wallMs: Math.round(wallMs),
      setupMs: Math.round(setupMs),
      speedup: round3(now / 1000 / Math.max(1, wallMs)),
      events: world.scheduler.executed
    }
  }

  const report: ReportData = {
    lanes: world.nodes.map((n) => ({
      name: n.name,
      role: n.identity.role,
      arrivals: world.revocations.map(
        (r) => { const a = obs.arrivals[r.index].get(n.index); return a === undefined ? null : a.atUs / 1000 }
      ),
      hops: world.revocations.map((r) => obs.arrivals[r.index].get(n.index)?.hops ?? null)
    })),
    spans: [...obs.spans, ...oracle.staleSpans].map(
      (x) => ({ node: x.node, kind: x.kind, fromMs: x.fromUs / 1000, toMs: (x.toUs ?? settleUs) / 1000 })
    ),
    revocations: world.revocations.map((r) => ({ label: r.label, issuedMs: r.issuedUs / 1000 })),
    marks: s.schedule.filter((st) => st.action !== 'writes').map((st) => ({ atMs: st.at, label: `${st.action} ${String(st[st.action] ?? '')}`.trim() })),
    forgedAccepted: accepted.map((a) => ({ node: a.node, atMs: a.atUs / 1000 })),
    endMs: now / 1000,
    settleMs: settleUs / 1000,
    peers: world.honest.map((p) => {
      const held = oracle.heldAt(p)
      return {
        node: p,
        relayedBy: world.revocations.map(
          (r) => { const f = obs.arrivals[r.index].get(p)?.from; return f === undefined ? null : world.nodes[f].name }
        ),
        heldAtMs: world.revocations.map(
          (r) => { const t = held.get(r.index); return t === undefined ? null : t / 1000 }
        ),
        forged: oracle.exposureOf(p) ??
          { beforeIssue: 0, beforeKnown: 0, afterKnown: 0, afterBeacon: 0, effectiveAtEnd: 0 }
      }
    }),
    partitions: partitionIntervals(trace, now)
  }
  return {
    scenario: s.name,
    seed,
    mode: s.mode,
    ok: obs.violations.length === 0,
    violations: obs.violations,
    metrics,
    report,
    trace
  }
}

// The honest nodes' processors: every frame's wait, and the busiest nodes.
function cpuMetrics (world: World): CpuMetrics | null {
  const model = world.net.cpu
  if (!cpuEnabled(model)) return null
  const now = Math.max(1, world.scheduler.now)
  const queues = world.honest.map((i) => ({ node: world.nodes[i].name, q: world.net.cpuOf(i) }))
  const ms = (us: readonly number[]): number[] => us.map((x) => x / 1000)
  const busiest = [...queues].sort((a, b) => b.q.busyUs - a.q.busyUs).slice(0, 5)
  return {
    perMessageUs: model.perMessageUs,
    perKibUs: model.perKibUs,
    queueDelayMs: percentiles(ms(queues.flatMap((x) => x.q.waitsUs))),
    busiest: busiest.map((x) => ({
      node: x.node,
      busyMs: round3(x.q.busyUs / 1000),
      // Six decimals: a lightly loaded node is busy well under a thousandth of the run.
      busyFraction: Math.round(x.q.busyUs / now * 1e6) / 1e6,
      queueDelayMs: percentiles(ms(x.q.waitsUs))
    }))
  }
}

// Partition intervals read back from the trace: each partition-on opens one, the partition-off
// naming its id closes it (still open at the end: closed at `endUs`).
function partitionIntervals (trace: TraceWriter, endUs: number): NonNullable<ReportData['partitions']> {
  const out: NonNullable<ReportData['partitions']> = []
  const open = new Map<string, NonNullable<ReportData['partitions']>[number]>()
  for (const line of trace.lines()) {
    if (!line.includes('"ev":"partition-o')) continue
    const ev = JSON.parse(line) as {
      ev: string,
      t: number,
      id?: string,
      shape?: string,
      groups?: string[] | null,
      ids?: string[]
    }
    if (ev.ev === 'partition-on' && ev.id !== undefined) {
      const p = { id: ev.id, shape: ev.shape ?? '', fromMs: ev.t, toMs: endUs / 1000, groups: ev.groups ?? null }
      open.set(ev.id, p)
      out.push(p)
    } else if (ev.ev === 'partition-off') {
      for (const id of ev.ids ?? []) { const p = open.get(id); if (p !== undefined) { p.toMs = ev.t; open.delete(id) } }
    }
  }
  return out
}

// The dial graph as undirected adjacency lists (an edge is dialled from one end only).
function undirected (world: World): number[][] {
  const edges: number[][] = world.nodes.map(() => [])
  for (const n of world.nodes) for (const j of n.neighbors) { edges[n.index].push(j); edges[j].push(n.index) }
  return edges
}
