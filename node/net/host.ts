/**
 * node/net: the network edge. A Host is one libp2p 3 node (TCP, Noise, Yamux) whose identity is
 * the peer's Aura key, with a gate that refuses keys after the Noise handshake, and Links
 * (node/sync/link.ts) over protocol streams. Everything above this folder speaks Links only.
 *
 * @example
 * const bob = await createHost({ seed: bobSeed, gate: (key) => revoked.has(key) ? new RevokedError('revoked') : null })
 * await bob.handle('/aura/sync/1', (link) => { link.onFrame = (f) => link.send(f) })
 * const alice = await createHost({ seed: aliceSeed })
 * const link = await alice.openLink(bob.addresses()[0], '/aura/sync/1')
 * link.onFrame = (f) => console.log('echo', f)
 * link.send(Uint8Array.of(1))
 * await alice.stop(); await bob.stop()
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { PeerRecord, RecordEnvelope } from '@libp2p/peer-record'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { type AuraError, BusyError, MalformedError, ProtocolError, UnreachableError } from '../../crdt/errors.js'
import { type KeyId, keyIdOf, parseKeyId, shortId } from '../../crdt/ids.js'
import { checkMaxFrameBytes, DEFAULT_MAX_FRAME_BYTES } from '../sync/frame.js'
import type { Link } from '../sync/link.js'
import { auraGater, type Direction, type Gate } from './gater.js'
import { keyIdFromMultiaddr, keyIdFromPeerId, privateKeyFromSeed } from './peer-identity.js'
import { DEFAULT_CLOSE_TIMEOUT_MS, StreamLink } from './stream-link.js'
import { DEFLATED_PROTOCOLS } from './protocols.js'
import { reachDiscovery, reachServices, relayTransport, RUN_ON_LIMITED, type ReachInit } from './reach.js'

export type { Direction, Gate } from './gater.js'

/** Options of a Host. */
export interface HostInit {
  /** The 32-byte Aura identity seed; the libp2p key is the same ed25519 key. */
  seed: Uint8Array
  /** Multiaddrs to listen on. Default `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  /** Who may connect; consulted after Noise, both directions. Default: everyone. */
  gate?: Gate
  /** Largest frame a Link sends or accepts. Default 4 MiB. */
  maxFrameBytes?: number
  /** Most simultaneous connections. Default 512. */
  maxConnections?: number
  /** Longest a dial (TCP + Noise + Yamux) or stream negotiation may take. Default 10 s. */
  dialTimeoutMs?: number
  /** Longest a closing link may take to flush. Default 5 s. */
  closeTimeoutMs?: number
  /** Told when a peer sent a frame this host refused; the link is closed, the host runs on. */
  onProtocolError?: (err: AuraError, info: { remote: KeyId, protocol: string }) => void
  /** Identify, relays, hole punching, mDNS (node/net/reach.ts). Unset: direct TCP only. */
  reach?: ReachInit
  /** Told the addresses a peer announced (identify: its signed peer record) or was discovered at (mDNS). */
  onPeerAddresses?: (key: KeyId, addrs: string[], how: 'identify' | 'mdns') => void
  /** Told an address peers observed this host at (identify). */
  onObservedAddress?: (addr: string) => void
  /** Bytes an inbound stream may deliver before its owner admits it (`link.admit()`); unset: no bound. */
  unadmittedBytes?: number
  /** Time an inbound stream has to be admitted, ms; unset: no deadline. */
  handshakeTimeoutMs?: number
  /** Longest silence on any stream, ms; unset: none. */
  idleTimeoutMs?: number
  /** Most streams one key may hold to this host at once (both directions); unset: libp2p's own caps only. */
  maxStreamsPerKey?: number
  /** Most inbound streams not yet admitted, from all keys; unset: no bound. */
  maxUnadmitted?: number
}

