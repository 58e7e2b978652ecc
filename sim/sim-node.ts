/**
 * One simulated peer: the real AuthorityChain, IntentLog and SyncEngine, driven by the virtual
 * clock, with the daemon's peer core (node/peer/: the connection gate, enforcing revocations,
 * dialling its neighbours and redialling with backoff, beacons, receipts, anti-entropy) wired to
 * the simulated network and event queue, plus what the daemon around them does that is not
 * shared yet: write records, crash and restart (keeping or losing its disk). The node's clock is
 * the virtual clock plus its own skew.
 *
 * @example
 * const node = new SimNode(ctx, identity, index, chain)
 * node.start()                 // engine, timers, dials
 * node.writeRecords(1)         // signs, appends, pushes
 */
import type { AuthorityChain } from '../crdt/authority-chain.js'
import { teamCarrierRule, writerActor } from '../crdt/change-auth.js'
import { IntentLog } from '../crdt/intent-log.js'
import type { Json } from '../crdt/canonical.js'
import { keyIdOf, type KeyId, type RecordId } from '../crdt/ids.js'
import { nextRecordFields, signRecord, type EncodedRecord, type RecordKind, type SignedRecord } from '../crdt/record.js'
import type { Link } from '../node/sync/link.js'
import { SyncEngine, type SyncAuditEvent } from '../node/sync/engine.js'
import { PeerCore } from '../node/peer/index.js'
import { UnreachableError } from '../crdt/errors.js'
import type { Beacon } from '../crdt/beacon.js'
import type { SimLink, SimNetwork } from './network.js'
import { RandomStream } from './random.js'
import type { Scheduler, Timer } from './scheduler.js'
import { actorFor, SIM_EPOCH_MS, type Identity, type Team } from './team.js'

/** What a node reports to the run (metrics, properties, trace). */
export interface NodeHooks {
  chainApplied: (node: SimNode, fromSeq: number, from: KeyId | null) => void
  recordsAdded: (node: SimNode, ids: RecordId[], from: KeyId) => void
  recordWritten: (node: SimNode, rec: EncodedRecord) => void
  audit: (node: SimNode, event: SyncAuditEvent) => void
  sessionOpened: (node: SimNode, peer: KeyId) => void
  sessionClosed: (node: SimNode, peer: KeyId, code: string | undefined) => void
}

/** Shared by every node of a run. */
export interface NodeContext {
  scheduler: Scheduler
  net: SimNetwork
  team: Team
  seed: number
  antiEntropyMs: number
  reconnectMs: number
  /** The Mothership's beacon period. */
  beaconMs: number
  /** Every node's receipt interval (`[sync] receipt_interval`); null: no receipts. */
  receiptMs: number | null
  /** Hears every beacon the Mothership signs (the oracle's books, the adversary's ears). */
  beaconSigned?: (bytes: Uint8Array, beacon: Beacon) => void
  maxStalenessMs: number | null
  /** Allowance for clock disagreement with the Mothership (`protocol.max_clock_skew`). */
  maxClockSkewMs: number
  recordBytes: number
  hooks: NodeHooks
  /** Wraps each link before the engine sees it (the adversary's filters); identity for honest nodes. */
  wrapLink?: (node: SimNode, link: SimLink) => Link
}

/** One peer of the simulation. */
export class SimNode {
  readonly random: RandomStream
  chain: AuthorityChain
  logs: IntentLog[]
  engines: SyncEngine[] = []
  up = true
  /** Incremented on every crash: timers of an earlier life do nothing. */
  life = 0
  skewMs = 0
  /** Whom this node dials (the topology's edges that start here). */
  neighbors: number[] = []
  /** Each log's own newest record, for seq/prev of the next one. */
  heads: Array<{ id: RecordId, record: SignedRecord } | undefined>
  /** Admission, revocations, dialling: the daemon's code (node/peer/). */
  peer: PeerCore
  private writeCounter = 0

  constructor (
    private readonly ctx: NodeContext,
    readonly identity: Identity,
    readonly index: number,
    chain: AuthorityChain,
    /** How many independent logs and engines (two for an equivocating adversary). */
    readonly faces = 1
  ) {
    this.random = new RandomStream(ctx.seed, `node/${identity.name}`)
    this.chain = chain
    this.logs = this.freshLogs()
    this.heads = this.logs.map(() => undefined)
    this.peer = this.peerCore()
  }

  get name (): string { return this.identity.name }
  get id (): KeyId { return this.identity.id }

  /** This node's clock in ms since the Unix epoch (virtual time plus skew). */
  clock (): number {
    return SIM_EPOCH_MS + Math.floor(this.ctx.scheduler.now / 1000) + this.skewMs
  }

