/**
 * The sync engine: one per node, one session per Link. It is pure protocol logic — it never
 * touches sockets, disks, clocks or randomness (all injected), which is what lets the daemon
 * drive it over libp2p and the simulator drive the very same code over a simulated network.
 *
 * Session order (DESIGN.md): hello (admission check) → authority chain first → intent log
 * (Automerge sync through the staged merge). Links are ordered, and every side sends the chain
 * entries the other lacks before any intent data, so a peer always learns of a revocation
 * before it accepts data from the revoked key. New chain entries, records and beacons are
 * pushed at once to every session and relayed on first receipt; `tick()` runs push-pull
 * anti-entropy with one random peer.
 *
 * Freshness (`maxStalenessMs`): a Mothership beacon counts from its own signed time, never
 * from when it arrived, and only once this node holds the chain head it names; until then it is
 * deferred (one slot, the newest) and neither counted nor relayed, and the node is stale until
 * those entries arrive (it knows the chain moved past what it holds). Beacons from a session
 * that is not admitted yet count for nothing.
 *
 * @example
 * const engine = new SyncEngine({ chain, log, localKey, clock, random }, { team }, events)
 * host.handle(SYNC_PROTOCOL, (link) => engine.addLink(link))
 * engine.localRecordsAdded()   // after appending to the log
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { KeyRevocation } from '../../crdt/authority-view.js'
import { decodeEntryShared, encodeEntry, type ChainEntry } from '../../crdt/authority-chain.js'
import type { IntentLog, RecordRefusal, SyncState } from '../../crdt/intent-log.js'
import { decodeBeacon, holdsBeaconHead, isStaleAt, verifyBeacon, vouchedTime, type Beacon } from '../../crdt/beacon.js'
import { bytesEqual, fromB64u, toB64u } from '../../crdt/canonical.js'
import { AuraError, NotAdmittedError, QuotaError, RevokedError, toAuraError } from '../../crdt/errors.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import { shortId } from '../../crdt/ids.js'
import { recordSize, type SignedRecord } from '../../crdt/record.js'
import { receiptRefusal } from '../../crdt/write-rules.js'
import { checkSyncMessageIntegrity } from './am-integrity.js'
import { checkIncomingRecords } from '../../crdt/incoming-check.js'
import type { Link } from './link.js'
import { frameTooLarge } from './frame.js'
import { automergeFrames, decodeMessage, encodeMessage, PROTOCOL_VERSION, type SyncMessage } from './messages.js'

/** Injected dependencies. */
export interface SyncComponents {
  chain: AuthorityChain
  log: IntentLog
  localKey: KeyId
  /** Milliseconds on the node's clock (virtual in the simulator). */
  clock: () => number
  /** Uniform in [0, 1) (seeded in the simulator). */
  random: () => number
}

/** Options. */
export interface SyncInit {
  team: string
  /** Refuse new records from others when the newest beacon is older than this; null: off. */
  maxStalenessMs?: number | null
  /**
   * How far this node's clock and the Mothership's may disagree (`[sync] max_clock_skew`): a
   * beacon counts until its signed time plus `maxStalenessMs` plus this, and none counts as
   * signed later than now plus this. Default 60 s.
   */
  maxClockSkewMs?: number
  /** Largest Automerge sync message accepted in pieces (`[sync] max_message_bytes`); default 256 MiB. */
  maxMessageBytes?: number
  /**
   * Most bytes of pieces held across all sessions together (`[sync] max_buffered_message_bytes`);
   * default 256 MiB. A message that would pass it is dropped and its sender told `refused E_BUSY`.
   */
  maxBufferedMessageBytes?: number
  /** A trusted session sent nothing for this long gets heads at the next tick; null: never. */
  keepaliveMs?: number | null
  /** Refuse records claiming a time more than this past our clock (E_QUOTA); null: off (default). */
  maxFutureMs?: number | null
}

/** Default allowance for disagreement between a node's clock and the Mothership's. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000

/** Default bound on one Automerge sync message received in pieces: ~900,000 records. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024

/** Something worth keeping as evidence; the node persists it as an audit event. */
export interface SyncAuditEvent {
  type: 'refused' | 'dropped' | 'bad-batch' | 'fork' | 'revocation-applied' | 'lockdown-applied'
  peer: KeyId
  code?: string
  message: string
}

/**
 * Intent-log changes refused on one link, by code: `in` those this node refused from the
 * peer, `out` those the peer refused from this node (its `refused` answer or error frame).
 */
export interface RefusedChanges {
  peer: KeyId
  direction: 'in' | 'out'
  code: string
  count: number
  /** Clock reading of the latest. */
  last: number
  message: string
}

/** Peers whose sync state is kept between sessions. */
const KEPT_SYNC_STATES = 4096

/** Most (peer, direction, code) rows of refused changes kept; the oldest goes first. */
const REFUSED_ROWS_MAX = 256

/**
 * Refusals of intent data that are answered with `refused` (the link stays; both sides start that peer's sync afresh).
 */
const RESYNC_CODES = new Set(['E_MISSING_DEPS', 'E_FORK'])

/** What the engine reports to the node. All optional. */
export interface SyncEvents {
  chainApplied?: (fromSeq: number, from: KeyId | null) => void
  recordsAdded?: (ids: RecordId[], from: KeyId) => void
  audit?: (event: SyncAuditEvent) => void
  /** Keys newly revoked: the node's gater must refuse them from now on. */
  revoked?: (keys: KeyId[]) => void
  beacon?: (beacon: Beacon, bytes: Uint8Array) => void
  sessionOpened?: (peer: KeyId) => void
  sessionClosed?: (peer: KeyId, reason?: AuraError) => void
  /** A peer refused our change at `seq` as a fork of ours: another holder of our key took our actor. */
  actorClaimed?: (seq: number) => void
  /** An intent-log change was refused (either direction); `row` holds the running count. */
  refusedChange?: (row: RefusedChanges) => void
}

