/**
 * The adversary: a revoked or leaked identity in the attacker's hands. It runs the real
 * SyncEngine (so victims talk to it exactly as to any peer) and, from `start` on:
 * - forges: signs records beyond its cut, backdated (`ts` in the past, `auth` the old chain
 *   head), every `forge_every`;
 * - equivocates: shows one record to half its victims and another with the same seq to the rest
 *   (two logs, two engines);
 * - forges signatures: records claiming a victim's key, in a hand-built Automerge change, which
 *   must never be stored anywhere;
 * - withholds: never lets its own revocation into its chain, so it never relays it;
 * - replays: announces an old chain head and resends old entries;
 * - floods: bursts of `flood` records;
 * - forks below the cut (`fork_below_cut`): once revoked, records at seq 1 with no parent;
 * - feeds beacons (`feed_beacons`): every Mothership beacon, as it is signed, goes at once to
 *   every peer it is connected to, naming chain heads (its revocation) it withholds;
 * - the wider adversary (issue 16 item 6, each off by default; sim/hostile.ts builds the bytes):
 *   chain entries claiming the Mothership's signature (`forge_chain`), beacons with a bad one
 *   (`forge_beacons`), genuine beacons kept back and doled out later (`stockpile_beacons`),
 *   changes under another member's actor (`claim_actor`) or on a dependency nobody holds
 *   (`invent_deps`), a key the team never admitted dialling in (`stranger`), frames past the
 *   frame limit (`oversized_frames`), and a Mothership key the schedule's rotation retired
 *   (`retired_key`): beacons and a chain entry it signs, to peers that hold the rotation.
 *   Refusals its victims answer are counted per behaviour.
 * The records of its own node it signs with its own code (`writeOwn`), not the node's write path
 * (node/peer/writer.ts): an attacker does not run our gate. A rogue agent has no node of its own:
 * it writes through its host peer, whose write gate refuses it once the host holds the revocation.
 *
 * @example
 * const adv = new Adversary(ctx, spec, malloryNode, null)
 * adv.start()   // schedules every behaviour
 */
import * as A from '@automerge/automerge'
import { canonicalBytes, fromB64u, toB64u } from '../crdt/canonical.js'
import { sign } from '../crdt/crypto.js'
import { writerActor } from '../crdt/change-auth.js'
import { genesisDoc, type IntentDoc } from '../crdt/intent-doc.js'
import type { AuraError } from '../crdt/errors.js'
import type { KeyId, RecordId } from '../crdt/ids.js'
import { decodeEntry, type ChainEntry, type Head } from '../crdt/authority-chain.js'
import { decodeBeacon, verifyBeacon } from '../crdt/beacon.js'
import { keyIdOf } from '../crdt/ids.js'
import { nextRecordFields, recordIdOf, signRecord, type EncodedRecord, type SignedRecord } from '../crdt/record.js'
import { signNext } from '../node/peer/writer.js'
import type { Link } from '../node/sync/link.js'
import { decodeMessage, encodeMessage } from '../node/sync/messages.js'
import { forgedBeacon, forgedEntry, handChange, oversizedFrame, signedBeacon } from './hostile.js'
import type { SimLink } from './network.js'
import { Stranger, strangerKey } from './stranger.js'
import type { Scenario } from './scenario.js'
import type { SimNode, NodeContext } from './sim-node.js'
import { actorFor, type Identity } from './team.js'
import type { SimRotation } from './world.js'

/** The adversary's scenario section. */
export type AdversarySpec = NonNullable<Scenario['adversary']>

/** What the adversary did: the proof that it tried. */
export interface AdversaryStats {
  forged: number
  equivocations: number
  badSignatureAttempts: number
  replays: number
  floods: number
  withheldEntries: number
  /** Intent-log frames it sent to honest peers after its first forgery. */
  forgedFramesToHonest: number
  /** Agent writes its host refused because the host held the revocation. */
  refusedByHost: number
  /** Mothership beacons it handed to peers (`feed_beacons`). */
  beaconsFed: number
  /** The wider adversary's attempts. */
  hostile: HostileStats
}

