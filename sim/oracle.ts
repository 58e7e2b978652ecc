/**
 * The run's oracle: safety and exposure judged from outside the peers. It keeps its own books —
 * when each honest peer's store first held each record (polled from the store, not told by the
 * engine), when each peer first held each revocation (its chain holds the exact entry) or first
 * received a beacon the Mothership signed after it (read off the wire), which beacons reached
 * it — and, every `checkEveryMs`, re-computes each peer's effective view with the production
 * rule (crdt/effective-view.ts) and holds every effective record to rules checked here again:
 *
 * - `effective-bad-signature`     its signature fails the oracle's own verification;
 * - `effective-not-admitted`      its signer is no member the simulated team admitted;
 * - `effective-unknown-authority` its `auth` names no entry of the Mothership's chain;
 * - `beyond-cut-effective`        the peer holds a revocation whose cut (the `prev` walk of the
 *                                 registry of every record signed in the run) excludes it (held:
 *                                 by the chain the view was computed on, here and below);
 * - `within-cut-quarantined`      (the other way round) a record of a revoked key that its honest
 *                                 write path signed, on the `prev` walk down from the cut record
 *                                 as far as the peer holds every step, is not effective although
 *                                 nothing else rules it out (its `auth` held and unlocked, its
 *                                 `ts` not below its parent's or its signer's admission);
 * - `effective-equivocation`      the peer holds another validly signed record of its signer
 *                                 with its seq, neither excluded by a held cut;
 * - `effective-during-lockdown`   its `auth` names a chain seq at which the Mothership had locked
 *                                 the team (the lockdown entries the simulation signed);
 * - `effective-backdated`         its `ts` is below that of the parent record it names, held;
 * - `exposure-after-revocation`   a record of a revoked key, beyond the cut, entered the store
 *                                 after the peer held the revocation and is effective there;
 * - `exposure-after-beacon`       the same, after the peer received a Mothership beacon naming a
 *                                 chain head at or past the revocation (it must wait for it);
 * - `bad-signature-stored`        a record whose signature fails entered a store;
 * - `accepted-while-stale`        a record of another peer entered the store over an interval in
 *                                 which the peer was stale by every beacon it had received and
 *                                 whose chain head it holds;
 * - `accepted-during-lockdown`    the same while its chain held the team's lockdown;
 * - `revoked-session-kept`        a connection with a key the peer holds a revocation of stayed
 *                                 open from one poll to the next;
 * - `revocation-not-relayed`      an honest peer lacked a revocation half an anti-entropy period
 *                                 after an honest peer holding it had a working connection to it;
 * - `chain-entry-forged`          a chain holds, at some seq, an entry the simulation never signed
 *                                 (its hash differs from that of the entry the Mothership signed);
 * - `smuggled-record-stored`      a record the adversary sent only inside a change every honest
 *                                 peer must refuse (another member's actor, a dependency nobody
 *                                 holds) entered a store;
 * - `change-queued`               Automerge holds a change of a log back for a missing dependency
 *                                 (read from Automerge, not from the log's checks);
 * - `stranger-admitted`           a peer sent anything to a key the team never admitted, which
 *                                 claimed no longer chain than genesis (read off the wire);
 * - `stranger-past-gate`          a peer other than the Mothership (which lets strangers in to
 *                                 join) opened two connections with such a key within the gate's
 *                                 telling interval (node/peer/admission.ts lets one through then);
 * - `oversized-frame-delivered`   a frame past the frame limit reached a peer's protocol.
 *
 * Forged records made effective are also counted for the report, by when the peer stored them:
 * before the revocation was issued, after it was issued but before the peer knew of it (the
 * operator's triage: trace, pr-review, rewind), and after the peer knew (must be zero).
 *
 * @example
 * const oracle = new Oracle(world, registry, realEffectiveIds, (p, node, detail) => ...)
 * oracle.start()   // polls and checks on the virtual clock
 * oracle.finish()  // the last check, after settling
 */
import type { KeyId, RecordId } from '../crdt/ids.js'
import { TELL_INTERVAL_MS } from '../node/peer/admission.js'
import type { SignedRecord } from '../crdt/record.js'
import type { LaneSpan } from './observer.js'
import type { EffectiveIdsFn, IssuedRevocation, RecordRegistry, Violation } from './properties.js'
import type { SimNode } from './sim-node.js'
import type { SimLink } from './network.js'
import type { World } from './world.js'