/** One open connection, as `aura status` shows it. */
export interface ConnectionInfo {
  key: KeyId
  /** Relayed connections go through a circuit relay; direct ones are plain TCP. */
  via: 'direct' | 'relayed'
  /** The remote address (a circuit address names the relay). */
  addr: string
  /** Round trip measured by libp2p, ms, when known. */
  rttMs: number | null
  /**
   * Aura protocol bytes received from and sent to this peer since the daemon started (every stream, closed ones too).
   */
  bytesIn: number
  bytesOut: number
  /** When this peer last sent anything on an open stream (ms since the epoch); null: nothing yet. */
  lastHeardAt: number | null
}

/** Per-protocol options of `Host.handle`. */
export interface HandleOptions {
  /** Overrides HostInit.unadmittedBytes for this protocol (a join request needs far less). */
  unadmittedBytes?: number
}

/** Host events: a key got its first connection, or lost its last. */
export type HostEvent = 'connect' | 'disconnect'

/** A running network edge. */
export interface Host {
  /** This node's Aura key id, and the same key as a libp2p PeerId string. */
  readonly key: KeyId
  readonly peerId: string
  /** The underlying libp2p node, for diagnostics; protocols should use Links. */
  readonly libp2p: Libp2p
  /** Listen multiaddrs, each ending in `/p2p/<peerId>`. */
  addresses: () => string[]
  /** Connects to a multiaddr and returns the proven key on the other end. */
  dial: (addr: string) => Promise<KeyId>
  /** Opens a Link for `protocol` to a connected key or to a multiaddr. */
  openLink: (target: KeyId | string, protocol: string) => Promise<Link>
  /**
   * Calls `onLink` with a Link for each stream a peer opens for `protocol`. The link is not
   * admitted yet: a byte budget and a handshake deadline apply until the owner calls
   * `link.admit()`; a key over its stream cap, or a stream over the cap of unadmitted ones, is
   * refused with E_BUSY before `onLink` sees it.
   */
  handle: (protocol: string, onLink: (link: Link) => void, opts?: HandleOptions) => Promise<void>
  /** Closes every link (telling the peer `reason`, if given) and connection to `key` at once. */
  hangUp: (key: KeyId, reason?: AuraError) => Promise<void> | void
  /**
   * Cuts every connection to `key` before returning: each link's error frame (`reason`) is
   * handed to the socket, then the connections are aborted, not closed gracefully. For a
   * revoked key: a graceful close waits on the peer (its window, the event loop's turns), and
   * a revoked peer is owed no wait. On a congested path the peer may get a reset without the
   * reason; the revocation reaches it through the chain anyway.
   */
  cut: (key: KeyId, reason: AuraError) => void
  /** Tells the peer why (an error frame on `link`), then hangs up on it. */
  refuseWithReason: (link: Link, err: AuraError) => Promise<void>
  /** Keys with at least one open connection. */
  connections: () => KeyId[]
  /** The libp2p PeerId string of a key this host has met, if any. */
  peerIdOf: (key: KeyId) => string | null
  /** Every open connection: direct or relayed, address, round trip. */
  connectionInfo: () => ConnectionInfo[]
  /** Measures a round trip to a connected key (ping); null when it cannot. */
  ping: (key: KeyId, timeoutMs?: number) => Promise<number | null>
  /** Signed peer records (libp2p envelopes) this host holds for `keys`, its own included. */
  peerRecords: (keys: KeyId[]) => Promise<Uint8Array[]>
  /** Verifies and stores a signed peer record; returns its key and addresses, or null. */
  consumePeerRecord: (
    envelope: Uint8Array,
    accept: (key: KeyId) => boolean
  ) => Promise<{ key: KeyId, addrs: string[] } | null>
  /** Subscribes to connect/disconnect; returns the unsubscribe function. */
  on: (event: HostEvent, listener: (key: KeyId) => void) => () => void
  /** Closes every link and connection and stops listening. */
  stop: () => Promise<void>
}

const DEFAULT_MAX_CONNECTIONS = 512
const DEFAULT_DIAL_TIMEOUT_MS = 10_000
// Time the error frames of a hang-up get before the connection is cut regardless.
const HANG_UP_GRACE_MS = 1000
const REMEMBERED_REFUSALS = 64
const REFUSAL_GRACE_MS = 250
const RELAYED_CLOSE_GRACE_MS = 2000
// Answered by every host: `dial` opens it once to learn that the listener kept the connection.
const READY_PROTOCOL = '/aura/ready/1.0.0'

