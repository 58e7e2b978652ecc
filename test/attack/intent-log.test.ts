// Hostile members against the intent log, on real processes (issue 12): mallory, a member,
// stops her daemon and runs test/attack/mallory.ts with her own key against bob's daemon: first
// changes that depend on a change nobody has, then changes under alice's Automerge actor. While
// each attack runs the honest members keep writing; once it stops, every honest daemon must hold
// the same effective view within 10 s and none may have grown past 400 MB, and bob must show
// what he refused (status, log).
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, Team } from '../containment/helpers.js'
import { convergedWithin, peakRssMb, viewOf } from './convergence.js'

const HONEST = ['mothership', 'alice', 'bob']
const MALLORY = path.join(ROOT, 'test/attack/mallory.ts')

async function runMallory (
  team: Team,
  attack: string,
  seconds: number
): Promise<{ sent: number, sessions: number, closedWith: Record<string, number> }> {
  const target = await team.address('bob')
  const child = spawn(process.execPath, ['--import', 'tsx', MALLORY, team.m('mallory').home, target, attack, String(seconds), team.m('alice').key], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  if (code !== 0) throw new Error(`mallory.ts exited ${code}: ${err}`)
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}')
}

/** Writes an intent on `name` and returns its id. */
async function write (team: Team, name: string, text: string): Promise<string> {
  const r = await team.json<{ id: string }>(name, `aura log-intent "${text}"`)
  return r.id
}

describe('hostile member against the intent log (multi-process)', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice', 'bob', 'mallory'], links: [['alice', 'bob']] })
    for (const name of [...HONEST, 'mallory']) await write(team, name, `${name} before the attacks`)
    await convergedWithin(team, [...HONEST, 'mallory'], 60_000)
    await team.stop('mallory')
  }, 420_000)

  afterAll(async () => { await team?.close() }, 60_000)

  async function during (attack: string): Promise<{ ids: string[], report: Awaited<ReturnType<typeof runMallory>> }> {
    const running = runMallory(team, attack, 8)
    const ids: string[] = []
    // The honest members keep writing while the attack runs.
    for (let i = 0; i < 3; i++) {
      ids.push(await write(team, 'alice', `alice during ${attack} ${i}`))
      ids.push(await write(team, 'bob', `bob during ${attack} ${i}`))
    }
    return { ids, report: await running }
  }

  async function judged (attack: string, ids: string[]): Promise<void> {
    const ms = await convergedWithin(team, HONEST, 10_000)
    const view = await viewOf(team, 'mothership')
    for (const id of ids) expect(view.get(id), `record ${id.slice(0, 12)} written during ${attack}`).toBe('effective')
    const rss = HONEST.map((n) => peakRssMb(team.m(n).daemon!.pid!))
    process.stderr.write(`[attack ${attack}] honest views identical ${ms} ms after it stopped; peak RSS ${HONEST.map((n, i) => `${n} ${rss[i].toFixed(0)} MB`).join(', ')}\n`)
    for (const mb of rss) expect(mb).toBeLessThan(400)
  }

  it('a change depending on an invented hash is refused with E_MISSING_DEPS, and sync with every honest peer keeps flowing', async () => {
    const { ids, report } = await during('invented-dep')
    expect(report.sessions).toBeGreaterThan(0)
    expect(report.sent).toBeGreaterThan(0)
    await judged('invented-dep', ids)
    const status = await team.status('bob')
    const row = status.refusedChanges.find((r: any) => r.code === 'E_MISSING_DEPS' && r.direction === 'in')
    expect(row).toMatchObject({ peer: team.id('mallory') })
    expect(row.count).toBeGreaterThan(0)
    expect(status.problems.map((p: any) => p.code)).toContain('E_MISSING_DEPS')
    expect(await readFile(path.join(team.m('bob').home, 'node.log'), 'utf8')).toMatch(/E_MISSING_DEPS/)
    // A restart keeps nothing of it: bob still converges with everyone.
    await team.stop('bob')
    await team.start('bob')
    const after = await write(team, 'bob', 'bob after restart')
    await convergedWithin(team, HONEST, 30_000)
    expect((await viewOf(team, 'alice')).get(after)).toBe('effective')
  }, 240_000)

  it("changes under another member's Automerge actor are refused with E_BAD_SIGNATURE, and that member is not cut off", async () => {
    const { ids, report } = await during('claimed-actor')
    expect(report.sent).toBeGreaterThan(0)
    // Bob answered with an error frame carrying the code.
    expect(report.closedWith.E_BAD_SIGNATURE ?? 0).toBeGreaterThan(0)
    await judged('claimed-actor', ids)
    const status = await team.status('bob')
    expect(status.refusedChanges.find((r: any) => r.code === 'E_BAD_SIGNATURE' && r.direction === 'in')).toMatchObject({ peer: team.id('mallory') })
    // Alice's next changes still reach everyone, in both directions.
    const a = await write(team, 'alice', 'alice after the claim')
    const b = await write(team, 'bob', 'bob after the claim')
    await convergedWithin(team, HONEST, 10_000)
    for (const n of HONEST) {
      const v = await viewOf(team, n)
      expect(v.get(a)).toBe('effective')
      expect(v.get(b)).toBe('effective')
    }
  }, 240_000)
})