/** Forged records made effective on honest peers, by when each peer stored them. */
export interface Exposure {
  /** (peer, record) pairs stored before the revocation was issued. */
  beforeIssue: number
  /** Stored after the issue, before that peer held the revocation (cut off, or still on its way). */
  beforeKnown: number
  /** Stored after the peer held the revocation (a violation each). */
  afterKnown: number
  /** Stored after the peer received a beacon naming the revocation's chain head (a violation each). */
  afterBeacon: number
  /** Forged records still effective on some honest peer at the end (within the cut the Mothership chose). */
  effectiveAtEnd: number
  /** Honest peers on which some forged record was effective at some check. */
  peers: number
}

/**
 * One honest peer's forged records made effective, by class,
 * and how many are no longer effective there at the last check.
 */
export interface PeerExposure {
  beforeIssue: number
  beforeKnown: number
  afterKnown: number
  afterBeacon: number
  /** Of those, effective on this peer at the last check (the rest are quarantined there). */
  effectiveAtEnd: number
}

type Report = (property: Violation['property'], node: string, detail: string) => void

interface PeerBooks {
  /** The log object the ids were read from: a restart without disk starts new books. */
  log: unknown
  firstSeen: Map<RecordId, number>
  /** Poll time at which each revocation was first held (chain) or announced (beacon). */
  held: Map<number, number>
  beaconKnown: Map<number, number>
  /** Mothership beacons received (from any session, counted or not). */
  beacons: Set<{ headSeq: number, headHash: string, ts: number }>
  /** Whether the peer was stale (its chain locked) at the last poll, by the oracle's reading. */
  staleAtLastPoll: boolean
  lockedAtLastPoll: boolean
  /** Connections with revoked keys open at the last poll. */
  revokedLinks: Set<unknown>
  /** Forged ids effective here at some check, with the class they were counted in. */
  exposed: Map<RecordId, 'beforeIssue' | 'beforeKnown' | 'afterKnown' | 'afterBeacon'>
  exposedAt: Map<RecordId, number>
  /** Forged ids effective here at the last check of this peer. */
  forgedEffective: Set<RecordId>
  /** Since when (µs) the oracle has read the peer as stale, or null. */
  staleSince: number | null
  /** The chain object whose entries up to `chainChecked` matched what the Mothership signed. */
  chainOf: unknown
  chainChecked: number
  /** Whether `change-queued` was reported here already (once per peer). */
  queuedReported: boolean
}

const BEACON_FIELD = /"beacon":"([A-Za-z0-9_-]+)"/

/** The independent checker of one run. */
export class Oracle {
  private readonly books = new Map<number, PeerBooks>()
  private readonly admitted: Set<KeyId>
  /** When each key was admitted (the bootstrap chain's `ts`): a record dated before is backdated. */
  private readonly admittedAt = new Map<KeyId, number>()
  /**
   * Intervals in which the oracle read an honest peer as stale (its own reading, polled: no
   * beacon received whose chain head the peer holds is newer than max_staleness + max clock skew
   * + one poll), for the report. Closed when the peer goes down and at the end.
   */
  readonly staleSpans: LaneSpan[] = []

  constructor (
    private readonly world: World,
    private readonly registry: RecordRegistry,
    private readonly effectiveIds: EffectiveIdsFn,
    private readonly report: Report,
    readonly opts: { pollMs: number, checkEveryMs: number } = { pollMs: 1000, checkEveryMs: 5000 }
  ) {
    this.admitted = new Set(world.team.nodes.map((n) => n.id))
    if (world.team.agent !== null) this.admitted.add(world.team.agent.id)
    for (const e of world.team.entries) if (e.kind === 'admit' || e.kind === 'agent') this.admittedAt.set(e.body.key, e.body.ts)
    for (const h of world.honest) this.books.set(h, this.freshBooks(null))
  }

  /** Starts polling and checking on the virtual clock. */
  start (): void {
    const { scheduler } = this.world
    const poll = (): void => { this.poll(); scheduler.after(this.opts.pollMs * 1000, poll) }
    const check = (): void => { this.checkAll(); scheduler.after(this.opts.checkEveryMs * 1000, check) }
    scheduler.after(this.opts.pollMs * 1000, poll)
    scheduler.after(this.opts.checkEveryMs * 1000, check)
  }