/** Starts a host listening on `init.listen`. */
export async function createHost (init: HostInit): Promise<Host> {
  const host = new Libp2pHost(init)
  await host.start()
  return host
}

class Libp2pHost implements Host {
  key: KeyId = '' as KeyId
  peerId = ''
  libp2p!: Libp2p
  private readonly init: HostInit
  private readonly gate: Gate
  private readonly maxFrameBytes: number
  private readonly dialTimeoutMs: number
  private readonly links = new Map<KeyId, Set<StreamLink>>()
  /** Bytes of streams already closed, per peer (open ones are read from their links). */
  private readonly closedBytes = new Map<KeyId, { in: number, out: number }>()
  private readonly peerIds = new Map<KeyId, PeerId>()
  private readonly listeners = new Map<HostEvent, Set<(key: KeyId) => void>>()
  private readonly refusals = new Map<string, AuraError>()
  private readonly unadmitted = new Set<StreamLink>()

  constructor (init: HostInit) {
    this.init = init
    this.gate = init.gate ?? (() => null)
    this.maxFrameBytes = checkMaxFrameBytes(init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
    this.dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS
  }

  async start (): Promise<void> {
    const privateKey = await privateKeyFromSeed(this.init.seed)
    this.key = keyIdOf(privateKey.publicKey.raw)
    const maxConnections = this.init.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    const reach = this.init.reach
    const listen = this.init.listen ?? ['/ip4/127.0.0.1/tcp/0']
    this.libp2p = await createLibp2p({
      privateKey,
      addresses: {
        // Each /p2p-circuit asks for one reservation: two relays, so losing one (the Mothership
        // stopped) leaves the node reachable through the other.
        listen: reach?.relayClient === true ? [...listen, '/p2p-circuit', '/p2p-circuit'] : listen,
        appendAnnounce: reach?.announce ?? []
      },
      transports: reach === undefined ? [tcp()] : [tcp(), relayTransport()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: reach === undefined ? {} : reachServices(reach),
      peerDiscovery: reach === undefined ? [] : reachDiscovery(reach),
      connectionGater: auraGater(
        this.gate,
        (addr, err) => this.rememberRefusal(addr, err),
        reach === undefined ? undefined : { serve: reach.relayServe, admitted: reach.admitted }
      ),
      connectionManager: {
        maxConnections,
        // Local peers all come from 127.0.0.1, and libp2p rate-limits inbound connections per
        // source address (default 5/s) and pending upgrades (default 10): a team of ~50 peers
        // starting together, or a test that redials, would be refused with ECONNRESET.
        inboundConnectionThreshold: maxConnections,
        maxIncomingPendingConnections: maxConnections,
        dialTimeout: this.dialTimeoutMs
      }
    })
    this.peerId = this.libp2p.peerId.toString()
    await this.libp2p.handle(READY_PROTOCOL, (stream) => { void stream.close() }, RUN_ON_LIMITED)
    // Once a direct connection to a key is up, its relayed ones only cost the relay: close them
    // (after a moment, so sessions on the direct one are running first).
    this.libp2p.addEventListener('connection:open', (evt) => {
      const c = evt.detail
      if (c.limits !== undefined || c.remoteAddr.toString().includes('/p2p-circuit')) return
      setTimeout(() => {
        if (c.status !== 'open') return
        for (const other of this.libp2p.getConnections(c.remotePeer)) {
          if (other.limits !== undefined || other.remoteAddr.toString().includes('/p2p-circuit')) void other.close().catch(() => other.abort(new Error('replaced by a direct connection')))
        }
      }, RELAYED_CLOSE_GRACE_MS).unref()
    })
    this.libp2p.addEventListener('connection:open', (evt) => this.closeIfParked(evt.detail))
    this.libp2p.addEventListener('peer:identify', (evt) => {
      const key = keyOf(evt.detail.peerId)
      if (key === null) return
      this.peerIds.set(key, evt.detail.peerId)
      const addrs = (evt.detail.signedPeerRecord?.addresses ?? evt.detail.listenAddrs).map((a) => a.toString())
      if (addrs.length > 0) this.init.onPeerAddresses?.(key, addrs, 'identify')
      if (evt.detail.observedAddr !== undefined) this.init.onObservedAddress?.(evt.detail.observedAddr.toString())
    })
    this.libp2p.addEventListener('peer:discovery', (evt) => {
      const key = keyOf(evt.detail.id)
      if (key === null || key === this.key) return
      this.peerIds.set(key, evt.detail.id)
      const addrs = evt.detail.multiaddrs.map((a) => a.toString())
      if (addrs.length > 0) this.init.onPeerAddresses?.(key, addrs, 'mdns')
    })
    this.libp2p.addEventListener('peer:connect', (evt) => {
      const key = keyOf(evt.detail)
      if (key === null) return
      this.peerIds.set(key, evt.detail)
      this.emit('connect', key)
    })
    this.libp2p.addEventListener('peer:disconnect', (evt) => {
      const key = keyOf(evt.detail)
      if (key !== null) this.emit('disconnect', key)
    })
  }

  /**
   * A connection of a key not admitted here that carries no stream for a whole handshake
   * timeout is closed: a stranger cannot park connections (streams have their own timeouts).
   * Checked every handshake timeout while the connection is open and its key unadmitted.
   */
  private closeIfParked (c: Connection): void {
    const admitted = this.init.reach?.admitted
    const everyMs = this.init.handshakeTimeoutMs
    const key = keyOf(c)
    if (admitted === undefined || everyMs === undefined || key === null) return
    let quietBefore = c.streams.length === 0
    const timer = setInterval(() => {
      if (c.status !== 'open' || admitted(key)) { clearInterval(timer); return }
      const quiet = c.streams.length === 0
      if (quiet && quietBefore) {
        clearInterval(timer)
        void c.close().catch(() => c.abort(new Error('no stream within the handshake timeout')))
      }
      quietBefore = quiet
    }, everyMs)
    timer.unref()
  }

  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map((ma) => ma.toString())
  }

  async dial (addr: string): Promise<KeyId> {
    const connection = await this.connect(addr)
    const key = keyIdFromPeerId(connection.remotePeer)
    // Noise XX ends with the dialer's message, so the dialer is done before the listener has
    // even seen its key: a listener whose gate refuses us drops the connection only after
    // libp2p.dial resolved here. One round trip settles it.
    try {
      const signal = AbortSignal.timeout(this.dialTimeoutMs)
      const stream = await connection.newStream(READY_PROTOCOL, { signal, ...RUN_ON_LIMITED })
      await stream.close({ signal })
      // And the listener's close, so no half-open stream outlives the dial.
      await untilClosed(stream, signal)
    } catch (err) {
      connection.abort(err as Error)
      throw new UnreachableError(`${shortId(key)} closed the connection after the handshake (its gate refused this key, or it is stopping): ${messageOf(err)}`, { peer: key, addr })
    }
    return key
  }

  async openLink (target: KeyId | string, protocol: string): Promise<Link> {
    const connection = target.startsWith('/') ? await this.connect(target) : await this.connectionTo(parseKeyId(target))
    const key = keyIdFromPeerId(connection.remotePeer)
    this.admit(key, 'outbound')
    let stream: Stream
    try {
      stream = await connection.newStream(
        protocol,
        { signal: AbortSignal.timeout(this.dialTimeoutMs), ...RUN_ON_LIMITED }
      )
    } catch (err) {
      if ((err as Error).name === 'UnsupportedProtocolError') {
        throw new ProtocolError(`${shortId(key)} does not speak ${protocol}`, { peer: key, protocol })
      }
      throw new UnreachableError(`could not open ${protocol} to ${shortId(key)}: ${messageOf(err)}`, { peer: key, protocol })
    }
    return this.wrap(stream, key, protocol)
  }

  async handle (protocol: string, onLink: (link: Link) => void, opts: HandleOptions = {}): Promise<void> {
    const pending = {
      unadmittedBytes: opts.unadmittedBytes ?? this.init.unadmittedBytes,
      handshakeTimeoutMs: this.init.handshakeTimeoutMs
    }
    const perKey = this.init.maxStreamsPerKey
    await this.libp2p.handle(protocol, (stream, connection) => {
      const link = this.wrap(stream, keyIdFromPeerId(connection.remotePeer), protocol, pending)
      // The gate may have changed since this connection was admitted (a revocation racing
      // hangUp): here, unlike at the Noise level, the peer can be told why.
      const refusal = this.gate(link.remote, 'inbound')
      if (refusal !== null) {
        this.refuseSoon(link, refusal)
        return
      }
      // Over a cap, only this stream goes: the key's other sessions are no fault of it.
      const busy = this.overCap(link)
      if (busy !== null) {
        this.refuseSoon(link, busy, false)
        return
      }
      onLink(link)
    // libp2p's own per-connection cap (default 32) would refuse silently; ours says E_BUSY.
    }, { ...RUN_ON_LIMITED, ...(perKey === undefined ? {} : { maxInboundStreams: 2 * perKey + 1 }) })
  }

  // E_BUSY when the key holds too many streams, or too many streams wait for admission.
  private overCap (link: StreamLink): AuraError | null {
    const perKey = this.init.maxStreamsPerKey
    const held = this.links.get(link.remote)?.size ?? 0
    if (perKey !== undefined && held > perKey) return new BusyError(`${shortId(link.remote)} already holds ${perKey} streams to this node`, { peer: link.remote, max: perKey })
    const maxUnadmitted = this.init.maxUnadmitted
    if (maxUnadmitted !== undefined && this.unadmitted.size > maxUnadmitted) return new BusyError(`${maxUnadmitted} streams already wait for admission here; retry later`, { max: maxUnadmitted })
    return null
  }

  hangUp (key: KeyId, reason?: AuraError): Promise<void> | void {
    for (const link of this.links.get(key) ?? []) link.closeNow(reason)
    const open = this.libp2p.getConnections().filter((c) => keyOf(c) === key)
    // Nothing open: done now, not after a turn of the event loop.
    if (open.length === 0) return
    return Promise.all(open.map(async (c) => {
      try {
        // Graceful, so the error frames just queued leave before the FIN.
        await c.close({ signal: AbortSignal.timeout(HANG_UP_GRACE_MS) })
      } catch (err) {
        c.abort(err as Error)
      }
    })).then(() => {})
  }

  cut (key: KeyId, reason: AuraError): void {
    for (const link of this.links.get(key) ?? []) link.closeNow(reason)
    for (const c of this.libp2p.getConnections()) if (keyOf(c) === key) c.abort(reason)
  }

  async refuseWithReason (link: Link, err: AuraError): Promise<void> {
    if (link instanceof StreamLink) link.closeNow(err)
    else link.close(err)
    await this.hangUp(link.remote, err)
  }

  connections (): KeyId[] {
    const keys = new Set<KeyId>()
    for (const c of this.libp2p.getConnections()) {
      const key = keyOf(c)
      if (key !== null && c.status === 'open') keys.add(key)
    }
    return [...keys]
  }

  peerIdOf (key: KeyId): string | null {
    return key === this.key ? this.peerId : this.peerIds.get(key)?.toString() ?? null
  }

  connectionInfo (): ConnectionInfo[] {
    const out: ConnectionInfo[] = []
    for (const c of this.libp2p.getConnections()) {
      const key = keyOf(c)
      if (key === null || c.status !== 'open') continue
      const addr = c.remoteAddr.toString()
      const live = [...(this.links.get(key) ?? [])]
      const closed = this.closedBytes.get(key) ?? { in: 0, out: 0 }
      out.push({
        key,
        via: c.limits !== undefined || addr.includes('/p2p-circuit') ? 'relayed' : 'direct',
        addr,
        rttMs: c.rtt ?? null,
        bytesIn: live.reduce((n, l) => n + l.bytesIn, closed.in),
        bytesOut: live.reduce((n, l) => n + l.bytesOut, closed.out),
        lastHeardAt: live.length === 0 ? null : Math.max(...live.map((l) => l.lastHeardAt))
      })
    }
    // A peer reached both ways (a circuit being upgraded) shows its direct connection first.
    return out.sort((a, b) => a.key.localeCompare(b.key) || a.via.localeCompare(b.via))
  }

  async ping (key: KeyId, timeoutMs = 1000): Promise<number | null> {
    const svc = (this.libp2p.services as {
      ping?: { ping: (p: PeerId, o: { signal: AbortSignal }) => Promise<number> }
    }).ping
    const peerId = this.peerIds.get(key)
    if (svc === undefined || peerId === undefined) return null
    try {
      return await svc.ping(peerId, { signal: AbortSignal.timeout(timeoutMs) })
    } catch {
      return null
    }
  }

  async peerRecords (keys: KeyId[]): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for (const peerId of [this.libp2p.peerId, ...keys.map((k) => this.peerIds.get(k)).filter((p) => p !== undefined)]) {
      try {
        const env = (await this.libp2p.peerStore.get(peerId)).peerRecordEnvelope
        if (env !== undefined) out.push(env)
      } catch {
        // Not in libp2p's store (yet): nothing to share for it.
      }
    }
    return out
  }

