/**
 * A small in-process team for SyncEngine tests: one Mothership key, members alice, bob, carol
 * (and mallory, admitted or not as a test needs), each node with its own AuthorityChain,
 * IntentLog and SyncEngine, connected by memory Link pairs. Everything is deterministic: a
 * virtual clock, a seeded random source, microtask delivery. `settle()` lets every queued
 * frame be delivered.
 *
 * @example
 * const team = new TestTeam(['alice', 'bob'])
 * const a = team.node('alice'); const b = team.node('bob')
 * team.connect(a, b)
 * a.write('fix login'); await settle()
 * b.log.size   // 1
 */
import { AuthorityChain, admitEntry, genesisEntry, lockdownEntry, revokeEntry, rotateEntry, unlockEntry, type ChainEntry } from '../../crdt/authority-chain.js'
import { makeBeacon, encodeBeacon } from '../../crdt/beacon.js'
import { sha256, toB64u, utf8, toHex } from '../../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import type { AuraError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import { IntentLog } from '../../crdt/intent-log.js'
import type { Quotas } from '../../crdt/write-rules.js'
import { nextRecordFields, signRecord, type EncodedRecord } from '../../crdt/record.js'
import { SyncEngine, type SyncAuditEvent } from '../../node/sync/engine.js'
import type { Link } from '../../node/sync/link.js'
import { memoryLinkPair, type MemoryLinkInit } from '../../node/sync/memory-link.js'
import { decodeMessage, type SyncMessage } from '../../node/sync/messages.js'

/** 2026-01-01T00:00:00Z. */
export const T0 = 1_767_225_600_000
export const TEAM = 'acme'

/** A deterministic key named after a person. */
export function keyNamed (name: string): KeyPair {
  return keyPairFromSeed(sha256(utf8(`engine-test:${name}`)))
}

/** A deterministic Automerge actor id named after a person. */
export function actorNamed (name: string): string {
  return toHex(sha256(utf8(`actor:${name}`))).slice(0, 32)
}

/** Lets every queued microtask (memory link delivery) and follow-up run. */
export async function settle (rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve))
}

