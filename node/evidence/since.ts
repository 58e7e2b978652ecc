/**
 * Time windows as operators type them: a duration back from now (`30d`, `6h`, `1h30m`, `90s`:
 * the one duration syntax of config and `--ttl`, node/config/values.ts) or an ISO 8601 time.
 *
 * @example
 * parseSince('6h', now)                      // now - 6 hours, in ms
 * parseSince('1h30m', now)                   // now - 90 minutes
 * parseSince('2026-04-21T00:00:00Z', now)    // that instant
 */
import { UsageError } from '../../crdt/errors.js'
import { parseDuration } from '../config/values.js'

/** The start (ms since the epoch) of a `--since` window. */
export function parseSince (text: string, now: number): number {
  const t = text.trim()
  // A bare number has no unit to read back: `--since 30` is refused rather than taken as seconds.
  const secs = /^\d+(?:\.\d+)?$/.test(t) ? undefined : parseDuration(t)
  if (secs !== undefined) return now - Math.round(secs * 1000)
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const at = Date.parse(t)
    if (!Number.isNaN(at)) return at
  }
  throw new UsageError(`--since takes a duration such as 30d, 6h, 1h30m, 15m, or an ISO time; got '${text}'`, { value: text })
}