  /** The engine a link to `remote` belongs to. */
  engineFor (remote: number): SyncEngine {
    return this.engines[this.faces === 1 ? 0 : this.faceOf(remote)]
  }

  /** Which face (log) serves the remote node; overridden for the adversary by `faceOf`. */
  faceOf: (remote: number) => number = () => 0

  /** Starts (or restarts) the engine(s) and the peer core (anti-entropy, dialer, receipts, beacons). */
  start (): void {
    const { net } = this.ctx
    this.up = true
    net.setUp(this.index, true)
    this.engines = this.logs.map((log) => new SyncEngine(
      { chain: this.chain, log, localKey: this.id, clock: () => this.clock(), random: this.random.asFunction() },
      { team: this.ctx.team.name, maxStalenessMs: this.ctx.maxStalenessMs, maxClockSkewMs: this.ctx.maxClockSkewMs },
      {
        chainApplied: (fromSeq, from) => {
          this.ctx.hooks.chainApplied(this, fromSeq, from)
          this.peer.holdingsChanged()
        },
        recordsAdded: (ids, from) => {
          this.ctx.hooks.recordsAdded(this, ids, from)
          this.peer.holdingsChanged()
        },
        audit: (ev) => this.ctx.hooks.audit(this, ev),
        sessionOpened: (peer) => this.ctx.hooks.sessionOpened(this, peer),
        sessionClosed: (peer, reason) => {
          this.ctx.hooks.sessionClosed(this, peer, reason?.code)
          this.peer.sessionClosed()
        },
        revoked: (keys) => this.peer.revoked(keys)
      }
    ))
    // A new life, as a restarted daemon: nothing remembered of whom the gate told why.
    this.peer = this.peerCore()
    net.setInbound(this.index, (link) => this.accept(link))
    net.setGate(this.index, (key, direction) => this.peer.gate(key, direction))
    for (const j of this.neighbors) this.peer.dialer.add(`sim/${j}`)
    this.peer.start()
  }

  /** Crashes the node: links close at once; with `loseDisk` its chain and log are gone too. */
  crash (loseDisk: boolean, bootstrap: () => AuthorityChain): void {
    if (!this.up) return
    this.up = false
    this.life++
    this.peer.stop()
    for (const e of this.engines) e.closeAll()
    this.ctx.net.setUp(this.index, false)
    if (loseDisk) {
      this.chain = bootstrap()
      this.logs = this.freshLogs()
      this.heads = this.logs.map(() => undefined)
      this.diskLost = true
    }
  }

  /** Set after a restart without disk: the node writes nothing until its own records come back. */
  diskLost = false

  /**
   * Signs `count` records and appends them (one Automerge change per log), then pushes them.
   * Every face gets the same records, unless `equivocate`: then each face gets its own record
   * for the same seq, which is what an equivocating signer shows to different peers.
   */
  writeRecords (
    count: number,
    opts: { ts?: number, auth?: { seq: number, hash: string }, equivocate?: boolean } = {}
  ): EncodedRecord[] {
    const batches: EncodedRecord[][] = this.logs.map(() => [])
    const sign = (face: number): EncodedRecord => this.sign(face, {
      kind: 'intent',
      ts: opts.ts ?? this.clock(),
      auth: opts.auth ?? this.chain.head,
      text: this.text(face)
    })
    for (let i = 0; i < count; i++) {
      const shared = sign(0)
      for (let face = 0; face < this.logs.length; face++) {
        const rec = face === 0 || opts.equivocate !== true ? shared : sign(face)
        this.heads[face] = { id: rec.id, record: rec.record }
        batches[face].push(rec)
      }
    }
    return this.appendOwn(batches)
  }

  /** Signs a receipt carrying `data` (the peer core's receipt schedule calls it), appends and pushes it. */
  writeReceipt (data: Json): void {
    // A node that lost its disk writes nothing (writeRecords' callers check the same): its seqs
    // would restart at 1 and equivocate with its own records held elsewhere.
    if (this.diskLost) return
    const rec = this.sign(0, { kind: 'receipt', ts: this.clock(), auth: this.chain.head, text: '', data })
    for (let face = 0; face < this.logs.length; face++) this.heads[face] = { id: rec.id, record: rec.record }
    this.appendOwn(this.logs.map(() => [rec]))
  }

  // A record of this node's next seq on `face`.
  private sign (
    face: number,
    fields: { kind: RecordKind, ts: number, auth: { seq: number, hash: string }, text: string, data?: Json }
  ): EncodedRecord {
    const at = nextRecordFields(this.heads[face])
    return signRecord({ ...at, actor: this.name, host: this.name, ...fields }, this.identity.key)
  }

