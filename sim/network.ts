/**
 * The simulated network: endpoints, the partitions and offline windows that decide who can
 * reach whom, dials, and `SimLink` — the Link seam (node/sync/link.ts) implemented over the
 * event queue, so the real SyncEngine runs on it unchanged. Frames are delivered by scheduled
 * events whose times come from the link model and the network random stream.
 *
 * Each frame's length prefix is read by the daemon's frame decoder (node/sync/frame.ts), which
 * refuses a frame past the limit before its body: the receiving end closes the link with
 * E_FRAME_TOO_LARGE and the frame never reaches the protocol, as on a libp2p stream.
 *
 * A frame dropped by a partition breaks its connection: the Link contract is "ordered and
 * reliable, or closed", so both ends see the link close `detectMs` later (the time a real
 * transport's keep-alive takes to notice) and the nodes' dialers reconnect once they can.
 *
 * With a latency spread (`LinkModel.latencySpread`), every latency draw between two nodes is
 * multiplied by that pair's own factor (link-model.ts `pairLatencyFactor`, from `seed`).
 *
 * With a CPU model (sim/cpu-model.ts, scenario `[node]`), a frame that reached a node waits for
 * the node's processor, which handles its inbound frames one at a time in arrival order; the
 * protocol gets it when its turn is done. A close notice waits its turn too (it costs nothing),
 * so it never overtakes the frames the remote sent before it.
 *
 * @example
 * const net = new SimNetwork(scheduler, model, new RandomStream(seed, 'network'))
 * const a = net.addEndpoint(keyA, (link) => engineA.addLink(link))
 * net.dial(a, b, (link) => { if (link) engineA.addLink(link) })
 */
import { AuraError, toAuraError, UnreachableError } from '../crdt/errors.js'
import type { KeyId } from '../crdt/ids.js'
import { encodeLength, FrameDecoder } from '../node/sync/frame.js'
import { type Defer, LinkBase } from '../node/sync/link-base.js'
import type { Direction as Way } from '../node/peer/index.js'
import { CpuQueue, cpuCostUs, cpuEnabled, NO_CPU, type CpuModel } from './cpu-model.js'
import { pairLatencyFactor, sampleLatencyUs, type LinkModel } from './link-model.js'
import type { Partition } from './partitions.js'
import type { RandomStream } from './random.js'
import type { Scheduler } from './scheduler.js'

/** Per-endpoint traffic counters. */
export interface TrafficStats {
  framesSent: number
  bytesSent: number
  framesReceived: number
  bytesReceived: number
  /** Frames the transport delivered twice (raw mode) or discarded as duplicates (reliable). */
  duplicateFrames: number
  retransmits: number
  corrupted: number
  droppedByPartition: number
}

/** What the network tells its observer (the trace and the report). */
export interface NetworkObserver {
  linkOpened?: (a: number, b: number) => void
  linkClosed?: (local: number, remote: number, reason: AuraError | undefined) => void
  frameCorrupted?: (from: number, to: number) => void
  /** Called for every delivered frame (for the run digest). */
  delivered?: (from: number, to: number, frame: Uint8Array) => void
  /** A frame handler threw: the protocol crashed on input. */
  handlerThrew?: (at: number, err: unknown) => void
}

interface Endpoint {
  index: number
  key: KeyId
  up: boolean
  offline: boolean
  inbound: (link: SimLink) => void
  gate: Gate
  stats: TrafficStats
  cpu: CpuQueue
}

/** A node's connection gate, asked as libp2p's gater asks the daemon's: null admits. */
export type Gate = (key: KeyId, direction: Way) => AuraError | null

/** One direction of a connection: bandwidth queue and FIFO arrival bound. */
export interface Direction {
  busyUntil: number
  lastArrival: number
}

/** One end of a simulated connection (the shared Link contract comes from LinkBase). */
export class SimLink extends LinkBase {
  peer!: SimLink
  /** Set once a frame on this connection was lost to a partition. */
  broken = false
  /** Set once a keep-alive timeout is pending for this connection. */
  closing = false

  constructor (
    private readonly net: SimNetwork,
    readonly from: number,
    readonly to: number,
    readonly dir: Direction,
    defer: Defer
  ) {
    super(net.keyOf(from), net.keyOf(to), defer)
  }

  send (frame: Uint8Array): void {
    if (this.closed) return
    this.net.transmit(this, this.dir, frame)
  }

