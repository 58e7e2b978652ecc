/**
 * A simulated team ready to run: the scheduler, the network, one SimNode per peer, the topology
 * they dial, the adversary, and the Mothership's operator actions (revoke, lockdown, key
 * rotation; its peer core signs the beacons).
 * Building a World reads nothing but the scenario and the seed.
 *
 * @example
 * const world = new World(scenario, 42, hooks)
 * world.start()
 * world.revoke('mallory', 'laptop theft')
 * world.rotate()   // later entries and beacons are signed by the next key
 */
import { hashEntry, headOf, lockdownEntry, unlockEntry, type ChainEntry } from '../crdt/authority-chain.js'
import type { Cut } from '../crdt/authority-view.js'
import { AuraError, NotFoundError } from '../crdt/errors.js'
import { toB64u } from '../crdt/canonical.js'
import type { KeyPair } from '../crdt/crypto.js'
import type { KeyId, RecordId } from '../crdt/ids.js'
import { agentsToRevoke, keyRevocations, tokenRevocation, type RevokeContext } from '../node/mothership/revoke.js'
import { keyRotation } from '../node/mothership/rotate.js'
import { Adversary } from './adversary.js'
import { SimNetwork } from './network.js'
import type { IssuedRevocation } from './properties.js'
import { RandomStream } from './random.js'
import { nodeNames, type Scenario } from './scenario.js'
import { Scheduler } from './scheduler.js'
import { SimNode, type NodeContext, type NodeHooks } from './sim-node.js'
import { buildTeam, mothershipSigningKey, type Team } from './team.js'

/** A rotation of the Mothership's signing key, as the simulated Mothership signed it. */
export interface SimRotation {
  /** The rotate entry's chain seq and hash. */
  readonly seq: number
  readonly hash: string
  /** The key it retired (which signed it) and the key it put in use. */
  readonly retired: KeyPair
  readonly from: KeyId
  readonly to: KeyId
  readonly issuedUs: number
}

// What the Mothership's operations refuse when there is nothing to do (already revoked, no such
// agent, its own node key): no entry is signed. Anything else is a failure of the Mothership.
const REFUSALS = new Set(['E_CONFLICT', 'E_NOT_FOUND', 'E_USAGE'])

/** Options that change what is simulated without editing the scenario. */
export interface WorldOptions {
  /** Overrides `protocol.max_staleness` (null: off). */
  maxStalenessMs?: number | null
}

/** Everything a run simulates. */
export class World {
  readonly scheduler = new Scheduler()
  readonly net: SimNetwork
  readonly team: Team
  readonly nodes: SimNode[] = []
  readonly adversary: Adversary | null = null
  readonly revocations: IssuedRevocation[] = []
  readonly faults: RandomStream
  readonly ctx: NodeContext
  readonly mothership: SimNode
  /** Honest node indices (the Mothership included). */
  readonly honest: number[]
  /** Lockdown and unlock entries the Mothership signed (chain seq, locked after it), in order. */
  readonly locks: Array<{ seq: number, locked: boolean }> = []
  /** Every beacon the Mothership signed, by its base64url bytes: the chain seq it names. */
  readonly beacons = new Map<string, { headSeq: number, headHash: string, ts: number }>()
  /** Who wrote each record (node name), and when (virtual µs). */
  readonly written = new Map<RecordId, { by: string, atUs: number }>()
  /** The hash of every chain entry the simulation signed, by seq (the bootstrap chain's first). */
  readonly signedEntries: string[]
  /** The Mothership's signing key in use: the genesis key until a rotation. */
  signing: KeyPair
  /** Every key rotation the Mothership signed, in order. */
  readonly rotations: SimRotation[] = []

