/**
 * The timer seam of the peer core: the daemon passes Node's timers, the simulator its virtual
 * event queue, tests a hand-driven fake. Times are milliseconds of the node's clock.
 *
 * @example
 * const scheduler: PeerScheduler = {
 *   setTimer: (fn, ms) => setTimeout(fn, ms),
 *   clearTimer: (h) => clearTimeout(h as NodeJS.Timeout)
 * }
 */

/** Whatever `setTimer` returned; only ever handed back to `clearTimer`. */
export type TimerHandle = unknown

/** setTimeout / clearTimeout, injected (named apart so a pure module never names the globals). */
export interface PeerScheduler {
  /** Runs `fn` once, `ms` from now (setTimeout). */
  setTimer: (fn: () => void, ms: number) => TimerHandle
  /** Cancels a timer not run yet (clearTimeout). */
  clearTimer: (handle: TimerHandle) => void
}
