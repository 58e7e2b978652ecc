// LEB128 reading and writing as Automerge's formats use it.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { skip, sleb, uleb, ulebBytes, type Cursor } from '../../crdt/leb128.js'

const cursor = (bytes: number[] | Uint8Array): Cursor => {
  const d = Uint8Array.from(bytes)
  return { d, at: 0, end: d.length }
}

describe('leb128', () => {
  it('reads back every unsigned number it writes, up to 2^53', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      const c = cursor(ulebBytes(n))
      return uleb(c) === n && c.at === c.end
    }))
    expect([...ulebBytes(300)]).toEqual([0xac, 0x02])
  })

  it('reads signed numbers as Automerge writes them', () => {
    const cases: Array<[number[], number]> = [
      [[0x00], 0],
      [[0x3f], 63],
      [[0x40], -64],
      [[0x7f], -1],
      [[0xc0, 0x00], 64],
      [[0xbf, 0x7f], -65],
      [[0x80, 0x7f], -128]
    ]
    for (const [bytes, value] of cases) expect(sleb(cursor(bytes))).toBe(value)
  })

  it('throws a RangeError past the end or after 8 bytes, and skip never moves past the end', () => {
    expect(() => uleb(cursor([0x80]))).toThrow(RangeError)
    expect(() => sleb(cursor([]))).toThrow(RangeError)
    expect(() => uleb(cursor(new Array(9).fill(0x80)))).toThrow(RangeError)
    const c = cursor([1, 2, 3])
    expect(() => skip(c, 4)).toThrow(RangeError)
    expect(c.at).toBe(0)
    skip(c, 3)
    expect(c.at).toBe(3)
  })
})