  /** A frame was delivered (network observer): notes the Mothership beacons it carries. */
  delivered (to: number, frame: Uint8Array): void {
    const b = this.books.get(to)
    if (b === undefined || frame[0] !== 0x01 || frame.length > 4096) return
    const m = BEACON_FIELD.exec(Buffer.from(frame.buffer, frame.byteOffset + 1, frame.length - 1).toString('latin1'))
    const beacon = m === null ? undefined : this.world.beacons.get(m[1])
    if (beacon === undefined) return
    b.beacons.add(beacon)
    for (const r of this.world.revocations) {
      if (beacon.headSeq >= r.seq && !b.beaconKnown.has(r.index)) b.beaconKnown.set(r.index, this.world.scheduler.now)
    }
  }

  /** A frame past the limit reached honest node `to` (network observer). */
  oversized (from: number, to: number, length: number): void {
    this.report('oversized-frame-delivered', this.world.nodes[to].name, `a frame of ${length} bytes from ${this.world.nodes[from]?.name ?? 'a stranger'} reached ${this.world.nodes[to].name}'s protocol`)
  }

  /** Honest node `from` sent a frame to the stranger, a key the team never admitted (network observer). */
  toStranger (from: number, frame: Uint8Array): void {
    this.report('stranger-admitted', this.world.nodes[from].name, `${this.world.nodes[from].name} sent a ${frame.length}-byte frame (tag ${frame[0]}) to a key the team never admitted`)
  }

  /** The stranger's dial reached honest node `to` past both gates (network observer). */
  strangerLinked (to: number): void {
    if (to === this.world.mothership.index) return
    const now = this.world.scheduler.now
    const last = this.strangerLinks.get(to)
    this.strangerLinks.set(to, now)
    if (last === undefined || now - last > TELL_INTERVAL_MS * 1000) return
    const name = this.world.nodes[to].name
    this.report('stranger-past-gate', name, `${name}'s gate let a key the team never admitted through twice in ${(now - last) / 1000} ms`)
  }

  private readonly strangerLinks = new Map<number, number>()

  /** The last check, after the run settled. */
  finish (): void {
    this.poll()
    this.checkAll()
    for (const [index, b] of this.books) this.closeStale(index, b)
  }

  /** One honest peer's forged records made effective, by class (null for a node the oracle has no books of). */
  exposureOf (node: number): PeerExposure | null {
    const b = this.books.get(node)
    if (b === undefined) return null
    const out: PeerExposure = { beforeIssue: 0, beforeKnown: 0, afterKnown: 0, afterBeacon: 0, effectiveAtEnd: 0 }
    for (const [id, cls] of b.exposed) {
      out[cls]++
      if (b.forgedEffective.has(id)) out.effectiveAtEnd++
    }
    return out
  }

  /** When (µs, by the oracle's poll) the peer's chain first held each revocation, by revocation index. */
  heldAt (node: number): ReadonlyMap<number, number> {
    return this.books.get(node)?.held ?? new Map()
  }

  private closeStale (index: number, b: PeerBooks): void {
    if (b.staleSince === null) return
    this.staleSpans.push({ node: index, kind: 'stale', fromUs: b.staleSince, toUs: this.world.scheduler.now })
    b.staleSince = null
  }

  /** What forged records honest peers made effective, by class. */
  exposure (): Exposure {
    const out: Exposure = {
      beforeIssue: 0,
      beforeKnown: 0,
      afterKnown: 0,
      afterBeacon: 0,
      effectiveAtEnd: this.effectiveAtEnd.size,
      peers: 0
    }
    for (const b of this.books.values()) {
      if (b.exposed.size > 0) out.peers++
      for (const cls of b.exposed.values()) out[cls]++
    }
    return out
  }

  /** Each (honest peer, forged record) the oracle saw effective, with when the peer stored it (µs). */
  accepted (): Array<{ node: number, atUs: number }> {
    return [...this.books].flatMap(([node, b]) => [...b.exposedAt.values()].map((atUs) => ({ node, atUs })))
  }

  private effectiveAtEnd = new Set<RecordId>()

