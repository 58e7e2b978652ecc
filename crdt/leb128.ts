/**
 * LEB128 numbers, as Automerge's binary formats write them, read from a cursor. Every read stops
 * at the cursor's end and throws a RangeError past it or after 8 bytes (2^56: more than any
 * length here); callers turn that into their own answer (E_MALFORMED, or "not read here").
 *
 * @example
 * const c: Cursor = { d: bytes, at: 0, end: bytes.length }
 * const n = uleb(c); skip(c, n); const k = sleb(c)
 * ulebBytes(300)   // Uint8Array [0xac, 0x02]
 */

/** A read position in `d`, which reads never pass `end`. */
export interface Cursor { readonly d: Uint8Array, at: number, readonly end: number }

/** An unsigned LEB128 number. */
export function uleb (c: Cursor): number {
  let value = 0
  for (let i = 0; i < 8; i++) {
    if (c.at >= c.end) throw new RangeError('LEB128 number runs past the end')
    const b = c.d[c.at++]
    value += (b & 0x7f) * 2 ** (7 * i)
    if ((b & 0x80) === 0) return value
  }
  throw new RangeError('LEB128 number longer than 8 bytes')
}

/** A signed LEB128 number. */
export function sleb (c: Cursor): number {
  const from = c.at
  const value = uleb(c)
  const bits = 7 * (c.at - from)
  return (c.d[c.at - 1] & 0x40) !== 0 ? value - 2 ** bits : value
}

/** Moves past `n` bytes. */
export function skip (c: Cursor, n: number): void {
  if (n > c.end - c.at) throw new RangeError('skip runs past the end')
  c.at += n
}

/** `n` written as an unsigned LEB128 number. */
export function ulebBytes (n: number): Uint8Array {
  const out: number[] = []
  do {
    let b = n % 128
    n = Math.floor(n / 128)
    if (n > 0) b |= 0x80
    out.push(b)
  } while (n > 0)
  return Uint8Array.from(out)
}

/**
 * The values of a run-length encoded column of Automerge's binary format in `d[at, end)`: a
 * signed count n, then one value repeated n times (n > 0), -n literal values (n < 0), or a
 * uLEB128 count of nulls (n = 0; nulls as null). Each value is read by `value`. A RangeError for
 * an empty null run, or a run that would make more values than `d` has bytes (it would only
 * cost memory: no op of the intent log takes less than a byte).
 */
export function rleValues<T> (d: Uint8Array, at: number, end: number, value: (c: Cursor) => T): Array<T | null> {
  const c: Cursor = { d, at, end }
  const out: Array<T | null> = []
  while (c.at < c.end) {
    const n = sleb(c)
    if (n === 0) {
      const nulls = uleb(c)
      if (nulls === 0 || out.length + nulls > d.length) throw new RangeError('bad null run')
      for (let i = 0; i < nulls; i++) out.push(null)
      continue
    }
    if (out.length + Math.abs(n) > d.length) throw new RangeError('run too long')
    if (n > 0) {
      const v = value(c)
      for (let i = 0; i < n; i++) out.push(v)
    } else {
      for (let i = 0; i < -n; i++) out.push(value(c))
    }
  }
  return out
}