  close (reason?: AuraError): void {
    if (!this.finish(reason, 'local')) return
    // LinkBase closes with E_INTERNAL when a frame handler throws something unexpected: the
    // protocol crashed on its input, which the simulator reports as a violation.
    if (reason?.code === 'E_INTERNAL') this.net.observer.handlerThrew?.(this.from, reason)
    this.net.notifyRemoteClose(this, this.dir, reason)
  }

  /** A frame arrived from the remote. */
  receive (frame: Uint8Array): void {
    this.arrived(frame)
  }

  /** Ends this side (remote close or transport failure); false if already over. */
  finish (reason: AuraError | undefined, by: 'local' | 'remote'): boolean {
    if (!this.end(reason, by)) return false
    this.net.observer.linkClosed?.(this.from, this.to, reason)
    return true
  }
}

/** What a network adds to its link model. */
export interface SimNetworkInit {
  /** What receiving a frame costs each node (default: nothing). */
  cpu?: CpuModel
  /** The run's seed, which draws each pair's latency factor when the model has a spread. */
  seed?: number
}

/** Endpoints, reachability, dials and frame delivery. */
export class SimNetwork {
  private readonly endpoints: Endpoint[] = []
  private readonly partitions = new Map<string, Partition>()
  private readonly openLinks = new Set<SimLink>()
  private readonly cpuOn: boolean
  private readonly factors = new Map<number, number>()
  readonly cpu: CpuModel
  private readonly seed: number
  observer: NetworkObserver = {}

  constructor (
    private readonly scheduler: Scheduler,
    readonly model: LinkModel,
    private readonly random: RandomStream,
    init: SimNetworkInit = {}
  ) {
    this.cpu = init.cpu ?? NO_CPU
    this.cpuOn = cpuEnabled(this.cpu)
    this.seed = init.seed ?? 0
  }

  /** Open connection ends at `local` whose remote is `remote` (what an outside observer sees). */
  linksBetween (local: number, remote: number): SimLink[] {
    const out: SimLink[] = []
    for (const l of this.openLinks) if (l.from === local && l.to === remote && !l.closed) out.push(l)
    return out
  }

  /**
   * Every open connection end, grouped by its local node, each group in the order
   * `linksBetween` gives (so `linksBetween(a, b)` is `openLinksByLocal().get(a)` filtered on `to === b`).
   * A snapshot: one pass over the open links for an observer that asks about many pairs at once.
   */
  openLinksByLocal (): Map<number, SimLink[]> {
    const out = new Map<number, SimLink[]>()
    for (const l of this.openLinks) {
      if (l.closed) continue
      const group = out.get(l.from)
      if (group === undefined) out.set(l.from, [l])
      else group.push(l)
    }
    return out
  }

  /** Registers a node; `inbound` receives links other nodes dial to it. Returns its index. */
  addEndpoint (key: KeyId, inbound: (link: SimLink) => void): number {
    const index = this.endpoints.length
    const cpu = new CpuQueue()
    this.endpoints.push({ index, key, up: true, offline: false, inbound, gate: () => null, stats: emptyStats(), cpu })
    return index
  }

  /** Replaces a node's inbound handler (after a restart). */
  setInbound (index: number, inbound: (link: SimLink) => void): void {
    this.endpoints[index].inbound = inbound
  }

  /** Replaces a node's connection gate (after a restart). */
  setGate (index: number, gate: Gate): void {
    this.endpoints[index].gate = gate
  }

  /** Closes every open connection end at `local` whose remote has `key` (a hang-up). */
  hangUp (local: number, key: KeyId, reason?: AuraError): void {
    for (const l of [...this.openLinks]) if (l.from === local && this.endpoints[l.to].key === key) l.close(reason)
  }

  keyOf (index: number): KeyId { return this.endpoints[index].key }
  stats (index: number): TrafficStats { return this.endpoints[index].stats }
  /** A node's inbound processor (busy time and waits; empty without a CPU model). */
  cpuOf (index: number): CpuQueue { return this.endpoints[index].cpu }
  get size (): number { return this.endpoints.length }

  /** Whether frames from `a` reach `b` now. */
  canSend (a: number, b: number): boolean {
    const ea = this.endpoints[a]; const eb = this.endpoints[b]
    if (!ea.up || !eb.up || ea.offline || eb.offline) return false
    for (const p of this.partitions.values()) if (p.blocks(a, b)) return false
    return true
  }

  /** Whether a connection between a and b can be set up now (both directions flow). */
  reachable (a: number, b: number): boolean {
    return this.canSend(a, b) && this.canSend(b, a)
  }

  /** Starts a partition (replacing one with the same id). */
  addPartition (p: Partition): void {
    this.partitions.set(p.id, p)
  }

