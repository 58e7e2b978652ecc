/**
 * The incident page's cost to the daemon: while a page is open, every change of the chain or of
 * the records (at most once per 200 ms tick) builds the whole page state (node/ui/state.ts) on
 * the daemon's event loop. Measured on a Mothership holding N of its own signed intents
 * (`BENCH_UI_RECORDS`, default 1,000 and 10,000), with a receipt every 100 records and a
 * lockdown and unlock on the revocation front: milliseconds per state build (wall clock and
 * CPU). Checks the state names every record holder it should.
 *
 * @example
 * npx tsx bench/ui-state.ts          # or: npm run bench -- ui-state
 */
import '../node/compat.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initHome } from '../node/home.js'
import { runOperation } from '../node/operations.js'
import { NodeRuntime } from '../node/runtime.js'
import { receiptSummary, summaryJson } from '../node/sync/receipts.js'
import { incidentState } from '../node/ui/state.js'
import { median, report, settings, type Row } from './lib/harness.js'

const SIZES = (process.env.BENCH_UI_RECORDS ?? '1000,10000').split(',').map(Number)

async function measureAt (n: number): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-bench-ui-'))
  const home = join(dir, 'home')
  await initHome(home)
  const rt = await NodeRuntime.open(home, { flags: { 'quotas.records_per_hour': String(2 * n + 100), 'quotas.bytes_per_hour': String(4096 * n + 1_000_000) } })
  try {
    await runOperation('mothership-init', { team: 'acme', user: 'ops' }, { rt })
    await runOperation('lockdown', { reason: 'bench' }, { rt })
    await runOperation('unlock', { reason: 'bench' }, { rt })
    const text = 'move the token check ahead of session creation and log the refusal reason; '.repeat(4).slice(0, 300)
    for (let i = 0; i < n; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, n - i) }, async (_, k) => await rt.appendRecord({ kind: 'intent', text: `${i + k} ${text}` })))
      const chain = rt.requireChain()
      await rt.appendRecord({ kind: 'receipt', text: '', data: summaryJson(receiptSummary(rt.store.intent.log.records(), chain.head)) })
    }
    const run = async (op: string, p: Record<string, unknown>): Promise<any> => await runOperation(op, p, { rt })
    const first = await incidentState(rt, run, { actions: false }) as {
      front: Array<{ kind: string, confirmed: number }>
      status: { records: { total: number } }
    }
    if (first.status.records.total < n || first.front[0]?.kind !== 'unlock' || first.front[0].confirmed !== 1) throw new Error(`the state is wrong: ${JSON.stringify({ total: first.status.records.total, front: first.front })}`)
    const wall: number[] = []
    const cpu: number[] = []
    for (let r = 0; r < settings.runs; r++) {
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      await incidentState(rt, run, { actions: false })
      wall.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpu.push((c.user + c.system) / 1000)
    }
    process.stderr.write(`${n} records: state build ${median(wall).toFixed(1)} ms (CPU ${median(cpu).toFixed(1)} ms)\n`)
    return [
      { label: `state build, ${n} records`, unit: 'ms', median: median(wall), runs: wall },
      { label: `state build CPU, ${n} records`, unit: 'ms', median: median(cpu), runs: cpu }
    ]
  } finally {
    await rt.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const rows: Row[] = []
for (const n of SIZES) rows.push(...await measureAt(n))
report('ui-state', 'building the incident page state (node/ui/state.ts) on a Mothership with N records', rows)
