// Issue 3, "A team of peers", end to end: a Mothership and five peers as separate processes,
// joined with tokens, connected in a line A-B-C-D-E. With the Mothership stopped the line is
// the only path, so an intent written on A reaches E only through B, C and D.
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aura, E2E_TEST_TIMEOUT_MS, ensureBuilt, ok, Team, waitFor, type AuraNode } from './helpers.js'

const LINE = ['alice', 'bob', 'carol', 'dave', 'erin']
// "Within a few seconds" on a loaded two-core machine.
const REACH_MS = 10_000

let team: Team
let a: AuraNode
let e: AuraNode
const timings: Record<string, number> = {}

async function timed<T> (name: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now()
  try { return await f() } finally { timings[name] = Date.now() - t0 }
}

async function logIntent (node: AuraNode, text: string): Promise<string> {
  const res = ok(await node.aura('log-intent', text), `log-intent on ${node.name}`)
  expect(res).toMatchObject({ kind: 'intent', signer: node.short })
  return res.id as string
}

beforeAll(async () => {
  await timed('build (only when dist/ is stale)', async () => { ensureBuilt() })
  // Both ways of joining: `aura join` on a stopped node, and through a running daemon.
  team = await timed('team of 5 joined', async () => await Team.create({ peers: LINE, via: (_, i) => i % 2 === 0 ? 'offline' : 'daemon', set: ['node.discover=false'] }))
  a = team.node('alice')
  e = team.node('erin')
  await timed('line connected', async () => { await team.line(LINE) })
}, 120_000)

afterAll(async () => {
  await team?.close()
  process.stderr.write(`e2e team timings (ms): ${JSON.stringify(timings)}\n`)
}, 60_000)

