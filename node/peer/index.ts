/**
 * The peer core: what a node does around the sync engine, written once for the daemon and the
 * simulator. Pure logic: the clock, the engines, the chain and the links under the sessions are
 * injected, so the daemon wires it to libp2p and wall time (node/daemon.ts) and the simulator to
 * its virtual network and clock (sim/sim-node.ts). Held here today:
 *
 * - admission at connect: the chain's rule and the gate's once-per-30-s "tell them why"
 *   allowance (admission.ts);
 * - applying a revocation: once the engine closed the key's sessions with E_REVOKED, its
 *   connections hung up and its addresses forgotten (revocation.ts);
 * - dialling and redialling: which keys are dialled (never a revoked one, nobody once this node
 *   is revoked), backoff after failures, redial as soon as a session closes (dialer.ts);
 * - the Mothership's beacons: at start, every interval, and at once when its chain grows, then
 *   in the same frame as the new entries (beacons.ts);
 * - the local write gate's first rule: no record signed by a revoked key, none but receipts
 *   during a lockdown (write-gate.ts), asked for the node's key and for an agent's;
 * - the write path around it (writer.ts): the record rules when the node has them, the fields
 *   it fills in, the signing time, each record after its signer's own newest one and above its
 *   seq mark; NodeRuntime.appendRecord (with or without a daemon) and the simulator's node both
 *   write through it, and written records are pushed and a receipt made due (`recordsWritten`).
 *   Keeping records durably stays at the daemon's edge (node/store/intent-writer.ts);
 * - receipts: every interval and shortly after what the node holds changes, when they say
 *   something new, never while revoked or locked (receipts.ts);
 * - the engines' anti-entropy and keep-alive loops (sync-timers.ts);
 * - what an engine's events mean here (`engineEvents`): records or entries arrived, a receipt is
 *   due; a session closed, the dialer wakes; keys revoked, their connections hang up. The daemon
 *   and the simulator build their engines with it, each adding its own handlers (logs, the store,
 *   the run's books), and each build a new PeerCore on every start, so a restarted node
 *   remembers nothing of whom the gate told why.
 *
 * @example
 * const peer = new PeerCore({ localKey, chain: () => chain, isMothership: () => false, now, scheduler, links, dial })
 * connectionGate = (key, direction) => peer.gate(key, direction)
 * engine = new SyncEngine(components, init, peer.engineEvents({ audit: (e) => log(e) }))
 * runtimeHooks.recordsAdded = () => peer.recordsWritten()
 * peer.dialer.add(addr); peer.start()
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { AuraError } from '../../crdt/errors.js'
import type { KeyId } from '../../crdt/ids.js'
import { AdmissionGate, type Direction, type RefusalListener } from './admission.js'
import { type AppliedRevocation, type PeerLinks, RevocationEnforcer, type RevocationListener } from './revocation.js'
import { Dialer, type DialerComponents } from './dialer.js'
import type { PeerScheduler } from './scheduler.js'
import { BeaconSchedule, type BeaconListener } from './beacons.js'
import type { KeyPair } from '../../crdt/crypto.js'
import type { SyncEvents } from '../sync/engine.js'
import { ReceiptSchedule, type ReceiptComponents, type ReceiptFailureListener } from './receipts.js'
import { SyncTimers } from './sync-timers.js'

export { admission, AdmissionGate, TELL_INTERVAL_MS, type Direction } from './admission.js'
export type { AppliedRevocation, PeerLinks } from './revocation.js'
export { Dialer, DIAL_LOOP_MS, MAX_BACKOFF_MS, MIN_BACKOFF_MS } from './dialer.js'
export type { PeerScheduler, TimerHandle } from './scheduler.js'
export { BeaconSchedule } from './beacons.js'
export { writeRefusal } from './write-gate.js'
export {
  NO_AUTHORITY,
  nextInChain,
  RecordWriter,
  signBatch,
  signingTime,
  signNext,
  type IntentFields,
  type RecordRules,
  type SignerHead,
  type WriteInput,
  type WriterComponents
} from './writer.js'
export { RECEIPT_DEBOUNCE_MS, ReceiptSchedule } from './receipts.js'
export { SyncTimers } from './sync-timers.js'

/** Options of the peer core. */
export interface PeerInit {
  /** How often a refused key is let through to be told why (default 30 s). */
  tellIntervalMs?: number
  /** How often the dialer dials due targets (default 500 ms). */
  dialLoopMs?: number
  /** The Mothership's beacon period. */
  beaconIntervalMs: number
  /** How often a receipt is due without any change; null: this node writes none. */
  receiptIntervalMs: number | null
  /** How often the engines run anti-entropy (`tick()`). */
  antiEntropyMs: number
  /** How often the engines keep their sessions alive; null: never (links without idle timeout). */
  keepAliveMs: number | null
}

/** What the peer core is driven by. */
export interface PeerComponents {
  localKey: KeyId
  /** The node's chain; null before it belongs to a team. */
  chain: () => AuthorityChain | null
  isMothership: () => boolean
  /** The team's signing key if this node holds it (the Mothership's beacons), else null. */
  signingKey: () => KeyPair | null
  /** The node's sync engines (none before it belongs to a team). */
  engines: () => Iterable<PeerEngine>
  /** The node's clock (ms since the epoch). */
  now: () => number
  /** Uniform in [0, 1) (the phase of the anti-entropy loop). */
  random: () => number
  /** Time stamps of revocations taking effect; `now` unless given (the daemon: sub-ms wall time). */
  stamp?: () => number
  scheduler: PeerScheduler
  links: PeerLinks
  /** How to open a session to an address, whether a key's is open, which key an address names. */
  dial: Pick<DialerComponents, 'connect' | 'isConnected' | 'keyOf'>
  /** What receipts summarise and how one is written (receipts.ts). */
  receipts: Pick<ReceiptComponents, 'records' | 'workspace' | 'write'>
}