  private freshBooks (log: unknown): PeerBooks {
    return {
      log,
      firstSeen: new Map(),
      held: new Map(),
      beaconKnown: new Map(),
      beacons: new Set(),
      staleAtLastPoll: false,
      lockedAtLastPoll: false,
      revokedLinks: new Set(),
      exposed: new Map(),
      exposedAt: new Map(),
      forgedEffective: new Set(),
      staleSince: null,
      chainOf: null,
      chainChecked: -1,
      queuedReported: false
    }
  }

  private poll (): void {
    const now = this.world.scheduler.now
    // Nothing a poll does opens or closes a connection: one snapshot of the open links serves
    // every pair it asks about.
    const links = this.world.net.openLinksByLocal()
    for (const [index, b0] of this.books) {
      const node = this.world.nodes[index]
      if (!node.up) { this.closeStale(index, b0); continue }
      let b = b0
      if (b.log !== node.logs[0]) {
        this.closeStale(index, b0)
        // A restart that lost the disk: the store starts over, and so do these books (except
        // what the peer received from the wire, which a real peer would also have lost).
        b = this.freshBooks(node.logs[0])
        this.books.set(index, b)
      }
      const stale = this.staleNow(node, b)
      const locked = this.holdsLockdown(node)
      const own = this.ownSigners(node)
      const smuggled = this.world.adversary?.smuggled
      for (const id of node.logs[0].ids()) {
        if (b.firstSeen.has(id)) continue
        b.firstSeen.set(id, now)
        if (!this.signed(id, node)) this.report('bad-signature-stored', node.name, `record ${id.slice(0, 12)} with a bad signature was stored`)
        const how = smuggled?.get(id)
        if (how !== undefined) this.report('smuggled-record-stored', node.name, `${node.name} stored record ${id.slice(0, 12)}, which the adversary sent only in a change honest peers must refuse (${how})`)
        const signer = this.registry.get(id)?.signer
        // Stale through the whole interval: at the last poll and now.
        if (signer === undefined || own.has(signer)) continue
        if (b.staleAtLastPoll && stale) {
          this.report('accepted-while-stale', node.name, `${node.name} stored record ${id.slice(0, 12)} of ${this.nameOf(signer)} while no beacon it had received was fresher than max_staleness`)
        }
        if (b.lockedAtLastPoll && locked) {
          this.report('accepted-during-lockdown', node.name, `${node.name} stored record ${id.slice(0, 12)} of ${this.nameOf(signer)} while its chain held the team's lockdown`)
        }
      }
      b.staleAtLastPoll = stale
      if (stale && b.staleSince === null) b.staleSince = now
      else if (!stale) this.closeStale(index, b)
      b.lockedAtLastPoll = locked
      for (const r of this.world.revocations) {
        if (!b.held.has(r.index) && node.chain.entryHash(r.seq) === r.hash) b.held.set(r.index, now)
      }
      this.checkSessions(node, b, links)
      this.checkChain(node, b)
    }
    this.checkRelay(now, links)
  }

  // Every entry the peer's chain holds is the one the Mothership signed at that seq.
  private checkChain (node: SimNode, b: PeerBooks): void {
    if (b.chainOf !== node.chain) { b.chainOf = node.chain; b.chainChecked = -1 }
    const head = node.chain.head.seq
    const signed = this.world.signedEntries
    for (let seq = b.chainChecked + 1; seq <= head; seq++) {
      if (node.chain.entryHash(seq) === signed[seq]) continue
      this.report('chain-entry-forged', node.name, `${node.name}'s chain holds at seq ${seq} an entry the Mothership never signed`)
      break
    }
    b.chainChecked = head
  }

  // Whether the chain holds the newest lockdown entry the Mothership signed, and no unlock after it.
  private holdsLockdown (node: SimNode): boolean {
    let locked = false
    for (const l of this.world.locks) {
      if (node.chain.entryHash(l.seq) !== this.world.mothership.chain.entryHash(l.seq)) break
      locked = l.locked
    }
    return locked
  }