  constructor (readonly scenario: Scenario, readonly seed: number, hooks: NodeHooks, opts: WorldOptions = {}) {
    const s = scenario
    this.team = buildTeam(s, seed)
    this.signedEntries = this.team.entries.map(hashEntry)
    this.signing = this.team.signing
    this.net = new SimNetwork(this.scheduler, s.link, new RandomStream(seed, 'network'), { cpu: s.node, seed })
    this.faults = new RandomStream(seed, 'faults')
    this.ctx = {
      scheduler: this.scheduler,
      net: this.net,
      team: this.team,
      seed,
      antiEntropyMs: s.protocol.anti_entropy,
      reconnectMs: s.protocol.reconnect,
      beaconMs: s.protocol.beacon,
      signingKey: () => this.signing,
      receiptMs: s.protocol.receipt,
      beaconSigned: (bytes, b) => {
        this.beacons.set(toB64u(bytes), { headSeq: b.headSeq, headHash: b.headHash, ts: b.ts })
        this.adversary?.overhearBeacon(bytes)
      },
      maxStalenessMs: opts.maxStalenessMs !== undefined ? opts.maxStalenessMs : s.protocol.max_staleness,
      maxClockSkewMs: s.protocol.max_clock_skew,
      recordBytes: s.mode === 'model' ? 16 : s.workload.record_bytes,
      hooks,
      wrapLink: (node, link) => node.identity.role === 'adversary' && this.adversary !== null ? this.adversary.wrap(link) : link
    }
    const adv = s.adversary
    const victimIndex = new Map<string, number>()
    for (const ident of this.team.nodes) {
      const index = this.net.addEndpoint(ident.id, () => {})
      const faces = ident.role === 'adversary' && adv?.equivocate === true ? 2 : 1
      this.nodes.push(new SimNode(this.ctx, ident, index, this.team.chainFor(), faces))
      victimIndex.set(ident.name, index)
    }
    this.mothership = this.nodes[0]
    this.honest = this.nodes.filter((n) => n.identity.role !== 'adversary').map((n) => n.index)
    this.buildTopology()
    if (adv !== undefined) {
      const victims = new Set(adv.victims.map((v) => victimIndex.get(v) as number))
      const node = this.nodes.find((n) => n.identity.role === 'adversary') ?? null
      const agent = this.team.agent === null
        ? null
        : { identity: this.team.agent, host: this.byName(adv.host as string) }
      this.adversary = new Adversary(this.ctx, adv, node, agent, victims, () => {})
      if (node !== null) {
        // Equivocation: even-numbered victims see one face, odd-numbered the other.
        const order = adv.victims.map((v) => victimIndex.get(v) as number)
        node.faceOf = (remote) => { const i = order.indexOf(remote); return i < 0 ? 0 : i % 2 }
        // The attacker dials its victims directly, so the island holds together.
        node.neighbors = [...new Set([...node.neighbors, ...order])]
      }
    }
  }

  /** The node with this name. */
  byName (name: string): SimNode {
    const n = this.nodes.find((x) => x.name === name)
    if (n === undefined) throw new NotFoundError(`no node named ${name} in this scenario`, { name })
    return n
  }

  /** Index of the node with this key, if it is a node. */
  indexOfKey (key: KeyId): number | undefined {
    return this.keyIndex().get(key)
  }

  private keyIndexCache: Map<KeyId, number> | null = null
  private keyIndex (): Map<KeyId, number> {
    this.keyIndexCache ??= new Map(this.nodes.map((n) => [n.id, n.index]))
    return this.keyIndexCache
  }

  /** Starts every node (the Mothership's peer core signs the beacons). */
  start (): void {
    for (const n of this.nodes) n.start()
    this.adversary?.start()
  }

  /** Appends a Mothership-signed entry to the Mothership's chain and pushes it. */
  appendEntry (build: (head: { seq: number, hash: string }) => ChainEntry): ChainEntry | null {
    const m = this.mothership
    if (!m.up) return null
    const head = headOf(m.chain.entry(m.chain.head.seq) as ChainEntry)
    const entry = build(head)
    this.appendEntries([entry])
    return entry
  }

  /**
   * Revokes an identity through the Mothership's own revoke path (node/mothership/revoke.ts): a
   * peer or agent by name (`aura mothership revoke-peer`, `aura agent revoke`), `token:<peer>`
   * (`revoke-token` of the join token it redeemed), or `role:<role>` (`aura agent revoke-all
   * --role <role>`: every active agent credential of that role, `agent` every one, an entry
   * each). Each cut is the one the real Mothership signs (`cutFor` over the records it holds),
   * not a known-good one: forged records it already held before the revocation stay within the
   * cut, and the run reports them as exposure for the operator to triage. Null when the
   * Mothership is down or there is nothing to revoke (unknown, already revoked); throws when the
   * Mothership cannot sign or apply its own entries.
   */
  revoke (target: string, reason: string): IssuedRevocation | null {
    const m = this.mothership
    if (!m.up) return null
    let signed: { entries: ChainEntry[], cuts: Map<KeyId, Cut> } | null
    try {
      signed = this.revocationEntries(target, reason)
    } catch (err) {
      if (err instanceof AuraError && REFUSALS.has(err.code)) return null
      throw err
    }
    if (signed === null) return null
    this.appendEntries(signed.entries)
    // Holding the batch's last entry is holding all of it.
    const last = signed.entries[signed.entries.length - 1]
    const r: IssuedRevocation = {
      index: this.revocations.length,
      seq: last.seq,
      hash: m.chain.entryHash(last.seq) as string,
      label: target,
      issuedUs: this.scheduler.now,
      cuts: signed.cuts
    }
    this.revocations.push(r)
    return r
  }

