/**
 * Keeps a node connected to the peers it knows: every known address whose key has no open sync
 * session is dialled, with exponential backoff (1 s doubling to 30 s) after failures, so a peer
 * that was offline is picked up again by itself when it returns. Barred keys (revoked, or every
 * key once this node is revoked) are never dialled. The loop runs on the injected scheduler: the
 * daemon's real timers every 500 ms, the simulator's virtual clock every `[protocol] reconnect`.
 *
 * @example
 * const dialer = new Dialer({ connect, isConnected, isBarred, keyOf, now, scheduler }, { self })
 * dialer.add('/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW...')
 * dialer.start()
 */
import type { KeyId } from '../../crdt/ids.js'
import type { PeerScheduler, TimerHandle } from './scheduler.js'

/** What the dialer needs from the node. */
export interface DialerComponents {
  /** Opens a sync session to `addr`; `done` gets null once it is open, or why it failed. */
  connect: (addr: string, done: (err: Error | null) => void) => void
  /**
   * Whether `addr` of `key` needs no dial: a session is open (the daemon also asks, for a direct
   * address, that it runs over a direct connection, so a relayed one is upgraded when it can be).
   */
  isConnected: (key: KeyId, addr: string) => boolean
  /** Whether `key` must not be dialled (revoked). */
  isBarred: (key: KeyId) => boolean
  /** The key an address names, if it names one. */
  keyOf: (addr: string) => KeyId | null
  now: () => number
  scheduler: PeerScheduler
}

/** The dialer's options. */
export interface DialerInit {
  /** This node's key: its own addresses are never dialled. */
  self: KeyId
  /** How often due targets are dialled (default 500 ms). */
  loopMs?: number
}

interface Target {
  addr: string,
  key: KeyId | null,
  next: number,
  backoff: number,
  busy: boolean,
  lastError: string | null
}

export const MIN_BACKOFF_MS = 1000
export const MAX_BACKOFF_MS = 30_000
export const DIAL_LOOP_MS = 500

/** The reconnect loop's state. */
export class Dialer {
  private readonly targets = new Map<string, Target>()
  private timer: TimerHandle | null = null

  constructor (private readonly c: DialerComponents, private readonly init: DialerInit) {}

  /** Adds an address to keep connected (idempotent). */
  add (addr: string): void {
    if (this.targets.has(addr)) return
    const key = this.c.keyOf(addr)
    if (key === this.init.self) return
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
      this.c.connect(t.addr, (err) => {
        t.busy = false
        if (err === null) {
          t.backoff = MIN_BACKOFF_MS
          t.next = this.c.now() + MIN_BACKOFF_MS
          t.lastError = null
          return
        }
        t.lastError = err.message
        t.next = this.c.now() + t.backoff
        t.backoff = Math.min(t.backoff * 2, MAX_BACKOFF_MS)
      })
    }
  }

  /** Makes every target due now (after a session closed, or on demand). */
  wake (): void {
    for (const t of this.targets.values()) { t.next = 0; t.backoff = MIN_BACKOFF_MS }
  }

  /** Runs now, then every loop period until `stop`. */
  start (): void {
    if (this.timer !== null) return
    const loop = (): void => {
      this.run()
      this.timer = this.c.scheduler.setTimer(loop, this.init.loopMs ?? DIAL_LOOP_MS)
    }
    loop()
  }

  /** Stops the loop; dials under way finish. */
  stop (): void {
    if (this.timer !== null) this.c.scheduler.clearTimer(this.timer)
    this.timer = null
  }
}
