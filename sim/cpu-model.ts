/**
 * What receiving costs a node: each frame handed to it costs virtual CPU time (a base cost per
 * frame plus a cost per KiB of it), and a node works through its inbound frames one at a time,
 * in arrival order. Under load frames wait their turn, so the protocol sees them later than the
 * wire delivered them. Off (both costs 0) by default; then nothing waits and nothing is counted.
 * Pure arithmetic: no randomness, so a run stays a function of (scenario, seed).
 *
 * @example
 * const q = new CpuQueue()
 * const cost = cpuCostUs({ perMessageUs: 50, perKibUs: 20 }, 2048) // 90
 * q.admit(0, cost, true)  // 90: handed to the protocol at 90 µs
 * q.admit(10, cost, true) // 180: it waited 80 µs behind the first
 */

/** The scenario's `[node]` processing costs, in microseconds. */
export interface CpuModel {
  /** Cost of every inbound frame. */
  perMessageUs: number
  /** Cost of each KiB of an inbound frame (pro rata). */
  perKibUs: number
}

/** The default: receiving is free and instant. */
export const NO_CPU: CpuModel = { perMessageUs: 0, perKibUs: 0 }

/** Whether a model costs anything at all. */
export function cpuEnabled (m: CpuModel): boolean {
  return m.perMessageUs > 0 || m.perKibUs > 0
}

/** Whole microseconds one inbound frame of `bytes` costs. */
export function cpuCostUs (m: CpuModel, bytes: number): number {
  return Math.round(m.perMessageUs + m.perKibUs * bytes / 1024)
}

const MICROS = /^(\d+(?:\.\d+)?)\s*(us|µs|ms|s)$/
const MICROS_PER: Record<string, number> = { us: 1, µs: 1, ms: 1_000, s: 1_000_000 }

/** Microseconds in a string such as "50us", "0.2ms" or "1s"; undefined if malformed. */
export function parseMicros (s: string): number | undefined {
  const m = MICROS.exec(s.trim())
  return m === null ? undefined : Number(m[1]) * MICROS_PER[m[2]]
}

/** One node's inbound processor: a FIFO server with its busy time and each frame's wait. */
export class CpuQueue {
  private busyUntil = 0
  /** Virtual µs spent processing frames. */
  busyUs = 0
  /** How long each counted frame waited for the processor, in µs, in arrival order. */
  readonly waitsUs: number[] = []

  /**
   * A job arriving at `now` that takes `costUs`: returns when it is done (then the protocol gets
   * the frame). Jobs are served in the order they are admitted. `counted`: a frame (a close
   * notice only keeps its place in line, and is not counted).
   */
  admit (now: number, costUs: number, counted: boolean): number {
    const start = Math.max(now, this.busyUntil)
    if (counted) this.waitsUs.push(start - now)
    this.busyUntil = start + costUs
    this.busyUs += costUs
    return this.busyUntil
  }

  /** The node stopped (a crash): the work it had not done yet is not done. */
  clear (now: number): void {
    this.busyUs -= Math.max(0, this.busyUntil - now)
    this.busyUntil = Math.min(this.busyUntil, now)
  }
}