interface Session {
  link: Link
  trusted: boolean
  helloSent: boolean
  /** The protocol version the remote's hello named (1 until it arrives). */
  version: number
  remoteHead: { seq: number, hash: string } | null
  /** The beacon of a hello that arrived before the session was admitted: weighed once it is. */
  helloBeacon: string | null
  syncState: SyncState
  /** Set when the remote refused our records for a non-hostile reason; cleared by its heads. */
  paused: boolean
  /** We refused this remote's records (lockdown/stale): tell it when that clears. */
  refusedByUs: boolean
  /** The last Automerge message sent. Two sync states that cannot converge (a change one side
   * refuses, e.g. an intent-log fork) would otherwise answer each other at once with the same
   * messages, forever; a repeat waits for the next tick or the remote's heads. */
  lastAm: Uint8Array | null
  /** Where `generateSyncMessage` last had nothing to say on this link (engine receive count and
   * log size then); with the log and this link's state unchanged it would say nothing again. */
  idle: { received: number, size: number } | null
  /** Pieces of an Automerge message still arriving (`amp` frames), and their total size. */
  pieces: Uint8Array[]
  pieceBytes: number
  /** The message now arriving is being dropped (the node's buffer was full): skip to its `am`. */
  dropping: boolean
  /** Clock reading of the last frame sent (keepalive). */
  lastSent: number
  /** Until when (our clock) this remote's intent data is dropped unread: it sent records past a quota. */
  quotaUntil: number
}

/**
 * How long a remote that sent records past their signer's quota is not listened to: only a
 * member's own flood can be past its quota (honest peers hold none), and reading it again at
 * every anti-entropy round would cost a decode and a signature check per record each time.
 */
export const QUOTA_BACKOFF_MS = 60_000

/** Base64url canonical bytes of a chain entry; entries are immutable, so computed once each. */
const encodedEntries = new WeakMap<ChainEntry, string>()
function entryB64 (entry: ChainEntry): string {
  let b64 = encodedEntries.get(entry)
  if (b64 === undefined) { b64 = toB64u(encodeEntry(entry)); encodedEntries.set(entry, b64) }
  return b64
}

/** An encoded hello or heads message and the head and beacon it carries. */
interface FrameMemo { team: string, seq: number, hash: string, beacon: string | null, frame: Uint8Array }
let lastHello: FrameMemo | null = null
let lastHeads: FrameMemo | null = null

/**
 * Beacons that decoded and verified, by (Mothership key id, bytes): both are pure functions of
 * those, and every peer of a simulated team (or a daemon hearing one beacon from every session)
 * meets the same beacon again and again.
 */
const VERIFIED_BEACONS_MAX = 64
const verifiedBeacons = new Map<string, Beacon>()

/** How many held entries below the head an incoming chain message is compared against. */
const HELD_WINDOW = 64

const HOSTILE = new Set(['E_BAD_SIGNATURE', 'E_MALFORMED', 'E_NOT_ADMITTED', 'E_REVOKED', 'E_BAD_CHAIN', 'E_FRAME_TOO_LARGE'])
/** Hostile refusals of intent data counted as refused changes (forged writer, foreign record, bad change). */
const INTENT_REFUSALS = new Set(['E_BAD_SIGNATURE', 'E_MALFORMED'])

/** One node's side of every sync session. */
export class SyncEngine {
  private readonly c: SyncComponents
  private readonly init: Required<SyncInit>
  private readonly events: SyncEvents
  private readonly sessions = new Set<Session>()
  private beaconText: string | null = null
  /** Sync messages received (each may change the log): part of a session's `idle` mark. */
  private received = 0
  /** Signed time of the newest beacon acted on. */
  private beaconTs: number | null = null
  /** What the newest beacons acted on vouch for: their signed times, none past arrival + skew. */
  private freshAsOf: number | null = null
  /**
   * The one beacon held back: it names a chain head not held here (`ts` set), or it does not
   * verify against the Mothership key held here (`ts` null: perhaps signed by a rotated key
   * whose rotate entry is still on its way). Tried again whenever the chain grows.
   */
  private deferred: { bytes: Uint8Array, ts: number | null, headSeq: number | null } | null = null
  private knownRevoked = new Set<KeyId>()
  /** `knownRevoked` holds every member revoked by the chain's entries up to this seq. */
  private scannedSeq: number
  private wasRestricted = false
  private helloMemo: FrameMemo | null = null
  private headsMemo: FrameMemo | null = null
  /** Bytes of `amp` pieces held by all sessions together. */
  private bufferedBytes = 0
  private readonly refusals = new Map<string, RefusedChanges>()
  /** Held records by signer, for the receive-side quota check; rebuilt when the log grows. */
  private bySigner: { size: number, map: Map<KeyId, Array<{ id: RecordId, record: SignedRecord }>> } | null = null

  /** The sync state kept per peer between its sessions (this run only, bounded; oldest dropped). */
  private readonly syncStates = new Map<KeyId, Uint8Array>()

  private keepSyncState (key: KeyId, state: SyncState): void {
    this.syncStates.delete(key)
    this.syncStates.set(key, this.c.log.keepSyncState(state))
    if (this.syncStates.size > KEPT_SYNC_STATES) this.syncStates.delete(this.syncStates.keys().next().value as KeyId)
  }