/** What the wider adversary tried, and what its victims answered. */
export interface HostileStats {
  /** Chain entries claiming the Mothership's signature, sent (`forge_chain`). */
  forgedEntries: number
  /** Beacons with a bad signature, sent (`forge_beacons`). */
  forgedBeacons: number
  /** Genuine beacons kept (`stockpile_beacons`), and handed out later. */
  beaconsStockpiled: number
  stockpileFed: number
  /** Changes under another member's actor (`claim_actor`); on a change nobody holds (`invent_deps`). */
  claimedActorChanges: number
  inventedDepsChanges: number
  /** Dials by the stranger, refused by the connection gate, and by the protocol (E_NOT_ADMITTED). */
  strangerDials: number
  strangerRefusedAtGate: number
  strangerRefusedByProtocol: number
  /** Frames past the frame limit, sent. */
  oversizedFrames: number
  /** Beacons and chain entries signed with the Mothership key a rotation retired (`retired_key`), sent. */
  retiredKeyBeacons: number
  retiredKeyEntries: number
  /** `<behaviour>:<code>`: refusals (a closed link, a `refused` answer) that answered a behaviour. */
  refusals: Record<string, number>
}

/** What the adversary read of one of its connections: the remote's head and newest beacon. */
interface PeerView {
  readonly inner: SimLink
  head: Head | null
  beaconTs: number | null
  /** The last hostile thing sent here, which the next refusal on this link answers. */
  lastHostile: string | null
}

/** Answers that refuse honest data (the remote is stale, locked, busy): no behaviour's doing. */
const ROUTINE_REFUSALS = new Set(['E_STALE', 'E_LOCKDOWN', 'E_QUOTA', 'E_BUSY'])

/** The attacker: behaviours on top of a node (peer/token identity) or a host node (agent). */
export class Adversary {
  readonly stats: AdversaryStats = {
    forged: 0,
    equivocations: 0,
    badSignatureAttempts: 0,
    replays: 0,
    floods: 0,
    withheldEntries: 0,
    forgedFramesToHonest: 0,
    refusedByHost: 0,
    beaconsFed: 0,
    hostile: {
      forgedEntries: 0,
      forgedBeacons: 0,
      beaconsStockpiled: 0,
      stockpileFed: 0,
      claimedActorChanges: 0,
      inventedDepsChanges: 0,
      strangerDials: 0,
      strangerRefusedAtGate: 0,
      strangerRefusedByProtocol: 0,
      oversizedFrames: 0,
      retiredKeyBeacons: 0,
      retiredKeyEntries: 0,
      refusals: {}
    }
  }

  /** Every record it signed from `start` on (all beyond any known-good cut), with when. */
  readonly forged = new Map<RecordId, { atUs: number, seq: number }>()
  /** The seq of its own revocation once it has seen it; entries from there on are withheld. */
  private frozenAt: number | null = null
  private agentHead: { id: RecordId, record: SignedRecord } | undefined
  private badCounter = 0
  private stopped = false
  private compromisedAt: { seq: number, hash: string } | null = null
  private readonly links = new Map<Link, PeerView>()
  /** Records sent only inside changes every honest peer must refuse (the oracle's ledger). */
  readonly smuggled = new Map<RecordId, 'claim-actor' | 'invent-deps'>()
  /** A key the team never admitted, on its own endpoint (`stranger`). */
  readonly stranger: Stranger | null
  /** Genuine beacons kept back (`stockpile_beacons`): base64url → signed time and head seq. */
  private readonly stock = new Map<string, { ts: number, headSeq: number }>()
  private hostileCount = 0
  private oversized: Uint8Array | null = null
  /** The first rotation of the Mothership key (`retired_key`: the key it holds is the one it retired). */
  private retired: SimRotation | null = null

