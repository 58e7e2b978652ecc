/**
 * The address book: where each admitted peer can be reached. Addresses arrive from identify
 * (the peer's own signed peer record), from mDNS, from sessions this node opened, and from other
 * peers: on every new sync session both sides send each other the signed peer records they hold
 * (`/aura/addrs/1.0.0`, one frame), so a peer learns the circuit address of a NATed peer it never
 * met, or the new port of one that restarted. A record is accepted only if its envelope
 * signature verifies under the key it names (no member can plant addresses for another) and
 * that key is admitted and not revoked; a revoked key's addresses are forgotten. Every learned
 * address goes to the dialer, which keeps admitted peers connected.
 *
 * @example
 * const book = new AddressBook({ store: rt.store.peers, dialer, host, admitted, now: Date.now })
 * await host.handle(ADDRS_PROTOCOL, (link) => book.serve(link))
 * void book.share(bob)   // when a session to bob opens
 */
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from '../../crdt/canonical.js'
import type { KeyId } from '../../crdt/ids.js'
import type { Link } from '../sync/link.js'
import type { PeerStore } from '../store/peer-store.js'
import type { Dialer } from '../peer/dialer.js'
import type { Host } from './host.js'

/** The protocol on which two peers swap signed peer records. */
export const ADDRS_PROTOCOL = '/aura/addrs/1.0.0'
/** Addresses kept per peer, newest first. */
export const MAX_ADDRS_PER_PEER = 8
/** Keys heard on the LAN before they were admitted here, kept until they are (oldest dropped first). */
export const MAX_HEARD_UNADMITTED = 64
/** Signed peer records sent in one exchange. */
export const MAX_RECORDS_SHARED = 64
// An exchange frame: 64 envelopes of ~8 addresses each is well under this.
const MAX_EXCHANGE_BYTES = 256 * 1024

/** What the book needs from the node. */
export interface AddressBookComponents {
  store: PeerStore
  dialer: Dialer
  host: Host
  /** Admitted and not revoked (strict). */
  admitted: (key: KeyId) => boolean
  now: () => number
  /** Whether addresses learned from identify and other peers are kept and dialled. */
  discover: boolean
}

/** Learns, persists, shares and forgets peer addresses. */
export class AddressBook {
  // mDNS tells of a key once, when it is first heard; a peer that joined after this node (or
  // before this node holds its admission) is heard while not yet admitted. Kept, bounded, and
  // learned once the chain admits it.
  private readonly heard = new Map<KeyId, string[]>()

  constructor (private readonly c: AddressBookComponents) {}

  /**
   * Merges `addrs` for an admitted `key` (newest first, bounded) and hands them to the dialer.
   * `how`: `connected` is an address this node itself connected to and `mdns` one heard on the
   * LAN (mDNS is its own switch, `[node] mdns`): both are kept even with discovery off; `peer`
   * (identify, other peers' records) only with `[node] discover` on.
   */
  async learn (key: KeyId, addrs: readonly string[], how: 'connected' | 'mdns' | 'peer' = 'peer'): Promise<void> {
    const connected = how === 'connected'
    if (key === this.c.host.key || (how === 'peer' && !this.c.discover)) return
    if (!this.c.admitted(key)) {
      if (how !== 'mdns') return
      this.heard.delete(key)
      this.heard.set(key, [...addrs].slice(0, MAX_ADDRS_PER_PEER))
      if (this.heard.size > MAX_HEARD_UNADMITTED) this.heard.delete(this.heard.keys().next().value as KeyId)
      return
    }
    this.heard.delete(key)
    const full = addrs.map((a) => withPeer(a, this.c.host.peerIdOf(key))).filter((a): a is string => a !== null)
    if (full.length === 0) return
    const prev = await this.c.store.get(key)
    const merged = [...new Set([...full, ...(prev?.addrs ?? [])])].slice(0, MAX_ADDRS_PER_PEER)
    await this.c.store.put(key, { addrs: merged, seen: connected ? this.c.now() : prev?.seen ?? null })
    for (const a of merged) this.c.dialer.add(a)
  }

  /** After the chain changed: learns the LAN addresses of keys heard before they were admitted. */
  async admissionsChanged (): Promise<void> {
    for (const [key, addrs] of [...this.heard]) if (this.c.admitted(key)) await this.learn(key, addrs, 'mdns')
  }

  /** Forgets a revoked key's addresses, here and in the dialer. */
  async forget (key: KeyId): Promise<void> {
    this.c.dialer.remove(key)
    await this.c.store.del(key)
  }

  /** Sends `key` the signed peer records of this node and of the admitted peers it knows. */
  async share (key: KeyId): Promise<void> {
    if (!this.c.discover) return
    const known = (await this.c.store.list()).map((p) => p.key).filter((k) => k !== key && this.c.admitted(k))
    const records = (await this.c.host.peerRecords(known)).slice(0, MAX_RECORDS_SHARED)
    const link = await this.c.host.openLink(key, ADDRS_PROTOCOL)
    link.send(canonicalBytes({ v: 1, records: records.map(toB64u) }))
    link.close()
  }

  /** Answers an exchange: reads one frame of records, keeps the ones that verify and are admitted. */
  serve (link: Link): void {
    if (!this.c.discover) { link.close(); return }
    link.onFrame = (frame) => {
      link.onFrame = null
      link.close()
      if (frame.length > MAX_EXCHANGE_BYTES) return
      void this.take(frame).catch(() => {})
    }
  }

  private async take (frame: Uint8Array): Promise<void> {
    const msg = parseCanonical(frame) as { v?: unknown, records?: unknown }
    if (msg.v !== 1 || !Array.isArray(msg.records)) return
    for (const r of msg.records.slice(0, MAX_RECORDS_SHARED)) {
      if (typeof r !== 'string') continue
      const got = await this.c.host.consumePeerRecord(fromB64u(r), this.c.admitted)
      if (got !== null) await this.learn(got.key, got.addrs)
    }
  }
}

// A dialable form: ends in /p2p/<peer id>. Circuit addresses of someone else are left out.
function withPeer (addr: string, peerId: string | null): string | null {
  if (peerId === null) return null
  if (addr.endsWith(`/p2p/${peerId}`)) return addr
  if (addr.includes('/p2p/') && !addr.endsWith('/p2p-circuit')) return null
  return `${addr}/p2p/${peerId}`
}
