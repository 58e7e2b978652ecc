// report.html as rendered (sim/report-html.ts), read back as text: the per-peer table has one
// row per honest node, slowest first, and its figures add up to the run's (the oracle's exposure
// classes, the revocation's hops and coverage); each relaying peer held the revocation before the
// peer it relayed to; stale spans are drawn where the oracle read peers stale (on the island);
// the partition is named; the zoomed front has one step per peer that learned the revocation.
// beacon-relay at model mode (an island, stale victims, forged records counted): a few seconds.
import { beforeAll, describe, expect, it } from 'vitest'
import { renderReport } from '../../sim/report-html.js'
import type { RunResult } from '../../sim/results.js'
import { runScenario } from '../../sim/run.js'
import { loadScenario } from '../../sim/scenario.js'

interface Row { name: string, cells: string[] }

/** The per-peer table's body rows: the text of each cell, tags stripped. */
function peerRows (html: string): Row[] {
  const table = /<table id="peers">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)
  if (table === null) throw new Error('no per-peer table')
  return [...table[1].matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => {
    const cells = [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1].replace(/<[^>]+>/g, '').trim())
    return { name: cells[0], cells: cells.slice(1) }
  })
}

function svg (html: string, id: string): string {
  const m = new RegExp(`<svg id="${id}"[\\s\\S]*?</svg>`).exec(html)
  if (m === null) throw new Error(`no svg #${id}`)
  return m[0]
}

describe('report.html (beacon-relay, model mode)', () => {
  let r: RunResult
  let html: string
  let rows: Row[]

  beforeAll(() => {
    r = runScenario(loadScenario('sim/scenarios/beacon-relay.toml'), { mode: 'model' })
    html = renderReport(r, 'aura sim run sim/scenarios/beacon-relay.toml --mode model')
    rows = peerRows(html)
  }, 120_000)

  it('has one row per honest node, the Mothership included, slowest first', () => {
    const honest = r.report.lanes.filter((l) => l.role !== 'adversary' && l.role !== 'agent').map((l) => l.name)
    expect(rows.length).toBe(r.metrics.honest)
    expect(rows.map((x) => x.name).sort()).toEqual([...honest].sort())
    const issued = r.report.revocations[0].issuedMs
    const lag = (name: string): number => {
      const a = r.report.lanes.find((l) => l.name === name)?.arrivals[0] ?? null
      return a === null ? Infinity : a - issued
    }
    const lags = rows.map((x) => lag(x.name))
    for (let i = 1; i < lags.length; i++) expect(lags[i]).toBeLessThanOrEqual(lags[i - 1])
    // The island's victims learn it at the heal: they are the first two rows.
    expect(rows.slice(0, 2).map((x) => x.name).sort()).toEqual(['bob', 'carol'])
  })

  it('its forged-record columns add up to the oracle\'s exposure figures', () => {
    const e = r.metrics.forged?.exposure
    expect(e).toBeDefined()
    // Columns after the four of the one revocation: before issue,
    // before it knew, after it knew, "quarantined of total".
    const col = (i: number): number[] => rows.map((x) => Number(x.cells[4 + i]))
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
    expect(sum(col(0))).toBe(e?.beforeIssue)
    expect(sum(col(1))).toBe(e?.beforeKnown)
    expect(sum(col(2))).toBe((e?.afterKnown ?? 0) + (e?.afterBeacon ?? 0))
    expect(e?.beforeIssue ?? 0).toBeGreaterThan(0)
    const q = rows.map((x) => /^(\d+) of (\d+)$/.exec(x.cells[7])).map((m) => ({ quarantined: Number(m?.[1]), total: Number(m?.[2]) }))
    q.forEach((x, i) => expect(x.total).toBe(col(0)[i] + col(1)[i] + col(2)[i]))
    expect(q.filter((x) => x.total > 0).length).toBe(e?.peers)
    // Still effective somewhere at the end exactly when the run says some forged record is.
    const stillEffective = q.map((x) => x.total - x.quarantined)
    expect(Math.max(...stillEffective) > 0).toBe((e?.effectiveAtEnd ?? 0) > 0)
    expect(Math.max(...stillEffective)).toBeLessThanOrEqual(e?.effectiveAtEnd ?? 0)
  })

  it('gives hops and relaying peers that agree with the run: each relay held it first', () => {
    const m = r.metrics.revocations[0]
    const learned = rows.filter((x) => x.cells[0] !== 'never' && x.cells[1] !== 'issued it')
    expect(learned.length).toBe(Math.round(m.coverage * m.peers))
    expect(Math.max(...learned.map((x) => Number(x.cells[2])))).toBe(m.hops.max)
    const lane = (name: string): RunResult['report']['lanes'][number] => r.report.lanes.find((l) => l.name === name) as RunResult['report']['lanes'][number]
    for (const x of learned) {
      const me = lane(x.name)
      expect(Number(x.cells[2])).toBe(me.hops[0])
      const relay = lane(x.cells[3])
      expect(relay, `${x.name} relayed by ${x.cells[3]}`).toBeDefined()
      expect(relay.arrivals[0] as number).toBeLessThanOrEqual(me.arrivals[0] as number)
      expect(relay.hops[0]).toBe((me.hops[0] as number) - 1)
    }
  })

  it('draws the stale spans the oracle read (the island\'s victims) and names the partition', () => {
    const stale = r.report.spans.filter((s) => s.kind === 'stale')
    expect(stale.length).toBeGreaterThan(0)
    const timeline = svg(html, 'timeline')
    expect(timeline.match(/<rect class="stale"/g)?.length).toBe(stale.length)
    expect(new Set(stale.map((s) => r.report.lanes[s.node].name))).toEqual(new Set(['bob', 'carol']))
    const p = r.report.partitions ?? []
    expect(p.map((x) => [x.id, x.shape])).toEqual([['island', 'attacker-island']])
    expect(timeline).toContain('island · attacker-island')
    // A stale span lies within the island's time (the victims go stale while cut off).
    for (const s of stale) expect(s.fromMs).toBeGreaterThanOrEqual(p[0].fromMs)
  })

  it('draws the front against the time since issue: one step per peer that learned it, p50/p90/max marked', () => {
    const zoom = svg(html, 'front-zoom')
    const path = /<path class="front-step" d="([^"]+)"/.exec(zoom)
    expect(path).not.toBeNull()
    const m = r.metrics.revocations[0]
    expect(path?.[1].match(/V/g)?.length).toBe(m.delayMs.n)
    expect(zoom).toContain('log scale')
    for (const k of ['p50 ', 'p90 ', 'max ']) expect(zoom).toContain(k)
  })

  it('renders a result without per-peer data (built before the table existed)', () => {
    const old: RunResult = { ...r, report: { ...r.report, peers: undefined, partitions: undefined } }
    const page = renderReport(old, 'x')
    expect(page).toContain('no per-peer data')
    expect(page).toContain('<svg id="timeline"')
  })
})