describe('a team of peers (separate processes)', { timeout: E2E_TEST_TIMEOUT_MS }, () => {
  it('status --json shows peer id, role, listen addresses, connected peers, authority head and record counts', async () => {
    const ms = await team.mothership.status()
    const bob = team.node('bob')
    const expected = [a.short, team.node('carol').short, ms.peer]
    // Joins finished moments ago: wait for the last admissions and dials to land.
    const s = await waitFor(async () => {
      const st = await bob.status()
      return st.authority.seq === ms.authority.seq && expected.every((p) => st.connected.includes(p)) ? st : null
    }, REACH_MS, 'bob to hold the whole chain and be connected to alice, carol and the Mothership')
    expect(s).toMatchObject({ user: 'bob', role: 'contributor', team: 'acme', mothership: false, daemon: 'running' })
    expect(s.peer).toMatch(/^peer-[0-9a-f]{4}$/)
    expect(s.key.startsWith(s.peer.slice(5))).toBe(true)
    expect(s.peerId).toMatch(/^12D3KooW/)
    expect(s.listen.length).toBeGreaterThan(0)
    for (const addr of s.listen) expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${s.peerId}$`))
    expect(s.connected).toEqual(expect.arrayContaining(expected))
    expect(s.authority).toEqual(ms.authority)
    // genesis, the Mothership's own admission, five peers.
    expect(s.authority.seq).toBe(1 + LINE.length)
    expect(s.records.total).toBe(s.records.effective + s.records.quarantined)
    expect(s.records.quarantined).toBe(0)
    expect(s.problems).toEqual([])
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
    expect(s.version).toBe(pkg.version)
    // Per connected peer: who, how, bytes both ways, when last heard, and the authority seq of its
    // newest receipt (each has signed one by now: receipts carry the chain head they held).
    const toMs = await waitFor(async () => {
      const row = (await bob.status()).peers.find((p: any) => p.peer === ms.peer)
      return row?.authSeq === ms.authority.seq ? row : null
    }, REACH_MS, "a receipt of the Mothership's naming the whole chain at bob")
    expect(toMs).toMatchObject({ key: ms.key, user: 'ops', via: 'direct', addr: expect.stringMatching(/^\/ip4\/127\.0\.0\.1\/tcp\//) })
    expect(toMs.bytesIn).toBeGreaterThan(0)
    expect(toMs.bytesOut).toBeGreaterThan(0)
    expect(Date.parse(toMs.lastSeen)).toBeGreaterThan(Date.now() - 5 * 60_000)
    // The human form leads each peer's line with its short id and how it is reached.
    const human = await aura(['status', '--home', bob.home], { cwd: bob.cwd })
    expect(human.stdout).toMatch(new RegExp(`\\n  ${ms.peer}  direct +/ip4/127\\.0\\.0\\.1/tcp/\\d+\\S*  \\(ops\\)  .*in \\d`))
    expect(ms).toMatchObject({ role: 'admin', mothership: true })
    // Every peer knows every other through the chain.
    const peers = ok(await team.mothership.aura('mothership', 'list-peers'))
    expect(peers.map((p: { user: string }) => p.user).sort()).toEqual(['ops', ...LINE].sort())
  })

  it('with the Mothership stopped, an intent written on A reaches E through B, C and D within seconds', async () => {
    await team.mothership.stop()
    expect((await team.mothership.status()).daemon).toBe('not running')
    // Only the line is left: A and E each see one neighbour, the middle ones two.
    await Promise.all(LINE.map(async (name, i) => {
      const want = [LINE[i - 1], LINE[i + 1]].filter((x) => x !== undefined).map((n) => team.node(n).short).sort()
      await waitFor(async () => {
        const c = [...(await team.node(name).status()).connected].sort()
        return JSON.stringify(c) === JSON.stringify(want)
      }, REACH_MS, `${name} connected to its line neighbours only`)
    }))
    const id = await logIntent(a, 'fix token expiry check')
    const reached = await timed('intent A -> E (line, 4 hops)', async () => await waitFor(async () => (await e.trace()).find((r) => r.id === id), REACH_MS, 'the intent on E'))
    expect(reached).toMatchObject({ kind: 'intent', signer: a.short, actor: 'alice', text: 'fix token expiry check', status: 'effective' })
    for (const name of ['bob', 'carol', 'dave']) expect(await team.node(name).holds(id)).toBe(true)
    // And back: E to A, the Mothership still down.
    const back = await logIntent(e, 'review alice\'s fix')
    await timed('intent E -> A', async () => await waitFor(async () => await a.holds(back), REACH_MS, 'E\'s intent on A'))
  })

  it('E stopped, more intents written on A, E restarted: E catches up by itself', async () => {
    await e.stop()
    const ids = [await logIntent(a, 'while erin was away 1'), await logIntent(a, 'while erin was away 2')]
    await waitFor(async () => await team.node('dave').holds(...ids), REACH_MS, 'the new intents on D')
    // Stopped, E reads its own store: it has neither.
    const held = new Set((await e.trace()).map((r) => r.id))
    expect(ids.filter((id) => held.has(id))).toEqual([])
    await e.start()
    await timed('E catch-up after restart', async () => await waitFor(async () => await e.holds(...ids), REACH_MS, 'E to catch up'))
    const s = await e.status()
    expect(s.connected).toContain(team.node('dave').short)
  })

  it('sync status --intent agrees with what each peer holds, and says all have it once they do', async () => {
    const id = await logIntent(team.node('carol'), 'the intent whose spread we check')
    const everyone = [...LINE.map((n) => team.node(n))]
    await waitFor(async () => (await Promise.all(everyone.map(async (n) => await n.holds(id)))).every(Boolean), REACH_MS, 'every running peer to hold it')
    // The Mothership is a member too, and it is down: it does not hold the intent.
    expect(await team.mothership.holds(id)).toBe(false)
    const ms = team.mothership.short
    const report = await waitFor(async () => {
      const r = ok(await team.node('bob').aura('sync', 'status', '--intent', id.slice(0, 12)))
      const byPeer = new Map(r.peers.map((p: { peer: string, holdsIntent: boolean }) => [p.peer, p.holdsIntent]))
      return everyone.every((n) => byPeer.get(n.short) === true) ? r : null
    }, REACH_MS, 'receipts of every running peer')
    expect(report.intent).toBe(id)
    expect(report.peers.find((p: { peer: string }) => p.peer === ms).holdsIntent).toBe(false)
    expect(report.missing).toEqual([ms])
    expect(report.verdict).toMatch(new RegExp(`^1 of ${LINE.length + 1} have not received intent ${id.slice(0, 12)}: ${ms}`))

    // The Mothership comes back (on a new port) and is pointed at A: it catches up, its receipt
    // travels the line, and the verdict turns.
    await team.mothership.start()
    ok(await team.mothership.aura('peer', 'add', a.listen[0]))
    await waitFor(async () => await team.mothership.holds(id), REACH_MS, 'the Mothership to catch up')
    const all = await waitFor(async () => {
      const r = ok(await team.node('bob').aura('sync', 'status', '--intent', id))
      return r.missing.length === 0 ? r : null
    }, REACH_MS, 'the verdict to say everyone has it')
    expect(all.verdict).toBe(`all ${LINE.length + 1} admitted peers have received intent ${id.slice(0, 12)}`)
    expect(all.peers.every((p: { holdsIntent: boolean }) => p.holdsIntent)).toBe(true)
  })
})