/** A seeded uniform [0, 1) source (mulberry32). */
export function seeded (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The authority chain as the Mothership writes it: a list of entries, appended in order. */
export class MothershipBook {
  readonly key = keyNamed('mothership')
  readonly entries: ChainEntry[] = []
  clock = T0

  constructor (readonly team = TEAM, quotas?: Quotas) {
    this.entries.push(genesisEntry(this.key, { team, ts: this.clock, quotas }))
  }

  private get head (): { seq: number, hash: string } {
    return AuthorityChain.fromEntries(this.entries).head
  }

  /** Admits `key` as `user`; returns the new entry. */
  admit (user: string, key: KeyPair, role = 'contributor'): ChainEntry {
    return this.push(
      admitEntry(this.key, this.head, { pub: toB64u(key.publicKey), user, role, jti: null, ts: ++this.clock })
    )
  }

  /** Revokes a peer key with a cut at its record `cutSeq` (hash given). */
  revoke (key: KeyId, cut: { seq: number, hash: RecordId | null } = { seq: 0, hash: null }, reason = 'laptop theft'): ChainEntry {
    return this.push(revokeEntry(this.key, this.head, { subject: { type: 'peer', key, cut }, reason, ts: ++this.clock }))
  }

  lockdown (reason = 'incident'): ChainEntry {
    return this.push(lockdownEntry(this.key, this.head, { reason, ts: ++this.clock }))
  }

  unlock (reason = 'all clear'): ChainEntry {
    return this.push(unlockEntry(this.key, this.head, { reason, ts: ++this.clock }))
  }

  /** Rotates to a new Mothership key; later entries are signed by it. */
  rotate (next: KeyPair): ChainEntry {
    const e = this.push(rotateEntry(this.key, this.head, { mothership: toB64u(next.publicKey), ts: ++this.clock }))
    ;(this as { key: KeyPair }).key = next
    return e
  }

  /** A beacon for the current head signed by the current key. */
  beacon (ts = ++this.clock): Uint8Array {
    const h = this.head
    return encodeBeacon(makeBeacon({ team: this.team, headSeq: h.seq, headHash: h.hash, ts }, this.key))
  }

  private push (e: ChainEntry): ChainEntry {
    this.entries.push(e)
    return e
  }
}

/** Everything one node saw, in order: lets tests check what happened before what. */
export type Seen =
  | { t: 'chain', fromSeq: number, head: number }
  | { t: 'records', ids: RecordId[], from: KeyId }
  | { t: 'audit', event: SyncAuditEvent }
  | { t: 'opened', peer: KeyId }
  | { t: 'closed', peer: KeyId, code: string | undefined }
  | { t: 'claimed', seq: number }

/** One in-process node. */
export class TestNode {
  readonly key: KeyPair
  readonly id: KeyId
  readonly chain: AuthorityChain
  readonly log: IntentLog
  readonly engine: SyncEngine
  readonly seen: Seen[] = []
  /** The newest record this node signed: the next one follows it (seq, prev). */
  lastWritten: EncodedRecord | undefined

  constructor (
    readonly name: string,
    entries: readonly ChainEntry[],
    readonly clock: { now: number },
    opts: {
      maxStalenessMs?: number | null
      maxClockSkewMs?: number
      seed?: number
      log?: IntentLog
      maxMessageBytes?: number
      maxBufferedMessageBytes?: number
      keepaliveMs?: number
    } = {}
  ) {
    this.key = keyNamed(name)
    this.id = keyIdOf(this.key.publicKey)
    this.chain = AuthorityChain.fromEntries(entries)
    this.log = opts.log ?? IntentLog.create(actorNamed(name))
    this.engine = new SyncEngine({
      chain: this.chain,
      log: this.log,
      localKey: this.id,
      clock: () => clock.now,
      random: seeded(opts.seed ?? name.length)
    },
    {
      team: this.chain.team,
      maxStalenessMs: opts.maxStalenessMs ?? null,
      ...(opts.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: opts.maxClockSkewMs }),
      ...(opts.maxMessageBytes === undefined ? {} : { maxMessageBytes: opts.maxMessageBytes }),
      ...(opts.maxBufferedMessageBytes === undefined
        ? {}
        : { maxBufferedMessageBytes: opts.maxBufferedMessageBytes }),
      keepaliveMs: opts.keepaliveMs ?? null
    },
    {
      chainApplied: (fromSeq) => this.seen.push({ t: 'chain', fromSeq, head: this.chain.head.seq }),
      recordsAdded: (ids, from) => this.seen.push({ t: 'records', ids, from }),
      audit: (event) => this.seen.push({ t: 'audit', event }),
      sessionOpened: (peer) => this.seen.push({ t: 'opened', peer }),
      sessionClosed: (peer, reason) => this.seen.push({ t: 'closed', peer, code: reason?.code }),
      // As the daemon does (node/daemon.ts leaveActor): give the actor up, offer the records again.
      actorClaimed: (seq) => {
        this.seen.push({ t: 'claimed', seq })
        const orphaned = this.log.leaveActor(seq, 'cd'.repeat(16))
        this.log.append(orphaned.map((id) => ({ id, bytes: this.log.get(id) as Uint8Array })), clock.now, this.key)
        this.engine.localDocumentRebuilt()
      }
    })
  }

  /** Signs the next record of this node and appends it; pushes it unless `push` is false. */
  write (text: string, push = true): EncodedRecord {
    const r = signRecord({ ...nextRecordFields(this.lastWritten), kind: 'intent', actor: this.name, host: `${this.name}-laptop`, ts: this.clock.now, auth: { ...this.chain.head }, text }, this.key)
    this.lastWritten = r
    this.log.append([r], this.clock.now, this.key)
    if (push) this.engine.localRecordsAdded()
    return r
  }

  /**
   * Applies entries signed by the Mothership as if they came from the local CLI, and pushes them
   * (with `beacon`, as the Mothership's peer core hands on the beacon it signed for them).
   */
  adopt (entries: readonly ChainEntry[], beacon?: Uint8Array): void {
    const before = this.chain.head.seq
    this.chain.applyBatch(entries)
    if (this.chain.head.seq > before) this.engine.localChainAppended(before + 1, beacon)
  }

  /** Whether this node holds every one of the records. */
  holds (...records: Array<{ id: RecordId }>): boolean {
    return records.every((r) => this.log.has(r.id))
  }

  /** Audit events of a type. */
  audits (type: SyncAuditEvent['type']): SyncAuditEvent[] {
    return this.seen.flatMap((s) => s.t === 'audit' && s.event.type === type ? [s.event] : [])
  }
}