  // Appends each face's batch (one Automerge change per log), pushes it, and tells the run and
  // the receipts (as NodeRuntime.appendRecord's hook tells the daemon's).
  private appendOwn (batches: EncodedRecord[][]): EncodedRecord[] {
    const written: EncodedRecord[] = []
    const seen = new Set<RecordId>()
    this.logs.forEach((log, face) => {
      log.append(batches[face].map((r) => ({ id: r.id, bytes: r.bytes })), this.clock(), this.identity.key)
      for (const r of batches[face]) {
        if (seen.has(r.id)) continue
        seen.add(r.id)
        written.push(r)
        this.ctx.hooks.recordWritten(this, r)
      }
      this.engines[face]?.localRecordsAdded()
    })
    this.peer.holdingsChanged()
    return written
  }

  /** Appends records signed elsewhere (an agent writing through this node) and pushes them. */
  appendForeign (records: readonly EncodedRecord[]): void {
    this.logs[0].append(records.map((r) => ({ id: r.id, bytes: r.bytes })), this.clock(), this.identity.key)
    this.engines[0]?.localRecordsAdded()
    this.peer.holdingsChanged()
  }

  /** Connected, admitted remote keys (all faces). */
  connectedPeers (): KeyId[] {
    return this.engines.flatMap((e) => e.connectedPeers())
  }

  /** Opens a session to neighbour `j` (the peer core's dialer calls it). */
  private dial (j: number, done: (err: Error | null) => void): void {
    const life = this.life
    this.ctx.net.dial(this.index, j, (link) => {
      if (this.life !== life) { link?.close(); return }
      if (link === null) { done(new UnreachableError(`${this.ctx.net.keyOf(j)} unreachable`)); return }
      if (!this.up) { link.close(); return }
      this.engineFor(j).addLink(this.wrap(link))
      done(null)
    })
  }

  private peerCore (): PeerCore {
    return new PeerCore({
      chain: () => this.chain,
      isMothership: () => this.identity.role === 'mothership',
      signingKey: () => this.identity.role === 'mothership' ? this.ctx.team.signing : null,
      engines: () => this.engines,
      localKey: this.id,
      now: () => this.clock(),
      random: () => this.random.float(),
      // The event queue counts whole microseconds.
      scheduler: {
        setTimer: (fn, ms) => this.ctx.scheduler.after(Math.floor(ms * 1000), fn),
        clearTimer: (t) => { (t as Timer).cancel() }
      },
      links: { hangUp: (key, err) => this.ctx.net.hangUp(this.index, key, err) },
      dial: {
        connect: (addr, done) => this.dial(neighbourOf(addr), done),
        isConnected: (key) => this.engines.some((e) => e.connectedPeers().includes(key)),
        keyOf: (addr) => this.ctx.net.keyOf(neighbourOf(addr))
      },
      receipts: { records: () => this.logs[0].records(), write: (data) => this.writeReceipt(data) }
    }, {
      dialLoopMs: this.ctx.reconnectMs,
      antiEntropyMs: this.ctx.antiEntropyMs,
      // Simulated links never time out for idleness, and the engines keep no keep-alive period.
      keepAliveMs: null,
      beaconIntervalMs: this.ctx.beaconMs,
      // The adversary's node runs what its operator wants: its writes are the adversary's script.
      receiptIntervalMs: this.identity.role === 'adversary' ? null : this.ctx.receiptMs
    }, { beaconSigned: (bytes, b) => this.ctx.beaconSigned?.(bytes, b) })
  }

  private accept (link: SimLink): void {
    if (!this.up) { link.close(); return }
    this.engineFor(link.to).addLink(this.wrap(link))
  }

  private wrap (link: SimLink): Link {
    return this.ctx.wrapLink?.(this, link) ?? link
  }

  private freshLogs (): IntentLog[] {
    const logs: IntentLog[] = []
    for (let f = 0; f < this.faces; f++) {
      // Bound to this node's key (crdt/change-auth.ts); one actor per face and life.
      const log = IntentLog.create(writerActor(keyIdOf(this.identity.key.publicKey), actorFor(this.ctx.seed, `${this.identity.name}/${f}`, this.life)))
      log.useCarrierRule(teamCarrierRule((k) => this.chain.member(k)))
      logs.push(log)
    }
    return logs
  }

  // Deterministic filler text of the configured size: unique per record so ids differ.
  private text (face: number): string {
    const head = `${this.name} intent ${++this.writeCounter}${face > 0 ? ` (face ${face})` : ''}: `
    return head + 'x'.repeat(Math.max(0, this.ctx.recordBytes - head.length))
  }
}

// Dial targets are named `sim/<node index>`.
function neighbourOf (addr: string): number {
  return Number(addr.slice('sim/'.length))
}
