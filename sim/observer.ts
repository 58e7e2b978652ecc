/**
 * Watches a run: receives every node's events, writes the trace, and keeps the numbers the report
 * needs (when each peer first held each revocation, through how many relay hops and from whom; forged records
 * stored; traffic). Safety is judged by the oracle (sim/oracle.ts), which keeps its own books.
 *
 * @example
 * const obs = new Observer(trace, effectiveIds)
 * const world = new World(scenario, seed, obs.hooks())
 * obs.attach(world)
 */
import type { AuraError } from '../crdt/errors.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../node/sync/frame.js'
import { readEnvelope } from '../crdt/sync-envelope.js'
import type { KeyId, RecordId } from '../crdt/ids.js'
import type { SyncAuditEvent } from '../node/sync/engine.js'
import type { Oracle } from './oracle.js'
import { RecordRegistry, type EffectiveIdsFn, type IssuedRevocation, type Violation } from './properties.js'
import type { NodeHooks, SimNode } from './sim-node.js'
import type { TraceWriter } from './trace.js'
import type { World } from './world.js'

const CHAIN_PREFIX = [...Buffer.from('{"entries":[', 'utf8')]

/**
 * When and how a node first held a revocation; `from`: the node
 * whose chain message brought it (none at the Mothership).
 */
export interface Arrival { atUs: number, hops: number, from?: number }

/** A time interval on one node's lane (offline, crashed, cut off from the Mothership). */
export interface LaneSpan { node: number, kind: 'offline' | 'crashed' | 'partitioned' | 'stale', fromUs: number, toUs: number | null }

/** Counters and first times the report reads. */
export class Observer {
  world!: World
  readonly registry = new RecordRegistry()
  readonly violations: Violation[] = []
  /** arrivals[revocation index].get(node index) */
  readonly arrivals: Array<Map<number, Arrival>> = []
  /** Forged record id → honest nodes that stored it, and when (whether it counted is the oracle's to say). */
  readonly forgedStored = new Map<RecordId, Map<number, { atUs: number }>>()
  readonly spans: LaneSpan[] = []
  /** Times partitions and heals happened (for "since heal" delays). */
  readonly healTimesUs: number[] = []
  duplicateEntries = 0
  /** revocationMessages[revocation index]: chain messages carrying its entry received by honest peers. */
  readonly revocationMessages: number[] = []
  audits: Record<string, number> = {}
  /**
   * Intent-log traffic to honest peers: Automerge sync messages delivered (`amMessages`), those
   * carrying changes and how many changes they carried, those that added records, and each
   * (record, peer) first receipt with its delay since the record was written.
   */
  readonly recordTraffic = { amMessages: 0, carrying: 0, changesCarried: 0, adding: 0, receipts: 0 }
  readonly recordDelaysMs: number[] = []
  /** Pieces (`amp`) of an Automerge message still arriving, by link (`from>to`). */
  private readonly amPieces = new Map<string, Uint8Array[]>()
  sessionsOpened = 0
  sessionsClosed = 0
  /** The independent checker (sim/oracle.ts), set by the run. */
  oracle: Oracle | null = null

  constructor (readonly trace: TraceWriter, readonly effectiveIds: EffectiveIdsFn | null) {}

  /** The hooks to give the World. */
  hooks (): NodeHooks {
    return {
      chainApplied: (node, fromSeq, from) => this.chainApplied(node, fromSeq, from),
      recordsAdded: (node, ids, from) => this.recordsAdded(node, ids, from),
      recordWritten: (node, rec) => {
        this.registry.add(rec.id, rec.record)
        this.world.written.set(rec.id, { by: node.name, atUs: this.world.scheduler.now })
      },
      audit: (node, ev) => this.audit(node, ev),
      sessionOpened: () => { this.sessionsOpened++ },
      sessionClosed: (node, peer, code) => this.sessionClosed(node, peer, code)
    }
  }

  /** Connects to the world once it exists (network observer included). */
  attach (world: World): void {
    this.world = world
    const honest: boolean[] = world.nodes.map(() => false)
    for (const h of world.honest) honest[h] = true
    const stranger = world.adversary?.stranger?.index ?? -1
    world.net.observer = {
      delivered: (from, to, frame) => {
        this.trace.frame(world.scheduler.now, from, to, frame)
        if (frame[0] === 0x01 && honest[to]) { this.countDuplicates(to, frame); this.oracle?.delivered(to, frame) }
        if ((frame[0] === 0x02 || frame[0] === 0x03) && honest[to]) this.countAutomerge(from, to, frame)
        if (frame.length > DEFAULT_MAX_FRAME_BYTES && honest[to]) this.oracle?.oversized(from, to, frame.length)
        if (to === stranger && honest[from]) this.oracle?.toStranger(from, frame)
      },
      linkOpened: (from, to) => { if (from === stranger && honest[to]) this.oracle?.strangerLinked(to) },
      handlerThrew: (at, err) => this.violation('protocol-crash', world.nodes[at]?.name ?? null, `a frame handler threw: ${(err as AuraError).message ?? String(err)}`),
      frameCorrupted: (from, to) => this.trace.event(this.ms(), 'corrupt', { from: world.nodes[from].name, to: world.nodes[to].name })
    }
  }

  /** Current virtual time in ms. */
  ms (): number { return this.world.scheduler.now / 1000 }

  /** Records a violation (also in the trace). */
  violation (property: Violation['property'], node: string | null, detail: string): void {
    const v: Violation = { property, atMs: this.ms(), node, detail }
    this.violations.push(v)
    this.trace.event(v.atMs, 'violation', { property, node, detail })
  }