  constructor (
    private readonly ctx: NodeContext,
    readonly spec: AdversarySpec,
    /** Its own node (peer or token identity), or null for an agent. */
    readonly node: SimNode | null,
    /** For an agent: its identity and the honest node it writes through. */
    readonly agent: { identity: Identity, host: SimNode } | null,
    private readonly victims: ReadonlySet<number>,
    private readonly onForged: (rec: EncodedRecord) => void
  ) {
    this.stranger = spec.stranger && node !== null ? new Stranger(ctx, `${spec.name}-stranger`) : null
  }

  /** The identity the attacker holds. */
  get identity (): Identity {
    return this.node?.identity ?? (this.agent as { identity: Identity }).identity
  }

  /** Whether the attacker is active now. */
  active (): boolean {
    return this.ctx.scheduler.now >= this.spec.start * 1000
  }

  /** Schedules every behaviour from `start` on. */
  start (): void {
    const s = this.spec
    const startUs = s.start * 1000
    this.ctx.scheduler.at(startUs, () => { this.oldHead() })
    const loop = (periodMs: number, fn: () => void, phaseMs = 0): void => {
      const run = (): void => { if (this.stopped) return; fn(); this.ctx.scheduler.after(periodMs * 1000, run) }
      this.ctx.scheduler.at(startUs + 1 + phaseMs * 1000, run)
    }
    loop(s.forge_every, () => this.forge(1, s.equivocate && this.forged.size % 2 === 1))
    if (s.fork_below_cut && this.node !== null) loop(s.forge_every, () => this.forkBelowCut())
    if (this.node !== null) {
      loop(s.forge_every * 2, () => this.forgeSignature())
      if (s.replay) loop(s.forge_every * 3, () => this.replay())
    }
    if (s.flood > 0) loop(s.flood_every, () => { this.stats.floods++; this.forge(s.flood, false) })
    if (this.node === null) return
    if (s.forge_beacons) loop(s.forge_every, () => this.forgeBeacons())
    if (s.stockpile_beacons) loop(s.forge_every, () => this.feedStockpile())
    // Each behaviour that costs it the connection has its own phase of the period, half a
    // `forge_every` off the other behaviours' times: a link a frame of theirs is about to cost
    // would never read it.
    const phase = (k: number, n: number): number =>
      Math.round(s.hostile_every * (k + 1) / (n + 1) / s.forge_every) * s.forge_every + s.forge_every / 2
    const hostile: Array<[boolean, () => void]> = [
      [s.forge_chain, () => this.forgeChain()],
      [s.claim_actor, () => this.claimActor()],
      [s.invent_deps, () => this.inventDeps()],
      [s.oversized_frames, () => this.sendOversized()],
      [s.stranger, () => this.strangerDials()]
    ]
    hostile.forEach(([on, fn], k) => { if (on) loop(s.hostile_every, fn, phase(k, hostile.length)) })
    if (s.retired_key) {
      loop(s.forge_every, () => this.retiredKeyBeacons())
      // Half a `forge_every` into each period: before the phases of the behaviours above.
      loop(s.hostile_every, () => this.retiredKeyEntries(), s.forge_every / 2)
    }
  }

  /** The Mothership rotated its key: with `retired_key`, the first retired key is the one it holds. */
  keyRetired (rotation: SimRotation): void {
    this.retired ??= rotation
  }

  /** Whether the behaviours that read what its peers send are on. */
  private get watching (): boolean {
    const s = this.spec
    return s.forge_chain || s.forge_beacons || s.stockpile_beacons || s.claim_actor || s.invent_deps ||
      s.oversized_frames || s.retired_key
  }

  /** Stops every behaviour (the settle phase measures convergence without new attacks). */
  stop (): void {
    this.stopped = true
  }

