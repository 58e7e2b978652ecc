/**
 * Evidence of a large store through a running daemon: `aura trace` and `aura audit export`
 * stream from the daemon row by row, so neither depends on one answer fitting a line. A real
 * daemon holds 10,000 records of ~1.5 KB (the CLI's output ~20 MB each); the same stream is also
 * read with a 64 KiB line limit, which a whole-array answer could never pass.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { streamControl } from '../../node/control/client.js'
import { NodeRuntime } from '../../node/runtime.js'
import { Team } from '../containment/helpers.js'
import { peakRssMb } from './convergence.js'

const RECORDS = 10_000
const TEXT = 'x'.repeat(1500)
let team: Team
/** The daemon's peak RSS once it has opened the large store, before any evidence was asked. */
let rssAtStart = 0

beforeAll(async () => {
  // 10,000 records of the Mothership's own within minutes: above the default team quota (7,200/h).
  team = await Team.create({ peers: [], env: { AURA_QUOTAS_RECORDS_PER_HOUR: '20000' } })
  // Filled while the daemon is stopped (it holds the store), then started on the large store.
  await team.stop('mothership')
  const rt = await NodeRuntime.open(team.m('mothership').home)
  try {
    for (let batch = 0; batch < RECORDS / 1000; batch++) {
      await Promise.all(Array.from({ length: 1000 }, async (_, i) => await rt.appendRecord({ kind: 'intent', text: `${batch * 1000 + i} ${TEXT}` })))
    }
  } finally {
    await rt.close()
  }
  // Opening 10,000 records takes a while on a loaded machine.
  await team.start('mothership', 300_000)
  rssAtStart = Math.round(peakRssMb(team.m('mothership').daemon?.pid as number))
}, 900_000)

afterAll(async () => { await team?.close() }, 60_000)

describe('evidence of a large store through a running daemon', { timeout: 600_000 }, () => {
  it('streams every row through a 64 KiB line limit', async () => {
    let rows = 0
    let largest = 0
    const count = await streamControl(team.m('mothership').home, 'trace', {}, (r) => { rows++; largest = Math.max(largest, JSON.stringify(r).length) }, { maxLineBytes: 64 * 1024 })
    expect(count).toBe(rows)
    expect(rows).toBe(RECORDS)
    // The whole answer is ~16 MB: only row by row does it pass a 64 KiB limit.
    expect(largest).toBeLessThan(64 * 1024)
    expect(rows * largest).toBeGreaterThan(64 * 1024 * 100)
  })

  it('aura trace and aura audit export write every line through the daemon, not the store', async () => {
    const pid = team.m('mothership').daemon?.pid as number
    const t0 = Date.now()
    const trace = await team.sh('mothership', 'aura trace --jsonl > trace.jsonl', 300_000)
    const traced = Date.now() - t0
    expect(trace.code, trace.stderr).toBe(0)
    const t1 = Date.now()
    const exp = await team.sh('mothership', 'aura audit export > export.jsonl', 300_000)
    const exported = Date.now() - t1
    expect(exp.code, exp.stderr).toBe(0)
    const cwd = team.m('mothership').cwd
    const traceLines = (await readFile(path.join(cwd, 'trace.jsonl'), 'utf8')).trimEnd().split('\n')
    expect(traceLines.length).toBe(RECORDS)
    expect(JSON.parse(traceLines[0]).status).toBe('effective')
    const exportLines = (await readFile(path.join(cwd, 'export.jsonl'), 'utf8')).trimEnd().split('\n')
    expect(exportLines.filter((l) => JSON.parse(l).type === 'record').length).toBeGreaterThanOrEqual(RECORDS)
    expect(exp.stderr).toMatch(new RegExp(`${exportLines.length} lines exported`))
    // The daemon answered (it holds the store's lock): a fallback would have failed with E_DAEMON_RUNNING.
    expect(exp.stderr).not.toContain('E_DAEMON_RUNNING')
    const sizes = { trace: (await stat(path.join(cwd, 'trace.jsonl'))).size, export: (await stat(path.join(cwd, 'export.jsonl'))).size }
    const rss = Math.round(peakRssMb(pid))
    process.stdout.write(`large store: ${RECORDS} records; trace ${sizes.trace} B in ${traced} ms, export ${sizes.export} B (${exportLines.length} lines) in ${exported} ms; daemon peak RSS ${rss} MB (${rssAtStart} MB once the store was open)\n`)
    // Streaming holds a row at a time: answering adds little to what opening the store took
    // (~320 MB for 10,000 records of 1.5 KB: the cost of a large store is issue 18's).
    expect(rss - rssAtStart).toBeLessThan(150)
  })
})