  /** A revocation was issued at the Mothership: it holds it from now. */
  issued (r: IssuedRevocation): void {
    this.arrivals[r.index] = new Map([[this.world.mothership.index, { atUs: r.issuedUs, hops: 0 }]])
    this.trace.event(this.ms(), 'revoke', { target: r.label, seq: r.seq, cuts: [...r.cuts.values()].map((c) => c.seq) })
  }

  /** The revocations `node` holds now, by the oracle (exact entry hash at the entry's seq). */
  held (node: SimNode): IssuedRevocation[] {
    return this.world.revocations.filter((r) => node.chain.entryHash(r.seq) === r.hash)
  }

  private chainApplied (node: SimNode, _fromSeq: number, from: KeyId | null): void {
    if (node.identity.role === 'adversary') return
    const fromIndex = from === null ? undefined : this.world.indexOfKey(from)
    for (const r of this.world.revocations) {
      const seen = this.arrivals[r.index]
      if (seen.has(node.index) || node.chain.entryHash(r.seq) !== r.hash) continue
      const parent = fromIndex === undefined ? undefined : seen.get(fromIndex)
      const hops = parent === undefined ? 1 : parent.hops + 1
      seen.set(
        node.index,
        { atUs: this.world.scheduler.now, hops, ...(fromIndex === undefined ? {} : { from: fromIndex }) }
      )
      this.trace.event(this.ms(), 'revocation-held', { peer: node.name, revocation: r.label, hops, from: fromIndex === undefined ? null : this.world.nodes[fromIndex].name })
    }
  }

  private recordsAdded (node: SimNode, ids: RecordId[], _from: KeyId): void {
    if (node.identity.role === 'adversary') return
    this.recordTraffic.adding++
    this.recordTraffic.receipts += ids.length
    const now = this.world.scheduler.now
    for (const id of ids) {
      const w = this.world.written.get(id)
      if (w !== undefined) this.recordDelaysMs.push((now - w.atUs) / 1000)
    }
    for (const id of ids) {
      const forged = this.world.adversary?.forged.get(id)
      if (forged === undefined) continue
      let at = this.forgedStored.get(id)
      if (at === undefined) { at = new Map(); this.forgedStored.set(id, at) }
      if (!at.has(node.index)) at.set(node.index, { atUs: this.world.scheduler.now })
    }
  }

  private audit (node: SimNode, ev: SyncAuditEvent): void {
    const key = `${ev.type}${ev.code === undefined ? '' : `:${ev.code}`}`
    this.audits[key] = (this.audits[key] ?? 0) + 1
    if (ev.type === 'dropped' || ev.type === 'fork' || ev.type === 'bad-batch') {
      const peer = this.world.indexOfKey(ev.peer)
      this.trace.event(this.ms(), `audit-${ev.type}`, { peer: node.name, remote: peer === undefined ? ev.peer.slice(0, 8) : this.world.nodes[peer].name, code: ev.code ?? null })
    }
  }

  private sessionClosed (node: SimNode, peer: KeyId, code: string | undefined): void {
    this.sessionsClosed++
    if (code === 'E_REVOKED') {
      const p = this.world.indexOfKey(peer)
      this.trace.event(this.ms(), 'session-revoked', { peer: node.name, remote: p === undefined ? peer.slice(0, 8) : this.world.nodes[p].name })
    }
  }

  // One Automerge sync message delivered to an honest peer (its pieces joined): does it carry changes?
  private countAutomerge (from: number, to: number, frame: Uint8Array): void {
    const key = `${from}>${to}`
    const data = frame.subarray(1)
    if (frame[0] === 0x03) {
      const held = this.amPieces.get(key)
      if (held === undefined) this.amPieces.set(key, [data.slice()])
      else held.push(data.slice())
      return
    }
    const pieces = this.amPieces.get(key)
    this.amPieces.delete(key)
    const whole = pieces === undefined ? data : Buffer.concat([...pieces, data])
    const t = this.recordTraffic
    t.amMessages++
    const changes = readEnvelope(whole)?.changes.length ?? 0
    if (changes > 0) { t.carrying++; t.changesCarried += changes }
  }

  private countDuplicates (to: number, frame: Uint8Array): void {
    // Only chain messages count, and their canonical JSON starts with their first key: skip the
    // others without decoding them (this runs on every control frame).
    if (frame.length <= CHAIN_PREFIX.length || !CHAIN_PREFIX.every((b, i) => frame[i + 1] === b)) return
    let msg: { entries: string[] }
    try { msg = JSON.parse(Buffer.from(frame.buffer, frame.byteOffset + 1, frame.length - 1).toString('utf8')) as { entries: string[] } } catch { return }
    if (!Array.isArray(msg.entries)) return
    const head = this.world.nodes[to].chain.head.seq
    // Entries arrive oldest first from `from`: those at or below our head were already held.
    const first = this.firstSeq(msg.entries[0])
    if (first === null) return
    for (const r of this.world.revocations) {
      if (r.seq >= first && r.seq < first +
        msg.entries.length) this.revocationMessages[r.index] = (this.revocationMessages[r.index] ?? 0) + 1
    }
    this.duplicateEntries += Math.max(0, Math.min(msg.entries.length, head - first + 1))
  }

  private firstSeq (b64: string | undefined): number | null {
    if (b64 === undefined) return null
    try {
      const seq = (JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as { seq?: unknown }).seq
      return typeof seq === 'number' ? seq : null
    } catch {
      return null
    }
  }
}
