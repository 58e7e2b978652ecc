/**
 * One simulated peer: the real AuthorityChain, IntentLog and SyncEngine, driven by the virtual
 * clock, with the daemon's peer core (node/peer/: the connection gate, enforcing revocations,
 * dialling its neighbours and redialling with backoff, beacons, receipts, anti-entropy, and the
 * write path — the gate, the fields, the signer's chain, pushing what was written) wired to the
 * simulated network and event queue. The node's clock is the virtual clock plus its own skew.
 *
 * What remains here is what the daemon's edge does, in memory:
 * - keeping records: the daemon's store and group commit (node/store/intent-writer.ts) are, here,
 *   the logs and `heads` (its `meta/head`), written in the same call;
 * - crash and restart: a crash stops the peer core and closes every link; `start` builds a new
 *   PeerCore life and new engines wired to it (PeerCore.engineEvents), as a restarted daemon
 *   does (nothing remembered of whom the gate told why, no receipt summary); `heads` and the
 *   logs survive unless the disk is lost;
 * - losing the disk, which only the simulator does on purpose: the chain goes back to the
 *   bootstrap one, the logs and heads are gone, and the node writes nothing for the rest of the
 *   run (`diskLost`). The daemon keeps a seq mark outside its store (node/store/seq-reserve.ts)
 *   and signs above it after a restore; the simulator models no seq mark, so signing again
 *   would reuse seqs its peers hold;
 * - the record rules (capabilities, quotas, the earliest time: node/agents/write-gate.ts) are not
 *   applied: the writer here is given none, so records claim the node's clock, skew and all;
 * - faces: an equivocating adversary's node has two logs and two engines; the adversary signs
 *   its own records with its own code (sim/adversary.ts), not the write path.
 *
 * @example
 * const node = new SimNode(ctx, identity, index, chain)
 * node.start()                 // engine, timers, dials
 * node.writeRecords(1)         // gate, sign, append, push: [] when refused
 */