  constructor (components: SyncComponents, init: SyncInit, events: SyncEvents = {}) {
    this.c = components
    this.init = {
      maxStalenessMs: null,
      maxClockSkewMs: DEFAULT_MAX_CLOCK_SKEW_MS,
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      maxBufferedMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      keepaliveMs: null,
      maxFutureMs: null,
      ...init
    }
    this.events = events
    for (const key of components.chain.revokedMembers()) this.knownRevoked.add(key)
    this.scannedSeq = components.chain.head.seq
  }

  /**
   * The freshness bound and clock-skew allowance from now on (a config reload): staleness is
   * judged with them at the next beacon, receipt or record.
   */
  setFreshness (f: { maxStalenessMs: number | null, maxClockSkewMs: number }): void {
    this.init.maxStalenessMs = f.maxStalenessMs
    this.init.maxClockSkewMs = f.maxClockSkewMs
  }

  /** Intent-log changes refused in either direction, per peer and code, newest last. */
  refusedChanges (): RefusedChanges[] {
    return [...this.refusals.values()].sort((a, b) => a.last - b.last)
  }

  private noteRefusal (peer: KeyId, direction: 'in' | 'out', code: string, message: string): void {
    const key = `${peer}/${direction}/${code}`
    const row = this.refusals.get(key) ?? { peer, direction, code, count: 0, last: 0, message }
    this.refusals.delete(key)
    const next = { ...row, count: row.count + 1, last: this.c.clock(), message }
    this.refusals.set(key, next)
    this.events.refusedChange?.(next)
    if (this.refusals.size > REFUSED_ROWS_MAX) this.refusals.delete(this.refusals.keys().next().value as string)
  }

  /** Remote keys of the open, admitted sessions. */
  connectedPeers (): KeyId[] {
    // Two peers that dial each other at once hold two sessions; list each key once.
    return [...new Set([...this.sessions].filter((s) => s.trusted).map((s) => s.link.remote))]
  }

  /** Starts a session on a new link (either direction). */
  addLink (link: Link): void {
    const revoked = this.c.chain.revocation(link.remote)
    if (revoked !== undefined) {
      this.refuse(link, revokedError(link.remote, revoked))
      return
    }
    const s: Session = {
      link,
      trusted: this.c.chain.member(link.remote) !== undefined,
      helloSent: false,
      version: 1,
      remoteHead: null,
      helloBeacon: null,
      syncState: this.c.log.initSyncState(),
      paused: false,
      refusedByUs: false,
      lastAm: null,
      idle: null,
      pieces: [],
      pieceBytes: 0,
      dropping: false,
      lastSent: this.c.clock(),
      quotaUntil: 0
    }
    this.sessions.add(s)
    // A member's link is past the transport's pre-admission bounds at once; a stranger's only
    // once its chain proves it admitted (receiveChain).
    if (s.trusted) link.admit?.()
    link.onFrame = (frame) => this.onFrame(s, frame)
    link.onClose = (reason) => {
      this.sessions.delete(s)
      this.dropPieces(s)
      if (s.trusted) this.keepSyncState(link.remote, s.syncState)
      // The remote refused our intent data as hostile (error frame): shown as refused changes.
      if (reason?.context.remote === true && INTENT_REFUSALS.has(reason.code)) this.noteRefusal(link.remote, 'out', reason.code, reason.message)
      this.events.sessionClosed?.(link.remote, reason)
    }
    // A key we do not know hears nothing of the team (not even its head) until its own hello
    // shows it holds a longer chain, where its admission may be.
    if (s.trusted) this.sayHello(s)
  }

  private sayHello (s: Session): void {
    if (s.helloSent) return
    this.sendFrame(s, this.headsFrame('hello'))
    s.helloSent = true
  }

  /** Call after appending local records to the log: pushes them to every session at once. */
  localRecordsAdded (): void {
    for (const s of this.sessions) this.pushRecords(s)
  }

  /** Call after the log's document was rebuilt (IntentLog.leaveActor): every session syncs afresh. */
  localDocumentRebuilt (): void {
    for (const s of this.sessions) {
      if (!s.trusted) continue
      s.syncState = this.c.log.initSyncState()
      s.lastAm = null
      s.paused = false
      this.pushRecords(s)
    }
  }

  /**
   * Call after appending entries to the chain locally (the Mothership): pushes and enforces;
   * `beacon`, signed for the new head, goes in the same frame as the entries.
   */
  localChainAppended (fromSeq: number, beacon?: Uint8Array): void {
    this.afterChainGrew(fromSeq, null, beacon === undefined ? undefined : toB64u(beacon))
  }

  /** Call with a beacon signed locally (the Mothership) or loaded from disk. */
  localBeacon (bytes: Uint8Array): void {
    this.acceptBeacon(bytes, null)
  }

  /**
   * Whether new records from others are refused: a verified beacon names a chain head past this
   * node's (with or without a freshness bound), or the newest beacon is too old.
   */
  isStale (): boolean {
    // A verified beacon names a chain head past this node's: the chain has moved on (a
    // revocation may be among the entries still on their way), so this node cannot judge any
    // signer's records until they arrive, however recent the last beacon it could count. This
    // is knowledge, not a freshness bound: it holds with `max_staleness` off too (a peer that
    // heard of the head of a revocation must not take the revoked key's records meanwhile).
    if (this.behindBeacon()) return true
    const max = this.init.maxStalenessMs
    if (max === null || max === undefined) return false
    // From what the beacon says, not from when it came: beacons stockpiled and fed late, or a
    // restart, buy no time. With none held (just started), nothing vouches for this node yet;
    // the first hello of a fresh peer brings one.
    return isStaleAt(this.freshAsOf, this.c.clock(), { maxStalenessMs: max, maxClockSkewMs: this.init.maxClockSkewMs })
  }

