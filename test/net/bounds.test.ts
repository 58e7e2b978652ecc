/**
 * The network edge's bounds on peers that are not admitted yet, and on every stream: a byte
 * budget before admission, a handshake deadline, an idle timeout, a cap on streams per key and
 * on unadmitted streams in all. Real libp2p hosts on 127.0.0.1; mallory writes raw bytes.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type AuraError, TimeoutError } from '../../crdt/errors.js'
import { createHost, type Host, type HostInit } from '../../node/net/host.js'
import { encodeFrame, encodeLength } from '../../node/sync/frame.js'
import { encodeData } from '../../node/sync/link-envelope.js'
import type { Link } from '../../node/sync/link.js'

const PROTOCOL = '/aura/test/bounds/1.0.0'
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)
const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new TimeoutError(`${what} did not happen within ${ms} ms`)
    await sleep(5)
  }
}

/** Bob's side of every stream mallory opens, with how it closed (null while open). */
interface Seen { link: Link, closed: AuraError | undefined | null, frames: number }

describe('Host bounds', () => {
  const hosts: Host[] = []
  afterEach(async () => { for (const h of hosts.splice(0)) await h.stop() })

  async function pair (init: Partial<HostInit>, admit = false): Promise<{ bob: Host, mallory: Host, seen: Seen[] }> {
    const bob = await createHost({ seed: seed(2), ...init })
    const mallory = await createHost({ seed: seed(9) })
    hosts.push(bob, mallory)
    const seen: Seen[] = []
    await bob.handle(PROTOCOL, (link) => {
      const s: Seen = { link, closed: null, frames: 0 }
      seen.push(s)
      if (admit) link.admit?.()
      link.onFrame = () => { s.frames++ }
      link.onClose = (r) => { s.closed = r }
    })
    return { bob, mallory, seen }
  }

  it('closes a stream that sends more than its budget before admission (E_FRAME_TOO_LARGE), however large the frame it declared', async () => {
    const { bob, mallory, seen } = await pair({ unadmittedBytes: 4096, maxFrameBytes: 16 * 1024 * 1024 })
    const raw = await mallory.libp2p.dialProtocol(bob.libp2p.getMultiaddrs()[0], PROTOCOL)
    raw.send(encodeLength(16 * 1024 * 1024))
    raw.send(new Uint8Array(3000))
    await until(() => seen.length === 1, 5000, 'bob sees the stream')
    await sleep(200)
    expect(seen[0].closed).toBeNull()
    raw.send(new Uint8Array(3000))
    await until(() => seen[0].closed !== null, 5000, 'bob closes the stream')
    expect(seen[0].closed?.code).toBe('E_FRAME_TOO_LARGE')
  })

  it('lifts the budget once the owner admits the stream', async () => {
    const { bob, mallory, seen } = await pair({ unadmittedBytes: 4096 }, true)
    const link = await mallory.openLink(bob.addresses()[0], PROTOCOL)
    for (let i = 0; i < 10; i++) link.send(new Uint8Array(2000))
    await until(() => seen[0]?.frames === 10, 5000, 'bob receives 20 KB')
    expect(seen[0].closed).toBeNull()
  })

  it('closes a stream that is not admitted within the handshake timeout (E_TIMEOUT), and not one that is', async () => {
    const { bob, mallory, seen } = await pair({ handshakeTimeoutMs: 300 })
    await mallory.openLink(bob.addresses()[0], PROTOCOL)
    await until(() => seen.length === 1, 5000, 'bob sees the stream')
    await until(() => seen[0].closed !== null, 3000, 'the silent stream is closed')
    expect(seen[0].closed?.code).toBe('E_TIMEOUT')
    seen[0].link.onClose = null
    const admitted = await pair({ handshakeTimeoutMs: 300 }, true)
    await admitted.mallory.openLink(admitted.bob.addresses()[0], PROTOCOL)
    await until(() => admitted.seen.length === 1, 5000, 'bob sees the stream')
    await sleep(800)
    expect(admitted.seen[0].closed).toBeNull()
  })

  it('closes a stream that receives nothing for the idle timeout (E_TIMEOUT), and keeps one that hears from its peer', async () => {
    const { bob, mallory, seen } = await pair({ idleTimeoutMs: 400 }, true)
    const quiet = await mallory.openLink(bob.addresses()[0], PROTOCOL)
    const chatty = await mallory.openLink(bob.addresses()[0], PROTOCOL)
    chatty.send(Uint8Array.of(1))
    const timer = setInterval(() => chatty.send(Uint8Array.of(1)), 100)
    try {
      await until(() => seen.length === 2, 5000, 'bob sees both streams')
      const quietSide = seen.find((s) => s.frames === 0) as Seen
      await until(() => quietSide.closed !== null, 3000, 'the quiet stream is closed')
      expect(quietSide.closed?.code).toBe('E_TIMEOUT')
      await sleep(600)
      expect(seen.find((s) => s !== quietSide)?.closed).toBeNull()
    } finally {
      clearInterval(timer)
    }
    expect(quiet.closed).toBe(true)
  })

  it('refuses streams past the cap per key with E_BUSY, and keeps the ones it holds', async () => {
    const { bob, mallory, seen } = await pair({ maxStreamsPerKey: 2 }, true)
    const codes: Array<string | undefined> = []
    const links: Link[] = []
    for (let i = 0; i < 4; i++) {
      const l = await mallory.openLink(bob.addresses()[0], PROTOCOL)
      l.onClose = (r) => { codes.push(r?.code) }
      l.onFrame = () => {}
      l.send(Uint8Array.of(7))
      links.push(l)
    }
    await until(() => codes.length >= 2, 5000, 'two streams refused')
    expect(codes).toEqual(['E_BUSY', 'E_BUSY'])
    await sleep(200)
    expect(seen.filter((s) => s.closed === null).length).toBe(2)
    expect(links.filter((l) => !l.closed).length).toBe(2)
  })

  it('refuses streams past the cap of unadmitted ones with E_BUSY', async () => {
    const { bob, mallory, seen } = await pair({ maxUnadmitted: 2 })
    const codes: Array<string | undefined> = []
    const links: Link[] = []
    for (let i = 0; i < 4; i++) {
      const l = await mallory.openLink(bob.addresses()[0], PROTOCOL)
      l.onClose = (r) => { codes.push(r?.code) }
      l.onFrame = () => {}
      l.send(Uint8Array.of(7))
      links.push(l)
    }
    await until(() => codes.length >= 2, 5000, 'two streams refused')
    expect(codes).toEqual(['E_BUSY', 'E_BUSY'])
    expect(seen.filter((s) => s.closed === null).length).toBe(2)
  })

  it('sends a frame the ordinary way to an admitted stream (framing is unchanged)', async () => {
    const { bob, mallory, seen } = await pair({ unadmittedBytes: 4096 }, true)
    const raw = await mallory.libp2p.dialProtocol(bob.libp2p.getMultiaddrs()[0], PROTOCOL)
    raw.send(encodeFrame(encodeData(new Uint8Array(10_000))))
    await until(() => seen[0]?.frames === 1, 5000, 'bob receives the frame')
  })
})
