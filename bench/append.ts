/**
 * Signed-intent appends to the durable store (LevelDB, fsync on): one writer awaiting each
 * append (appends/s, p50/p99 latency), and 64 appends in flight at once through group commit
 * (appends/s, latency), each with the process's CPU time per append. Records carry ~300 bytes of text (~750 canonical
 * bytes signed). Each case runs on a fresh store and again on one that already holds 10,000 records, since every
 * Automerge change gets slower as the document grows. After each run the store is reopened
 * and every acknowledged record must be there, or the benchmark fails.
 *
 * @example
 * npx tsx bench/append.ts          # or: npm run bench -- append
 */
import '../node/compat.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keyPairFromSeed } from '../crdt/crypto.js'
import { keyIdOf } from '../crdt/ids.js'
import { IntentWriter, type IntentFields } from '../node/store/intent-writer.js'
import { FileSeqReserve, SEQ_DIR } from '../node/store/seq-reserve.js'
import { NodeStore } from '../node/store/node-store.js'
import { median, report, settings, type Row } from './lib/harness.js'

const key = keyPairFromSeed(randomBytes(32))
const clock = { now: () => Date.now() }
const AUTH = { seq: 0, hash: '0'.repeat(64) }
const PREFILL = Number(process.env.BENCH_APPEND_PREFILL ?? 10_000)

function fields (i: number): IntentFields {
  const text = (`intent ${i}: move the token check ahead of session creation and log the refusal reason; `.repeat(4)).slice(0, 300)
  return { kind: 'intent', actor: 'alice', auth: AUTH, text }
}

interface Sample { perSec: number, p50: number, p99: number, cpuMs: number, n: number }

function percentile (sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}

/** Appends for `seconds` with `inFlight` requests outstanding; latency is per append. */
async function window (writer: IntentWriter, inFlight: number, seconds: number, start: number): Promise<Sample> {
  const lat: number[] = []
  const end = performance.now() + seconds * 1000
  let i = start
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      const s = performance.now()
      await writer.append(fields(i++))
      lat.push(performance.now() - s)
    }
  }))
  const elapsed = (performance.now() - t0) / 1000
  const c = process.cpuUsage(c0)
  lat.sort((a, b) => a - b)
  return {
    perSec: lat.length / elapsed,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    cpuMs: (c.user + c.system) / 1000 / lat.length,
    n: lat.length
  }
}

async function runCase (label: string, inFlight: number, prefill: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-bench-append-'))
  let store = await NodeStore.open(dir)
  try {
    const writer = await IntentWriter.open({ intent: store.intent, key, clock, seqs: await FileSeqReserve.open(join(dir, SEQ_DIR), keyIdOf(key.publicKey)) }, { host: 'bench' })
    for (let i = 0; i < prefill; i += 500) {
      await Promise.all(Array.from({ length: 500 }, async (_, j) => await writer.append(fields(i + j))))
    }
    let acked = prefill
    await window(writer, inFlight, Math.min(0.3, settings.seconds), acked)
    acked = writer.head?.seq ?? 0
    const samples: Sample[] = []
    for (let r = 0; r < settings.runs; r++) {
      const s = await window(writer, inFlight, settings.seconds, acked)
      samples.push(s)
      acked += s.n
    }
    // The figures count only if everything acknowledged is there after a reopen.
    await store.close()
    store = await NodeStore.open(dir)
    const head = await store.intent.head(keyIdOf(key.publicKey))
    if (store.intent.log.size !== acked || head?.seq !== acked) {
      process.stderr.write(`append: ${label}: acknowledged ${acked} appends, the reopened store holds ${store.intent.log.size} (head ${head?.seq})\n`)
      process.exit(1)
    }
    process.stderr.write(`  ${label}: ${samples.map((s) => `${Math.round(s.perSec)}/s p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)} ms cpu ${s.cpuMs.toFixed(2)} ms`).join(' | ')}; ${acked} records\n`)
    const row = (what: string, unit: string, pick: (s: Sample) => number): Row => {
      const runs = samples.map(pick)
      return { label: `${label}: ${what}`, unit, median: median(runs), runs }
    }
    // CPU time per append is the figure that holds when other work shares the machine.
    return [row('throughput', 'appends/s', (s) => s.perSec), row('p50 latency', 'ms', (s) => s.p50),
      row('p99 latency', 'ms', (s) => s.p99), row('CPU per append', 'ms', (s) => s.cpuMs)]
  } finally {
    await store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const rows: Row[] = []
for (const prefill of [0, PREFILL]) {
  const where = prefill === 0 ? 'empty store' : `${prefill.toLocaleString('en-US')} records`
  rows.push(...await runCase(`1 writer, ${where}`, 1, prefill))
  rows.push(...await runCase(`64 in flight, ${where}`, 64, prefill))
}
report('append', 'signed-intent appends to the durable store (LevelDB, fsync), single and group commit', rows)
