/**
 * Scale benchmark of the partition simulator: 1,000 peers (sim/scenarios/scale-1000.toml) in
 * full fidelity and in model mode; prints the revocation's relay hops against the Mothership's eccentricity
 * and how many times faster than real time each mode ran, and writes bench/out/sim-scale.json.
 *
 * npx tsx bench/sim-scale.ts [full|model|both] [seed] [peers]
 * Under `npm run bench` it reports rows to the harness table; `--quick` runs 100 peers, model mode.
 */
import '../node/compat.js'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { loadScenario } from '../sim/scenario.js'
import { runScenarioAsync } from '../sim/run.js'
import { report, settings, type Row } from './lib/harness.js'

const quick = settings.seconds < 1
const which = process.argv[2] ?? (quick ? 'model' : 'both')
const seed = Number(process.argv[3] ?? 1000)
const peers = Number(process.argv[4] ?? (quick ? 100 : 1000))
const written = loadScenario('sim/scenarios/scale-1000.toml')
const scenario = { ...written, peers: { ...written.peers, count: peers }, schedule: written.schedule.map((st) => st.revoke === 'peer-500' ? { ...st, revoke: `peer-${String(Math.floor(peers / 2)).padStart(3, '0')}` } : st) }
const rows: Record<string, unknown>[] = []
for (const mode of (which === 'both' ? ['full', 'model'] : [which]) as Array<'full' | 'model'>) {
  const cpu0 = process.cpuUsage()
  const r = await runScenarioAsync(scenario, {
    seed,
    mode,
    onProgress: (p) => process.stderr.write(`\r${mode} ${p.phase} ${Math.round(p.virtualMs / 1000)}s / ${Math.round(p.untilMs / 1000)}s, ${p.events} events, ${Math.round(p.wallMs / 1000)}s wall   `)
  })
  const cpu = process.cpuUsage(cpu0)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const rev = r.metrics.revocations[0]
  // The schedule phase is what "x real time" means; the settle phase is cut short once
  // every peer converged, so the whole run's virtual time is reported too.
  const row = {
    mode,
    seed,
    peers: r.metrics.honest,
    ok: r.ok,
    violations: r.violations.map((v) => `${v.property}: ${v.detail}`),
    virtualMs: r.metrics.virtualMs,
    wallMs: r.metrics.perf.wallMs,
    cpuMs: Math.round(cpuMs),
    speedupWall: r.metrics.perf.speedup,
    speedupCpu: Math.round(r.metrics.virtualMs / cpuMs * 10) / 10,
    // Building the World (keys, the admitted chain, one Automerge log per peer) is part of the
    // run's wall time above; here it is on its own, and the speed of the simulation without it.
    setupMs: r.metrics.perf.setupMs,
    speedupWallAfterSetup: Math.round(
      r.metrics.virtualMs / Math.max(1, r.metrics.perf.wallMs - r.metrics.perf.setupMs) * 10
    ) / 10,
    events: r.metrics.perf.events,
    frames: r.metrics.traffic.totalFrames,
    coverage: rev.coverage,
    delayMs: rev.delayMs,
    hops: rev.hops,
    eccentricity: rev.eccentricity,
    hopsOverEccentricity: rev.hopsOverEccentricity,
    delayInLinkMedians: rev.delayInLinkMedians,
    messagesPerPeer: rev.messagesPerPeer,
    records: r.metrics.records,
    loadavg1: Math.round(loadavg()[0] * 100) / 100,
    cores: cpus().length
  }
  rows.push(row)
  process.stderr.write('\n')
  console.log(JSON.stringify(row))
}
mkdirSync('bench/out', { recursive: true })
writeFileSync(`bench/out/sim-scale-${which}-${seed}-${peers}.json`, JSON.stringify(rows, null, 2) + '\n')
const table: Row[] = rows.flatMap((r) => [
  { label: `${r.mode}, ${r.peers} peers: x real time`, unit: 'x', median: r.speedupWall as number, runs: [r.speedupWall as number], cpuMedian: r.speedupCpu as number, cpuRuns: [r.speedupCpu as number], note: `${r.virtualMs as number / 1000}s simulated` },
  { label: `${r.mode}, ${r.peers} peers: revocation max hops / eccentricity`, unit: 'ratio', median: r.hopsOverEccentricity as number, runs: [r.hopsOverEccentricity as number], note: r.ok === true ? 'no violations' : 'VIOLATIONS' },
  { label: `${r.mode}, ${r.peers} peers: revocation messages per peer`, unit: 'messages', median: r.messagesPerPeer as number, runs: [r.messagesPerPeer as number] }
])
if (process.env.BENCH_RESULT_FILE !== undefined) report('sim-scale', 'partition simulator at scale: speed, and revocation hops vs eccentricity', table)
