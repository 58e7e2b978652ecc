// Reach on real kernel networking, part two: two laptops on one LAN bridge find each other by
// mDNS with no address configured (discovery from other peers is off, so only mDNS can introduce
// them); a peer that moves to a new address is found again without `aura peer add`; and with
// the Mothership stopped, two peers behind NAT keep syncing through another reachable peer that
// serves as a relay. Needs root, iproute2 and nftables; skipped with the reason otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FAST_ENV, Team } from '../containment/helpers.js'
import { Lab } from './lab.js'

const why = Lab.unavailable()
if (why !== null) process.stderr.write(`test/netns/lan.test.ts: SKIPPED — ${why}\n`)

const LISTEN = '/ip4/0.0.0.0/tcp/7447'

describe.skipIf(why !== null)('discovery, moves and relays (network namespaces, real daemons)', { timeout: 240_000 }, () => {
  let lab: Lab
  let team: Team
  const at = (
    name: string,
    env: Record<string, string> = {}
  ): { wrap: string[], listen: string, env: Record<string, string> } => ({ wrap: lab.wrap(name), listen: LISTEN, env })

  beforeAll(async () => {
    lab = await Lab.create()
    await lab.switch('pub')
    await lab.host('mothership', 'pub', '198.18.0.1/24')
    await lab.host('erin', 'pub', '198.18.0.5/24')
    await lab.host('frank', 'pub', '198.18.0.6/24')
    // One office LAN behind one NAT: carol and dave.
    await lab.nat('office', 'pub', '198.18.0.20/24', '198.19.9.1/24')
    await lab.host('carol', 'office', '198.19.9.2/24', '198.19.9.1')
    await lab.host('dave', 'office', '198.19.9.3/24', '198.19.9.1')
    // Two homes, each behind its own NAT: alice and bob.
    await lab.nat('homea', 'pub', '198.18.0.11/24', '198.19.1.1/24')
    await lab.host('alice', 'homea', '198.19.1.2/24', '198.19.1.1')
    await lab.nat('homeb', 'pub', '198.18.0.12/24', '198.19.2.1/24')
    await lab.host('bob', 'homeb', '198.19.2.2/24', '198.19.2.1')
    const lanOnly = { AURA_NODE_DISCOVER: 'false' }
    team = await Team.create({
      peers: ['erin', 'frank', 'carol', 'dave', 'alice', 'bob'],
      env: FAST_ENV,
      placement: {
        mothership: at('mothership'),
        erin: at('erin', { AURA_NODE_RELAY: 'on' }),
        frank: at('frank'),
        carol: at('carol', lanOnly),
        dave: at('dave', lanOnly),
        alice: at('alice'),
        bob: at('bob')
      }
    })
  }, 240_000)

  afterAll(async () => {
    await team?.close()
    await lab?.close()
  }, 60_000)

  const connected = async (a: string, b: string, via?: 'direct' | 'relayed'): Promise<{ via: string, addr: string } | undefined> => {
    const s = await team.control(a, 'status')
    return (s.peers as Array<{ key: string, via: string, addr: string }>).find(
      (p) => p.key === team.m(b).key && (via === undefined || p.via === via)
    )
  }

  it('two laptops on one LAN find each other by mDNS and sync', async () => {
    const row = await team.until('carol connected to dave', async () => await connected('carol', 'dave', 'direct'), 60_000, 250)
    process.stderr.write(`netns: carol -> dave ${row.via} ${row.addr} (found by mDNS)\n`)
    expect(row.addr).toContain('198.19.9.3')
    const id = (await team.json('carol', 'aura log-intent "office: rotate the staging keys"')).id as string
    await team.until('dave holds carol\'s intent', async () => (await team.control<Array<{ id: string }>>('dave', 'trace', {})).some((r) => r.id === id), 20_000, 100)
  })

  it('a peer that moves to a new address is found again without `aura peer add`', async () => {
    await team.until('erin connected to frank', async () => await connected('erin', 'frank', 'direct'), 60_000, 250)
    await team.stop('frank')
    await lab.readdress('frank', 'eth0', '198.18.0.6/24', '198.18.0.7/24')
    await team.start('frank')
    const row = await team.until('erin reconnected to frank at his new address', async () => {
      const r = await connected('erin', 'frank', 'direct')
      return r?.addr.includes('198.18.0.7') === true ? r : undefined
    }, 60_000, 250)
    process.stderr.write(`netns: erin found frank again at ${row.addr}\n`)
  })

  it('with the Mothership stopped, alice and bob behind NAT keep syncing through erin', async () => {
    await team.until('alice holds a reservation on erin', async () => ((await team.control('alice', 'status')).relayed as string[]).some((a) => a.includes('198.18.0.5')), 60_000, 250)
    await team.until('bob holds a reservation on erin', async () => ((await team.control('bob', 'status')).relayed as string[]).some((a) => a.includes('198.18.0.5')), 60_000, 250)
    await team.stop('mothership')
    const id = (await team.json('alice', 'aura log-intent "hotel wifi: patch the session cookie flags"')).id as string
    const t0 = Date.now()
    await team.until('bob holds alice\'s intent', async () => (await team.control<Array<{ id: string }>>('bob', 'trace', {})).some((r) => r.id === id), 60_000, 100)
    const row = await connected('bob', 'alice')
    process.stderr.write(`netns: with the Mothership down, alice -> bob in ${Date.now() - t0} ms, bob reaches alice ${row?.via ?? '?'} via ${row?.addr ?? '?'}\n`)
  })
})
