/**
 * Replication, Aura beside Hypercore 11, in one run on this machine, with the same records:
 * 10,000 signed intents (~300 B of text, ~750 canonical bytes each; ten writers taking turns),
 * every peer in its own process, over TCP on 127.0.0.1.
 *
 * 1. Full replication to a fresh peer: a seeded peer (NodeStore with the records, libp2p Host,
 *    SyncEngine) and a fresh peer started in a new process per trial; timed from the fresh
 *    peer's dial until its IntentLog holds every record (staged merge: decoded, signatures
 *    verified), and until they are durable in its store. Hypercore: a writer holding the same
 *    records as blocks, a reader in a new process per trial, `replicate(isInitiator,
 *    { keepAlive: false })` over a net.Socket, timed from connect until every block is held.
 *    One uncounted warm-up trial each first; trials alternate between the tools.
 * 2. One new intent to a connected peer: appended on the seeded peer as the daemon does
 *    (signed, durable, pushed), timed until the other process holds it (both read the one
 *    system-wide monotonic clock); bytes on the wire per intent, through a counting relay.
 * 3. Idle cost: bytes per peer per second with nothing to sync, anti-entropy at 10 s (the
 *    default `sync.anti_entropy_interval`) and at 1 s, at the Link layer and on the wire.
 *
 * @example
 * npm run bench -- replication          # table on stdout, bench/out/replication.json
 * BENCH_RUNS=9 npx tsx bench/replication.ts
 * BENCH_REPL_PROFILE=/tmp/prof npx tsx bench/replication.ts   # CPU profile of each fresh Aura peer
 */
import '../node/compat.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { median, report, settings, type Row } from './lib/harness.js'
import { benchTeam, makeRecords, writeRecordFile } from './lib/replication-data.js'
import { Peer } from './lib/rpc.js'
import { startTcpMeter } from './lib/tcp-meter.js'

const RECORDS = Number(process.env.BENCH_REPL_RECORDS ?? 10_000)
const WRITERS = 10
const PER_CHANGE = Number(process.env.BENCH_REPL_PER_CHANGE ?? 10)
const INTENTS = Number(process.env.BENCH_REPL_INTENTS ?? 200)
const GAP_MS = 20
const GOALS = { fullS: 1.0, p50Ms: 15, bytesPerIntent: 700 }
const AURA = new URL('./lib/aura-peer.ts', import.meta.url)
const HYPERCORE = new URL('./lib/hypercore-peer.ts', import.meta.url)

interface Counts { sentFrames: number, sentBytes: number, recvFrames: number, recvBytes: number }
interface AuraFull {
  dialMs: number
  bulkArrivedMs: number
  heldMs: number
  durableMs: number
  cpuMs: number
  mainCpuMs: number
  durableCpuMs: number
  verified: { workers: number, here: number }
  size: number
  digest: string
  recvBytes: number
  sentBytes: number
  recvFrames: number
  maxRssMiB: number
}
interface HcFull { heldMs: number, cpuMs: number, size: number, digest: string, maxRssMiB: number }
interface Trial<T> { result: T, seedCpuMs: number, load: number }
interface Started { addr: string, peerId: string, digest: string }

const log = (s: string): void => { process.stderr.write(`${s}\n`) }
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))
const load1 = (): number => loadavg()[0]
const msBetween = (a: bigint, b: bigint): number => Number(b - a) / 1e6
const portOf = (addr: string): number => Number(/\/tcp\/(\d+)/.exec(addr)?.[1])

