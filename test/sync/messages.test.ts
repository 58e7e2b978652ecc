// Wire form of the sync messages: one tag byte, then RFC 8785 JSON (control) or raw Automerge
// bytes. The encoder writes keys in sorted order itself; the bytes are the library's.
import canonicalize from 'canonicalize'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, type SyncMessage } from '../../node/sync/messages.js'

const hash = 'ab'.repeat(32)
const samples: SyncMessage[] = [
  { t: 'hello', v: 1, team: 'acme', head: { seq: 3, hash }, beacon: null },
  { t: 'hello', v: 1, team: 'équipe "ü" \\ 𝄞', head: { seq: 0, hash }, beacon: 'AbC-_9' },
  { t: 'heads', head: { seq: 12, hash }, beacon: 'eyJ2IjoxfQ' },
  { t: 'heads', head: { seq: 2 ** 40, hash }, beacon: null },
  { t: 'chain', entries: [] },
  { t: 'chain', entries: ['eyJhIjoxfQ', 'eyJiIjoyfQ'] },
  { t: 'beacon', beacon: 'eyJ0cyI6MX0' },
  { t: 'refused', code: 'E_STALE', message: 'no fresh beacon\n"quoted"' }
]

describe('encodeMessage', () => {
  it('writes the canonical JSON the canonicalize library writes, and decodes back to the message', () => {
    for (const m of samples) {
      const bytes = encodeMessage(m)
      expect(bytes[0]).toBe(0x01)
      expect(Buffer.from(bytes.subarray(1)).toString('utf8')).toBe((canonicalize as unknown as (v: unknown) => string)(m))
      expect(decodeMessage(bytes)).toEqual(m)
    }
  })
})

describe('decodeMessage: heads', () => {
  const frame = (v: unknown): Uint8Array => {
    const body = Buffer.from((canonicalize as unknown as (v: unknown) => string)(v), 'utf8')
    return Uint8Array.from([0x01, ...body])
  }
  const code = (v: unknown): string | null => {
    try { decodeMessage(frame(v)); return null } catch (err) { return (err as { code: string }).code }
  }
  it('accepts exactly the heads messages the schema describes', () => {
    expect(code({ t: 'heads', head: { seq: 0, hash }, beacon: null })).toBeNull()
    expect(code({ t: 'heads', head: { seq: 9, hash }, beacon: '' })).toBeNull()
    const bad: unknown[] = [
      { t: 'heads', head: { seq: 1, hash }, beacon: null, extra: 1 },
      { t: 'heads', head: { seq: 1, hash } },
      { t: 'heads', head: { seq: 1, hash }, beacon: 5 },
      { t: 'heads', head: { seq: 1, hash }, beacon: 'a+b' },
      { t: 'heads', head: { seq: -1, hash }, beacon: null },
      { t: 'heads', head: { seq: 1.5, hash }, beacon: null },
      { t: 'heads', head: { seq: 1, hash: hash.toUpperCase() }, beacon: null },
      { t: 'heads', head: { seq: 1, hash, more: 0 }, beacon: null },
      { t: 'heads', head: [1, hash], beacon: null },
      { t: 'heads', head: null, beacon: null },
      { t: 'headz', head: { seq: 1, hash }, beacon: null }
    ]
    for (const v of bad) expect(code(v)).toBe('E_MALFORMED')
  })
})
