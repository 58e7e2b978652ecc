/**
 * Strangers at the Mothership: a child process with fresh, unadmitted ed25519 identities
 * (test/attack/stranger.ts, built on node/net/host.ts) attacks a real team of `aura` daemons.
 * Each attack is judged by the shared oracle: once it stops, every honest daemon holds the same
 * effective view within 10 s, and no daemon's peak RSS passed 400 MB. Figures go to stdout.
 *
 * - 50 frames that each declare 16 MiB (and send 256 KiB): memory follows the bytes received,
 *   and every stream is closed at the handshake timeout.
 * - 100 silent streams: refused past the cap of unadmitted streams (E_BUSY), the rest closed at
 *   the handshake timeout.
 * - 20 connections that never open a stream: each closed within two handshake timeouts.
 * - 1,000 join attempts with a revoked token: rate-limited (E_RATE_LIMITED), the join audit
 *   bounded, and `audit-token` still accounts for every attempt.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, Team } from '../containment/helpers.js'
import { convergedWithin, peakRssMb } from './convergence.js'

const HONEST = ['mothership', 'alice', 'bob']
// Shorter than the default 10 s, so the test waits less; the rule is the same.
const HANDSHAKE_S = 3
const STRANGER = path.join(ROOT, 'test/attack/stranger.ts')

let team: Team

/** Runs the stranger; resolves with the JSON line it printed. */
async function stranger (...args: string[]): Promise<any> {
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', STRANGER, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`stranger ${args[0]} exited ${String(code)}: ${err}`))
      else resolve(JSON.parse(out.trim().split('\n').pop() as string))
    })
  })
}

/**
 * The oracle after an attack: the honest writes made while it ran (`writing`) and every view
 * converge within 10 s of the attack stopping; every daemon's peak RSS stays under 400 MB.
 */
async function judge (
  label: string,
  attack: Record<string, unknown>,
  stopped: number,
  writing: Promise<unknown>
): Promise<void> {
  await writing
  const ms = await convergedWithin(team, HONEST, Math.max(0, 10_000 - (Date.now() - stopped)))
  const rss = Object.fromEntries(HONEST.map((n) => [n, Math.round(peakRssMb(team.m(n).daemon?.pid as number))]))
  process.stdout.write(`attack ${label}: ${JSON.stringify(attack)}; converged ${Date.now() - stopped} ms after it stopped (last probe ${ms} ms); peak RSS MB ${JSON.stringify(rss)}\n`)
  for (const n of HONEST) expect(rss[n], `${n} peak RSS`).toBeLessThan(400)
}

/** Honest work while an attack runs: each peer writes an intent. */
function honestWrites (label: string): Promise<unknown> {
  return Promise.all([
    team.ok('alice', `aura log-intent "during ${label}: alice"`),
    team.ok('bob', `aura log-intent "during ${label}: bob"`)
  ])
}

beforeAll(async () => {
  team = await Team.create({ peers: ['alice', 'bob'], env: { AURA_SYNC_HANDSHAKE_TIMEOUT: String(HANDSHAKE_S) } })
  await team.ok('alice', 'aura log-intent "before the strangers: alice"')
  await team.ok('bob', 'aura log-intent "before the strangers: bob"')
}, 900_000)

afterAll(async () => { await team?.close() }, 60_000)

describe('strangers at the Mothership', { timeout: 600_000 }, () => {
  it('50 partial frames declaring 16 MiB each: no allocation from the length, every stream closed at the handshake timeout', async () => {
    const target = await team.address('mothership')
    const writing = honestWrites('partial-frames')
    const seen = await stranger('partial-frames', '50', target)
    const stopped = Date.now()
    expect(seen.opened + seen.failed).toBe(50)
    expect(seen.opened).toBeGreaterThan(40)
    expect(seen.closed).toBe(seen.opened)
    expect(seen.lastClosedAfterMs).toBeLessThan(HANDSHAKE_S * 1000 + 15_000)
    await judge('partial-frames', seen, stopped, writing)
  })

  it('100 silent streams: past 64 waiting ones refused (E_BUSY), the rest closed at the handshake timeout', async () => {
    const target = await team.address('mothership')
    const writing = honestWrites('silent-streams')
    const seen = await stranger('silent-streams', '100', target)
    const stopped = Date.now()
    expect(seen.opened + seen.failed).toBe(100)
    expect(seen.closed).toBe(seen.opened)
    expect(seen.lastClosedAfterMs).toBeLessThan(HANDSHAKE_S * 1000 + 15_000)
    await judge('silent-streams', seen, stopped, writing)
  })

  it('20 connections that open no stream: every one closed within two handshake timeouts', async () => {
    const target = await team.address('mothership')
    const writing = honestWrites('bare-connections')
    const seen = await stranger('bare-connections', '20', target)
    const stopped = Date.now()
    expect(seen.opened).toBe(20)
    expect(seen.closed).toBe(seen.opened)
    expect(seen.lastClosedAfterMs).toBeLessThan(2 * HANDSHAKE_S * 1000 + 10_000)
    await judge('bare-connections', seen, stopped, writing)
  })

  it('1,000 join attempts with a revoked token: rate-limited, the audit bounded, every answered attempt accounted for', async () => {
    const issued = await team.json('mothership', 'aura mothership issue-peer leaked --role contributor')
    await team.ok('mothership', `aura mothership revoke-token ${issued.jti as string} --reason "posted to a public channel"`)
    const target = await team.address('mothership')
    const writing = honestWrites('join-flood')
    const seen = await stranger('join-flood', '1000', target, issued.token)
    const stopped = Date.now()
    expect(seen.codes.joined).toBeUndefined()
    expect(seen.codes.E_RATE_LIMITED).toBeGreaterThan(800)
    expect(seen.codes.E_REVOKED).toBeGreaterThan(0)
    const report = await team.json('mothership', `aura mothership audit-token ${issued.jti as string}`)
    expect(report.attempts.length).toBeLessThanOrEqual(100)
    const answered = (seen.codes.E_RATE_LIMITED ?? 0) + (seen.codes.E_REVOKED ?? 0)
    expect(report.attempts.length + (report.summarised?.count ?? 0)).toBe(answered)
    const storedLimited = report.attempts.filter((a: { reason: string | null }) => a.reason?.startsWith('E_RATE_LIMITED') === true).length
    expect(storedLimited + report.summarised.outcomes.E_RATE_LIMITED).toBe(seen.codes.E_RATE_LIMITED)
    const human = await team.ok('mothership', `aura mothership audit-token ${issued.jti as string}`)
    expect(human).toMatch(/more attempts .* counted, not stored: E_RATE_LIMITED ×\d+/)
    await judge('join-flood', { ...seen, stored: report.attempts.length, summarised: report.summarised?.count }, stopped, writing)
  })
})