  /**
   * A revocation goes on at once: an honest peer that holds it and has had a working connection
   * with another honest peer for `relayBudgetMs` (a fraction of the anti-entropy period, many
   * times any link's delay) has passed it on by then.
   */
  private checkRelay (now: number, links: Map<number, SimLink[]>): void {
    const budget = this.relayBudgetMs() * 1000
    const seen = new Set<unknown>()
    const { nodes, honest, revocations } = this.world
    // Whether each honest peer lacks each revocation (up, its chain without it, and not itself
    // its subject): the same for every holder, so read once per poll.
    let lacking: Uint8Array[] | null = null
    const lacks = (): Uint8Array[] => {
      lacking ??= revocations.map((r) => {
        const a = new Uint8Array(nodes.length)
        for (const other of honest) {
          const peer = nodes[other]
          const missing = peer.chain.entryHash(r.seq) !== r.hash
          if (peer.up && missing && peer.chain.revocation(peer.id) === undefined) a[other] = 1
        }
        return a
      })
      return lacking
    }
    for (const [index, b] of this.books) {
      const node = nodes[index]
      if (!node.up || b.held.size === 0) continue
      // The honest peers this holder has open connections to, in the order of world.honest,
      // each with its connections in linksBetween's order: a peer without one has nothing to check.
      const byRemote = new Map<number, SimLink[]>()
      for (const link of links.get(index) ?? []) {
        if (link.to === index || !this.isHonest(link.to)) continue
        const group = byRemote.get(link.to)
        if (group === undefined) byRemote.set(link.to, [link])
        else group.push(link)
      }
      if (byRemote.size === 0) continue
      const others = [...byRemote.keys()].sort((x, y) => this.honestPos(x) - this.honestPos(y))
      for (const r of revocations) {
        const heldAt = b.held.get(r.index)
        if (heldAt === undefined) continue
        const lack = lacks()[r.index]
        for (const other of others) {
          if (this.relayReported.has(`${r.index}:${other}`) || lack[other] !== 1) continue
          const peer = nodes[other]
          for (const link of byRemote.get(other)!) {
            if (link.broken || link.peer.broken || link.peer.closed) continue
            seen.add(link)
            const since = this.linkSince.get(link) ?? now
            this.linkSince.set(link, since)
            if (now - Math.max(since, heldAt) <= budget) continue
            this.relayReported.add(`${r.index}:${other}`)
            this.report('revocation-not-relayed', peer.name, `${peer.name} lacks revocation '${r.label}' ${((now - Math.max(since, heldAt)) / 1e6).toFixed(1)} s after ${node.name}, connected to it throughout, held it`)
          }
        }
      }
    }
    for (const l of this.linkSince.keys()) if (!seen.has(l)) this.linkSince.delete(l)
  }

  private honestIndex: Map<number, number> | null = null
  private honestPos (index: number): number {
    this.honestIndex ??= new Map(this.world.honest.map((n, i) => [n, i]))
    return this.honestIndex.get(index) ?? -1
  }

  private isHonest (index: number): boolean {
    return this.honestPos(index) >= 0
  }

  private readonly linkSince = new Map<unknown, number>()
  private readonly relayReported = new Set<string>()

  private relayBudgetMs (): number {
    return this.world.scenario.protocol.anti_entropy / 2
  }

  /**
   * Stale by every beacon received whose chain head the peer holds now, each taken at its signed
   * time: a bound no tighter than the engine's, which counts a subset of these (those whose head
   * it held on arrival, and the newest held back until it did) at no later a time.
   */
  private staleNow (node: SimNode, b: PeerBooks): boolean {
    const max = this.world.ctx.maxStalenessMs
    if (max === null || node === this.world.mothership) return false
    let fresh: number | null = null
    for (const beacon of b.beacons) {
      if (node.chain.entryHash(beacon.headSeq) === beacon.headHash &&
        (fresh === null || beacon.ts > fresh)) fresh = beacon.ts
    }
    return fresh !== null && node.clock() > fresh + max + this.world.ctx.maxClockSkewMs + this.opts.pollMs
  }

  // Records the peer writes itself, or an agent through it: the local write path, not receipt.
  private ownSigners (node: SimNode): Set<KeyId> {
    const own = new Set<KeyId>([node.id])
    const adv = this.world.adversary
    if (adv?.agent != null && adv.agent.host === node) own.add(adv.agent.identity.id)
    return own
  }