  // Whether the held-back beacon is a verified one naming a chain head past this node's.
  private behindBeacon (): boolean {
    const d = this.deferred
    return d !== null && d.ts !== null && d.headSeq !== null && d.headSeq > this.c.chain.head.seq
  }

  /** Bytes of Automerge message pieces held now, across all sessions. */
  get bufferedMessageBytes (): number { return this.bufferedBytes }

  /** Timestamp (Mothership clock) of the newest beacon held, if any. */
  get lastBeaconTs (): number | null { return this.beaconTs }

  /** Periodic work: anti-entropy with one random admitted peer, and lifting of refusals. */
  tick (): void {
    this.checkRestrictionLifted()
    for (const s of this.sessions) s.lastAm = null
    // A refusal pauses intent sync on a link for one anti-entropy round, not for ever: a
    // transient refusal (a corrupted change that collided with a held one) must not stall the
    // link, and a lasting one (lockdown) costs one exchange per round.
    for (const s of this.sessions) s.paused = false
    const trusted = [...this.sessions].filter((s) => s.trusted)
    if (trusted.length === 0) return
    const s = trusted[Math.floor(this.c.random() * trusted.length) % trusted.length]
    this.sendFrame(s, this.headsFrame('heads'))
    this.pushRecords(s)
  }

  /**
   * Heads to every trusted session this node sent nothing for `keepaliveMs`, so the remote's
   * idle timeout only ever closes sessions whose peer is gone. Call it at least that often.
   */
  keepAlive (): void {
    const every = this.init.keepaliveMs
    if (every === null || every === undefined) return
    const now = this.c.clock()
    for (const s of this.sessions) if (s.trusted && now - s.lastSent >= every) this.sendFrame(s, this.headsFrame('heads'))
  }

  /** Closes every session with a key (revocation); the remote is told why. */
  dropPeer (key: KeyId, reason: AuraError): void {
    for (const s of [...this.sessions]) {
      if (s.link.remote === key) this.close(s, reason)
    }
  }

  /** Closes every session. */
  closeAll (reason?: AuraError): void {
    for (const s of [...this.sessions]) this.close(s, reason)
  }

  private onFrame (s: Session, frame: Uint8Array): void {
    let msg: SyncMessage
    try {
      msg = decodeMessage(frame)
    } catch (err) {
      this.hostile(s, toAuraError(err))
      return
    }
    try {
      this.handle(s, msg)
    } catch (err) {
      const e = toAuraError(err)
      if (HOSTILE.has(e.code)) this.hostile(s, e)
      else this.events.audit?.({ type: 'refused', peer: s.link.remote, code: e.code, message: e.message })
    }
  }

  private handle (s: Session, msg: SyncMessage): void {
    switch (msg.t) {
      case 'hello':
        if (msg.team !== this.init.team) throw new NotAdmittedError(s.trusted ? `peer belongs to team '${msg.team}', not '${this.init.team}'` : 'not admitted to this team')
        s.remoteHead = msg.head
        s.version = msg.v
        // A key not admitted yet vouches for nothing: its beacon waits until it is.
        if (!s.trusted) s.helloBeacon = msg.beacon
        else if (msg.beacon !== null && msg.beacon !== this.beaconText) this.acceptBeacon(fromB64u(msg.beacon), s)
        if (s.trusted) this.startTrusted(s)
        else if (msg.head.seq <= this.c.chain.head.seq) this.notAdmitted(s)
        // Otherwise the remote holds chain entries we lack (perhaps its own admission): our
        // hello tells it which, and we wait for them before deciding.
        else this.sayHello(s)
        return
      case 'chain':
        this.receiveChain(s, msg.entries, msg.beacon)
        return
      case 'heads':
        s.paused = false
        s.lastAm = null
        s.remoteHead = msg.head
        if (!s.trusted) return
        // Every heads message carries the sender's newest beacon, mostly the one held here.
        if (msg.beacon !== null && msg.beacon !== this.beaconText) this.acceptBeacon(fromB64u(msg.beacon), s)
        this.answerHeads(s, msg.head)
        this.pushRecords(s)
        return
      case 'beacon':
        if (s.trusted && msg.beacon !== this.beaconText) this.acceptBeacon(fromB64u(msg.beacon), s)
        return
      case 'refused':
        if (RESYNC_CODES.has(msg.code)) this.noteRefusal(s.link.remote, 'out', msg.code, msg.message)
        s.paused = true
        s.syncState = this.c.log.initSyncState()
        s.idle = null
        s.lastAm = null
        this.events.audit?.({ type: 'refused', peer: s.link.remote, code: msg.code, message: `peer refused our records: ${msg.message}` })
        // Our own actor, taken at that seq by another holder of our key: give it up (the node
        // moves to a new one and offers its records again), then sync afresh with everyone.
        if (msg.code === 'E_FORK' && msg.actor === this.c.log.actorId && msg.seq !== undefined) this.events.actorClaimed?.(msg.seq)
        return
      case 'amp': {
        if (!s.trusted) throw new NotAdmittedError(`${shortId(s.link.remote)} sent intent data before admission`)
        if (s.dropping || this.backingOff(s)) return
        const max = this.init.maxMessageBytes
        if (s.pieceBytes + msg.data.length > max) throw frameTooLarge(s.pieceBytes + msg.data.length, max, true)
        if (this.bufferedBytes + msg.data.length > this.init.maxBufferedMessageBytes) {
          this.refuseBusy(s)
          return
        }
        // A copy: the frame's bytes belong to the transport.
        s.pieces.push(msg.data.slice())
        s.pieceBytes += msg.data.length
        this.bufferedBytes += msg.data.length
        return
      }
      case 'am': {
        if (!s.trusted) throw new NotAdmittedError(`${shortId(s.link.remote)} sent intent data before admission`)
        if (s.dropping) {
          s.dropping = false
          return
        }
        const held = s.pieceBytes
        if (s.quotaUntil > this.c.clock()) {
          this.dropPieces(s)
          return
        }
        const data = s.pieces.length === 0 ? msg.data : joinPieces(s, msg.data)
        this.bufferedBytes -= held
        this.receiveRecords(s, data)
      }
    }
  }

