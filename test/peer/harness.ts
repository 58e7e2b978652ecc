/**
 * Fakes for driving the peer core (node/peer/) without a network: a clock moved by hand, a
 * chain from the engine tests' Mothership book, links that record what they are asked to do,
 * in order.
 *
 * @example
 * const h = peerHarness(['alice', 'mallory'])
 * h.revoke('mallory'); h.peer.revoked([h.id('mallory')])
 * h.calls   // ['hangUp mallory E_REVOKED', 'forget mallory']
 * h.hold('alice', 1); h.peer.holdingsChanged(); h.advance(250)
 * h.receipts // [{ at, data: { auth, heads: { <alice's key>: 1 } } }]
 */
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { decodeBeacon, type Beacon } from '../../crdt/beacon.js'
import type { Json } from '../../crdt/canonical.js'
import type { AuraError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import { signRecord, type RecordKind, type SignedRecord } from '../../crdt/record.js'
import { PeerCore, type PeerInit, type PeerScheduler } from '../../node/peer/index.js'
import type { WorkspaceSummary } from '../../node/sync/receipts.js'
import { keyNamed, MothershipBook, T0 } from '../sync/engine-fixture.js'

/** A peer core over a fake clock, engines and links. */
export interface PeerHarness {
  peer: PeerCore
  clock: { now: number }
  chain: AuthorityChain
  /** What the links were asked, in order: `<call> <name> <code>`. */
  calls: string[]
  /** The errors connections were hung up with. */
  hungUp: AuraError[]
  /** Resolves the pending hang-ups. */
  finishHangUps: () => void
  id: (name: string) => KeyId
  /** The Mothership revokes `name`; the chain here applies it. */
  revoke: (name: string, reason?: string) => void
  /** Moves the clock by `ms`, running the timers that fall due on the way, in order. */
  advance: (ms: number) => void
  /** Dials asked for, by address, in order; answer one with `answer`. */
  dials: string[]
  /** Ends the oldest pending dial of `addr`: null opens a session, an error fails it. */
  answer: (addr: string, err: Error | null) => void
  /** Keys with an open session. */
  connected: Set<KeyId>
  /** Beacons handed to the engine, in order. */
  beacons: Beacon[]
  /** The Mothership appends an entry here (a lockdown, or an unlock), as its CLI does. */
  appendLocally: (kind?: 'lockdown' | 'unlock') => void
  /** The records the node holds (its receipts included, as the engine's log holds them). */
  held: Array<{ id: RecordId, record: SignedRecord }>
  /** `name` signs its record `seq` (a receipt if `kind` says) and the node holds it. */
  hold: (name: string, seq: number, kind?: RecordKind) => void
  /** Receipts written, with the clock at writing and what they carry. */
  receipts: Array<{ at: number, data: Json }>
  /** Makes the next receipt writes throw (a write path refusing). */
  failWrites: (fail: boolean) => void
  /** Errors heard by the peer core's `receiptFailed`. */
  receiptFailures: unknown[]
  /** The engine's periodic work, in order: `tick <ms since start>` / `keepAlive <ms since start>`. */
  engineWork: string[]
}

/** A scheduler on a hand-moved clock. */
export function fakeScheduler (clock: { now: number }): PeerScheduler & { advance: (ms: number) => void } {
  let timers: Array<{ at: number, seq: number, fn: () => void }> = []
  let seq = 0
  return {
    setTimer: (fn, ms) => { const t = { at: clock.now + ms, seq: seq++, fn }; timers.push(t); return t },
    clearTimer: (h) => { timers = timers.filter((t) => t !== h) },
    advance: (ms) => {
      const end = clock.now + ms
      for (;;) {
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
        if (due === undefined) break
        timers = timers.filter((t) => t !== due)
        clock.now = due.at
        due.fn()
      }
      clock.now = end
    }
  }
}

/** A peer core holding a chain in which `members` are admitted. */
export function peerHarness (
  members: readonly string[],
  opts: {
    isMothership?: boolean
    noTeam?: boolean
    init?: Partial<PeerInit>
    /** The workspace's backlog (the daemon's receipts read it first); none by default. */
    workspace?: () => Promise<WorkspaceSummary | null>
    /** The peer core's random source (default: always 0.5). */
    random?: () => number
  } = {}
): PeerHarness {
  const book = new MothershipBook()
  for (const m of members) book.admit(m, keyNamed(m))
  const chain = AuthorityChain.fromEntries(book.entries)
  const clock = { now: T0 + 1_000_000 }
  const names = new Map<KeyId, string>()
  const id = (name: string): KeyId => { const k = keyIdOf(keyNamed(name).publicKey); names.set(k, name); return k }
  for (const m of [...members, 'stranger', 'self']) id(m)
  const calls: string[] = []
  const pending: Array<() => void> = []
  const beacons: Beacon[] = []
  const scheduler = fakeScheduler(clock)
  const dials: string[] = []
  const open = new Map<string, Array<(err: Error | null) => void>>()
  const connected = new Set<KeyId>()
  const keyOf = (addr: string): KeyId | null => names.has(addr.slice('addr/'.length) as KeyId) ? addr.slice('addr/'.length) as KeyId : null
  const say = (call: string, key: KeyId, err?: AuraError): void => { calls.push(`${call} ${names.get(key) ?? key}${err === undefined ? '' : ` ${err.code}`}`) }
  const hungUp: AuraError[] = []
  const held: Array<{ id: RecordId, record: SignedRecord }> = []
  const receipts: Array<{ at: number, data: Json }> = []
  const receiptFailures: unknown[] = []
  const engineWork: string[] = []
  const work = (what: string) => () => { engineWork.push(`${what} ${clock.now - T0 - 1_000_000}`) }
  let failing = false
  const hold = (name: string, seq: number, kind: RecordKind = 'intent', data?: Json): void => {
    const r = signRecord(
      { kind, actor: name, host: name, seq, prev: null, ts: clock.now, auth: chain.head, text: '', data },
      keyNamed(name)
    )
    held.push({ id: r.id, record: r.record })
  }
  const peer = new PeerCore({
    chain: () => opts.noTeam === true ? null : chain,
    isMothership: () => opts.isMothership === true,
    signingKey: () => opts.isMothership === true ? book.key : null,
    engines: () => [{
      localBeacon: (bytes: Uint8Array) => { beacons.push(decodeBeacon(bytes)) },
      localChainAppended: (from: number, beacon?: Uint8Array) => {
        calls.push(`chainAppended ${from}${beacon === undefined ? '' : ' with a beacon'}`)
        if (beacon !== undefined) beacons.push(decodeBeacon(beacon))
      },
      localRecordsAdded: () => { calls.push('recordsAdded') },
      tick: work('tick'),
      keepAlive: work('keepAlive')
    }],
    localKey: id('self'),
    now: () => clock.now,
    random: opts.random ?? (() => 0.5),
    scheduler,
    dial: {
      connect: (addr, done) => {
        dials.push(addr)
        open.set(
          addr,
          [...(open.get(addr) ?? []), (err) => { if (err === null) connected.add(keyOf(addr) as KeyId); done(err) }]
        )
      },
      isConnected: (key) => connected.has(key),
      keyOf
    },
    links: {
      hangUp: async (key, err) => { hungUp.push(err); say('hangUp', key, err); await new Promise<void>((resolve) => pending.push(resolve)) },
      forget: (key) => say('forget', key)
    },
    receipts: {
      records: () => held,
      ...(opts.workspace === undefined ? {} : { workspace: opts.workspace }),
      write: (data) => {
        if (failing) throw new Error('refused by the write path')
        receipts.push({ at: clock.now, data })
        hold('self', receipts.length, 'receipt', data)
      }
    }
  }, {
    beaconIntervalMs: 30_000,
    receiptIntervalMs: 60_000,
    antiEntropyMs: 10_000,
    keepAliveMs: 30_000,
    ...opts.init
  }, {
    receiptFailed: (err) => { receiptFailures.push(err) }
  })
  return {
    peer,
    clock,
    chain,
    calls,
    hungUp,
    finishHangUps: () => { for (const f of pending.splice(0)) f() },
    id,
    revoke: (name, reason = 'laptop theft') => { chain.applyBatch([book.revoke(id(name), { seq: 0, hash: null }, reason)]) },
    advance: (ms) => scheduler.advance(ms),
    dials,
    answer: (addr, err) => { open.get(addr)?.shift()?.(err) },
    connected,
    beacons,
    appendLocally: (kind = 'lockdown') => {
      const from = chain.head.seq + 1
      chain.applyBatch([kind === 'lockdown' ? book.lockdown() : book.unlock()])
      peer.chainAppended(from)
    },
    held,
    hold: (name, seq, kind) => hold(name, seq, kind),
    receipts,
    failWrites: (fail) => { failing = fail },
    receiptFailures,
    engineWork
  }
}