  // The entries the Mothership signs for `target` (see revoke), and the cut of each key.
  private revocationEntries (target: string, reason: string): { entries: ChainEntry[], cuts: Map<KeyId, Cut> } | null {
    const m = this.mothership
    const ctx: RevokeContext = {
      chain: m.chain,
      signing: this.signing,
      holdings: { store: { intent: { log: m.logs[0] } } },
      self: m.id,
      ts: m.clock()
    }
    const named = /^(token|role):(.+)$/.exec(target)
    if (named?.[1] === 'token') {
      const jti = this.team.byName.get(named[2])?.jti
      return jti == null ? null : { entries: [tokenRevocation(ctx, jti, reason)], cuts: new Map() }
    }
    const who = named?.[1] === 'role' ? null : this.team.byName.get(target)
    if (who === undefined) return null
    const keys = who === null ? agentsToRevoke(m.chain, (named as RegExpExecArray)[2]).map((a) => a.key) : [who.id]
    const revoked = keyRevocations(ctx, keys, reason)
    return { entries: revoked.map((x) => x.entry), cuts: new Map(revoked.map((x) => [x.key, x.cut])) }
  }

  // Entries the Mothership signed, in one batch, handed to its peer core: pushed, enforced,
  // vouched for (as NodeRuntime.appendOwnEntries hands them to the daemon's).
  private appendEntries (entries: ChainEntry[]): void {
    const m = this.mothership
    const from = m.chain.head.seq + 1
    m.chain.applyBatch(entries)
    // What the Mothership really signed, for the oracle's forged-entry check.
    for (const e of entries) this.signedEntries[e.seq] = hashEntry(e)
    m.peer.chainAppended(from)
  }

  /** Lockdown (true) or unlock (false); null when the Mothership is down. */
  lock (locked: boolean, reason: string): ChainEntry | null {
    const make = locked ? lockdownEntry : unlockEntry
    const entry = this.appendEntry((head) => make(this.signing, head, { reason, ts: this.mothership.clock() }))
    if (entry !== null) this.locks.push({ seq: entry.seq, locked })
    return entry
  }

  /**
   * Rotates the Mothership's signing key through its own rotate path (node/mothership/rotate.ts,
   * as `aura mothership rotate-key`): the next key (derived from the seed) is in use before the
   * rotate entry is pushed, so the beacon signed on it, and every later entry and beacon, are the
   * next key's, which peers verify only through the chain. The adversary hears of the key it
   * retired. Null when the Mothership is down; throws when it cannot sign or apply the entry.
   */
  rotate (): SimRotation | null {
    const m = this.mothership
    if (!m.up) return null
    const retired = this.signing
    const next = mothershipSigningKey(this.seed, this.rotations.length + 1)
    const { entry, from, to } = keyRotation({ chain: m.chain, signing: retired, ts: m.clock() }, next)
    this.signing = next
    try {
      this.appendEntries([entry])
    } catch (err) {
      // As the daemon: the old key back only if the chain never took the entry.
      if (m.chain.entryHash(entry.seq) === undefined) this.signing = retired
      throw err
    }
    const hash = m.chain.entryHash(entry.seq) as string
    const r: SimRotation = { seq: entry.seq, hash, retired, from, to, issuedUs: this.scheduler.now }
    this.rotations.push(r)
    this.adversary?.keyRetired(r)
    return r
  }

  private buildTopology (): void {
    const { kind, degree } = this.scenario.topology
    const n = this.nodes.length
    const r = new RandomStream(this.seed, 'topology')
    const edges = new Set<string>()
    const add = (a: number, b: number): void => {
      if (a === b) return
      const k = a < b ? `${a}-${b}` : `${b}-${a}`
      if (edges.has(k)) return
      edges.add(k)
      this.nodes[a].neighbors.push(b)
    }
    for (let i = 0; i < n; i++) {
      if (kind === 'mesh') for (let j = i + 1; j < n; j++) add(i, j)
      else if (kind === 'ring') add(i, (i + 1) % n)
      else if (kind === 'star') add(i, 0)
      else {
        add(i, (i + 1) % n)
        for (let d = 1; d < degree; d++) add(i, r.int(0, n - 1))
      }
    }
  }

  /** Names of every node in the order of their indices. */
  names (): string[] {
    return this.nodes.map((n) => n.name)
  }

  /** Honest peer names (for reports). */
  static honestNames (s: Scenario): string[] {
    return nodeNames(s).honest
  }
}