  // The node holds all the pieces it may: drop this message (its remaining pieces and its `am`)
  // and tell the sender, which starts its sync state afresh and offers it again next round.
  private refuseBusy (s: Session): void {
    this.dropPieces(s)
    s.dropping = true
    s.syncState = this.c.log.initSyncState()
    s.idle = null
    s.lastAm = null
    const message = `this node already holds ${this.init.maxBufferedMessageBytes} bytes of incoming messages; offer it again later`
    this.send(s, { t: 'refused', code: 'E_BUSY', message })
    this.events.audit?.({ type: 'refused', peer: s.link.remote, code: 'E_BUSY', message })
  }

  private dropPieces (s: Session): void {
    this.bufferedBytes -= s.pieceBytes
    s.pieces = []
    s.pieceBytes = 0
  }

  private startTrusted (s: Session): void {
    // A peer met before (this run) resumes its sync state: it sends the changes since the heads
    // we shared, not a whole document (which for a big log, or a member's flood, is costly).
    const kept = this.syncStates.get(s.link.remote)
    if (kept !== undefined) s.syncState = this.c.log.resumeSyncState(kept)
    this.events.sessionOpened?.(s.link.remote)
    const held = s.helloBeacon
    s.helloBeacon = null
    if (held !== null && held !== this.beaconText) this.acceptBeacon(fromB64u(held), s)
    if (s.remoteHead !== null) this.answerHeads(s, s.remoteHead)
    this.pushRecords(s)
  }

  private answerHeads (s: Session, remote: { seq: number, hash: string }): void {
    const ours = this.c.chain.head
    if (remote.seq < ours.seq || (remote.seq === ours.seq && remote.hash !== ours.hash)) {
      // Equal seq with another hash: send ours, so the remote's chain sees the fork evidence.
      const from = remote.seq < ours.seq ? remote.seq + 1 : ours.seq
      this.send(s, { t: 'chain', entries: this.c.chain.entries(from).map(entryB64) })
    } else if (remote.seq > ours.seq) {
      this.sendFrame(s, this.headsFrame('heads'))
    }
  }

  private receiveChain (s: Session, encoded: string[], beacon: string | undefined): void {
    const before = this.c.chain.head.seq
    // Entries byte for byte equal to ones held are what applyBatch would skip: skip them before
    // decoding (peers relay each new entry to every session, so most copies are held already).
    const fresh = encoded.filter((e) => !this.holdsEncoded(e))
    const entries = fresh.map(decodeEntryShared)
    try {
      if (entries.length > 0) this.c.chain.applyBatch(entries)
    } catch (err) {
      const e = toAuraError(err)
      if (e.code === 'E_FORK') {
        this.events.audit?.({ type: 'fork', peer: s.link.remote, code: e.code, message: e.message })
        this.afterChainGrew(before + 1, s, beacon)
        return
      }
      if (e.code === 'E_BAD_CHAIN' && e.context.reason === 'gap') {
        // Honest: a new entry pushed to us before the remote read our hello. Our heads make
        // it send what we lack; nothing was applied. The beacon with it waits for them.
        this.sendFrame(s, this.headsFrame('heads'))
        this.weighBeacon(beacon, s)
        return
      }
      throw e
    }
    if (this.c.chain.head.seq > before) this.afterChainGrew(before + 1, s, beacon)
    else this.weighBeacon(beacon, s)
    if (!s.trusted) {
      if (this.sessions.has(s) &&
        this.c.chain.member(s.link.remote) !== undefined &&
        this.c.chain.revocation(s.link.remote) === undefined) {
        s.trusted = true
        s.link.admit?.()
        this.startTrusted(s)
      } else if (this.sessions.has(s)) {
        this.notAdmitted(s)
      }
    }
  }

  /** Whether `b64` is the encoding of one of the newest held entries. */
  private holdsEncoded (b64: string): boolean {
    const chain = this.c.chain
    const head = chain.head.seq
    for (let seq = head; seq >= 0 && seq > head - HELD_WINDOW; seq--) {
      const e = chain.entry(seq)
      if (e !== undefined && entryB64(e) === b64) return true
    }
    return false
  }