  /** Ends a partition by id, or all of them. Returns the ids healed. */
  heal (id: string | 'all'): string[] {
    const ids = id === 'all' ? [...this.partitions.keys()] : this.partitions.has(id) ? [id] : []
    for (const x of ids) this.partitions.delete(x)
    return ids
  }

  /** Active partitions. */
  activePartitions (): Partition[] { return [...this.partitions.values()] }

  /** Takes a node off the network (offline window) or brings it back. */
  setOffline (index: number, offline: boolean): void {
    this.endpoints[index].offline = offline
  }

  isOffline (index: number): boolean { return this.endpoints[index].offline }

  /** Crash (up=false) or restart (up=true). A crash closes every link of the node at once. */
  setUp (index: number, up: boolean): void {
    this.endpoints[index].up = up
    if (!up) {
      this.endpoints[index].cpu.clear(this.scheduler.now)
      for (const l of [...this.openLinks]) {
        if (l.from === index) {
          this.openLinks.delete(l)
          l.finish(new UnreachableError('node crashed'), 'local')
          this.scheduleBrokenClose(l.peer)
        }
      }
    }
  }

  isUp (index: number): boolean { return this.endpoints[index].up }

  /**
   * Dials `to` from `from`. After the handshake (three one-way latencies: TCP, then Noise XX's
   * one and a half round trips) both ends get their link; `done(null)` after the dial timeout
   * when the peer cannot be reached. The gates are asked where libp2p asks the daemon's: the
   * dialler's before it dials, then (the keys proven) the listener's and the dialler's; a
   * refusal fails the dial with no link at either end.
   */
  dial (from: number, to: number, done: (link: SimLink | null) => void): void {
    const a = this.endpoints[from]; const b = this.endpoints[to]
    if (a.gate(b.key, 'outbound') !== null) {
      this.scheduler.after(0, () => done(null))
      return
    }
    if (!this.reachable(from, to)) {
      this.scheduler.after(this.model.dialTimeoutMs * 1000, () => done(null))
      return
    }
    let t = 0
    for (let i = 0; i < 3; i++) t += this.latencyUs(from, to)
    this.scheduler.after(t, () => {
      if (!this.reachable(from, to)) { done(null); return }
      if (b.gate(a.key, 'inbound') !== null || a.gate(b.key, 'outbound') !== null) { done(null); return }
      const ab: Direction = { busyUntil: 0, lastArrival: 0 }
      const ba: Direction = { busyUntil: 0, lastArrival: 0 }
      const defer: Defer = (task) => { this.scheduler.after(0, task) }
      const out = new SimLink(this, from, to, ab, defer)
      const inn = new SimLink(this, to, from, ba, defer)
      out.peer = inn; inn.peer = out
      this.openLinks.add(out); this.openLinks.add(inn)
      this.observer.linkOpened?.(from, to)
      this.endpoints[to].inbound(inn)
      if (out.closed) { done(null); return }
      done(out)
    })
  }

  /** Sends one frame along `link` (called by SimLink.send). */
  transmit (link: SimLink, dir: Direction, frame: Uint8Array): void {
    const m = this.model
    const r = this.random
    const now = this.scheduler.now
    const src = this.endpoints[link.from].stats
    src.framesSent++
    src.bytesSent += frame.length + wireOverhead(frame.length)
    let depart = now
    if (m.bandwidth !== null) {
      depart = Math.max(now, dir.busyUntil) + Math.ceil((frame.length + wireOverhead(frame.length)) * 1e6 / m.bandwidth)
      dir.busyUntil = depart
    }
    let arrival = depart + this.latencyUs(link.from, link.to)
    // A lost frame is retransmitted; a run of losses is bounded like a real retransmit limit,
    // after which the connection is declared broken.
    let losses = 0
    while (r.chance(m.loss) && losses < 8) { losses++; arrival += m.rtoMs * 1000 * 2 ** (losses - 1) }
    src.retransmits += losses
    if (losses === 8) link.broken = true
    if (r.chance(m.reorder)) arrival += Math.round(r.float() * m.reorderMs * 1000)
    if (m.delivery === 'reliable') arrival = Math.max(arrival, dir.lastArrival)
    dir.lastArrival = Math.max(dir.lastArrival, arrival)
    let payload = frame
    if (r.chance(m.corrupt) && frame.length > 0) {
      payload = new Uint8Array(frame)
      const pos = r.int(0, payload.length - 1)
      payload[pos] ^= 1 << r.int(0, 7)
      this.endpoints[link.from].stats.corrupted++
      this.observer.frameCorrupted?.(link.from, link.to)
    }
    const dup = r.chance(m.duplicate)
    if (dup) {
      src.bytesSent += frame.length + wireOverhead(frame.length)
      src.duplicateFrames++
    }
    this.scheduler.at(arrival, () => this.deliver(link, payload))
    if (dup && m.delivery === 'raw') {
      const again = depart + this.latencyUs(link.from, link.to)
      this.scheduler.at(again, () => this.deliver(link, payload))
    }
    if (link.broken) this.scheduleBrokenClose(link)
  }

