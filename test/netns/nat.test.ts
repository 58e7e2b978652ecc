// Reach on real kernel networking: a Mothership on a "public" network (198.18.0.0/24) and peers
// each behind its own NAT router (nftables masquerade), as laptops at home and in hotels are.
// Alice and carol sit behind plain masquerading NATs: nobody can dial them, so they reach each
// other only through the Mothership's circuit relay. Bob's NAT forwards port 7447 and bob
// announces it, so a direct connection to him is possible and must be found. Then carol is
// revoked: every peer refuses her within a second and she loses her relay reservation.
// Needs root, iproute2 and nftables; skipped with the reason otherwise (.ci/run installs them).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAST_ENV, Team } from '../containment/helpers.js'
import { Lab } from './lab.js'

const why = Lab.unavailable()
if (why !== null) process.stderr.write(`test/netns/nat.test.ts: SKIPPED — ${why}\n`)

const LISTEN = '/ip4/0.0.0.0/tcp/7447'

describe.skipIf(why !== null)('peers behind NAT (network namespaces, nftables, real daemons)', { timeout: 300_000 }, () => {
  let lab: Lab
  let team: Team
  const via = (name: string): { wrap: string[], listen: string } => ({ wrap: lab.wrap(name), listen: LISTEN })

  beforeAll(async () => {
    lab = await Lab.create()
    await lab.switch('pub')
    await lab.host('mothership', 'pub', '198.18.0.1/24')
    await lab.nat('nata', 'pub', '198.18.0.11/24', '198.19.1.1/24')
    await lab.host('alice', 'nata', '198.19.1.2/24', '198.19.1.1')
    await lab.nat('natb', 'pub', '198.18.0.12/24', '198.19.2.1/24', { port: 7447, to: '198.19.2.2' })
    await lab.host('bob', 'natb', '198.19.2.2/24', '198.19.2.1')
    await lab.nat('natc', 'pub', '198.18.0.13/24', '198.19.3.1/24')
    await lab.host('carol', 'natc', '198.19.3.2/24', '198.19.3.1')
    team = await Team.create({
      peers: ['alice', 'bob', 'carol'],
      env: FAST_ENV,
      placement: {
        mothership: via('mothership'),
        alice: via('alice'),
        bob: { ...via('bob'), env: { AURA_NODE_ANNOUNCE: '/ip4/198.18.0.12/tcp/7447' } },
        carol: via('carol')
      }
    })
  }, 300_000)

  afterAll(async () => {
    await team?.close()
    await lab?.close()
  }, 60_000)

  const peerRow = async (
    from: string,
    to: string
  ): Promise<{ via: string, addr: string, rttMs: number | null } | undefined> => {
    const s = await team.control(from, 'status')
    return (s.peers as Array<{
      key: string
      via: string
      addr: string
      rttMs: number | null
    }>).find((p) => p.key === team.m(to).key)
  }

  it('the NATed peers cannot reach each other directly: the network really is NATed', async () => {
    // Alice's own node dials carol's LAN address: no route from behind one NAT into another.
    const r = await team.sh('alice', 'node -e "const s=require(\'net\').connect(7447,\'198.19.3.2\');s.setTimeout(2000);s.on(\'connect\',()=>{console.log(\'open\');process.exit(0)});s.on(\'error\',(e)=>{console.log(e.code);process.exit(0)});s.on(\'timeout\',()=>{console.log(\'timeout\');process.exit(0)})"')
    expect(r.stdout.trim()).not.toBe('open')
  })

  it('alice and carol, each behind its own NAT, find each other and sync through the relay', async () => {
    const started = Date.now()
    const row = await team.until('alice connected to carol', async () => await peerRow('alice', 'carol'), 60_000, 250)
    process.stderr.write(`netns: alice -> carol ${row.via} via ${row.addr} after ${Date.now() - started} ms\n`)
    expect(row.via).toBe('relayed')
    expect(row.addr).toContain('/p2p-circuit')
    const id = (await team.json('alice', 'aura log-intent "fix the token expiry check"')).id as string
    const t0 = Date.now()
    await team.until('carol holds alice\'s intent', async () => (await team.control<Array<{ id: string, status: string }>>('carol', 'trace', {})).find((r) => r.id === id && r.status === 'effective'), 30_000, 100)
    process.stderr.write(`netns: intent alice -> carol through the relay in ${Date.now() - t0} ms\n`)
  })

  it('alice reaches bob (forwarded port, announced) directly', async () => {
    const row = await team.until('alice has a direct connection to bob', async () => {
      const s = await team.control('alice', 'status')
      return (s.peers as Array<{ key: string, via: string, addr: string }>).find((p) => p.key === team.m('bob').key && p.via === 'direct')
    }, 60_000, 250)
    process.stderr.write(`netns: alice -> bob direct via ${row.addr}\n`)
    expect(row.addr).toContain('198.18.0.12')
  })

  it('aura status says how each peer reaches every other', async () => {
    for (const name of ['alice', 'bob', 'carol']) {
      const text = await team.ok(name, 'aura status')
      process.stderr.write(`--- ${name}$ aura status\n${text}`)
      for (const other of ['mothership', 'alice', 'bob', 'carol'].filter((o) => o !== name)) {
        expect(text).toMatch(new RegExp(`${team.id(other)}\\s+(direct|relayed)`))
      }
    }
  })

  it('carol revoked behind her NAT: every peer refuses her within 1 s, and the relay drops her', async () => {
    const start = Date.now()
    await team.ok('mothership', `aura mothership revoke-peer ${team.id('carol')} --reason "laptop stolen"`)
    const issued = Date.now()
    // Each daemon stamps when it applied the revocation (gate refusing) and when its last
    // connection to the key closed: the figures, not the polling, are what is judged.
    await Promise.all(['mothership', 'alice', 'bob'].map(async (name) => {
      const rev = await team.until(`${name} refuses carol and closed her connections`, async () => {
        const revs = await team.control<Array<{ key: string, appliedAt: number, closedAt: number | null }>>(name, 'revocations')
        return revs.find((r) => r.key === team.m('carol').key && r.closedAt !== null)
      }, 10_000, 50)
      const done = Math.max(rev.appliedAt, rev.closedAt ?? rev.appliedAt)
      process.stderr.write(`netns: ${name} refused carol ${Math.round(rev.appliedAt - issued)} ms, closed ${Math.round(done - issued)} ms after revoke-peer returned (${Math.round(done - start)} ms after it started)\n`)
      expect(done - issued).toBeLessThanOrEqual(1000)
      expect((await team.control(name, 'status')).connected).not.toContain(team.id('carol'))
    }))
    await team.until('carol holds no relay reservation', async () => ((await team.control('carol', 'status')).relayed as string[]).length === 0, 10_000, 100)
    // And she cannot get one back or reach anyone through the relay.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const s = await team.control('carol', 'status')
    expect(s.relayed).toEqual([])
    expect(s.connected).toEqual([])
  })
})
