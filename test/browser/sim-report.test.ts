// The simulator's report.html in a real browser: Debian's Chromium (never a downloaded build)
// driven by puppeteer-core, opening the generated file (file://). At 1,000 peers
// (sim/scenarios/scale-1000.toml, model mode) the per-peer table has one visible row per honest
// node and the zoomed front ("time since the revocation was issued") is drawn with a non-empty
// step line; on beacon-relay (model mode) the partition strip and the stale spans show. No pixel
// comparison: boxes and counts only. Screenshots go to test-artifacts/ (gitignored), as for the
// incident page. Without Chromium the suite is skipped, and says so loudly.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'puppeteer-core'
import { renderReport } from '../../sim/report-html.js'
import type { RunResult } from '../../sim/results.js'
import { runScenarioAsync } from '../../sim/run.js'
import { loadScenario } from '../../sim/scenario.js'
import { ARTIFACTS, CHROMIUM, WHY_SKIPPED } from './chromium.js'

interface Box { width: number, height: number }

describe.skipIf(CHROMIUM === undefined)(`the simulator's report.html in Chromium${CHROMIUM === undefined ? ` (SKIPPED: ${WHY_SKIPPED})` : ''}`, () => {
  let browser: Browser
  let dir: string
  const runs: Record<'scale' | 'island', { result: RunResult, file: string }> = {} as never

  const open = async (which: keyof typeof runs): Promise<Page> => {
    const page = await browser.newPage()
    await page.setViewport({ width: 1300, height: 900 })
    await page.goto(pathToFileURL(runs[which].file).href)
    await page.waitForSelector('#peers')
    return page
  }
  const box = async (page: Page, selector: string): Promise<Box> => {
    const el = await page.$(selector)
    expect(el, selector).not.toBeNull()
    const b = await el?.boundingBox()
    expect(b, `${selector} is laid out`).not.toBeNull()
    return b as Box
  }

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-sim-report-'))
    const puppeteer = (await import('puppeteer-core')).default
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--proxy-server=direct://', '--proxy-bypass-list=*']
    })
    for (const [which, scenario] of [['scale', 'scale-1000'], ['island', 'beacon-relay']] as const) {
      const result = await runScenarioAsync(loadScenario(`sim/scenarios/${scenario}.toml`), { mode: 'model' })
      const file = path.join(dir, `${scenario}.html`)
      await writeFile(file, renderReport(result, `aura sim run sim/scenarios/${scenario}.toml --mode model`))
      runs[which] = { result, file }
    }
  }, 240_000)

  afterAll(async () => {
    await browser?.close()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('at 1,000 peers: the per-peer table shows one row per honest node, and the zoomed front is drawn', async () => {
    const { result } = runs.scale
    expect(result.metrics.honest).toBe(1001)
    const page = await open('scale')
    try {
      const table = await box(page, '#peers')
      expect(table.width).toBeGreaterThan(0)
      expect(table.height).toBeGreaterThan(1000 * 10)
      const rows = await page.$$eval('#peers tbody tr', (trs) => trs.map((tr) => {
        const b = tr.getBoundingClientRect()
        return { h: b.height, w: b.width, name: tr.querySelector('td')?.textContent ?? '' }
      }))
      expect(rows.length).toBe(result.metrics.honest)
      expect(rows.every((x) => x.h > 0 && x.w > 0)).toBe(true)
      expect(new Set(rows.map((x) => x.name)).size).toBe(rows.length)
      const zoom = await box(page, '#front-zoom')
      expect(zoom.width).toBeGreaterThan(600)
      expect(zoom.height).toBeGreaterThan(100)
      const step = await box(page, '#front-zoom path.front-step')
      expect(step.width).toBeGreaterThan(100)
      expect(step.height).toBeGreaterThan(50)
      const axis = await page.$eval('#front-zoom', (el) => el.textContent ?? '')
      expect(axis).toContain('time since the revocation was issued')
      expect(axis).toContain(`of ${result.metrics.revocations[0].peers}`)
      await page.screenshot({ path: path.join(ARTIFACTS, 'sim-report-1000-top.png') as `${string}.png` })
      const zoomEl = await page.$('#front-zoom')
      await zoomEl?.screenshot({ path: path.join(ARTIFACTS, 'sim-report-1000-front.png') as `${string}.png` })
      // The table's head and first rows (a full-page shot of 1,001 rows is taller than Chromium draws).
      const t = await page.$eval('#peers', (el) => { const b = el.getBoundingClientRect(); return { x: b.left + window.scrollX, y: b.top + window.scrollY, w: b.width } })
      await page.screenshot({ path: path.join(ARTIFACTS, 'sim-report-1000-peers.png') as `${string}.png`, clip: { x: t.x, y: t.y, width: t.w, height: 900 }, captureBeyondViewport: true })
    } finally {
      await page.close()
    }
  }, 120_000)

  it('on beacon-relay: the partition is named, stale spans are drawn, the table has one row per honest node', async () => {
    const { result } = runs.island
    const page = await open('island')
    try {
      const rows = await page.$$eval('#peers tbody tr', (trs) => trs.length)
      expect(rows).toBe(result.metrics.honest)
      const partition = await box(page, '#timeline g.partition')
      expect(partition.width).toBeGreaterThan(0)
      expect(await page.$eval('#timeline g.partition text', (el) => el.textContent)).toBe('island · attacker-island')
      const stale = await page.$$eval('#timeline rect.stale', (els) => els.map((e) => { const b = e.getBoundingClientRect(); return b.width * b.height }))
      expect(stale.length).toBe(result.report.spans.filter((s) => s.kind === 'stale').length)
      expect(stale.length).toBeGreaterThan(0)
      expect(stale.every((a) => a > 0)).toBe(true)
      await box(page, '#front-zoom path.front-step')
      await page.screenshot({ path: path.join(ARTIFACTS, 'sim-report-beacon-relay.png') as `${string}.png`, fullPage: true })
    } finally {
      await page.close()
    }
  }, 120_000)
})
