/**
 * The sync engine's periodic work: anti-entropy (`tick()`: heads and missing records to one
 * random peer, paused links resumed) every interval, the first at a random point of the first
 * interval so nodes started together do not tick in step; and keep-alive (`keepAlive()`: heads
 * to every session that has sent nothing for a while) so the remote's idle timeout only closes
 * sessions whose peer is gone. A node whose links never time out (the simulator's) runs none.
 *
 * @example
 * const timers = new SyncTimers({ engines, scheduler, random }, { antiEntropyMs: 10_000, keepAliveMs: 30_000 })
 * timers.start()
 */
import type { PeerScheduler, TimerHandle } from './scheduler.js'

/** Options of the sync timers. */
export interface SyncTimersInit {
  /** `[sync] anti_entropy_interval`. */
  antiEntropyMs: number
  /** How often sessions are kept alive (a quarter of `[sync] idle_timeout`); null: never. */
  keepAliveMs: number | null
}

/** What the timers drive. */
export interface SyncTimersComponents {
  engines: () => Iterable<{ tick: () => void, keepAlive: () => void }>
  scheduler: PeerScheduler
  /** Uniform in [0, 1): where in the first interval the first tick falls. */
  random: () => number
}

/** Anti-entropy and keep-alive loops. */
export class SyncTimers {
  private timers: TimerHandle[] = []
  private on = false

  constructor (private readonly c: SyncTimersComponents, private readonly init: SyncTimersInit) {}

  /** Starts both loops (again after `stop`). */
  start (): void {
    if (this.on) return
    this.on = true
    const { antiEntropyMs, keepAliveMs } = this.init
    this.every(0, antiEntropyMs, this.c.random() * antiEntropyMs, (e) => e.tick())
    if (keepAliveMs !== null) this.every(1, keepAliveMs, keepAliveMs, (e) => e.keepAlive())
  }

  /** Stops both loops. */
  stop (): void {
    this.on = false
    for (const t of this.timers) this.c.scheduler.clearTimer(t)
    this.timers = []
  }

  // Loop `slot`: `fn` on every engine after `firstMs`, then every `periodMs`.
  private every (
    slot: number,
    periodMs: number,
    firstMs: number,
    fn: (e: { tick: () => void, keepAlive: () => void }) => void
  ): void {
    const run = (): void => {
      for (const e of this.c.engines()) fn(e)
      // An engine's work may have stopped this node (the loop must not outlive it).
      if (!this.on) return
      this.timers[slot] = this.c.scheduler.setTimer(run, periodMs)
    }
    this.timers[slot] = this.c.scheduler.setTimer(run, firstMs)
  }
}
