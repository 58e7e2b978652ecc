/**
 * What every attack test checks once the attack stops: the honest daemons hold the same records
 * with the same effective / quarantined status and reason (receipts aside: every node keeps
 * writing its own), within a deadline, and none of them grew past a memory bound. Shared by the
 * hostile-member tests so each attack is judged by the same oracle.
 *
 * @example
 * const ms = await convergedWithin(team, ['mothership', 'alice', 'bob'], 10_000)
 * expect(peakRssMb(team.m('alice').daemon!.pid!)).toBeLessThan(400)
 */
import { readFileSync, writeFileSync } from 'node:fs'
import type { Team } from '../containment/helpers.js'

/** One node's view: record id -> "effective" or "quarantined:<reason>" (receipts left out). */
export async function viewOf (team: Team, name: string): Promise<Map<string, string>> {
  const rows = await team.control<Array<{ id: string, kind: string, status: string, reason: string | null }>>(name, 'trace', {})
  const view = new Map<string, string>()
  for (const r of rows) {
    if (r.kind === 'receipt') continue
    view.set(r.id, r.status === 'effective' ? 'effective' : `${r.status}:${r.reason ?? ''}`)
  }
  return view
}

/** The first difference between two views, or null when they are the same. */
export function viewDifference (a: Map<string, string>, b: Map<string, string>): string | null {
  for (const [id, s] of a) if (b.get(id) !== s) return `${id.slice(0, 12)}: ${s} vs ${b.get(id) ?? 'absent'}`
  for (const [id, s] of b) if (!a.has(id)) return `${id.slice(0, 12)}: absent vs ${s}`
  return null
}

/**
 * Waits until every named node holds the same view; returns the milliseconds it took. Fails
 * with the first difference when `timeoutMs` passes first.
 */
export async function convergedWithin (team: Team, names: string[], timeoutMs: number): Promise<number> {
  const started = Date.now()
  let last = 'no probe yet'
  while (Date.now() - started < timeoutMs) {
    const views = await Promise.all(names.map(async (n) => await viewOf(team, n)))
    const diff = names.slice(1).map((n, i) => { const d = viewDifference(views[0], views[i + 1]); return d === null ? null : `${names[0]} vs ${n}: ${d}` }).find((d) => d !== null)
    if (diff === undefined) return Date.now() - started
    last = diff
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`honest views did not converge within ${timeoutMs} ms; last difference: ${last}`)
}

/** Starts a new peak for `pid` (Linux: writing 5 to clear_refs resets VmHWM), so each attack is measured on its own. */
export function resetPeakRss (pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5')
}

/** Peak resident set (VmHWM) of a live process, in MB (Linux /proc). */
export function peakRssMb (pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no VmHWM for pid ${pid}`)
  return Number(m[1]) / 1024
}

/** A running probe of whether daemons answer `status` (see `probeAnswers`). */
export interface AnswerProbe {
  /** Stops probing; the slowest answer per daemon, each unanswered probe, and the most memory each reported. */
  stop: () => Promise<{ slowestMs: Record<string, number>, failures: string[], memory: Record<string, MemoryMb> }>
}

/** What `status` says of a daemon's memory, in MB. */
export interface MemoryMb { rss: number, heapUsed: number, external: number }

/**
 * Asks each named daemon for `status` in turn, every 300 ms until stopped (at most 2,000
 * rounds): an attack must never keep a daemon from answering its operator. A probe that gets
 * no answer within the control client's 10 s is a failure.
 */
export function probeAnswers (team: Team, names: string[]): AnswerProbe {
  const slowestMs: Record<string, number> = {}
  const memory: Record<string, MemoryMb> = {}
  const failures: string[] = []
  const state = { running: true }
  const loop = (async () => {
    for (let round = 0; state.running && round < 2000; round++) {
      for (const n of names) {
        const t = Date.now()
        try {
          const m = (await team.control<{ memory: MemoryMb | null }>(n, 'status')).memory
          const seen = memory[n] ?? { rss: 0, heapUsed: 0, external: 0 }
          if (m !== null) {
            const most = (k: keyof MemoryMb): number => Math.max(seen[k], m[k])
            memory[n] = { rss: most('rss'), heapUsed: most('heapUsed'), external: most('external') }
          }
        } catch (err) {
          failures.push(`${n}: ${(err as Error).message}`)
        }
        slowestMs[n] = Math.max(slowestMs[n] ?? 0, Date.now() - t)
      }
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  })()
  return {
    stop: async () => {
      state.running = false
      await loop
      return { slowestMs, failures, memory }
    }
  }
}