  private checkSessions (node: SimNode, b: PeerBooks, links: Map<number, SimLink[]>): void {
    const open = new Set<unknown>()
    for (const r of this.world.revocations) {
      if (!b.held.has(r.index)) continue
      for (const key of r.cuts.keys()) {
        const remote = this.world.indexOfKey(key)
        if (remote === undefined) continue
        for (const link of links.get(node.index) ?? []) {
          if (link.to !== remote) continue
          open.add(link)
          if (b.revokedLinks.has(link)) this.report('revoked-session-kept', node.name, `${node.name} kept a connection with ${this.nameOf(key)} open although it holds revocation '${r.label}'`)
        }
      }
    }
    b.revokedLinks = open
  }

  private checkAll (): void {
    this.effectiveAtEnd = new Set()
    for (const [index, b] of this.books) {
      const node = this.world.nodes[index]
      if (node.up && b.log === node.logs[0]) this.check(node, b)
    }
  }

  private check (node: SimNode, b: PeerBooks): void {
    if (!b.queuedReported && node.logs[0].queuedChanges > 0) {
      b.queuedReported = true
      this.report('change-queued', node.name, `Automerge holds ${node.logs[0].queuedChanges} change(s) of ${node.name}'s log back for missing dependencies`)
    }
    const records = node.logs[0].records()
    const byId = new Map<RecordId, SignedRecord>(records.map((r) => [r.id, r.record]))
    const effective = this.effectiveIds(records, node.chain)
    // The revocations this chain holds now, the chain the effective view was just computed on:
    // not the books' `held`, which is as of the last poll. A check falls on the same instant as
    // a poll and runs first (it was scheduled earlier), so `held` can lag the chain by a whole
    // poll. A peer that restarted and got a revocation within that poll was judged as if the
    // revoked key's records beyond the cut counted, so one within the cut sharing their seq
    // looked equivocal (swarm seeds 1515, 3323, 3370, 3484, 4691, 4790: `effective-equivocation`
    // on a record the view rightly kept effective).
    const held = this.world.revocations.filter((r) => node.chain.entryHash(r.seq) === r.hash)
    const excluded = (id: RecordId, rec: SignedRecord): IssuedRevocation | undefined => held.find((r) => {
      const cut = r.cuts.get(rec.signer)
      return cut !== undefined && !this.registry.legitimateWithin(cut).has(id)
    })
    const slots = new Map<string, number>()
    for (const [id, rec] of byId) {
      if (excluded(id, rec) !== undefined || !this.signed(id, node)) continue
      const slot = `${rec.signer}:${rec.seq}`
      slots.set(slot, (slots.get(slot) ?? 0) + 1)
    }
    const forged = this.world.adversary?.forged
    b.forgedEffective = new Set()
    for (const id of effective) {
      const rec = byId.get(id)
      if (rec === undefined) continue
      const short = id.slice(0, 12)
      if (!this.signed(id, node)) this.report('effective-bad-signature', node.name, `record ${short} is effective on ${node.name} although its signature does not verify`)
      if (!this.admitted.has(rec.signer)) this.report('effective-not-admitted', node.name, `record ${short} is effective on ${node.name} although its signer was never admitted`)
      if (this.world.mothership.chain.entryHash(rec.auth.seq) !== rec.auth.hash) this.report('effective-unknown-authority', node.name, `record ${short} is effective on ${node.name} although its auth (seq ${rec.auth.seq}) names no entry of the Mothership's chain`)
      const r = excluded(id, rec)
      if (r !== undefined) this.report('beyond-cut-effective', node.name, `record ${short} (seq ${rec.seq}) is effective although ${node.name} holds revocation '${r.label}' (chain seq ${r.seq})`)
      if ((slots.get(`${rec.signer}:${rec.seq}`) ?? 0) > 1) this.report('effective-equivocation', node.name, `record ${short} of ${this.nameOf(rec.signer)} is effective on ${node.name} although it holds another record of that signer with seq ${rec.seq}`)
      if (this.lockedAt(rec.auth.seq)) this.report('effective-during-lockdown', node.name, `record ${short} is effective on ${node.name} although it was written under lockdown (auth seq ${rec.auth.seq})`)
      const parent = rec.prev === null ? undefined : byId.get(rec.prev)
      if (parent !== undefined && parent.signer === rec.signer && rec.ts < parent.ts) this.report('effective-backdated', node.name, `record ${short} is effective on ${node.name} although its ts is below its parent's`)
      if (forged?.has(id) === true) this.exposed(node, b, id, rec)
    }
    this.checkWithinCut(node, held, byId, effective)
  }

