/**
 * The discrete-event core: a virtual clock and a priority queue of events. Events run in order
 * of (time, insertion sequence), so two events at the same instant always run in the order they
 * were scheduled: no tie is ever broken by anything but the sequence number. Time is in
 * microseconds of virtual time and never moves backwards.
 *
 * @example
 * const s = new Scheduler()
 * s.after(1_000, () => console.log('1 ms later', s.now))
 * s.runUntil(10_000)
 */

/** A scheduled event's handle: cancel() makes it a no-op. */
export interface Timer { cancel: () => void }

// An event is its own Timer handle (no closure per scheduled event).
class Event implements Timer {
  constructor (readonly time: number, readonly seq: number, public fn: (() => void) | null) {}
  cancel (): void { this.fn = null }
}

/** Virtual clock plus event queue (binary heap keyed by time, then sequence). */
export class Scheduler {
  private heap: Event[] = []
  private seq = 0
  private _now = 0
  private _executed = 0

  /** Current virtual time in microseconds. */
  get now (): number { return this._now }

  /** How many events have run. */
  get executed (): number { return this._executed }

  /** Number of events waiting (including cancelled ones not yet popped). */
  get pending (): number { return this.heap.length }

  /** Runs `fn` at absolute virtual time `time` (clamped to now). */
  at (time: number, fn: () => void): Timer {
    const ev = new Event(Math.max(time, this._now), this.seq++, fn)
    this.push(ev)
    return ev
  }

  /** Runs `fn` after `delay` microseconds. */
  after (delay: number, fn: () => void): Timer {
    return this.at(this._now + Math.max(0, delay), fn)
  }

  /** Time of the next event, or undefined when the queue is empty. */
  peekTime (): number | undefined {
    return this.heap[0]?.time
  }

  /**
   * Runs events with time <= `until`, then sets the clock to `until`. `stop` is checked after
   * every event so a run can end early (for example once peers converged).
   */
  runUntil (until: number, stop?: () => boolean): void {
    while (this.heap.length > 0 && this.heap[0].time <= until) {
      const ev = this.pop()
      if (ev.fn === null) continue
      this._now = ev.time
      this._executed++
      ev.fn()
      if (stop?.() === true) return
    }
    this._now = Math.max(this._now, until)
  }

  private less (a: Event, b: Event): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq)
  }

  private push (ev: Event): void {
    const h = this.heap
    h.push(ev)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(h[i], h[p])) break
      const t = h[i]; h[i] = h[p]; h[p] = t
      i = p
    }
  }

  private pop (): Event {
    const h = this.heap
    const top = h[0]
    const last = h.pop() as Event
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l], h[m])) m = l
        if (r < h.length && this.less(h[r], h[m])) m = r
        if (m === i) break
        const t = h[i]; h[i] = h[m]; h[m] = t
        i = m
      }
    }
    return top
  }
}