  private afterChainGrew (fromSeq: number, source: Session | null, beacon?: string): void {
    const grown = this.c.chain.entries(fromSeq)
    const entries = grown.map(entryB64)
    // The beacon that came with the entries (or was signed for them here), if it holds for the
    // chain as it now is: relayed in the same frame, to peers that speak version 2.
    const carried = beacon !== undefined && beacon !== this.beaconText && (source === null || source.trusted)
      ? this.carriedBeacon(beacon)
      : null
    let frame: Uint8Array | null = null
    let plain: Uint8Array | null = null
    // Relayed before the node's own bookkeeping (enforcing, logging, persisting, receipts),
    // which runs after in the same task, and flushed: a transport that gathers a task's frames
    // into one write would otherwise send the entry only once all of that is done, and every
    // hop of a revocation would wait for it (bench/revocation.ts).
    for (const s of this.sessions) {
      if (s === source || !s.trusted || entries.length === 0) continue
      if (carried !== null && s.version >= 2) this.sendFrame(s, frame ??= encodeMessage({ t: 'chain', entries, beacon: carried.b64 }))
      else this.sendFrame(s, plain ??= encodeMessage({ t: 'chain', entries }))
      s.link.flush?.()
    }
    // Only a revoke entry revokes anyone: without one there is nothing new to enforce.
    if (grown.some((e) => e.kind === 'revoke')) this.enforceRevocations()
    this.events.chainApplied?.(fromSeq, source?.link.remote ?? null)
    // The held-back beacon, once the entries it names are held, relayed and enforced: so every
    // session gets those entries before the beacon, and the revoked are gone before it lifts a
    // staleness refusal.
    const deferred = this.deferred
    this.deferred = null
    if (deferred !== null) this.acceptBeacon(deferred.bytes, null)
    // The carried beacon after them (the revoked are gone before it lifts a refusal), already
    // sent to the sessions that got the frame; one that did not hold is weighed as any other.
    if (carried !== null) this.adoptBeacon(carried.beacon, carried.bytes, carried.b64, source, entries.length > 0)
    else this.weighBeacon(beacon, source)
    this.checkRestrictionLifted()
  }

  /** A beacon that came with chain entries, weighed as any other: ours or an admitted session's, if new. */
  private weighBeacon (b64: string | undefined, source: Session | null): void {
    if (b64 === undefined || b64 === this.beaconText || (source !== null && !source.trusted)) return
    this.acceptBeacon(fromB64u(b64), source)
  }

  /** The verified beacon in `b64` if it is newer than the one acted on and names a held head. */
  private carriedBeacon (b64: string): { beacon: Beacon, bytes: Uint8Array, b64: string } | null {
    try {
      const bytes = fromB64u(b64)
      const b = this.newerBeacon(bytes)
      return b !== null && holdsBeaconHead(b, this.c.chain) ? { beacon: b, bytes, b64 } : null
    } catch {
      return null
    }
  }

  private enforceRevocations (): void {
    const newlyRevoked: KeyId[] = []
    for (const m of this.revocationCandidates()) {
      if (this.knownRevoked.has(m.key)) continue
      const r = this.c.chain.revocation(m.key)
      if (r === undefined) continue
      this.knownRevoked.add(m.key)
      newlyRevoked.push(m.key)
      this.events.audit?.({ type: 'revocation-applied', peer: m.key, message: `revocation of ${shortId(m.key)} applied: ${r.reason}` })
    }
    if (newlyRevoked.length === 0) return
    // Sessions first, gracefully: the revoke entry just queued to the peer goes out before the
    // reason, so its own chain learns it is revoked. The node then cuts the connections.
    for (const key of newlyRevoked) this.dropPeer(key, revokedError(key, this.c.chain.revocation(key)))
    this.events.revoked?.(newlyRevoked)
  }

  /**
   * The members a revocation may have reached since the last scan, in admission order: the
   * subjects of the peer and agent revocations among the entries not scanned yet (a token
   * revocation revokes no key by itself), or every member when one of them revokes a role.
   * Every member revoked earlier is in `knownRevoked` already, so this finds what a scan of
   * every member would, without reading a thousand members per revocation.
   */
  private revocationCandidates (): Array<{ key: KeyId }> {
    const chain = this.c.chain
    const unscanned = chain.entries(this.scannedSeq + 1)
    this.scannedSeq = chain.head.seq
    const keys = new Set<KeyId>()
    for (const e of unscanned) {
      if (e.kind !== 'revoke') continue
      const subject = e.body.subject
      if (subject.type === 'role') return chain.members()
      if (subject.type !== 'token') keys.add(subject.key)
    }
    const members: Array<{ key: KeyId, since: number }> = []
    for (const key of keys) {
      const m = chain.member(key)
      if (m !== undefined) members.push(m)
    }
    return members.sort((a, b) => a.since - b.since)
  }

  private receiveRecords (s: Session, data: Uint8Array): void {
    // A change damaged in transit must not reach the log: it would be held as a fork of the
    // genuine one (am-integrity.ts). Malformed, so the link is dropped and synced afresh.
    checkSyncMessageIntegrity(data)
    const check = (incoming: Array<{ id: RecordId, record: SignedRecord }>): RecordRefusal | undefined => {
      if (incoming.length === 0) return undefined
      checkIncomingRecords(this.c.chain, incoming, this.isStale())
      // Past a member's quota nothing more of it is stored (the view's rule, crdt/write-rules.ts);
      // each record is judged on its own, and the log takes the rest of the message.
      const notAfter = this.init.maxFutureMs === null ? null : this.c.clock() + this.init.maxFutureMs
      const refusal = receiptRefusal(incoming, (signer) => this.heldBy(signer), this.c.chain, recordSize, notAfter)
      if (refusal === undefined) return undefined
      return { refuse: refusal.ids, error: new QuotaError(`${refusal.message}${refusal.ids.length > 1 ? ` (and ${refusal.ids.length - 1} more of this message)` : ''}`, { record: refusal.id, signer: shortId(refusal.signer), reason: refusal.reason }) }
    }
    let result: { state: SyncState, added: RecordId[], refused?: AuraError }
    this.received++
    s.idle = null
    try {
      result = this.c.log.receiveSyncMessage(s.syncState, data, check, this.c.clock())
    } catch (err) {
      this.refuseIntentData(s, toAuraError(err))
      return
    }
    s.syncState = result.state
    if (result.added.length > 0) {
      this.events.recordsAdded?.(result.added, s.link.remote)
      for (const other of this.sessions) if (other !== s) this.pushRecords(other)
    }
    if (result.refused !== undefined) {
      this.refuseIntentData(s, result.refused)
      return
    }
    this.pushRecords(s)
  }