/** Both ends of a connection, with the frames each side sent and how each side closed. */
export interface Wire {
  a: Link
  b: Link
  /** Frames a sent to b, and b to a, decoded where they decode. */
  aToB: SyncMessage[]
  bToA: SyncMessage[]
  /** Raw frames, in order, for replay and mutation. */
  rawAToB: Uint8Array[]
  rawBToA: Uint8Array[]
  closedA: AuraError | undefined | null
  closedB: AuraError | undefined | null
  /** Set when either side sent more than RUNAWAY_FRAMES frames. */
  runaway: boolean
  cut: () => void
}

/** A team: one Mothership book and nodes made from its chain. */
export class TestTeam {
  readonly ms: MothershipBook
  readonly clock = { now: T0 + 1_000_000 }
  readonly nodes = new Map<string, TestNode>()

  /** `quotas`: the team's write quotas (genesis); default: none named. */
  constructor (members: readonly string[], quotas?: Quotas) {
    this.ms = new MothershipBook(TEAM, quotas)
    for (const m of members) this.ms.admit(m, keyNamed(m))
  }

  /** A node holding the chain as it is now (or the first `upTo + 1` entries). */
  node (
    name: string,
    opts: {
      upTo?: number
      maxStalenessMs?: number | null
      maxClockSkewMs?: number
      log?: IntentLog
      maxMessageBytes?: number
      maxBufferedMessageBytes?: number
      keepaliveMs?: number
    } = {}
  ): TestNode {
    const entries = opts.upTo === undefined ? this.ms.entries : this.ms.entries.slice(0, opts.upTo + 1)
    const n = new TestNode(
      name,
      entries,
      this.clock,
      {
        maxStalenessMs: opts.maxStalenessMs,
        maxClockSkewMs: opts.maxClockSkewMs,
        log: opts.log,
        maxMessageBytes: opts.maxMessageBytes,
        maxBufferedMessageBytes: opts.maxBufferedMessageBytes,
        keepaliveMs: opts.keepaliveMs
      }
    )
    this.nodes.set(name, n)
    return n
  }

  /** Connects two nodes with a memory link pair, recording every frame. */
  connect (x: TestNode, y: TestNode, init: MemoryLinkInit = {}): Wire {
    const [a, b] = memoryLinkPair(x.id, y.id, init)
    const wire: Wire = {
      a,
      b,
      aToB: [],
      bToA: [],
      rawAToB: [],
      rawBToA: [],
      closedA: null,
      closedB: null,
      runaway: false,
      cut: () => { a.close() }
    }
    tap(a, wire.rawAToB, wire.aToB, () => { wire.runaway = true })
    tap(b, wire.rawBToA, wire.bToA, () => { wire.runaway = true })
    x.engine.addLink(a)
    y.engine.addLink(b)
    watchClose(a, (r) => { wire.closedA = r })
    watchClose(b, (r) => { wire.closedB = r })
    return wire
  }
}

/** More frames than any test session needs: beyond it two engines are talking forever. */
export const RUNAWAY_FRAMES = 2000

/**
 * Records what a link sends; past RUNAWAY_FRAMES it stops sending and
 * calls `runaway`, so a ping-pong loop fails a test instead of hanging it.
 */
export function tap (link: Link, raw: Uint8Array[], decoded: SyncMessage[], runaway: () => void = () => {}): void {
  const send = link.send.bind(link)
  link.send = (frame) => {
    if (raw.length >= RUNAWAY_FRAMES) { runaway(); return }
    raw.push(frame.slice())
    try { decoded.push(decodeMessage(frame)) } catch { /* a frame that does not decode is still sent */ }
    send(frame)
  }
}

/** Calls `f` with the close reason once the link closes, after the owner's own handler. */
export function watchClose (link: Link, f: (reason: AuraError | undefined) => void): void {
  const owner = link.onClose
  link.onClose = (reason) => { owner?.(reason); f(reason) }
}