  /** Wraps a link of the adversary's node: withholds its revocation and counts what it sends. */
  wrap (link: SimLink): Link {
    const inner = link
    const adv = this
    const view: PeerView = { inner, head: null, beaconTs: null, lastHostile: null }
    let handler: ((frame: Uint8Array) => void) | null = null
    let closeHandler: ((reason?: AuraError) => void) | null = null
    const wrapped: Link = {
      local: inner.local,
      remote: inner.remote,
      get closed () { return inner.closed },
      send (frame: Uint8Array) {
        const out = adv.spec.stockpile_beacons && adv.active() ? adv.withoutBeacon(frame) : frame
        if (out === null) return
        if (adv.forged.size > 0 && out[0] === 0x02) adv.stats.forgedFramesToHonest++
        inner.send(out)
      },
      close (reason) { inner.close(reason) },
      get onFrame () { return handler },
      set onFrame (h) {
        handler = h
        inner.onFrame = h === null
          ? null
          : (frame) => {
              if (adv.watching) adv.observe(view, frame)
              const f = adv.filterInbound(frame)
              if (f !== null) h(f)
            }
      },
      get onClose () { return closeHandler },
      set onClose (h) {
        closeHandler = h
        inner.onClose = h === null
          ? null
          : (reason) => {
              if (reason?.context.remote === true) adv.answered(view, reason.code)
              h(reason)
            }
      }
    }
    this.links.set(wrapped, view)
    return wrapped
  }

  // What a peer's frames say: its chain head and newest beacon (kept when stockpiling), and
  // its `refused` answers.
  private observe (view: PeerView, frame: Uint8Array): void {
    if (frame[0] !== 0x01) return
    let msg
    try { msg = decodeMessage(frame) } catch { return }
    if (msg.t === 'hello' || msg.t === 'heads') {
      view.head = msg.head
      if (msg.beacon !== null) this.sawBeacon(view, msg.beacon)
      // A peer that just (re)connected hears its beacons at once: a link its other behaviours
      // cost it may not last until the next round.
      if (msg.t === 'hello' && this.active() && !this.stopped) {
        if (this.spec.stockpile_beacons) this.feedStockpileTo(view)
        if (this.spec.forge_beacons) this.forgeBeaconTo(view)
        if (this.spec.retired_key) this.retiredKeyBeaconTo(view)
      }
    } else if (msg.t === 'beacon') {
      this.sawBeacon(view, msg.beacon)
    } else if (msg.t === 'refused') {
      this.answered(view, msg.code)
    }
  }

  private sawBeacon (view: PeerView, b64: string): void {
    let ts: number
    try {
      const b = this.spec.stockpile_beacons
        ? verifyBeacon(fromB64u(b64), (this.node as SimNode).chain.mothershipKey)
        : decodeBeacon(fromB64u(b64))
      ts = b.ts
      if (this.spec.stockpile_beacons && !this.stock.has(b64)) {
        this.stock.set(b64, { ts, headSeq: b.headSeq })
        this.stats.hostile.beaconsStockpiled = this.stock.size
      }
    } catch {
      return
    }
    view.beaconTs = Math.max(view.beaconTs ?? ts, ts)
  }

  // A refusal on a link answers the last hostile thing sent there.
  private answered (view: PeerView, code: string): void {
    if (view.lastHostile === null || ROUTINE_REFUSALS.has(code)) return
    const key = `${view.lastHostile}:${code}`
    this.stats.hostile.refusals[key] = (this.stats.hostile.refusals[key] ?? 0) + 1
    view.lastHostile = null
  }

  // Stockpiling: its own engine's beacons never leave, so the ones it keeps are news when fed.
  private withoutBeacon (frame: Uint8Array): Uint8Array | null {
    if (frame[0] !== 0x01) return frame
    let msg
    try { msg = decodeMessage(frame) } catch { return frame }
    if (msg.t === 'beacon') return null
    if ((msg.t === 'hello' || msg.t === 'heads') && msg.beacon !== null) return encodeMessage({ ...msg, beacon: null })
    return frame
  }

  /** Its open links to peers, with what it read of each (closed ones are forgotten). */
  private openViews (): PeerView[] {
    for (const [link, view] of this.links) if (view.inner.closed) this.links.delete(link)
    const node = this.node
    if (node === null || !node.up) return []
    return [...this.links.values()]
  }