  // What a refusal of a remote's intent data does: noted, answered, backed off or resynced.
  private refuseIntentData (s: Session, e: AuraError): void {
    if (INTENT_REFUSALS.has(e.code) || RESYNC_CODES.has(e.code)) this.noteRefusal(s.link.remote, 'in', e.code, e.message)
    if (HOSTILE.has(e.code)) throw e
    if (RESYNC_CODES.has(e.code)) {
      // Nothing was applied. Both sides start this link's sync afresh (the sender on our
      // `refused`): a change sent without its dependency (Automerge's bloom filter can
      // wrongly say we hold it) then comes with it, and one that depends on what never
      // existed is refused again, costing its sender alone.
      s.syncState = this.c.log.initSyncState()
      s.lastAm = null
      const { actor, seq } = e.context as { actor?: unknown, seq?: unknown }
      const names = e.code === 'E_FORK' && typeof actor === 'string' && /^[0-9a-f]{64}$/.test(actor) && typeof seq === 'number' ? { actor, seq } : {}
      this.send(s, { t: 'refused', code: e.code, message: e.message, ...names })
    }
    if (e.code === 'E_LOCKDOWN' || e.code === 'E_STALE' || e.code === 'E_QUOTA') {
      s.syncState = this.c.log.initSyncState()
      s.lastAm = null
      // A quota refusal never lifts by itself (the rule is a function of the records): the
      // sender stays paused until it hears our heads again, and is not read for a while.
      if (e.code === 'E_QUOTA') s.quotaUntil = this.c.clock() + QUOTA_BACKOFF_MS
      else {
        s.refusedByUs = true
        this.wasRestricted = true
      }
      this.send(s, { t: 'refused', code: e.code, message: e.message })
    }
    this.events.audit?.({ type: 'refused', peer: s.link.remote, code: e.code, message: e.message })
  }

  // Drops a remote's intent data while it is backed off for a quota refusal (pieces included).
  private backingOff (s: Session): boolean {
    if (s.quotaUntil <= this.c.clock()) return false
    this.dropPieces(s)
    return true
  }

  private heldBy (signer: KeyId): Array<{ id: RecordId, record: SignedRecord }> {
    const size = this.c.log.size
    if (this.bySigner?.size !== size) {
      const map = new Map<KeyId, Array<{ id: RecordId, record: SignedRecord }>>()
      for (const r of this.c.log.records()) {
        let list = map.get(r.record.signer)
        if (list === undefined) { list = []; map.set(r.record.signer, list) }
        list.push(r)
      }
      this.bySigner = { size, map }
    }
    return this.bySigner.map.get(signer) ?? []
  }

  private pushRecords (s: Session): void {
    if (!s.trusted || s.paused || s.link.closed) return
    // Automerge's answer depends only on the document and this link's sync state: unchanged
    // since it last had nothing to say, it would say nothing again.
    const size = this.c.log.size
    if (s.idle !== null && s.idle.received === this.received && s.idle.size === size) return
    const [state, msg] = this.c.log.generateSyncMessage(s.syncState)
    s.syncState = state
    s.idle = msg === null ? { received: this.received, size } : null
    if (msg === null || (s.lastAm !== null && bytesEqual(msg, s.lastAm))) return
    s.lastAm = msg
    for (const frame of automergeFrames(msg)) this.send(s, frame)
  }

  private acceptBeacon (bytes: Uint8Array, source: Session | null): void {
    let b: Beacon | null
    try {
      b = this.newerBeacon(bytes)
    } catch (err) {
      // Not proof of hostility: across a key rotation, a beacon is valid for the chain of
      // whoever relays it and not for ours until the rotate entry arrives. Ignore it.
      const e = toAuraError(err)
      if (source !== null) this.events.audit?.({ type: 'refused', peer: source.link.remote, code: e.code, message: `beacon ignored: ${e.message}` })
      // Kept to try again once the chain grows: a hello's beacon can be signed by a rotated key
      // whose rotate entry arrives in the chain message just behind it.
      if (e.code === 'E_BAD_SIGNATURE') this.defer(bytes, null, null)
      return
    }
    if (b === null) return
    if (!holdsBeaconHead(b, this.c.chain)) {
      // It vouches for a chain this node does not hold (a revocation still on its way, perhaps
      // withheld by whoever relayed the beacon): counting it now would lift a staleness refusal
      // before that revocation is known here.
      this.defer(bytes, b.ts, b.headSeq)
      return
    }
    this.adoptBeacon(b, bytes, toB64u(bytes), source, false)
  }