function percentile (xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

function check (ok: boolean, what: string): void {
  if (!ok) throw new Error(`correctness check failed: ${what}`)
}

// BENCH_REPL_PROFILE=<dir>: each fresh Aura peer writes a V8 CPU profile there (open it in Chrome DevTools).
const PROFILE = process.env.BENCH_REPL_PROFILE

async function auraTrial (seeded: Peer, a: Started, dir: string): Promise<Trial<AuraFull>> {
  const b = await Peer.start(AURA, PROFILE === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`])
  try {
    await b.call('start', { dir, name: 'bob', writers: WRITERS })
    const cpu0 = await seeded.call<number>('cpu')
    const load = load1()
    const result = await b.call<AuraFull>('replicate', { addr: a.addr, expect: RECORDS })
    const seedCpuMs = await seeded.call<number>('cpu') - cpu0
    check(result.size === RECORDS && result.digest === a.digest, `Aura fresh peer holds ${result.size} records, digest ${result.digest} (want ${a.digest})`)
    return { result, seedCpuMs, load }
  } finally {
    await b.stop()
  }
}

async function hypercoreTrial (
  writer: Peer,
  port: number,
  key: Uint8Array,
  digest: string,
  dir: string
): Promise<Trial<HcFull>> {
  const r = await Peer.start(HYPERCORE)
  try {
    await r.call('fresh', { dir, key })
    const cpu0 = await writer.call<number>('cpu')
    const load = load1()
    const result = await r.call<HcFull>('replicate', { port, expect: RECORDS })
    const seedCpuMs = await writer.call<number>('cpu') - cpu0
    check(result.size === RECORDS && result.digest === digest, `Hypercore reader holds ${result.size} blocks, digest ${result.digest} (want ${digest})`)
    return { result, seedCpuMs, load }
  } finally {
    await r.stop()
  }
}

/** Appends INTENTS times on `writer`, each awaited at `reader`; latency and local time in ms. */
async function oneAtATime (
  writer: Peer,
  reader: Peer,
  heldArg: (appended: any) => unknown
): Promise<{ latency: number[], local: number[] }> {
  const latency: number[] = []
  const local: number[] = []
  for (let i = 0; i < INTENTS; i++) {
    const appended = await writer.call<{ t0: bigint, durable: bigint }>('append')
    const held = await reader.call<bigint>('heldAt', heldArg(appended), 30_000)
    latency.push(msBetween(appended.t0, held))
    local.push(msBetween(appended.t0, appended.durable))
    await sleep(GAP_MS)
  }
  // Let the last acknowledgements cross before the byte counts are read.
  await sleep(300)
  return { latency, local }
}

function deltaCounts (a: Counts, b: Counts): Counts {
  return {
    sentFrames: b.sentFrames - a.sentFrames,
    sentBytes: b.sentBytes - a.sentBytes,
    recvFrames: b.recvFrames - a.recvFrames,
    recvBytes: b.recvBytes - a.recvBytes
  }
}

async function main (): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'aura-bench-repl-'))
  const peers: Peer[] = []
  const loads: number[] = [load1()]
  try {
    log(`making ${RECORDS + INTENTS} signed records (load ${load1().toFixed(1)})`)
    const team = benchTeam(WRITERS)
    const records = makeRecords(RECORDS + INTENTS, team)
    const recordsFile = join(scratch, 'records.bin')
    const extraFile = join(scratch, 'extra.bin')
    writeRecordFile(recordsFile, records.slice(0, RECORDS))
    writeRecordFile(extraFile, records.slice(RECORDS))
    const recordBytes = median(records.map((r) => r.bytes.length))

    const seeded = await Peer.start(AURA)
    peers.push(seeded)
    const writer = await Peer.start(HYPERCORE)
    peers.push(writer)
    const [auraBuilt, hcBuilt] = await Promise.all([
      seeded.call<{ size: number, docBytes: number, buildMs: number }>('build', { dir: join(scratch, 'aura-seeded'), recordsFile, perChange: PER_CHANGE }),
      writer.call<{ size: number, digest: string, buildMs: number }>('build', { dir: join(scratch, 'hc-writer'), recordsFile, extraFile, perChange: PER_CHANGE })
    ])
    const a = await seeded.call<Started>('start', { dir: join(scratch, 'aura-seeded'), name: 'alice', writers: WRITERS })
    const hc = await writer.call<{ port: number, key: Uint8Array }>('serve')
    check(auraBuilt.size === RECORDS && hcBuilt.size === RECORDS && a.digest === hcBuilt.digest, 'both seeded peers hold the same records')
    log(`seeded: Aura ${auraBuilt.size} records (document ${auraBuilt.docBytes} B, built in ${(auraBuilt.buildMs / 1000).toFixed(1)} s), Hypercore ${hcBuilt.size} blocks (${(hcBuilt.buildMs / 1000).toFixed(1)} s)`)

    // 1. Full replication.
    const aura: Array<Trial<AuraFull>> = []
    const hyper: Array<Trial<HcFull>> = []
    for (let i = 0; i <= settings.runs; i++) {
      const runAura = async (): Promise<void> => {
        const t = await auraTrial(seeded, a, join(scratch, `aura-fresh-${i}`))
        if (i > 0) aura.push(t)
        log(`  ${i === 0 ? 'warm-up' : `trial ${i}`} Aura: link open ${t.result.dialMs.toFixed(0)} ms, records message in ${t.result.bulkArrivedMs.toFixed(0)} ms, held ${t.result.heldMs.toFixed(0)} ms, durable ${t.result.durableMs.toFixed(0)} ms, fresh CPU ${t.result.cpuMs.toFixed(0)} ms (main thread ${t.result.mainCpuMs} ms; ${t.result.verified.workers} signatures on workers), seeded CPU ${t.seedCpuMs.toFixed(0)} ms, ${t.result.recvBytes} B in (load ${t.load.toFixed(1)})`)
      }
      const runHc = async (): Promise<void> => {
        const t = await hypercoreTrial(writer, hc.port, hc.key, hcBuilt.digest, join(scratch, `hc-fresh-${i}`))
        if (i > 0) hyper.push(t)
        log(`  ${i === 0 ? 'warm-up' : `trial ${i}`} Hypercore: held ${t.result.heldMs.toFixed(0)} ms, reader CPU ${t.result.cpuMs.toFixed(0)} ms, writer CPU ${t.seedCpuMs.toFixed(0)} ms (load ${t.load.toFixed(1)})`)
      }
      if (i % 2 === 0) { await runAura(); await runHc() } else { await runHc(); await runAura() }
      loads.push(load1())
    }

    // 2 and 3, Aura: a fresh peer through the counting relay, kept connected.
    const auraMeter = await startTcpMeter(portOf(a.addr))
    const b = await Peer.start(AURA)
    peers.push(b)
    await b.call('start', { dir: join(scratch, 'aura-connected'), name: 'bob', writers: WRITERS })
    const metered = await b.call<AuraFull>('replicate', { addr: `/ip4/127.0.0.1/tcp/${auraMeter.port}/p2p/${a.peerId}`, expect: RECORDS })
    check(metered.size === RECORDS && metered.digest === a.digest, 'Aura peer behind the relay holds every record')
    await sleep(500)
    const auraFullWire = auraMeter.bytes()
    const w0 = auraMeter.bytes()
    const ca0 = await seeded.call<Counts>('counts')
    const auraOne = await oneAtATime(seeded, b, (x: { id: string }) => ({ id: x.id }))
    const w1 = auraMeter.bytes()
    const auraLink = deltaCounts(ca0, await seeded.call<Counts>('counts'))
    const auraWirePerIntent = (w1.up - w0.up + w1.down - w0.down) / INTENTS
    const auraLinkPerIntent = (auraLink.sentBytes + auraLink.recvBytes) / INTENTS
    log(`Aura one intent: p50 ${percentile(auraOne.latency, 0.5).toFixed(2)} ms, p99 ${percentile(auraOne.latency, 0.99).toFixed(2)} ms, ${auraWirePerIntent.toFixed(0)} B on the wire, ${auraLinkPerIntent.toFixed(0)} B at the Link layer before compression (${(auraLink.sentFrames + auraLink.recvFrames) / INTENTS} frames)`)

    const idle: Array<{
      intervalS: number
      seconds: number
      linkPerPeer: number
      wirePerPeer: number
      ticks: number
      linkPerTick: number
    }> = []
    for (const intervalMs of [10_000, 1000]) {
      const windowMs = intervalMs * (intervalMs >= 10_000 ? 1.5 : 5.5)
      const ticks = Math.floor(windowMs / intervalMs)
      const m0 = auraMeter.bytes()
      const x0 = await seeded.call<Counts>('counts')
      const y0 = await b.call<Counts>('counts')
      await Promise.all([seeded.call('tick', { intervalMs }), b.call('tick', { intervalMs })])
      await sleep(windowMs)
      await Promise.all([seeded.call('tick', { intervalMs: 0 }), b.call('tick', { intervalMs: 0 })])
      const m1 = auraMeter.bytes()
      const x = deltaCounts(x0, await seeded.call<Counts>('counts'))
      const y = deltaCounts(y0, await b.call<Counts>('counts'))
      const seconds = windowMs / 1000
      const link = x.sentBytes + y.sentBytes
      const wire = m1.up - m0.up + m1.down - m0.down
      idle.push({
        intervalS: intervalMs / 1000,
        seconds,
        linkPerPeer: link / 2 / seconds,
        wirePerPeer: wire / 2 / seconds,
        ticks,
        linkPerTick: link / 2 / ticks
      })
      log(`Aura idle, anti-entropy every ${intervalMs / 1000} s: ${(link / 2 / seconds).toFixed(1)} B/s per peer at the Link layer, ${(wire / 2 / seconds).toFixed(1)} B/s on the wire (${x.sentFrames + y.sentFrames} frames in ${seconds} s)`)
    }
    await b.stop()
    await auraMeter.close()

    // 2 and 3, Hypercore.
    const hcMeter = await startTcpMeter(hc.port)
    const r = await Peer.start(HYPERCORE)
    peers.push(r)
    await r.call('fresh', { dir: join(scratch, 'hc-connected'), key: hc.key })
    await r.call<HcFull>('replicate', { port: hcMeter.port, expect: RECORDS })
    await sleep(500)
    const hcFullWire = hcMeter.bytes()
    const h0 = hcMeter.bytes()
    const hcOne = await oneAtATime(writer, r, (x: { index: number }) => ({ index: x.index }))
    const h1 = hcMeter.bytes()
    const hcWirePerIntent = (h1.up - h0.up + h1.down - h0.down) / INTENTS
    log(`Hypercore one block: p50 ${percentile(hcOne.latency, 0.5).toFixed(2)} ms, p99 ${percentile(hcOne.latency, 0.99).toFixed(2)} ms, ${hcWirePerIntent.toFixed(0)} B on the wire`)
    const hcIdleSeconds = 5
    const i0 = hcMeter.bytes()
    await sleep(hcIdleSeconds * 1000)
    const i1 = hcMeter.bytes()
    const hcIdle = (i1.up - i0.up + i1.down - i0.down) / 2 / hcIdleSeconds
    await r.stop()
    await hcMeter.close()
    loads.push(load1())

    // The table.
    const auraHeld = aura.map((t) => t.result.heldMs / 1000)
    const hcHeld = hyper.map((t) => t.result.heldMs / 1000)
    const ratios = aura.map((t, i) => t.result.heldMs / hyper[i].result.heldMs)
    const durableRatios = aura.map((t, i) => t.result.durableMs / hyper[i].result.heldMs)
    const perRecordUs = (msList: number[]): string => (med(msList) * 1000 / RECORDS).toFixed(1)
    const med = (xs: number[]): number => median(xs)
    const range = (xs: number[], d = 2): string => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`
    const rowsOut: Array<[string, string, string, string]> = [
      ['full replication, fresh peer holds all (s)', `${med(auraHeld).toFixed(3)} (${range(auraHeld)})`, `${med(hcHeld).toFixed(3)} (${range(hcHeld)})`, `<= ${GOALS.fullS}`],
      ['  ratio Aura / Hypercore (per trial pair)', `${med(ratios).toFixed(2)} (${range(ratios)})`, '1', ''],
      ['  of which: link open; records message arrived (s)', `${med(aura.map((t) => t.result.dialMs / 1000)).toFixed(3)}; ${med(aura.map((t) => t.result.bulkArrivedMs / 1000)).toFixed(3)}`, '', ''],
      ['  durable in the fresh peer\'s store (s)', med(aura.map((t) => t.result.durableMs / 1000)).toFixed(3), '(stored on arrival)', ''],
      ['  ratio durable Aura / Hypercore (per trial pair)', `${med(durableRatios).toFixed(2)} (${range(durableRatios)})`, '1', '<= 0.7'],
      ['  per record, held; durable (µs)', `${perRecordUs(aura.map((t) => t.result.heldMs))}; ${perRecordUs(aura.map((t) => t.result.durableMs))}`, perRecordUs(hyper.map((t) => t.result.heldMs)), ''],
      ['  peak RSS of the fresh peer\'s process (MiB)', med(aura.map((t) => t.result.maxRssMiB)).toFixed(0), med(hyper.map((t) => t.result.maxRssMiB)).toFixed(0), ''],
      ['  CPU of the fresh peer until it holds all (s)', med(aura.map((t) => t.result.cpuMs / 1000)).toFixed(3), med(hyper.map((t) => t.result.cpuMs / 1000)).toFixed(3), ''],
      ['    of which its main thread (s)', med(aura.map((t) => t.result.mainCpuMs / 1000)).toFixed(3), '', ''],
      ['  CPU of the fresh peer until durable (s)', med(aura.map((t) => t.result.durableCpuMs / 1000)).toFixed(3), '', ''],
      ['  CPU of the seeded peer (s)', med(aura.map((t) => t.seedCpuMs / 1000)).toFixed(3), med(hyper.map((t) => t.seedCpuMs / 1000)).toFixed(3), ''],
      ['  bytes on the wire, both ways (MB)', ((auraFullWire.up + auraFullWire.down) / 1e6).toFixed(2), ((hcFullWire.up + hcFullWire.down) / 1e6).toFixed(2), ''],
      ['one new intent, append -> held, p50 (ms)', percentile(auraOne.latency, 0.5).toFixed(2), percentile(hcOne.latency, 0.5).toFixed(2), `<= ${GOALS.p50Ms}`],
      ['one new intent, p99 (ms)', percentile(auraOne.latency, 0.99).toFixed(2), percentile(hcOne.latency, 0.99).toFixed(2), ''],
      ['  of which the local append, p50 (ms)', percentile(auraOne.local, 0.5).toFixed(2), percentile(hcOne.local, 0.5).toFixed(2), ''],
      ['bytes on the wire per intent', auraWirePerIntent.toFixed(0), hcWirePerIntent.toFixed(0), `<= ${GOALS.bytesPerIntent}`],
      ['  at the Link layer (sync messages before compression)', auraLinkPerIntent.toFixed(0), '', ''],
      ...idle.map((x): [string, string, string, string] => [`idle, anti-entropy every ${x.intervalS} s: B/s per peer (wire)`, `${x.wirePerPeer.toFixed(1)} (Link ${x.linkPerPeer.toFixed(1)}; ${x.linkPerTick.toFixed(0)} B/tick)`, x.intervalS === 10 ? `${hcIdle.toFixed(1)} (keepAlive off)` : '', ''])
    ]
    const widths = [0, 1, 2, 3].map((c) => Math.max(...rowsOut.map((row) => row[c].length), ['', 'Aura', 'Hypercore 11', 'goal'][c].length))
    const line = (cells: string[]): string => cells.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()
    console.log(`\nReplication, ${RECORDS.toLocaleString('en-US')} records of ${recordBytes} B (signed, ~300 B text), two processes each over TCP on 127.0.0.1; Node ${process.version}`)
    console.log(`median of ${aura.length} trials per tool after one warm-up; load average (1 min) ${range(loads, 1)} over the run`)
    console.log(line(['', 'Aura', 'Hypercore 11', 'goal']))
    console.log(widths.map((w) => '-'.repeat(w)).join('  '))
    for (const row of rowsOut) console.log(line(row))
    console.log(`(intent latency: ${INTENTS} appends ${GAP_MS} ms apart on an open connection through a counting TCP relay; Aura appends are fsynced before the push)`)

    const row = (
      label: string,
      unit: string,
      runs: number[],
      note?: string
    ): Row => ({ label, unit, median: median(runs), runs, note })
    report('replication', `Full replication of ${RECORDS} records to a fresh peer, one new intent, idle anti-entropy: Aura beside Hypercore 11, two processes over TCP on 127.0.0.1`, [
      row('full replication: Aura (held, verified)', 's', auraHeld, `loads ${aura.map((t) => t.load.toFixed(1)).join(' ')}`),
      row('full replication: Hypercore 11', 's', hcHeld, `loads ${hyper.map((t) => t.load.toFixed(1)).join(' ')}`),
      row('full replication: ratio Aura / Hypercore', 'x', ratios),
      row('full replication: Aura link open (dial + stream)', 's', aura.map((t) => t.result.dialMs / 1000)),
      row('full replication: Aura records message arrived', 's', aura.map((t) => t.result.bulkArrivedMs / 1000)),
      row('full replication: Aura durable in store', 's', aura.map((t) => t.result.durableMs / 1000)),
      row('full replication: ratio Aura durable / Hypercore', 'x', durableRatios),
      row('full replication: Aura fresh peer peak RSS', 'MiB', aura.map((t) => t.result.maxRssMiB)),
      row('full replication: Hypercore reader peak RSS', 'MiB', hyper.map((t) => t.result.maxRssMiB)),
      row('full replication: Aura fresh peer CPU until held', 's', aura.map((t) => t.result.cpuMs / 1000)),
      row('full replication: Aura fresh peer main-thread CPU until held', 's', aura.map((t) => t.result.mainCpuMs / 1000), `signatures checked on workers: ${aura.map((t) => t.result.verified.workers).join(' ')} of ${RECORDS}`),
      row('full replication: Aura fresh peer CPU until durable', 's', aura.map((t) => t.result.durableCpuMs / 1000)),
      row('full replication: Hypercore reader CPU', 's', hyper.map((t) => t.result.cpuMs / 1000)),
      row('full replication: Aura seeded peer CPU', 's', aura.map((t) => t.seedCpuMs / 1000)),
      row('full replication: Hypercore writer CPU', 's', hyper.map((t) => t.seedCpuMs / 1000)),
      row('full replication: Aura wire bytes', 'B', [auraFullWire.up + auraFullWire.down]),
      row('full replication: Hypercore wire bytes', 'B', [hcFullWire.up + hcFullWire.down]),
      row('full replication: Aura via relay (held)', 's', [metered.heldMs / 1000]),
      row('one intent: Aura p50', 'ms', [percentile(auraOne.latency, 0.5)]),
      row('one intent: Aura p99', 'ms', [percentile(auraOne.latency, 0.99)]),
      row('one intent: Aura local durable append p50', 'ms', [percentile(auraOne.local, 0.5)]),
      row('one intent: Hypercore p50', 'ms', [percentile(hcOne.latency, 0.5)]),
      row('one intent: Hypercore p99', 'ms', [percentile(hcOne.latency, 0.99)]),
      row('one intent: Aura wire bytes', 'B', [auraWirePerIntent]),
      row('one intent: Aura Link-layer bytes', 'B', [auraLinkPerIntent]),
      row('one intent: Hypercore wire bytes', 'B', [hcWirePerIntent]),
      ...idle.map((x) => row(`idle: Aura, anti-entropy ${x.intervalS} s, wire per peer`, 'B/s', [x.wirePerPeer], `Link layer ${x.linkPerPeer.toFixed(1)} B/s, ${x.linkPerTick.toFixed(0)} B per tick`)),
      row('idle: Hypercore (keepAlive off), wire per peer', 'B/s', [hcIdle])
    ])
  } finally {
    for (const p of peers) await p.stop()
    rmSync(scratch, { recursive: true, force: true })
  }
}

await main()