  private send (view: PeerView, frame: Uint8Array, hostile: string | null): void {
    if (hostile !== null) view.lastHostile = hostile
    view.inner.send(frame)
  }

  /** A chain entry admitting the stranger's key on each peer's head, claiming the Mothership's signature. */
  forgeChain (): void {
    const node = this.node as SimNode
    const subject = (this.stranger?.key ?? strangerKey(this.ctx.seed, `${this.spec.name}-stranger`)).publicKey
    for (const view of this.openViews()) {
      const form = this.hostileCount++ % 2 === 0 ? 'bad-signature' : 'own-key'
      const head = view.head ?? node.chain.head
      const entry = forgedEntry(head, node.chain.mothershipKeyId, node.identity.key, subject, form, this.clockNow())
      this.stats.hostile.forgedEntries++
      this.send(view, encodeMessage({ t: 'chain', entries: [entry] }), 'forge-chain')
    }
  }

  /** A beacon dated now on each peer's head, signed with its own key in the Mothership's name. */
  forgeBeacons (): void {
    for (const view of this.openViews()) this.forgeBeaconTo(view)
  }

  private forgeBeaconTo (view: PeerView): void {
    const node = this.node as SimNode
    const head = view.head ?? node.chain.head
    const signer = node.chain.mothershipKeyId
    const beacon = forgedBeacon(this.ctx.team.name, head, this.clockNow(), signer, node.identity.key)
    this.stats.hostile.forgedBeacons++
    this.send(view, encodeMessage({ t: 'beacon', beacon }), null)
  }

  /**
   * The peers a retired Mothership key is tried on: those that showed a chain head at or past
   * its rotation, so hold the rotate entry. Before it, the retired key is still that peer's
   * Mothership key and what it signs is the Mothership's word there: the limit of any rotation,
   * which no code of the peer can refuse (docs/simulator.md).
   */
  private pastRotation (view: PeerView): view is PeerView & { head: Head } {
    return this.retired !== null && view.head !== null && view.head.seq >= this.retired.seq
  }

  /** A beacon dated now on each peer's head, signed with the retired Mothership key. */
  retiredKeyBeacons (): void {
    for (const view of this.openViews()) this.retiredKeyBeaconTo(view)
  }

  private retiredKeyBeaconTo (view: PeerView): void {
    if (!this.pastRotation(view)) return
    const beacon = signedBeacon(this.ctx.team.name, view.head, this.clockNow(), (this.retired as SimRotation).retired)
    this.stats.hostile.retiredKeyBeacons++
    this.send(view, encodeMessage({ t: 'beacon', beacon }), null)
  }

  /** A chain entry after each peer's head admitting the stranger as an admin, signed with the retired key. */
  retiredKeyEntries (): void {
    const key = this.retired?.retired
    if (key === undefined) return
    const subject = (this.stranger?.key ?? strangerKey(this.ctx.seed, `${this.spec.name}-stranger`)).publicKey
    for (const view of this.openViews()) {
      if (!this.pastRotation(view)) continue
      // Honestly signed by the retired key, which names itself as the signer.
      const entry = forgedEntry(view.head, keyIdOf(key.publicKey), key, subject, 'own-key', this.clockNow())
      this.stats.hostile.retiredKeyEntries++
      this.send(view, encodeMessage({ t: 'chain', entries: [entry] }), 'retired-key-entry')
    }
  }

  /** To each peer, the oldest kept beacon newer than what it showed, on a head it holds. */
  feedStockpile (): void {
    for (const view of this.openViews()) this.feedStockpileTo(view)
  }

  private feedStockpileTo (view: PeerView): void {
    if (view.head === null) return
    let pick: { b64: string, ts: number } | null = null
    for (const [b64, b] of this.stock) {
      const usable = b.ts > (view.beaconTs ?? -Infinity) && b.headSeq <= view.head.seq
      if (usable && (pick === null || b.ts < pick.ts)) pick = { b64, ts: b.ts }
    }
    if (pick === null) return
    view.beaconTs = pick.ts
    this.stats.hostile.stockpileFed++
    this.send(view, encodeMessage({ t: 'beacon', beacon: pick.b64 }), null)
  }

