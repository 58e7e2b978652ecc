/**
 * The Mothership's beacon schedule: a beacon naming the chain head, signed with the team key at
 * start, every interval, and at once when the chain grows here (a revocation or lockdown is
 * vouched for without waiting out the interval). Each goes to the node's engines, which push it
 * to every session. A node without the team key signs none.
 *
 * @example
 * const beacons = new BeaconSchedule({ signingKey, chain, engines, now, scheduler }, 30_000)
 * beacons.start()
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import { encodeBeacon, makeBeacon, type Beacon } from '../../crdt/beacon.js'
import type { KeyPair } from '../../crdt/crypto.js'
import type { PeerScheduler, TimerHandle } from './scheduler.js'

/** What signs and carries beacons. */
export interface BeaconComponents {
  /** The team's signing key if this node holds it (the Mothership), else null. */
  signingKey: () => KeyPair | null
  chain: () => AuthorityChain | null
  engines: () => Iterable<{ localBeacon: (bytes: Uint8Array) => void }>
  now: () => number
  scheduler: PeerScheduler
}

/** Heard for every beacon signed here. */
export type BeaconListener = (bytes: Uint8Array, beacon: Beacon) => void

/** The Mothership's beacon loop. */
export class BeaconSchedule {
  private timer: TimerHandle | null = null

  constructor (
    private readonly c: BeaconComponents,
    private readonly intervalMs: number,
    private readonly onSigned?: BeaconListener
  ) {}

  /** Signs one now, then every interval until `stop` (nothing on a node without the team key). */
  start (): void {
    if (this.timer !== null || this.c.signingKey() === null) return
    const loop = (): void => {
      this.beacon()
      this.timer = this.c.scheduler.setTimer(loop, this.intervalMs)
    }
    loop()
  }

  /** Stops the loop. */
  stop (): void {
    if (this.timer !== null) this.c.scheduler.clearTimer(this.timer)
    this.timer = null
  }

  /** Signs a beacon of the current head now and hands it to the engines. */
  beacon (): void {
    const bytes = this.sign()
    if (bytes !== null) for (const e of this.c.engines()) e.localBeacon(bytes)
  }

  /**
   * Signs a beacon of the current head now and returns it, for the caller to hand on (with the
   * chain entries it names); null on a node without the team key, or without engines.
   */
  sign (): Uint8Array | null {
    const key = this.c.signingKey()
    const chain = this.c.chain()
    if (key === null || chain === null) return null
    if ([...this.c.engines()].length === 0) return null
    const b = makeBeacon(
      { team: chain.team, headSeq: chain.head.seq, headHash: chain.head.hash, ts: this.c.now() },
      key
    )
    const bytes = encodeBeacon(b)
    this.onSigned?.(bytes, b)
    return bytes
  }
}
