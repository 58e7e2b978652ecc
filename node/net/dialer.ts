/**
 * Keeps this node connected to the peers it knows: every known address whose key has no open
 * sync session is dialled, with exponential backoff (1 s doubling to 30 s) after failures, so a
 * peer that was offline is picked up again by itself when it returns.
 *
 * @example
 * const dialer = new Dialer({ connect, isConnected, now: Date.now }, { self })
 * dialer.add('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...')
 * setInterval(() => dialer.run(), 500)
 */
import type { KeyId } from '../../crdt/ids.js'
import { keyIdFromMultiaddr } from './peer-identity.js'

/** What the dialer needs from the node. */
export interface DialerComponents {
  /** Opens a sync session to `addr`; rejects on failure. */
  connect: (addr: string) => Promise<void>
  /**
   * Whether `addr` of `key` needs no dial: a session is open and, for a direct address, it runs
   * over a direct connection (a peer reached only through a relay is dialled directly again, so
   * a relayed connection is upgraded whenever a direct address works).
   */
  isConnected: (key: KeyId, addr: string) => boolean
  /** Whether `key` must not be dialled (revoked). */
  isBarred: (key: KeyId) => boolean
  now: () => number
}

interface Target { addr: string, key: KeyId | null, next: number, backoff: number, busy: boolean, lastError: string | null }

const MIN_BACKOFF_MS = 1000
const MAX_BACKOFF_MS = 30_000

/** The reconnect loop's state. */
export class Dialer {
  private readonly targets = new Map<string, Target>()

  constructor (private readonly c: DialerComponents, private readonly self: KeyId) {}

  /** Adds an address to keep connected (idempotent). */
  add (addr: string): void {
    if (this.targets.has(addr)) return
    const key = keyIdFromMultiaddr(addr)
    if (key === this.self) return
    this.targets.set(addr, { addr, key, next: 0, backoff: MIN_BACKOFF_MS, busy: false, lastError: null })
  }

  /** Forgets every address of `key` (a revoked peer). */
  remove (key: KeyId): void {
    for (const [addr, t] of this.targets) if (t.key === key) this.targets.delete(addr)
  }

  /** The addresses known, with their last error. */
  list (): Array<{ addr: string, key: KeyId | null, lastError: string | null }> {
    return [...this.targets.values()].map((t) => ({ addr: t.addr, key: t.key, lastError: t.lastError }))
  }

  /** Dials every due target that has no session. */
  run (): void {
    const now = this.c.now()
    for (const t of this.targets.values()) {
      if (t.busy || t.next > now) continue
      if (t.key !== null && (this.c.isConnected(t.key, t.addr) || this.c.isBarred(t.key))) continue
      t.busy = true
      this.c.connect(t.addr).then(() => {
        t.backoff = MIN_BACKOFF_MS
        t.next = this.c.now() + MIN_BACKOFF_MS
        t.lastError = null
      }, (err: Error) => {
        t.lastError = err.message
        t.next = this.c.now() + t.backoff
        t.backoff = Math.min(t.backoff * 2, MAX_BACKOFF_MS)
      }).finally(() => { t.busy = false })
    }
  }

  /** Makes every target due now (after a session closed, or on demand). */
  wake (): void {
    for (const t of this.targets.values()) { t.next = 0; t.backoff = MIN_BACKOFF_MS }
  }
}
