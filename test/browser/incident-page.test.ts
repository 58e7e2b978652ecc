// The incident page in a real browser: Debian's Chromium (never a downloaded build) driven by
// puppeteer-core, against real daemons — a Mothership and three peers. A peer revoked from the
// CLI shows as applied on every other peer within 1 s; a token's audit lists its attempts; a
// flagged intent links to the exact `aura rewind` line the CLI prints; the page loads nothing
// the CSP refuses; it prints. Screenshots and a PDF go to test-artifacts/ (gitignored).
// Without Chromium the suite is skipped, and says so loudly.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Browser, Page } from 'puppeteer-core'
import { aura, LISTEN, FAST, ok, Team, waitFor } from '../e2e/helpers.js'
import { loadCorpus } from '../workspace/corpus.js'
import { login, request } from '../ui/probes.js'
import { ARTIFACTS, CHROMIUM, WHY_SKIPPED } from './chromium.js'

/** How soon after `revoke-peer` returns the page must show every other peer has applied it. */
const LIVE_MS = 1000

describe.skipIf(CHROMIUM === undefined)(`the incident page in Chromium${CHROMIUM === undefined ? ` (SKIPPED: ${WHY_SKIPPED})` : ''}`, () => {
  let team: Team
  let browser: Browser
  let page: Page
  let ws: string
  const consoleErrors: string[] = []
  let flagged = ''
  let undo = ''

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: path.join(ARTIFACTS, `ui-${name}.png`) as `${string}.png`, fullPage: true })
  }

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true })
    const puppeteer = (await import('puppeteer-core')).default
    const launching = puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--proxy-server=direct://', '--proxy-bypass-list=*']
    })
    team = await Team.create({ peers: ['alice', 'bob', 'carol'] })
    browser = await launching
    // A workspace on the Mothership with one change the security review flags (a guard weakened).
    ws = await mkdtemp(path.join(os.tmpdir(), 'aura-ui-ws-'))
    const c = (await loadCorpus()).find((x) => x.id === 'frozen/malicious/ts-condition-weakened')!
    const write = async (files: Record<string, string>): Promise<void> => {
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(ws, rel)), { recursive: true })
        await writeFile(path.join(ws, rel), text)
      }
    }
    const m = team.mothership
    const inWs = async (...args: string[]): Promise<any> => ok(await aura([...args, '--home', m.home, '--json'], { cwd: ws }), args.join(' '))
    await write(c.before)
    await inWs('log-intent', 'baseline')
    await write(c.after)
    flagged = (await inWs('log-intent', c.description)).id
    ok(await m.aura('agent', 'issue', 'claude', '--role', 'agent'), 'agent issue')
    await waitFor(async () => (await m.status()).connected.length === 3, 20_000, 'the Mothership connected to alice, bob and carol')
    const login = await inWs('ui', '--actions')
    page = await browser.newPage()
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()) })
    page.on('pageerror', (err) => { consoleErrors.push(String(err)) })
    await page.setViewport({ width: 1366, height: 900 })
    await page.goto(login.url)
    await page.waitForSelector('#live[data-state="live"]', { timeout: 10_000 })
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    await team?.close()
    if (ws !== undefined) await rm(ws, { recursive: true, force: true })
  }, 60_000)

  it('shows the team: humans and agents told apart, with status, receipts, authority and link', async () => {
    await page.waitForFunction(() => document.querySelectorAll('#team-table tbody tr').length === 5, { timeout: 10_000 })
    const rows = await page.$$eval('#team-table tbody tr', (trs) => trs.map((tr) => ({ kind: tr.getAttribute('data-kind'), status: tr.getAttribute('data-status'), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) })))
    expect(rows.filter((r) => r.kind === 'human')).toHaveLength(4)
    const agent = rows.find((r) => r.kind === 'agent')!
    expect(agent.cells[2]).toBe('claude')
    expect(agent.status).toBe('active')
    const alice = rows.find((r) => r.cells[2] === 'alice')!
    expect(alice.cells[7]).toBe('direct')
    expect(alice.cells[5]).toMatch(/^\d{4}-\d\d-\d\d /)
    await shot('team')
  })

  it(`shows a revocation from the CLI applied on every other peer within ${LIVE_MS} ms`, async () => {
    const bob = team.node('bob').short
    const revoked = ok(await team.mothership.aura('mothership', 'revoke-peer', bob, '--reason', 'laptop stolen'), 'revoke-peer')
    const t0 = Date.now()
    const seq = revoked.entry ?? revoked.seq
    const sel = 'article.front-entry[data-kind="revoke"][data-complete="yes"]'
    await page.waitForSelector(sel, { timeout: 10_000 })
    const took = Date.now() - t0
    process.stderr.write(`incident page: revocation of ${bob} shown applied on every peer ${took} ms after revoke-peer returned\n`)
    const entry = await page.$eval(sel, (a) => ({
      seq: a.getAttribute('data-seq'),
      text: a.querySelector('h3')?.textContent ?? '',
      rows: [...a.querySelectorAll('tbody tr')].map((tr) => ({ peer: tr.getAttribute('data-peer'), state: tr.getAttribute('data-state') }))
    }))
    if (seq !== undefined) expect(entry.seq).toBe(String(seq))
    expect(entry.text).toContain(bob)
    const others = [team.mothership, team.node('alice'), team.node('carol')].map((n) => n.short)
    expect(entry.rows.filter((r) => r.state === 'confirmed').map((r) => r.peer).sort()).toEqual(others.sort())
    expect(entry.rows.find((r) => r.peer === bob)?.state).toBe('subject')
    await page.waitForSelector(`#team-table tr[data-id="${bob}"][data-status="revoked"]`, { timeout: 2_000 })
    await shot('revocation-front')
    expect(took).toBeLessThan(LIVE_MS)
  })

  it("lists a token's audit: each attempt with time, source, key and outcome", async () => {
    const issued = ok(await team.mothership.aura('mothership', 'issue-peer', 'dave', '--role', 'contributor'), 'issue-peer dave')
    ok(await team.mothership.aura('mothership', 'revoke-token', issued.jti, '--reason', 'pasted in a public channel'), 'revoke-token')
    const mallory = team.add('mallory')
    await mallory.init()
    const refused = await aura(['join', issued.token, '--listen', LISTEN, ...FAST.flatMap((f) => ['--set', f]), '--home', mallory.home, '--json'], { cwd: mallory.cwd })
    expect(refused.code).not.toBe(0)
    await page.waitForSelector(`#tokens-table tr[data-jti="${issued.jti}"][data-state="revoked"]`, { timeout: 5_000 })
    await page.click(`#tokens-table tr[data-jti="${issued.jti}"] a.id`)
    await page.waitForSelector('#token-audit tr.attempt', { timeout: 5_000 })
    const rows = await page.$$eval('#token-audit tr.attempt', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(rows).toHaveLength(1)
    const [ts, source, key, outcome, reason] = rows[0]
    expect(ts).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/)
    expect(source).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(key).toBe(mallory.short)
    expect(outcome).toBe('refused')
    expect(reason).toMatch(/^E_REVOKED/)
    // alice's token: one accepted attempt, bound to her key.
    const tokens = ok(await team.mothership.aura('mothership', 'list-tokens'), 'list-tokens')
    const alices = tokens.find((t: any) => t.user === 'alice')
    await page.click(`#tokens-table tr[data-jti="${alices.jti}"] a.id`)
    await page.waitForSelector(`#token-audit[data-jti="${alices.jti}"] tr.attempt`, { timeout: 5_000 })
    const aliceRows = await page.$$eval('#token-audit tr.attempt', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)))
    expect(aliceRows.map((r) => [r[2], r[3]])).toEqual([[team.node('alice').short, 'accepted']])
    await shot('token-audit')
  })

  it('links a flagged intent to the exact aura rewind line the CLI prints', async () => {
    const text = (await aura(['pr-review', '--since', '30d', '--security', '--home', team.mothership.home], { cwd: ws })).stdout
    const line = /undo: (aura rewind --function \S+ --to \S+)/.exec(text.slice(text.indexOf(flagged.slice(0, 12))))
    expect(line).not.toBeNull()
    undo = line![1]
    await page.click('#review-form button[type="submit"]')
    const link = `article.flagged-intent[data-record="${flagged}"] li.flag[data-rule="guard-weakened"] a.rewind-link`
    await page.waitForSelector(link, { timeout: 30_000 })
    await page.click(link)
    const hash = await page.evaluate(() => location.hash)
    expect(hash).toMatch(/^#rewind-\d+$/)
    const target = await page.$eval(hash, (el) => ({ text: el.textContent, targeted: el.matches(':target') }))
    expect(target).toEqual({ text: undo, targeted: true })
    await shot('review')
  })

  it('after that rewind is run, shows which peers hold it (sync status --intent)', async () => {
    const args = undo.split(' ').slice(1)
    const done = ok(await aura([...args, '--home', team.mothership.home, '--json'], { cwd: ws }), undo)
    expect(done.changed).toBe(true)
    const rewind: string = done.record
    await waitFor(async () => (await team.mothership.aura('sync', 'status', '--intent', rewind)).json?.missing?.length === 0, 10_000, 'every peer holding the rewind')
    await page.click('#review-form button[type="submit"]')
    const row = await page.waitForSelector(`::-p-xpath(//tr[contains(@class, "rewind-record")][td/code[text()="${rewind.slice(0, 12)}"]])`, { timeout: 30_000 })
    await (await row!.$('button'))!.click()
    await page.waitForSelector(`#intent-status[data-intent="${rewind}"]`, { timeout: 10_000 })
    const holds = await page.$$eval('#intent-status tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-peer'), tr.querySelectorAll('td')[2].textContent]))
    for (const n of [team.mothership, team.node('alice'), team.node('carol')]) expect(holds).toContainEqual([n.short, 'yes'])
    expect(await page.$eval('#intent-status', (a) => a.textContent ?? '')).toContain(`aura sync status --intent ${rewind.slice(0, 12)}`)
    await shot('rewind-status')
  })

  it('runs an action after a confirmation that shows the exact CLI line', async () => {
    const carol = team.node('carol').short
    await page.click(`#team-table tr[data-id="${carol}"] button`)
    await page.waitForSelector('#confirm[open]')
    await page.type('#confirm-fields input[name="reason"]', 'key leaked in the drill')
    const cli = `aura mothership revoke-peer ${carol} --reason 'key leaked in the drill'`
    await page.waitForFunction((want) => document.querySelector('#confirm-cli')?.textContent === want && !(document.querySelector('#confirm-run') as HTMLButtonElement).disabled, { timeout: 5_000 }, cli)
    await page.screenshot({ path: path.join(ARTIFACTS, 'ui-confirm.png') as `${string}.png` })
    expect((await team.mothership.aura('mothership', 'list-peers')).json.find((p: any) => p.peer === carol).status).toBe('active')
    // A live update patches rows in place: bob's link (unchanged by carol's revocation) stays the
    // same element, so a click landing on it while the push arrives is not lost.
    const bobLink = (await page.$(`#team-table tr[data-id="${team.node('bob').short}"] a.id`))!
    await page.click('#confirm-run')
    await page.waitForSelector(`#team-table tr[data-id="${carol}"][data-status="revoked"]`, { timeout: 5_000 })
    expect(await bobLink.evaluate((a) => a.isConnected)).toBe(true)
    expect(await page.$eval('#action-result', (a) => a.textContent)).toBe(`Done: ${cli}`)
    const peers = ok(await team.mothership.aura('mothership', 'list-peers'), 'list-peers')
    expect(peers.find((p: any) => p.peer === carol)).toMatchObject({ status: 'revoked', revokedReason: 'key leaked in the drill' })
  })

  it("shows an identity's records, the revoked one's with its revocation", async () => {
    const bob = team.node('bob').short
    await page.click(`#team-table tr[data-id="${bob}"] a.id`)
    await page.waitForSelector(`#identity-evidence[data-id="${bob}"]`, { timeout: 10_000 })
    const text = await page.$eval('#identity-evidence', (a) => a.textContent ?? '')
    expect(text).toContain('revoked')
    expect(text).toContain(`aura trace --actor ${bob}`)
    await shot('identity')
  })

  it("on a peer: the same page from that peer's receipts, and no actions even with --actions", async () => {
    const alice = team.node('alice')
    const on = ok(await alice.aura('ui', '--actions'), 'aura ui on alice')
    const cookie = await login(on.url)
    const state = JSON.parse((await request(on.port, '/api/state', { headers: { Cookie: cookie } })).body)
    expect(state).toMatchObject({ actions: false, mothership: false, tokens: null })
    expect(state.front.find((e: any) => e.subject.includes(team.node('bob').short))).toMatchObject({ kind: 'revoke', reason: 'laptop stolen' })
    const post = await request(on.port, '/api/action', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${on.port}` }, body: JSON.stringify({ action: 'lockdown', params: { reason: 'not here' } }) })
    expect(post.status).toBe(403)
    expect(JSON.parse(post.body).error.message).toBe('actions run only on the Mothership')
  })

  it('loads nothing the CSP refuses, and prints without its controls', async () => {
    expect(consoleErrors.filter((e) => /Content Security Policy|Refused to/.test(e))).toEqual([])
    expect(consoleErrors).toEqual([])
    await page.emulateMediaType('print')
    expect(await page.$eval('#nav', (n) => getComputedStyle(n).display)).toBe('none')
    await page.setViewport({ width: 794, height: 1123 })
    await shot('print')
    await page.setViewport({ width: 1366, height: 900 })
    await page.pdf({ path: path.join(ARTIFACTS, 'ui-incident-report.pdf'), format: 'A4', printBackground: true })
    await page.emulateMediaType('screen')
    await shot('whole-page')
  })
})
