import { describe, expect, it } from 'vitest'
import { layout, pad, parseRecKey, parseTrailingNumber, unpad } from '../../node/store/layout.js'
import type { KeyId, RecordId, Jti } from '../../crdt/ids.js'

const signer = 'ab'.repeat(32) as KeyId
const id = 'cd'.repeat(32) as RecordId

describe('layout', () => {
  it('pads numbers so byte order is numeric order', () => {
    const ns = [0, 1, 9, 10, 99, 100, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]
    const keys = ns.map((n) => layout.chain(n))
    expect([...keys].sort()).toEqual(keys)
    expect(keys.map(parseTrailingNumber)).toEqual(ns)
    expect(layout.chain(7)).toBe('chain/0000000000000007')
  })

  it('refuses numbers and components that would break the order or the key shape', () => {
    for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) expect(() => pad(bad)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => unpad('12')).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => layout.rec('ab/cd' as KeyId, 1, id)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => layout.join('tk_/x' as Jti, 1, 1)).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
    expect(() => layout.fork(1, 'xyz')).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })

  it('round-trips record index keys', () => {
    const key = layout.rec(signer, 42, id)
    expect(key).toBe(`rec/${signer}/0000000000000042/${id}`)
    expect(key.startsWith(layout.recSigner(signer))).toBe(true)
    expect(parseRecKey(key)).toEqual({ signer, seq: 42, id })
    expect(() => parseRecKey('rec/x')).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })

  it('puts audit events of one ms between auditFrom(ts) and auditFrom(ts + 1)', () => {
    const k = layout.audit(1000, 5)
    expect(k >= layout.auditFrom(1000) && k < layout.auditFrom(1001)).toBe(true)
  })
})