  /**
   * Honest history survives a revocation: the records a revoked key wrote honestly, within the
   * cut the peer's chain holds, stay effective. Walks the registry's `prev` chain down from each
   * held cut record while the peer holds each step with a good signature (the production view
   * hides what lies below a gap, until it arrives), skipping forgeries and records another rule
   * rules out: an `auth` the peer does not hold or that was under lockdown, a `ts` below the
   * parent's or the signer's admission.
   */
  private checkWithinCut (
    node: SimNode,
    held: readonly IssuedRevocation[],
    byId: ReadonlyMap<RecordId, SignedRecord>,
    effective: ReadonlySet<RecordId>
  ): void {
    const adv = this.world.adversary
    for (const r of held) {
      for (const [signer, cut] of r.cuts) {
        for (const id of this.registry.legitimateWithin(cut)) {
          const rec = byId.get(id)
          if (rec === undefined || rec.signer !== signer || !this.signed(id, node)) break
          if (effective.has(id) || adv?.forged.has(id) === true || adv?.smuggled.has(id) === true) continue
          if (node.chain.entryHash(rec.auth.seq) !== rec.auth.hash || this.lockedAt(rec.auth.seq)) continue
          const parent = rec.prev === null ? undefined : byId.get(rec.prev)
          if ((parent !== undefined && rec.ts < parent.ts) || rec.ts < (this.admittedAt.get(signer) ?? 0)) continue
          this.report('within-cut-quarantined', node.name, `record ${id.slice(0, 12)} (seq ${rec.seq}) of ${this.nameOf(signer)} is not effective on ${node.name} although it is within the cut (seq ${cut.seq}) of revocation '${r.label}' that it holds`)
        }
      }
    }
  }

  // Classifies a forged record effective on an honest peer by when the peer stored it.
  private exposed (node: SimNode, b: PeerBooks, id: RecordId, rec: SignedRecord): void {
    this.effectiveAtEnd.add(id)
    b.forgedEffective.add(id)
    if (b.exposed.has(id)) return
    const stored = b.firstSeen.get(id) ?? this.world.scheduler.now
    const revs = this.world.revocations.filter(
      (r) => r.cuts.has(rec.signer) && !this.registry.legitimateWithin(r.cuts.get(rec.signer)!).has(id)
    )
    const issued = Math.min(...revs.map((r) => r.issuedUs))
    const held = Math.min(...revs.map((r) => b.held.get(r.index) ?? Infinity))
    const announced = Math.min(...revs.map((r) => b.beaconKnown.get(r.index) ?? Infinity))
    // "After" means stored strictly after the poll (or the frame) that showed the peer knew.
    if (stored > held) {
      b.exposed.set(id, 'afterKnown')
      this.report('exposure-after-revocation', node.name, `${node.name} stored forged record ${id.slice(0, 12)} after it held the revocation of ${this.nameOf(rec.signer)}, and it is effective there`)
    } else if (stored > announced + this.opts.pollMs * 1000) {
      b.exposed.set(id, 'afterBeacon')
      this.report('exposure-after-beacon', node.name, `${node.name} stored forged record ${id.slice(0, 12)} of ${this.nameOf(rec.signer)} after it received a Mothership beacon naming the chain head of its revocation, and it is effective there`)
    } else {
      b.exposed.set(id, stored < issued ? 'beforeIssue' : 'beforeKnown')
    }
    b.exposedAt.set(id, stored)
  }

  private signed (id: RecordId, node: SimNode): boolean {
    const bytes = node.logs[0].get(id)
    return bytes !== undefined && this.registry.signatureOk(id, bytes)
  }

  private lockedAt (seq: number): boolean {
    let locked = false
    for (const l of this.world.locks) if (l.seq <= seq) locked = l.locked
    return locked
  }

  private nameOf (key: KeyId): string {
    const i = this.world.indexOfKey(key)
    return i === undefined
      ? (this.world.team.agent?.id === key ? this.world.team.agent.name : key.slice(0, 8))
      : this.world.nodes[i].name
  }
}
