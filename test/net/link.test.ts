import type { Stream } from '@libp2p/interface'
import { deflateRawSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { type AuraError, TimeoutError } from '../../crdt/errors.js'
import { createHost, type Host, type HostInit } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { StreamLink } from '../../node/net/stream-link.js'
import { encodeFrame, encodeLength, FrameDecoder } from '../../node/sync/frame.js'
import { decodeEnvelope, encodeData } from '../../node/sync/link-envelope.js'
import type { Link } from '../../node/sync/link.js'
import { describeLinkSuite } from './link-acceptance.js'

const PROTOCOL = '/aura/test/link/1.0.0'
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new TimeoutError(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

// alice dials bob; resolves with both ends of one Link.
async function linkBetween (alice: Host, bob: Host): Promise<{ a: Link, b: Link }> {
  const accepted = new Promise<Link>((resolve) => { void bob.handle(PROTOCOL, resolve) })
  const a = await alice.openLink(bob.addresses()[0], PROTOCOL)
  return { a, b: await accepted }
}

describeLinkSuite('libp2p hosts on 127.0.0.1', async ({ maxFrameBytes }) => {
  const alice = await createHost({ seed: seed(1), maxFrameBytes: maxFrameBytes[0] })
  const bob = await createHost({ seed: seed(2), maxFrameBytes: maxFrameBytes[1] })
  const { a, b } = await linkBetween(alice, bob)
  // One after the other: when two hosts of one process stop at the same instant, libp2p's
  // simultaneous connection close can sit out its 500 ms timeout.
  return { a, b, cleanup: async () => { await alice.stop(); await bob.stop() } }
})

describeLinkSuite('libp2p hosts on 127.0.0.1, sync protocol (compressed frames)', async ({ maxFrameBytes }) => {
  const alice = await createHost({ seed: seed(1), maxFrameBytes: maxFrameBytes[0] })
  const bob = await createHost({ seed: seed(2), maxFrameBytes: maxFrameBytes[1] })
  const accepted = new Promise<Link>((resolve) => { void bob.handle(SYNC_PROTOCOL, resolve) })
  const a = await alice.openLink(bob.addresses()[0], SYNC_PROTOCOL)
  return { a, b: await accepted, cleanup: async () => { await alice.stop(); await bob.stop() } }
})

describe('StreamLink on libp2p', () => {
  const hosts: Host[] = []
  const start = async (init: HostInit): Promise<Host> => {
    const h = await createHost(init)
    hosts.push(h)
    return h
  }
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop()
  })

  // A raw stream from alice to bob's PROTOCOL, bypassing alice's Link: a hostile or buggy peer.
  async function rawStream (alice: Host, bob: Host): Promise<Stream> {
    await alice.dial(bob.addresses()[0])
    return await alice.libp2p.getConnections()[0].newStream(PROTOCOL)
  }

  // What the raw side reads back: the error envelope bob sends before closing.
  async function readError (stream: Stream): Promise<AuraError> {
    const decoder = new FrameDecoder()
    for await (const chunk of stream) {
      for (const body of decoder.push(chunk.subarray())) {
        const env = decodeEnvelope(body)
        if (env.kind === 'error') return env.error
      }
    }
    throw new TimeoutError('stream ended without an error frame')
  }

  for (const [what, bytes, code] of [
    ['an oversized length prefix', encodeLength(4 * 1024 * 1024 + 2), 'E_FRAME_TOO_LARGE'],
    ['a non-minimal length prefix', Uint8Array.of(0x80, 0x00), 'E_MALFORMED'],
    ['an unknown frame kind', encodeFrame(Uint8Array.of(7, 1, 2)), 'E_MALFORMED'],
    ['a compressed frame it did not agree to', encodeFrame(encodeData(deflateRawSync(Uint8Array.of(1, 2, 3)), true)), 'E_MALFORMED']
  ] as const) {
    it(`closes a link that receives ${what} with ${code}, tells both sides, and keeps serving`, async () => {
      const errors: Array<[string, string]> = []
      const bob = await start(
        { seed: seed(2), onProtocolError: (err, info) => { errors.push([err.code, info.remote]) } }
      )
      const alice = await start({ seed: seed(1) })
      const closes: Array<AuraError | undefined> = []
      await bob.handle(PROTOCOL, (link) => {
        link.onClose = (r) => { closes.push(r) }
        link.onFrame = (f) => { link.send(f) }
      })
      const stream = await rawStream(alice, bob)
      stream.send(encodeFrame(encodeData(Uint8Array.of(42))))
      stream.send(bytes)
      const told = await readError(stream)
      expect(told.code).toBe(code)
      await until(() => closes.length === 1, 5000, 'bob closing the link')
      expect(closes[0]?.code).toBe(code)
      expect(errors).toEqual([[code, alice.key]])
      // The host is unharmed: a well-behaved link on the same connection still works.
      const link = await alice.openLink(bob.key, PROTOCOL)
      const echoed = new Promise<Uint8Array>((resolve) => { link.onFrame = resolve })
      link.send(Uint8Array.of(9))
      expect(await echoed).toEqual(Uint8Array.of(9))
    })
  }

  it('waits for drain when the stream says so, and still delivers every frame in order', async () => {
    const bob = await start({ seed: seed(2) })
    const alice = await start({ seed: seed(1) })
    const received: number[] = []
    await bob.handle(
      PROTOCOL,
      (link) => { link.onFrame = (f) => { received.push(new DataView(f.buffer, f.byteOffset).getUint32(0)) } }
    )
    const stream = await rawStream(alice, bob)
    let refusals = 0
    const send = stream.send.bind(stream)
    stream.send = (data) => {
      const ok = send(data)
      if (!ok) refusals++
      return ok
    }
    const link = new StreamLink(stream, { local: alice.key, remote: bob.key })
    const n = 2000
    for (let i = 0; i < n; i++) {
      const f = new Uint8Array(64 * 1024)
      new DataView(f.buffer).setUint32(0, i)
      link.send(f)
    }
    await until(() => received.length === n, 60_000, 'all frames')
    expect(received).toEqual(Array.from({ length: n }, (_, i) => i))
    expect(refusals).toBeGreaterThan(0)
  }, 90_000)

  it('reports E_UNREACHABLE on both ends when the connection is cut', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const { a, b } = await linkBetween(alice, bob)
    const reasons = Promise.all(
      [a, b].map(async (l) => await new Promise<AuraError | undefined>((resolve) => { l.onClose = resolve }))
    )
    alice.libp2p.getConnections()[0].abort(new Error('cable cut'))
    const [ra, rb] = await reasons
    expect(ra?.code).toBe('E_UNREACHABLE')
    expect(rb?.code).toBe('E_UNREACHABLE')
  })

  it('closes links cleanly (no reason) when a host stops', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const { a, b } = await linkBetween(alice, bob)
    const atA = new Promise<AuraError | undefined>((resolve) => { a.onClose = resolve })
    const atB = new Promise<AuraError | undefined>((resolve) => { b.onClose = resolve })
    await bob.stop()
    expect(await atB).toBeUndefined()
    expect(await atA).toBeUndefined()
  })
})