  /** To each peer, a change under the actor of another honest member carrying a record of its own. */
  claimActor (): void {
    const node = this.node as SimNode
    const honest = this.ctx.team.nodes.filter((n) => n.role !== 'adversary')
    for (const view of this.openViews()) {
      const others = honest.filter((n) => n.id !== view.inner.remote)
      const count = this.hostileCount++
      const claimed = others[count % others.length]
      const actor = writerActor(claimed.id, actorFor(this.ctx.seed, `${node.name}/claim`, count))
      const rec = this.smuggle(`claims ${claimed.name}'s actor`, 2_000_000 + count, 'claim-actor')
      this.stats.hostile.claimedActorChanges++
      this.send(view, encodeMessage({ t: 'am', data: handChange(actor, rec, node.identity.key, this.clockNow()) }), 'claim-actor')
    }
  }

  /** To each peer, a change of its own that depends on a change of its own it never sends. */
  inventDeps (): void {
    const node = this.node as SimNode
    for (const view of this.openViews()) {
      const count = this.hostileCount++
      const actor = writerActor(node.id, actorFor(this.ctx.seed, `${node.name}/invent`, count))
      const phantom = this.smuggle('phantom dependency', 3_000_000 + 2 * count, 'invent-deps')
      const rec = this.smuggle('on a phantom dependency', 3_000_001 + 2 * count, 'invent-deps')
      this.stats.hostile.inventedDepsChanges++
      this.send(view, encodeMessage({ t: 'am', data: handChange(actor, rec, node.identity.key, this.clockNow(), phantom) }), 'invent-deps')
    }
  }

  /** To each peer, one frame past the frame limit. */
  sendOversized (): void {
    for (const view of this.openViews()) {
      this.oversized ??= oversizedFrame()
      this.stats.hostile.oversizedFrames++
      this.send(view, this.oversized, 'oversized')
    }
  }

  /** The stranger dials each victim (every honest peer without victims) and the Mothership, twice. */
  strangerDials (): void {
    const stranger = this.stranger
    if (stranger === null) return
    const targets = this.victims.size > 0
      ? [0, ...this.victims]
      : this.ctx.team.nodes.flatMap((n, i) => n.role === 'adversary' ? [] : [i])
    const h = this.stats.hostile
    const dialAll = (): void => {
      if (this.stopped) return
      for (const t of targets) {
        h.strangerDials++
        stranger.dial(t, (outcome) => {
          if (outcome === 'gate') h.strangerRefusedAtGate++
          if (outcome === 'E_NOT_ADMITTED') h.strangerRefusedByProtocol++
        })
      }
    }
    dialAll()
    // Again within the gate's telling interval: refused at the gate this time.
    this.ctx.scheduler.after(1_000_000, dialAll)
  }

  // A record of its own that travels only inside a change honest peers must refuse.
  private smuggle (what: string, seq: number, kind: 'claim-actor' | 'invent-deps'): EncodedRecord {
    const node = this.node as SimNode
    const rec = signRecord({ seq, prev: '0'.repeat(64) as RecordId, kind: 'intent', actor: node.name, host: node.name, ts: this.clockNow(), auth: node.chain.head, text: `${node.name} ${what}` }, node.identity.key)
    this.smuggled.set(rec.id, kind)
    return rec
  }