  /** Sends the close notice to the other end, after any frames already in flight. */
  notifyRemoteClose (link: SimLink, dir: Direction, reason: AuraError | undefined): void {
    this.openLinks.delete(link)
    const peer = link.peer
    if (!this.canSend(link.from, link.to)) {
      this.scheduleBrokenClose(peer)
      return
    }
    const arrival = Math.max(this.scheduler.now + this.latencyUs(link.from, link.to), dir.lastArrival)
    const remoteReason = reason === undefined ? undefined : new AuraError(reason.code, reason.message, { remote: true })
    this.scheduler.at(arrival, () => this.inTurn(peer.from, 0, false, () => {
      this.openLinks.delete(peer)
      peer.finish(remoteReason, 'remote')
    }))
  }

  // One latency draw for a frame between `a` and `b`, times that pair's factor.
  private latencyUs (a: number, b: number): number {
    const us = sampleLatencyUs(this.model.latency, this.random)
    if (this.model.latencySpread === 0) return us
    const key = Math.min(a, b) * 0x100000 + Math.max(a, b)
    let f = this.factors.get(key)
    if (f === undefined) {
      f = pairLatencyFactor(this.seed, a, b, this.model.latencySpread)
      this.factors.set(key, f)
    }
    return Math.max(1, Math.round(us * f))
  }

  private deliver (link: SimLink, frame: Uint8Array): void {
    const peer = link.peer
    if (peer.closed) return
    if (!this.canSend(link.from, link.to)) {
      this.endpoints[link.from].stats.droppedByPartition++
      this.scheduleBrokenClose(link)
      return
    }
    const dst = this.endpoints[link.to].stats
    dst.framesReceived++
    dst.bytesReceived += frame.length + wireOverhead(frame.length)
    this.inTurn(link.to, this.cpuOn ? cpuCostUs(this.cpu, frame.length) : 0, true, () => this.handOver(link, frame))
  }

  // The receiving node's protocol gets the frame (its processor done with it).
  private handOver (link: SimLink, frame: Uint8Array): void {
    const peer = link.peer
    if (peer.closed) return
    const refused = prefixRefusal(frame.length)
    if (refused !== null) { peer.close(refused); return }
    this.observer.delivered?.(link.from, link.to, frame)
    peer.receive(frame)
  }

  // Runs `fn` once node `at`'s processor reaches it: at once without a CPU model, else after
  // every frame that arrived at the node before it and its own `costUs`. Always through the
  // event queue when the model is on, so the order of admission is the order of running.
  private inTurn (at: number, costUs: number, frame: boolean, fn: () => void): void {
    if (!this.cpuOn) { fn(); return }
    this.scheduler.at(this.endpoints[at].cpu.admit(this.scheduler.now, costUs, frame), fn)
  }

  // Both ends learn of a broken connection only when their keep-alive times out.
  private scheduleBrokenClose (link: SimLink): void {
    if (link.closing) return
    link.broken = true
    link.closing = true
    this.scheduler.after(this.model.detectMs * 1000, () => {
      const reason = new UnreachableError('connection timed out')
      for (const end of [link, link.peer]) {
        this.inTurn(end.from, 0, false, () => {
          this.openLinks.delete(end)
          end.finish(reason, 'remote')
        })
      }
    })
  }
}

// What the daemon's decoder says of a frame's length prefix (null: within the limit). The
// prefix decides alone, before any of the body is read, so a decoder per frame is the same check.
function prefixRefusal (length: number): AuraError | null {
  try {
    new FrameDecoder().push(encodeLength(length))
    return null
  } catch (err) {
    return toAuraError(err)
  }
}

// Varint length prefix plus the one-byte link envelope (node/sync/frame.ts, link-envelope.ts).
function wireOverhead (length: number): number {
  return 1 + (length < 0x80 ? 1 : length < 0x4000 ? 2 : length < 0x200000 ? 3 : 4)
}

function emptyStats (): TrafficStats {
  return {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    duplicateFrames: 0,
    retransmits: 0,
    corrupted: 0,
    droppedByPartition: 0
  }
}