/** What the peer core asks of a sync engine (node/sync/engine.ts). */
export interface PeerEngine {
  localBeacon: (bytes: Uint8Array) => void
  localChainAppended: (fromSeq: number, beacon?: Uint8Array) => void
  localRecordsAdded: () => void
  tick: () => void
  keepAlive: () => void
}

/** What the peer core tells its owner (logs, metrics). */
export interface PeerEvents {
  refused?: RefusalListener
  revocationApplied?: RevocationListener
  beaconSigned?: BeaconListener
  receiptFailed?: ReceiptFailureListener
}

/** One node's behaviour around its sync engine. */
export class PeerCore {
  private readonly admission: AdmissionGate
  private readonly revocation: RevocationEnforcer
  /** The reconnect loop (the daemon adds configured, stored and learnt addresses to it). */
  readonly dialer: Dialer
  private readonly beacons: BeaconSchedule
  private readonly receipts: ReceiptSchedule | null
  private readonly syncTimers: SyncTimers

  constructor (private readonly c: PeerComponents, init: PeerInit, events: PeerEvents = {}) {
    this.admission = new AdmissionGate(c, init.tellIntervalMs, events.refused)
    this.revocation = new RevocationEnforcer(
      { chain: c.chain, links: c.links, now: c.stamp ?? c.now },
      events.revocationApplied
    )
    this.dialer = new Dialer(
      { ...c.dial, isBarred: (key) => this.isBarred(key), now: c.now, scheduler: c.scheduler },
      { self: c.localKey, loopMs: init.dialLoopMs }
    )
    this.beacons = new BeaconSchedule(c, init.beaconIntervalMs, events.beaconSigned)
    this.syncTimers = new SyncTimers(c, init)
    this.receipts = init.receiptIntervalMs === null
      ? null
      : new ReceiptSchedule(
        { ...c.receipts, localKey: c.localKey, chain: c.chain, scheduler: c.scheduler },
        { intervalMs: init.receiptIntervalMs },
        events.receiptFailed
      )
  }

  /** Starts anti-entropy and keep-alive, the reconnect loop, the receipts and, on the Mothership, the beacons. */
  start (): void {
    this.syncTimers.start()
    this.dialer.start()
    this.beacons.start()
    this.receipts?.start()
  }

  /** Stops the loops. */
  stop (): void {
    this.syncTimers.stop()
    this.dialer.stop()
    this.beacons.stop()
    this.receipts?.stop()
  }

  /**
   * Entries were appended to the chain here (the Mothership's CLI): pushed, enforced, vouched
   * for, and a receipt due.
   */
  chainAppended (fromSeq: number): void {
    // The beacon naming the new head goes with the entries, in the same frame (one per hop).
    const beacon = this.beacons.sign()
    for (const e of this.c.engines()) e.localChainAppended(fromSeq, beacon ?? undefined)
    this.holdingsChanged()
  }

  /**
   * Records were written here (writer.ts): pushed to connected peers at once, and a receipt
   * due, as for entries appended here.
   */
  recordsWritten (): void {
    for (const e of this.c.engines()) e.localRecordsAdded()
    this.holdingsChanged()
  }

  /**
   * What this node holds changed (records or entries arrived or were written here, the
   * workspace applied some): a receipt is due shortly.
   */
  holdingsChanged (): void {
    this.receipts?.changed()
  }

  /**
   * Whether `key` must not be dialled: it is revoked, or this node is (every peer refuses it,
   * and revocations are never undone).
   */
  isBarred (key: KeyId): boolean {
    const chain = this.c.chain()
    return chain !== null && (chain.revocation(key) !== undefined || chain.revocation(this.c.localKey) !== undefined)
  }

  /**
   * A sync engine's events with what the peer core does on them, after the owner's own (logs,
   * persisting, the run's books): chain entries or records arrived, a receipt is due; a session
   * closed, the dialer wakes; keys revoked, their connections hang up.
   */
  engineEvents (own: SyncEvents): SyncEvents {
    return {
      ...own,
      chainApplied: (fromSeq, from) => { own.chainApplied?.(fromSeq, from); this.holdingsChanged() },
      recordsAdded: (ids, from) => { own.recordsAdded?.(ids, from); this.holdingsChanged() },
      sessionClosed: (peer, reason) => { own.sessionClosed?.(peer, reason); this.sessionClosed() },
      revoked: (keys) => { own.revoked?.(keys); this.revoked(keys) }
    }
  }

  /** A sync session closed: every known peer is due for a dial again. */
  sessionClosed (): void {
    this.dialer.wake()
  }

  /** The connection gate: null admits, an error refuses (admission.ts). */
  gate (key: KeyId, direction: Direction, address?: string): AuraError | null {
    return this.admission.gate(key, direction, address)
  }

  /** Strictly admitted and not revoked (relaying, address records). */
  admitted (key: KeyId): boolean {
    return this.admission.admitted(key)
  }

  /** The sync engine's `revoked` event (sessions closed): hangs up the keys' connections. */
  revoked (keys: readonly KeyId[]): void {
    this.revocation.apply(keys)
    for (const key of keys) this.dialer.remove(key)
  }

  /** Revocations enforced on this node so far, with when they took effect. */
  revocations (): AppliedRevocation[] {
    return this.revocation.list()
  }
}
