/**
 * Fakes for driving the peer core (node/peer/) without a network: a clock moved by hand, a
 * chain from the engine tests' Mothership book, links that record what they are asked to do,
 * in order.
 *
 * @example
 * const h = peerHarness(['alice', 'mallory'])
 * h.revoke('mallory'); h.peer.revoked([h.id('mallory')])
 * h.calls   // ['hangUp mallory E_REVOKED', 'forget mallory']
 */
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { decodeBeacon, type Beacon } from '../../crdt/beacon.js'
import type { AuraError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId } from '../../crdt/ids.js'
import { PeerCore, type PeerInit, type PeerScheduler } from '../../node/peer/index.js'
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
  /** The Mothership appends an entry here (a lockdown), as its CLI does. */
  appendLocally: () => void
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
  opts: { isMothership?: boolean, noTeam?: boolean, init?: Partial<PeerInit> } = {}
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
  const peer = new PeerCore({
    chain: () => opts.noTeam === true ? null : chain,
    isMothership: () => opts.isMothership === true,
    signingKey: () => opts.isMothership === true ? book.key : null,
    engines: () => [{
      localBeacon: (bytes: Uint8Array) => { beacons.push(decodeBeacon(bytes)) },
      localChainAppended: (from: number) => { calls.push(`chainAppended ${from}`) }
    }],
    localKey: id('self'),
    now: () => clock.now,
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
    }
  }, { beaconIntervalMs: 30_000, ...opts.init })
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
    appendLocally: () => {
      const from = chain.head.seq + 1
      chain.applyBatch([book.lockdown()])
      peer.chainAppended(from)
    }
  }
}