  async consumePeerRecord (
    envelope: Uint8Array,
    accept: (key: KeyId) => boolean
  ): Promise<{ key: KeyId, addrs: string[] } | null> {
    const opened = await openPeerRecord(envelope)
    if (opened === null) return null
    const key = keyOf(opened.peerId)
    if (key === null || key === this.key || !accept(key)) return null
    await this.libp2p.peerStore.consumePeerRecord(envelope, { expectedPeer: opened.peerId })
    this.peerIds.set(key, opened.peerId)
    return { key, addrs: opened.addrs }
  }

  on (event: HostEvent, listener: (key: KeyId) => void): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) this.listeners.set(event, set = new Set())
    set.add(listener)
    return () => { set.delete(listener) }
  }

  async stop (): Promise<void> {
    const closing: Array<Promise<void>> = []
    for (const set of this.links.values()) {
      for (const link of set) {
        link.closeNow()
        closing.push(link.finished)
      }
    }
    // libp2p closes connections that still carry open streams slowly (500 ms each when both
    // ends stop at once); links whose peers answer our FIN are gone within a round trip.
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race(
      [Promise.all(closing), new Promise((resolve) => { timer = setTimeout(resolve, HANG_UP_GRACE_MS) })]
    )
    clearTimeout(timer)
    await this.libp2p.stop()
  }

  // A refusal sent right after negotiation, FIN included, can reach the dialler in the same read
  // as the multistream-select answer; libp2p 3 then fails its newStream ("Cannot push data onto
  // a stream that is closed") and the reason is lost. So wait for the dialler's first frame,
  // which proves its negotiation is over, or a short grace for a dialler that waits to be spoken to.
  private refuseSoon (link: StreamLink, refusal: AuraError, hangUp = true): void {
    let done = false
    const refuse = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (hangUp) void this.refuseWithReason(link, refusal)
      else link.closeNow(refusal)
    }
    const timer = setTimeout(refuse, REFUSAL_GRACE_MS)
    timer.unref()
    link.onFrame = refuse
  }

  private emit (event: HostEvent, key: KeyId): void {
    for (const listener of this.listeners.get(event) ?? []) listener(key)
  }

  // Throws the gate's own error, so a caller sees E_REVOKED rather than a dropped connection.
  private admit (key: KeyId, direction: Direction): void {
    const refusal = this.gate(key, direction)
    if (refusal !== null) throw refusal
  }

  private async connect (addr: string): Promise<Connection> {
    const key = keyIdFromMultiaddr(addr)
    if (key !== null) this.admit(key, 'outbound')
    try {
      return await this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(this.dialTimeoutMs) })
    } catch (err) {
      const bare = addr.split('/p2p/')[0]
      const refusal = this.refusals.get(bare)
      this.refusals.delete(bare)
      throw refusal ?? new UnreachableError(`could not connect to ${addr}: ${messageOf(err)}`, { addr })
    }
  }

  private async connectionTo (key: KeyId): Promise<Connection> {
    const open = this.libp2p.getConnections().find((c) => c.status === 'open' && keyOf(c) === key)
    if (open !== undefined) return open
    const peerId = this.peerIds.get(key)
    if (peerId === undefined) {
      throw new UnreachableError(`no connection to ${shortId(key)} and no address known: dial its multiaddr first`, { peer: key })
    }
    this.admit(key, 'outbound')
    try {
      return await this.libp2p.dial(peerId, { signal: AbortSignal.timeout(this.dialTimeoutMs) })
    } catch (err) {
      throw new UnreachableError(`could not reconnect to ${shortId(key)}: ${messageOf(err)}`, { peer: key })
    }
  }

  // `pending`: the bounds of a stream not admitted yet (inbound); outbound links start admitted.
  private wrap (
    stream: Stream,
    key: KeyId,
    protocol: string,
    pending?: { unadmittedBytes?: number, handshakeTimeoutMs?: number }
  ): StreamLink {
    const link = new StreamLink(stream, {
      local: this.key,
      remote: key,
      maxFrameBytes: this.maxFrameBytes,
      closeTimeoutMs: this.init.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS,
      onProtocolError: (err) => this.init.onProtocolError?.(err, { remote: key, protocol }),
      deflate: DEFLATED_PROTOCOLS.has(protocol),
      idleTimeoutMs: this.init.idleTimeoutMs,
      ...pending,
      onAdmit: () => { this.unadmitted.delete(link) }
    })
    if (pending !== undefined) this.unadmitted.add(link)
    let set = this.links.get(key)
    if (set === undefined) this.links.set(key, set = new Set())
    const links = set
    links.add(link)
    void link.finished.then(() => {
      // Only admitted peers' totals are kept: strangers with fresh keys must not grow the map.
      if (!this.unadmitted.has(link)) {
        const total = this.closedBytes.get(key) ?? { in: 0, out: 0 }
        this.closedBytes.set(key, { in: total.in + link.bytesIn, out: total.out + link.bytesOut })
      }
      this.unadmitted.delete(link)
      links.delete(link)
      if (links.size === 0 && this.links.get(key) === links) this.links.delete(key)
    })
    return link
  }

  private rememberRefusal (addr: string, err: AuraError): void {
    this.refusals.set(addr, err)
    // Bounded: a refusal nobody asks about (a dial by PeerId) must not pile up.
    if (this.refusals.size > REMEMBERED_REFUSALS) this.refusals.delete(this.refusals.keys().next().value as string)
  }
}

