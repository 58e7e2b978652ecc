// The sync engine over real libp2p hosts on 127.0.0.1 (the protocol the daemon speaks: compressed
// frames, Automerge messages in pieces): a fresh peer receives a log larger than a frame piece,
// and then a new record is pushed live.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { TimeoutError } from '../../crdt/errors.js'
import { createHost, type Host } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { AM_PIECE_BYTES } from '../../node/sync/messages.js'
import { TestTeam } from '../sync/engine-fixture.js'

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new TimeoutError(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const text = (i: number): string => Array.from({ length: 5 }, (_, k) => createHash('sha256').update(`${i}/${k}`).digest('hex')).join(' ')

describe('SyncEngine over libp2p', () => {
  const hosts: Host[] = []
  afterEach(async () => { for (const h of hosts.splice(0)) await h.stop() })

  it('brings a fresh peer a log sent in pieces over compressed frames, then pushes new records live', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const written = Array.from({ length: 600 }, (_, i) => alice.write(text(i), false))
    const ha = await createHost({ seed: alice.key.seed })
    const hb = await createHost({ seed: bob.key.seed })
    hosts.push(ha, hb)
    let pieces = 0
    await hb.handle(SYNC_PROTOCOL, (link) => {
      bob.engine.addLink(link)
      const deliver = link.onFrame
      link.onFrame = (frame) => {
        if (frame[0] === 0x03 && frame.length === AM_PIECE_BYTES + 1) pieces++
        deliver?.(frame)
      }
    })
    alice.engine.addLink(await ha.openLink(hb.addresses()[0], SYNC_PROTOCOL))
    await until(() => bob.log.size === written.length, 30_000, 'bob holding alice\'s log')
    expect(bob.holds(...written)).toBe(true)
    expect(pieces).toBeGreaterThan(1)
    const next = alice.write('pushed live')
    await until(() => bob.holds(next), 5_000, 'the live push')
    expect(bob.audits('dropped')).toEqual([])
  }, 60_000)
})
