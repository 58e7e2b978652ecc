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
import type { AuraError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId } from '../../crdt/ids.js'
import { PeerCore, type PeerInit } from '../../node/peer/index.js'
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
}

/** A peer core holding a chain in which `members` are admitted. */
export function peerHarness (members: readonly string[], opts: { isMothership?: boolean, noTeam?: boolean, init?: PeerInit } = {}): PeerHarness {
  const book = new MothershipBook()
  for (const m of members) book.admit(m, keyNamed(m))
  const chain = AuthorityChain.fromEntries(book.entries)
  const clock = { now: T0 + 1_000_000 }
  const names = new Map<KeyId, string>()
  const id = (name: string): KeyId => { const k = keyIdOf(keyNamed(name).publicKey); names.set(k, name); return k }
  for (const m of [...members, 'stranger']) id(m)
  const calls: string[] = []
  const pending: Array<() => void> = []
  const say = (call: string, key: KeyId, err?: AuraError): void => { calls.push(`${call} ${names.get(key) ?? key}${err === undefined ? '' : ` ${err.code}`}`) }
  const hungUp: AuraError[] = []
  const peer = new PeerCore({
    chain: () => opts.noTeam === true ? null : chain,
    isMothership: () => opts.isMothership === true,
    now: () => clock.now,
    links: {
      hangUp: async (key, err) => { hungUp.push(err); say('hangUp', key, err); await new Promise<void>((resolve) => pending.push(resolve)) },
      forget: (key) => say('forget', key)
    }
  }, opts.init)
  return {
    peer,
    clock,
    chain,
    calls,
    hungUp,
    finishHangUps: () => { for (const f of pending.splice(0)) f() },
    id,
    revoke: (name, reason = 'laptop theft') => { chain.applyBatch([book.revoke(id(name), { seq: 0, hash: null }, reason)]) }
  }
}
