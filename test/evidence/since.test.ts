import { describe, expect, it } from 'vitest'
import { parseSince } from '../../node/evidence/since.js'
import { parseDuration } from '../../node/config/values.js'

const NOW = Date.parse('2026-12-07T12:00:00Z')

describe('--since', () => {
  it('reads the same durations as config and --ttl, compound ones included', () => {
    for (const d of ['30d', '6h', '15m', '90s', '1h30m', '2w', '1d12h']) {
      expect(parseSince(d, NOW), d).toBe(NOW - parseDuration(d)! * 1000)
    }
    expect(parseSince('1h30m', NOW)).toBe(NOW - 90 * 60_000)
  })

  it('reads an ISO time as that instant', () => {
    expect(parseSince('2026-04-21T00:00:00Z', NOW)).toBe(Date.parse('2026-04-21T00:00:00Z'))
  })

  it('refuses what it cannot read, a bare number included, with E_USAGE', () => {
    for (const bad of ['30', 'yesterday', '5 parsecs', '1h30', '', '2026-13-45']) {
      expect(() => parseSince(bad, NOW), bad).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
    }
  })
})