  // Withholding: once its own revocation shows up, the chain it holds stops just before it, so
  // its engine never applies, relays or acts on it.
  private filterInbound (frame: Uint8Array): Uint8Array | null {
    if (!this.spec.withhold || frame[0] !== 0x01) return frame
    let msg
    try { msg = decodeMessage(frame) } catch { return frame }
    if (msg.t !== 'chain') return frame
    const entries = msg.entries.map((e) => decodeEntry(fromB64u(e)))
    for (const e of entries) if (this.frozenAt === null && this.revokesMe(e)) this.frozenAt = e.seq
    if (this.frozenAt === null) return frame
    const kept = msg.entries.filter((_, i) => entries[i].seq < (this.frozenAt as number))
    this.stats.withheldEntries += msg.entries.length - kept.length
    if (kept.length === 0) return null
    return encodeMessage({ t: 'chain', entries: kept })
  }

  private revokesMe (e: ChainEntry): boolean {
    if (e.kind !== 'revoke') return false
    const sub = e.body.subject
    const me = this.identity
    if (sub.type === 'peer' || sub.type === 'agent') return sub.key === me.id
    if (sub.type === 'token') return sub.jti === me.jti
    return 'cuts' in sub && me.id in sub.cuts
  }

  /** Signs `count` records beyond the cut, backdated to an old chain head, and pushes them. */
  forge (count: number, equivocate: boolean): void {
    const ts = this.clockNow() - this.spec.backdate
    if (this.node !== null) {
      const node = this.node
      if (!node.up) return
      const recs = this.writeOwn(node, count, { ts: Math.max(0, ts), auth: this.oldHead() }, equivocate)
      if (equivocate) this.stats.equivocations++
      for (const r of recs) this.noteForged(r)
      return
    }
    const { identity, host } = this.agent as { identity: Identity, host: SimNode }
    const recs: EncodedRecord[] = []
    for (let i = 0; i < count; i++) {
      const rec = signRecord({ ...nextRecordFields(this.agentHead), kind: 'intent', actor: identity.name, host: host.name, ts: Math.max(0, ts), auth: this.oldHead(), text: `${identity.name} forged ${this.forged.size + i}` }, identity.key)
      this.agentHead = { id: rec.id, record: rec.record }
      recs.push(rec)
    }
    for (const r of recs) this.noteForged(r)
    if (!host.up) return
    if (!host.appendForeign(recs)) this.stats.refusedByHost += recs.length
  }

  // Records on its own node's chain, written by the attacker's code, not the node's write path:
  // no gate, its own time and chain head; every face gets the same record, or, equivocating,
  // each face its own at the same seq.
  private writeOwn (
    node: SimNode,
    count: number,
    at: { ts: number, auth: { seq: number, hash: string } },
    equivocate: boolean
  ): EncodedRecord[] {
    const batches: EncodedRecord[][] = node.logs.map(() => [])
    const sign = (face: number): EncodedRecord => signNext(
      node.heads[face],
      0,
      { kind: 'intent', actor: node.name, host: node.name, ts: at.ts, auth: at.auth, text: node.nextText(face) },
      node.identity.key
    ).record
    for (let i = 0; i < count; i++) {
      const shared = sign(0)
      for (let face = 0; face < node.logs.length; face++) {
        const rec = face === 0 || !equivocate ? shared : sign(face)
        node.heads[face] = { seq: rec.record.seq, id: rec.id }
        batches[face].push(rec)
      }
    }
    return node.appendOwn(batches)
  }

  /** After its revocation: a record at seq 1 with no parent, a fork below any cut. */
  forkBelowCut (): void {
    const node = this.node
    if (node === null || !node.up) return
    if (this.frozenAt === null && node.chain.revocation(node.id) === undefined) return
    const heads = node.heads
    node.heads = heads.map(() => undefined)
    try {
      for (const r of this.writeOwn(node, 1, { ts: node.clock(), auth: this.oldHead() }, false)) this.noteForged(r)
    } finally {
      node.heads = heads
    }
  }

  /** Agent writes before the compromise: legitimate records through the host. */
  agentWrite (): EncodedRecord | null {
    if (this.agent === null || this.active()) return null
    const { identity, host } = this.agent
    if (!host.up || host.writer.refusal('intent', identity.id) !== null) return null
    const rec = signRecord({ ...nextRecordFields(this.agentHead), kind: 'intent', actor: identity.name, host: host.name, ts: host.clock(), auth: host.chain.head, text: `${identity.name} work` }, identity.key)
    this.agentHead = { id: rec.id, record: rec.record }
    host.appendForeign([rec])
    return rec
  }