// The gate refuses non-ed25519 peers, so null here means a connection that is being refused.
function keyOf (peer: Connection | PeerId): KeyId | null {
  try {
    return keyIdFromPeerId('remotePeer' in peer ? peer.remotePeer : peer)
  } catch (err) {
    if (err instanceof MalformedError) return null
    throw err
  }
}

async function untilClosed (stream: Stream, signal: AbortSignal): Promise<void> {
  if (stream.status !== 'open' && stream.status !== 'closing') return
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      stream.removeEventListener('close', onClose)
      reject(signal.reason)
    }
    const onClose = (): void => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }
    stream.addEventListener('close', onClose, { once: true })
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

// Opens a signed peer record: the envelope's signature is checked against the key inside it.
async function openPeerRecord (bytes: Uint8Array): Promise<{ peerId: PeerId, addrs: string[] } | null> {
  try {
    const envelope = await RecordEnvelope.openAndCertify(bytes, PeerRecord.DOMAIN)
    const record = PeerRecord.createFromProtobuf(envelope.payload)
    if (!record.peerId.equals(peerIdFromPublicKey(envelope.publicKey))) return null
    return { peerId: record.peerId, addrs: record.multiaddrs.map((a) => a.toString()) }
  } catch {
    return null
  }
}

function messageOf (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return messageOf(err.errors[0])
  return err instanceof Error ? err.message : String(err)
}
