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
 *   every peer it is connected to, naming chain heads (its revocation) it withholds.
 * A rogue agent has no node of its own: it writes through its host peer, which refuses it once
 * the host holds the revocation.
 *
 * @example
 * const adv = new Adversary(ctx, spec, malloryNode, null)
 * adv.start()   // schedules every behaviour
 */
import * as A from '@automerge/automerge'
import { canonicalBytes, fromB64u, toB64u } from '../crdt/canonical.js'
import { sign } from '../crdt/crypto.js'
import { genesisDoc, type IntentDoc } from '../crdt/intent-doc.js'
import type { KeyId, RecordId } from '../crdt/ids.js'
import { decodeEntry, type ChainEntry } from '../crdt/authority-chain.js'
import { nextRecordFields, recordIdOf, signRecord, type EncodedRecord, type SignedRecord } from '../crdt/record.js'
import type { Link } from '../node/sync/link.js'
import { decodeMessage, encodeMessage } from '../node/sync/messages.js'
import type { SimLink } from './network.js'
import type { Scenario } from './scenario.js'
import type { SimNode, NodeContext } from './sim-node.js'
import { actorFor, type Identity } from './team.js'

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
}

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
    beaconsFed: 0
  }

  /** Every record it signed from `start` on (all beyond any known-good cut), with when. */
  readonly forged = new Map<RecordId, { atUs: number, seq: number }>()
  /** The seq of its own revocation once it has seen it; entries from there on are withheld. */
  private frozenAt: number | null = null
  private agentHead: { id: RecordId, record: SignedRecord } | undefined
  private badCounter = 0
  private stopped = false
  private compromisedAt: { seq: number, hash: string } | null = null
  private readonly links = new Set<Link>()

  constructor (
    private readonly ctx: NodeContext,
    readonly spec: AdversarySpec,
    /** Its own node (peer or token identity), or null for an agent. */
    readonly node: SimNode | null,
    /** For an agent: its identity and the honest node it writes through. */
    readonly agent: { identity: Identity, host: SimNode } | null,
    private readonly victims: ReadonlySet<number>,
    private readonly onForged: (rec: EncodedRecord) => void
  ) {}

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
    const loop = (periodMs: number, fn: () => void): void => {
      const run = (): void => { if (this.stopped) return; fn(); this.ctx.scheduler.after(periodMs * 1000, run) }
      this.ctx.scheduler.at(startUs + 1, run)
    }
    loop(s.forge_every, () => this.forge(1, s.equivocate && this.forged.size % 2 === 1))
    if (s.fork_below_cut && this.node !== null) loop(s.forge_every, () => this.forkBelowCut())
    if (this.node !== null) {
      loop(s.forge_every * 2, () => this.forgeSignature())
      if (s.replay) loop(s.forge_every * 3, () => this.replay())
    }
    if (s.flood > 0) loop(s.flood_every, () => { this.stats.floods++; this.forge(s.flood, false) })
  }

  /** Stops every behaviour (the settle phase measures convergence without new attacks). */
  stop (): void {
    this.stopped = true
  }

  /** Wraps a link of the adversary's node: withholds its revocation and counts what it sends. */
  wrap (link: SimLink): Link {
    const inner = link
    const adv = this
    let handler: ((frame: Uint8Array) => void) | null = null
    const wrapped: Link = {
      local: inner.local,
      remote: inner.remote,
      get closed () { return inner.closed },
      send (frame: Uint8Array) {
        if (adv.forged.size > 0 && frame[0] === 0x02) adv.stats.forgedFramesToHonest++
        inner.send(frame)
      },
      close (reason) { inner.close(reason) },
      get onFrame () { return handler },
      set onFrame (h) {
        handler = h
        inner.onFrame = h === null ? null : (frame) => { const f = adv.filterInbound(frame); if (f !== null) h(f) }
      },
      get onClose () { return inner.onClose },
      set onClose (h) { inner.onClose = h }
    }
    this.links.add(wrapped)
    return wrapped
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
      const recs = node.writeRecords(count, { ts: Math.max(0, ts), auth: this.oldHead(), equivocate })
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
    if (host.chain.revocation(identity.id) !== undefined) { this.stats.refusedByHost += recs.length; return }
    host.appendForeign(recs)
  }

  /** After its revocation: a record at seq 1 with no parent, a fork below any cut. */
  forkBelowCut (): void {
    const node = this.node
    if (node === null || !node.up) return
    if (this.frozenAt === null && node.chain.revocation(node.id) === undefined) return
    const heads = node.heads
    node.heads = heads.map(() => undefined)
    try {
      for (const r of node.writeRecords(1, { auth: this.oldHead() })) this.noteForged(r)
    } finally {
      node.heads = heads
    }
  }

  /** Agent writes before the compromise: legitimate records through the host. */
  agentWrite (): EncodedRecord | null {
    if (this.agent === null || this.active()) return null
    const { identity, host } = this.agent
    if (!host.up || host.chain.revocation(identity.id) !== undefined) return null
    const rec = signRecord({ ...nextRecordFields(this.agentHead), kind: 'intent', actor: identity.name, host: host.name, ts: host.clock(), auth: host.chain.head, text: `${identity.name} work` }, identity.key)
    this.agentHead = { id: rec.id, record: rec.record }
    host.appendForeign([rec])
    return rec
  }

  /** A Mothership beacon just signed: fed to every connected peer when `feed_beacons` is on. */
  overhearBeacon (bytes: Uint8Array): void {
    if (!this.spec.feed_beacons || this.stopped || !this.active() || this.node === null || !this.node.up) return
    const frame = encodeMessage({ t: 'beacon', beacon: toB64u(bytes) })
    for (const link of this.links) {
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
    const open = [...this.links].filter((l) => !l.closed)
    if (open.length === 0) return
    const link = open[this.badCounter % open.length]
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
    link.send(encodeMessage({ t: 'am', data }))
  }

  // Announces the genesis head (as if the chain had never grown) and resends old entries.
  private replay (): void {
    const node = this.node as SimNode
    if (!node.up) return
    const old = node.chain.entries(0).slice(0, 3).map((e) => toB64u(canonicalBytes(e)))
    const genesis = { seq: 0, hash: node.chain.entryHash(0) as string }
    for (const link of this.links) {
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