  /**
   * Acts on a verified beacon that names a held head, newer than the one acted on, and relays
   * it to every other admitted session (`sentWithChain`: but those of version 2, which had it
   * with the chain entries).
   */
  private adoptBeacon (
    b: Beacon, bytes: Uint8Array, b64: string, source: Session | null, sentWithChain: boolean
  ): void {
    // A held-back beacon acted on just before may be newer.
    if (this.beaconTs !== null && b.ts <= this.beaconTs) return
    this.beaconTs = b.ts
    const vouched = vouchedTime(b, this.c.clock(), this.init)
    this.freshAsOf = Math.max(this.freshAsOf ?? vouched, vouched)
    this.beaconText = b64
    this.events.beacon?.(b, bytes)
    let frame: Uint8Array | null = null
    for (const s of this.sessions) {
      if (s === source || !s.trusted || (sentWithChain && s.version >= 2)) continue
      this.sendFrame(s, frame ??= encodeMessage({ t: 'beacon', beacon: b64 }))
    }
    this.checkRestrictionLifted()
  }

  /** The verified beacon in `bytes`, or null when it is no newer than the newest acted on. */
  private newerBeacon (bytes: Uint8Array): Beacon | null {
    // Every heads message carries the beacon: skip the signature check for one not newer.
    const key = `${this.c.chain.mothershipKeyId}:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')}`
    const known = verifiedBeacons.get(key)
    if (known !== undefined) return this.beaconTs !== null && known.ts <= this.beaconTs ? null : known
    const decoded = decodeBeacon(bytes)
    if (this.beaconTs !== null && decoded.ts <= this.beaconTs) return null
    const b = Object.freeze(verifyBeacon(decoded, this.c.chain.mothershipKey))
    if (verifiedBeacons.size >= VERIFIED_BEACONS_MAX) {
      verifiedBeacons.delete(
        verifiedBeacons.keys().next().value as string
      )
    }
    verifiedBeacons.set(key, b)
    return b
  }

  /**
   * Holds a beacon back in the one slot: a verified beacon (`ts`) takes the place of an older or
   * an unverified one; an unverified one only that of another unverified one, since anyone can
   * make one up.
   */
  private defer (bytes: Uint8Array, ts: number | null, headSeq: number | null): void {
    const d = this.deferred
    if (d === null || d.ts === null || (ts !== null && ts > d.ts)) this.deferred = { bytes: bytes.slice(), ts, headSeq }
  }

  private checkRestrictionLifted (): void {
    if (!this.wasRestricted || this.c.chain.locked || this.isStale()) return
    this.wasRestricted = false
    for (const s of this.sessions) {
      if (!s.refusedByUs) continue
      s.refusedByUs = false
      this.sendFrame(s, this.headsFrame('heads'))
    }
  }

  private beaconB64 (): string | null {
    return this.beaconText
  }

  private notAdmitted (s: Session): void {
    // Told to a key that is no member: nothing of the team, not even its name.
    this.refuse(s.link, new NotAdmittedError(`you (${shortId(s.link.remote)}) are not admitted to this team`, { peer: shortId(s.link.remote) }))
    this.sessions.delete(s)
  }

  private refuse (link: Link, err: AuraError): void {
    this.events.audit?.({ type: 'refused', peer: link.remote, code: err.code, message: err.message })
    link.close(err)
  }

  private hostile (s: Session, err: AuraError): void {
    this.events.audit?.({ type: 'dropped', peer: s.link.remote, code: err.code, message: `connection dropped: ${err.message}` })
    this.close(s, err)
  }

  private close (s: Session, reason?: AuraError): void {
    this.sessions.delete(s)
    if (!s.link.closed) s.link.close(reason)
  }

  private send (s: Session, msg: SyncMessage): void {
    this.sendFrame(s, encodeMessage(msg))
  }

  // The same bytes may go to several links: frames are never changed once encoded.
  private sendFrame (s: Session, frame: Uint8Array): void {
    if (s.link.closed) return
    s.lastSent = this.c.clock()
    s.link.send(frame)
  }

  /**
   * The encoded hello or heads message for the current chain head and beacon. Every session
   * gets the same one until either changes, so it is encoded once per change, not per send.
   */
  private headsFrame (t: 'hello' | 'heads'): Uint8Array {
    const head = this.c.chain.head
    const beacon = this.beaconB64()
    const team = this.init.team
    const memo = t === 'hello' ? this.helloMemo : this.headsMemo
    if (memo !== null && memo.seq === head.seq && memo.hash === head.hash && memo.beacon === beacon) return memo.frame
    // Engines of one process (a simulated team) mostly hold the same head and beacon.
    const shared = t === 'hello' ? lastHello : lastHeads
    let next: FrameMemo
    if (shared !== null &&
      shared.team === team &&
      shared.seq === head.seq &&
      shared.hash === head.hash &&
      shared.beacon === beacon) {
      next = shared
    } else {
      const frame = encodeMessage(t === 'hello' ? { t, v: PROTOCOL_VERSION, team, head, beacon } : { t, head, beacon })
      next = { team, seq: head.seq, hash: head.hash, beacon, frame }
      if (t === 'hello') lastHello = next
      else lastHeads = next
    }
    if (t === 'hello') this.helloMemo = next
    else this.headsMemo = next
    return next.frame
  }
}

// The Automerge message whose pieces the session holds, completed by `last`; empties the session's pieces.
function joinPieces (s: Session, last: Uint8Array): Uint8Array {
  const out = new Uint8Array(s.pieceBytes + last.length)
  let at = 0
  for (const p of s.pieces) {
    out.set(p, at)
    at += p.length
  }
  out.set(last, at)
  s.pieces = []
  s.pieceBytes = 0
  return out
}

/** The refusal a revoked key is told (E_REVOKED, with the revocation's reason). */
export function revokedError (key: KeyId, revocation: KeyRevocation | undefined): AuraError {
  const reason = revocation?.reason ?? ''
  return new RevokedError(`you (${shortId(key)}) are revoked: ${reason}`, { peer: shortId(key), reason })
}