import type { AuthorityChain } from '../crdt/authority-chain.js'
import { teamCarrierRule, writerActor } from '../crdt/change-auth.js'
import { IntentLog } from '../crdt/intent-log.js'
import type { Json } from '../crdt/canonical.js'
import { keyIdOf, type KeyId, type RecordId } from '../crdt/ids.js'
import type { EncodedRecord } from '../crdt/record.js'
import type { Link } from '../node/sync/link.js'
import { SyncEngine, type SyncAuditEvent } from '../node/sync/engine.js'
import { PeerCore, RecordWriter, signBatch, type SignerHead, type WriteInput } from '../node/peer/index.js'
import { UnreachableError } from '../crdt/errors.js'
import type { Beacon } from '../crdt/beacon.js'
import type { KeyPair } from '../crdt/crypto.js'
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
  /** The Mothership's signing key in use (a rotation changes it). */
  signingKey: () => KeyPair
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
  /** Each log's own newest record, for seq/prev of the next one (the store's `meta/head`). */
  heads: Array<SignerHead | undefined>
  /** Admission, revocations, dialling: the daemon's code (node/peer/). */
  peer: PeerCore
  /** The write path's decisions: the daemon's code (node/peer/writer.ts). */
  readonly writer: RecordWriter
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
    // No record rules (node/agents/write-gate.ts): records claim the node's clock, skew and all.
    this.writer = new RecordWriter({
      localKey: this.id,
      chain: () => this.chain,
      now: () => this.clock(),
      host: () => this.name,
      name: () => this.name
    })
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
    // A new life, as a restarted daemon: nothing remembered of whom the gate told why.
    this.peer = this.peerCore()
    this.engines = this.logs.map((log) => new SyncEngine(
      { chain: this.chain, log, localKey: this.id, clock: () => this.clock(), random: this.random.asFunction() },
      { team: this.ctx.team.name, maxStalenessMs: this.ctx.maxStalenessMs, maxClockSkewMs: this.ctx.maxClockSkewMs },
      this.peer.engineEvents({
        chainApplied: (fromSeq, from) => this.ctx.hooks.chainApplied(this, fromSeq, from),
        recordsAdded: (ids, from) => this.ctx.hooks.recordsAdded(this, ids, from),
        audit: (ev) => this.ctx.hooks.audit(this, ev),
        sessionOpened: (peer) => this.ctx.hooks.sessionOpened(this, peer),
        sessionClosed: (peer, reason) => this.ctx.hooks.sessionClosed(this, peer, reason?.code)
      })
    ))
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

  /**
   * Set when the node lost its disk: it writes nothing (no record, no receipt) for the rest of
   * the run. Its seqs would restart at 1 and equivocate with its own records held elsewhere; the
   * daemon keeps a seq mark outside its store for this (node/store/seq-reserve.ts) and signs
   * above it, which the simulator does not model.
   */
  diskLost = false

  /**
   * Writes `count` intent records through the node's write path (node/peer/writer.ts) as one
   * change per log, and pushes them; none when the write gate refuses or the disk was lost.
   * Every face gets the same records.
   */
  writeRecords (count: number): EncodedRecord[] {
    if (this.diskLost || this.writer.refusal('intent') !== null) return []
    return this.write(Array.from({ length: count }, () => ({ kind: 'intent' as const, text: this.nextText(0) })))
  }

  /** Signs a receipt carrying `data` (the peer core's receipt schedule calls it), appends and pushes it. */
  writeReceipt (data: Json): void {
    if (this.diskLost || this.writer.refusal('receipt') !== null) return
    this.write([{ kind: 'receipt', text: '', data }])
  }

  // The daemon's write path without its disk: decided and signed by node/peer/writer.ts on the
  // node's own chain, then appended to every face.
  private write (inputs: readonly WriteInput[]): EncodedRecord[] {
    const head = this.heads[0]
    const fields = inputs.map((input) => this.writer.prepare(input, this.id, head))
    const ts = this.writer.signingTime(this.id)
    const signed = signBatch(head, 0, fields, { ts, host: this.name }, this.identity.key)
    this.heads = this.heads.map(() => signed.head)
    return this.appendOwn(this.logs.map(() => signed.records), ts)
  }

  /**
   * Appends each face's batch of this node's own records (one Automerge change per log, at
   * `ts`), tells the run, and pushes them (PeerCore.recordsWritten, as NodeRuntime.appendRecord's
   * hook tells the daemon's). The adversary's forgeries come here too, signed by its own code.
   */
  appendOwn (batches: readonly EncodedRecord[][], ts = this.clock()): EncodedRecord[] {
    const written: EncodedRecord[] = []
    const seen = new Set<RecordId>()
    this.logs.forEach((log, face) => {
      log.append(batches[face].map((r) => ({ id: r.id, bytes: r.bytes })), ts, this.identity.key)
      for (const r of batches[face]) {
        if (seen.has(r.id)) continue
        seen.add(r.id)
        written.push(r)
        this.ctx.hooks.recordWritten(this, r)
      }
    })
    this.peer.recordsWritten()
    return written
  }

  /**
   * Appends records signed elsewhere (an agent writing through this node) and pushes them;
   * false, appending nothing, when the write gate refuses any of them (a revoked signer).
   */
  appendForeign (records: readonly EncodedRecord[]): boolean {
    if (records.some((r) => this.writer.refusal(r.record.kind, r.record.signer) !== null)) return false
    this.logs[0].append(records.map((r) => ({ id: r.id, bytes: r.bytes })), this.clock(), this.identity.key)
    this.peer.recordsWritten()
    return true
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
      signingKey: () => this.identity.role === 'mothership' ? this.ctx.signingKey() : null,
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

  /** Deterministic filler text of the configured size for a record on `face`: unique per record so ids differ. */
  nextText (face: number): string {
    const head = `${this.name} intent ${++this.writeCounter}${face > 0 ? ` (face ${face})` : ''}: `
    return head + 'x'.repeat(Math.max(0, this.ctx.recordBytes - head.length))
  }
}

// Dial targets are named `sim/<node index>`.
function neighbourOf (addr: string): number {
  return Number(addr.slice('sim/'.length))
}
