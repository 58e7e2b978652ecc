/**
 * Time windows as operators type them: `30d`, `6h`, `15m`, `90s`, or an ISO 8601 time.
 *
 * @example
 * parseSince('6h', now)                      // now - 6 hours, in ms
 * parseSince('2026-04-21T00:00:00Z', now)    // that instant
 */
import { UsageError } from '../../crdt/errors.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** The start (ms since the epoch) of a `--since` window. */
export function parseSince (text: string, now: number): number {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim())
  if (m !== null) return now - Number(m[1]) * UNITS[m[2]]
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const t = Date.parse(text)
    if (!Number.isNaN(t)) return t
  }
  throw new UsageError(`--since takes a duration such as 30d, 6h, 15m, or an ISO time; got '${text}'`, { value: text })
}