  /** A Mothership beacon just signed: fed to every connected peer when `feed_beacons` is on. */
  overhearBeacon (bytes: Uint8Array): void {
    if (!this.spec.feed_beacons || this.stopped || !this.active() || this.node === null || !this.node.up) return
    const frame = encodeMessage({ t: 'beacon', beacon: toB64u(bytes) })
    for (const link of this.links.keys()) {
      if (link.closed) continue
      link.send(frame)
      this.stats.beaconsFed++
    }
  }

  // A record claiming a victim's key, signed with the attacker's: built into an Automerge
  // change by hand (the log's own append refuses it) and sent as an ordinary sync message.
  private forgeSignature (): void {
    const node = this.node as SimNode
    if (!node.up) return
    const open = [...this.links].filter(([l]) => !l.closed)
    if (open.length === 0) return
    const [link, view] = open[this.badCounter % open.length]
    const victim = this.ctx.team.nodes.find((n) => n.id === link.remote)
    if (victim === undefined) return
    const unsigned = {
      v: 1,
      kind: 'intent',
      signer: victim.id,
      pub: toB64u(victim.key.publicKey),
      actor: victim.name,
      host: victim.name,
      seq: 1_000_000 + this.badCounter,
      prev: '0'.repeat(64),
      ts: this.clockNow() - this.spec.backdate,
      auth: node.chain.head,
      text: `forged as ${victim.name}`,
      delta: null,
      data: null,
      refs: []
    }
    const sig = toB64u(sign('record', canonicalBytes(unsigned), node.identity.key))
    const bytes = canonicalBytes({ ...unsigned, sig })
    const id = recordIdOf(bytes)
    let doc = genesisDoc(actorFor(this.ctx.seed, `${node.name}/forger`, this.badCounter++))
    doc = A.change<IntentDoc>(doc, { time: Math.floor(this.clockNow() / 1000) }, (d) => { d.records[id] = bytes })
    const change = A.getLastLocalChange(doc)
    if (change === undefined) return
    const data = A.encodeSyncMessage({ heads: A.getHeads(doc), need: [], have: [], changes: [change] })
    this.stats.badSignatureAttempts++
    view.lastHostile = 'forge-signature'
    link.send(encodeMessage({ t: 'am', data }))
  }

  // Announces the genesis head (as if the chain had never grown) and resends old entries.
  private replay (): void {
    const node = this.node as SimNode
    if (!node.up) return
    const old = node.chain.entries(0).slice(0, 3).map((e) => toB64u(canonicalBytes(e)))
    const genesis = { seq: 0, hash: node.chain.entryHash(0) as string }
    for (const link of this.links.keys()) {
      if (link.closed) continue
      link.send(encodeMessage({ t: 'heads', head: genesis, beacon: null }))
      link.send(encodeMessage({ t: 'chain', entries: old }))
      this.stats.replays++
    }
  }

  // The chain head it held when the compromise began: forged records claim to be that old.
  private oldHead (): { seq: number, hash: string } {
    if (this.compromisedAt === null) {
      this.compromisedAt = (this.node ??
      (this.agent as { host: SimNode }).host).chain.head
    }
    return this.compromisedAt
  }

  private noteForged (r: EncodedRecord): void {
    this.stats.forged++
    this.forged.set(r.id, { atUs: this.ctx.scheduler.now, seq: r.record.seq })
    this.onForged(r)
  }

  private clockNow (): number {
    return this.node?.clock() ?? (this.agent as { host: SimNode }).host.clock()
  }

  /** Keys of the identities whose links count as "to honest peers". */
  isVictim (index: number): boolean { return this.victims.has(index) }
  /** The adversary's key id. */
  get key (): KeyId { return this.identity.id }
}
