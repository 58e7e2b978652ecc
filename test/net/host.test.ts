import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { type AuraError, NotAdmittedError, RevokedError, TimeoutError } from '../../crdt/errors.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import { type KeyId, keyIdOf } from '../../crdt/ids.js'
import { createHost, type Direction, type Host, type HostInit } from '../../node/net/host.js'
import { keyIdFromMultiaddr, keyIdFromPeerId, peerIdStringFromSeed } from '../../node/net/peer-identity.js'
import type { Link } from '../../node/sync/link.js'

const PROTOCOL = '/aura/test/host/1.0.0'
const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new TimeoutError(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function rejection (p: Promise<unknown>): Promise<AuraError> {
  try {
    await p
  } catch (err) {
    return err as AuraError
  }
  throw new TimeoutError('expected a rejection')
}

const closeOf =
  async (link: Link): Promise<AuraError | undefined> => await new Promise((resolve) => { link.onClose = resolve })

describe('Host', () => {
  const hosts: Host[] = []
  const start = async (init: HostInit): Promise<Host> => {
    const h = await createHost(init)
    hosts.push(h)
    return h
  }
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.stop()
  })
  // Alice holds two links to bob, one opened by address and one by key.
  interface TwoLinks { alice: Host, bob: Host, atBob: Link[], reasons: Array<Promise<AuraError | undefined>> }
  const twoLinks = async (): Promise<TwoLinks> => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const atBob: Link[] = []
    await bob.handle(PROTOCOL, (link) => { atBob.push(link) })
    const links = [await alice.openLink(bob.addresses()[0], PROTOCOL), await alice.openLink(bob.key, PROTOCOL)]
    const reasons = links.map(closeOf)
    await until(() => atBob.length === 2, 5000, 'bob accepting two links')
    return { alice, bob, atBob, reasons }
  }

  it('is the Aura key: PeerId, key id and addresses all derive from the seed', async () => {
    const alice = await start({ seed: seed(1) })
    expect(alice.peerId).toBe(await peerIdStringFromSeed(seed(1)))
    expect(alice.key).toBe(keyIdOf(keyPairFromSeed(seed(1)).publicKey))
    expect(keyIdFromPeerId(peerIdFromString(alice.peerId))).toBe(alice.key)
    const [addr] = alice.addresses()
    expect(addr).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${alice.peerId}$`))
    expect(keyIdFromMultiaddr(addr)).toBe(alice.key)
    expect(keyIdFromMultiaddr('/ip4/127.0.0.1/tcp/1')).toBeNull()
    expect(() => keyIdFromMultiaddr('not an address')).toThrowError(expect.objectContaining({ code: 'E_MALFORMED' }) as Error)
  })

  it('finds a peer by dialling its multiaddr; both see the connection and hear connect', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const heard: string[] = []
    alice.on('connect', (k) => heard.push(`alice+${k}`))
    bob.on('connect', (k) => heard.push(`bob+${k}`))
    expect(await alice.dial(bob.addresses()[0])).toBe(bob.key)
    expect(alice.connections()).toEqual([bob.key])
    await until(() => bob.connections().length === 1, 5000, 'bob seeing alice')
    expect(bob.connections()).toEqual([alice.key])
    await until(() => heard.length === 2, 5000, 'connect events')
    expect(heard.sort()).toEqual([`alice+${bob.key}`, `bob+${alice.key}`].sort())
    // A link by key reuses the connection.
    await bob.handle(PROTOCOL, (link) => { link.onFrame = (f) => { link.send(f) } })
    const link = await alice.openLink(bob.key, PROTOCOL)
    const echo = new Promise<Uint8Array>((resolve) => { link.onFrame = resolve })
    link.send(Uint8Array.of(7))
    expect(await echo).toEqual(Uint8Array.of(7))
    expect(alice.libp2p.getConnections()).toHaveLength(1)
  })

  it('refuses an inbound key at the gate: the dial fails and no connection remains', async () => {
    const asked: Array<[KeyId, Direction]> = []
    let aliceKey: KeyId | null = null
    const bob = await start({ seed: seed(2), gate: (key, dir) => { asked.push([key, dir]); return key === aliceKey ? new RevokedError('alice is revoked') : null } })
    const alice = await start({ seed: seed(1) })
    aliceKey = alice.key
    const err = await rejection(alice.dial(bob.addresses()[0]))
    expect(err.code).toBe('E_UNREACHABLE')
    expect(alice.connections()).toEqual([])
    await until(() => alice.libp2p.getConnections().length === 0 && bob.libp2p.getConnections().length === 0, 2000, 'no connection left')
    expect(asked).toContainEqual([alice.key, 'inbound'])
    // Nor can she open a link.
    await bob.handle(PROTOCOL, () => {})
    expect((await rejection(alice.openLink(bob.addresses()[0], PROTOCOL))).code).toBe('E_UNREACHABLE')
    expect(bob.connections()).toEqual([])
  })

  it('refuses an outbound key at the gate with the gate’s own error, with or without /p2p/', async () => {
    const bob = await start({ seed: seed(2) })
    const revoked = new RevokedError('bob is revoked')
    const alice = await start({ seed: seed(1), gate: (key) => key === bob.key ? revoked : null })
    expect(await rejection(alice.dial(bob.addresses()[0]))).toBe(revoked)
    // Without /p2p/ the key is only known after Noise: refused there, same error.
    expect(await rejection(alice.dial(bob.addresses()[0].split('/p2p/')[0]))).toBe(revoked)
    expect(await rejection(alice.openLink(bob.addresses()[0], PROTOCOL))).toBe(revoked)
    await until(() => bob.libp2p.getConnections().length === 0, 2000, 'bob dropping the refused connection')
    expect(alice.libp2p.getConnections()).toEqual([])
  })

  it('refuses a key dialling in the other direction too', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const carol = await start({ seed: seed(3), gate: (key, dir) => key === alice.key && dir === 'inbound' ? new RevokedError('no') : null })
    expect((await rejection(alice.dial(carol.addresses()[0]))).code).toBe('E_UNREACHABLE')
    expect(await carol.dial(bob.addresses()[0])).toBe(bob.key)
    expect(await alice.dial(bob.addresses()[0])).toBe(bob.key)
    await until(() => carol.libp2p.getConnections().length === 1, 2000, 'carol dropping alice')
    expect(carol.connections()).toEqual([bob.key])
  })

  it('hangs up on a key at once, closing every link with the reason', async () => {
    const { alice, bob, atBob, reasons } = await twoLinks()
    const gone = new Promise<KeyId>((resolve) => { alice.on('disconnect', resolve) })
    await bob.hangUp(alice.key, new RevokedError('alice is revoked'))
    expect(bob.connections()).toEqual([])
    expect(atBob.every((l) => l.closed)).toBe(true)
    for (const r of await Promise.all(reasons)) expect(r?.code).toBe('E_REVOKED')
    expect(await gone).toBe(bob.key)
    await until(() => alice.connections().length === 0, 2000, 'alice seeing the hang-up')
  })

  it('cuts a key before returning: every link told why, no connection left open', async () => {
    const { alice, bob, atBob, reasons } = await twoLinks()
    // Nothing awaited: a graceful close would leave the connection open ('closing') here.
    expect(bob.cut(alice.key, new RevokedError('alice is revoked'))).toBeUndefined()
    expect(bob.libp2p.getConnections().filter((c) => c.status === 'open')).toEqual([])
    expect(bob.connections()).toEqual([])
    expect(atBob.every((l) => l.closed)).toBe(true)
    // The reason was handed to the socket before the cut, so alice still hears why.
    for (const r of await Promise.all(reasons)) expect(r?.code).toBe('E_REVOKED')
    await until(() => alice.connections().length === 0, 2000, 'alice seeing the cut')
  })

  it('hangs up on nothing at once when no connection to the key is open', async () => {
    const bob = await start({ seed: seed(2) })
    expect(bob.hangUp(keyIdOf(keyPairFromSeed(seed(9)).publicKey), new RevokedError('gone'))).toBeUndefined()
  })

  it('refuses with a reason at the protocol level, which the gate cannot give', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    await bob.handle(PROTOCOL, (link) => {
      link.onFrame = () => { void bob.refuseWithReason(link, new NotAdmittedError('key not admitted')) }
    })
    const link = await alice.openLink(bob.addresses()[0], PROTOCOL)
    const reason = closeOf(link)
    link.send(new TextEncoder().encode('hello'))
    const got = await reason
    expect(got?.code).toBe('E_NOT_ADMITTED')
    expect(got?.message).toBe('key not admitted')
    await until(() => alice.connections().length === 0 && bob.connections().length === 0, 2000, 'the hang-up')
  })

  it('tells a connected peer why when the gate turns against it before a new stream', async () => {
    let refuse = false
    const bob = await start({ seed: seed(2), gate: () => refuse ? new RevokedError('revoked meanwhile') : null })
    const alice = await start({ seed: seed(1) })
    let accepted = 0
    await bob.handle(PROTOCOL, () => { accepted++ })
    await alice.dial(bob.addresses()[0])
    refuse = true
    // One dialler speaks first, the other waits to be spoken to: both learn why.
    const speaker = await alice.openLink(bob.key, PROTOCOL)
    const listener = await alice.openLink(bob.key, PROTOCOL)
    const reasons = Promise.all([closeOf(speaker), closeOf(listener)])
    speaker.send(Uint8Array.of(1))
    for (const r of await reasons) expect(r?.code).toBe('E_REVOKED')
    expect(accepted).toBe(0)
    await until(() => bob.connections().length === 0, 2000, 'the hang-up')
  })

  it('says E_PROTOCOL for a protocol the peer does not speak and E_UNREACHABLE for an unknown key', async () => {
    const alice = await start({ seed: seed(1) })
    const bob = await start({ seed: seed(2) })
    const err = await rejection(alice.openLink(bob.addresses()[0], '/nobody/1'))
    expect(err.code).toBe('E_PROTOCOL')
    const stranger = keyIdOf(Uint8Array.of(9))
    expect((await rejection(alice.openLink(stranger, PROTOCOL))).code).toBe('E_UNREACHABLE')
    expect((await rejection(alice.openLink('peer-xyz', PROTOCOL))).code).toBe('E_MALFORMED')
  })

  it('takes 30 local peers dialling one hub at once (libp2p would refuse beyond 5/s by default)', async () => {
    const hub = await start({ seed: seed(100) })
    const peers = await Promise.all(Array.from({ length: 30 }, async (_, i) => await start({ seed: seed(i + 1) })))
    const keys = await Promise.all(peers.map(async (p) => await p.dial(hub.addresses()[0])))
    expect(new Set(keys)).toEqual(new Set([hub.key]))
    await until(() => hub.connections().length === 30, 5000, 'the hub seeing all 30')
  }, 60_000)
})
