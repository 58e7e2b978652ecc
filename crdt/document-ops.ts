/**
 * The ops of an Automerge document chunk as its columns state them: each op's string key (or
 * null), value type code and value bytes, read without loading the chunk. `documentPuts` uses
 * it to prove that every value of a loaded document is of Automerge's bytes type (a value of an
 * unknown type code reads back as bytes too, from every other API but a per-key `getWithType`,
 * which costs ~10 µs a key), cross-checked value by value against what the load shows.
 *
 * A document chunk (Automerge binary format): magic, checksum, type 0, uLEB128 length, then
 * actors, heads, the change and op column metadata (spec, length), the change columns and the
 * op columns. Column specs are `id << 4 | type`, bit 3 set when DEFLATE-compressed. The key
 * string column is 1:5, the value metadata column 5:6 (`length << 4 | type code`, 7 = bytes,
 * 0 = null), the raw value column 5:7 (the values one after another). Strings and value
 * metadata are run-length encoded: a signed count n, then one value repeated n times (n > 0),
 * -n literal values (n < 0), or a uLEB128 count of nulls (n = 0).
 *
 * Undefined for anything not read here: a compressed column (a document saved by `save()`), a
 * column spec given twice, columns out of order, or bytes that do not add up.
 *
 * @example
 * documentOps(chunk)   // [{ key: 'records', type: 0, bytes }, { key: '3f…', type: 7, bytes }, …]
 */

import { rleValues, skip, uleb, type Cursor } from './leb128.js'

/** One op as the chunk states it. */
export interface DocumentOp {
  readonly key: string | null
  /** Automerge value type code: 0 null, 6 string, 7 bytes, 10–15 unknown, … */
  readonly type: number
  readonly bytes: Uint8Array
}

/** Automerge's value type code for bytes. */
export const BYTES_TYPE = 7

const KEY_STRING = 1 << 4 | 5
const VALUE_META = 5 << 4 | 6
const VALUE_RAW = 5 << 4 | 7
const DEFLATED = 8

/** The ops of `chunk`, in column order; undefined when not read here. */
export function documentOps (chunk: Uint8Array): DocumentOp[] | undefined {
  try {
    return read(chunk)
  } catch {
    return undefined
  }
}

function read (d: Uint8Array): DocumentOp[] | undefined {
  if (d.length < 10 || d[8] !== 0) return undefined
  const c: Cursor = { d, at: 9, end: d.length }
  const length = uleb(c)
  if (c.at + length !== d.length) return undefined
  const actors = uleb(c)
  for (let i = 0; i < actors; i++) skip(c, uleb(c))
  skip(c, 32 * uleb(c))
  const changeColumns = columns(c)
  const opColumns = columns(c)
  let at = c.at
  for (const col of changeColumns) at += col.len
  const where = new Map<number, { at: number, len: number }>()
  let previous = -1
  for (const col of opColumns) {
    // Automerge writes op columns once each, in ascending order of spec.
    if ((col.spec & DEFLATED) !== 0 || col.spec <= previous) return undefined
    previous = col.spec
    where.set(col.spec, { at, len: col.len })
    at += col.len
  }
  if (at > d.length) return undefined
  const keys = where.get(KEY_STRING)
  const meta = where.get(VALUE_META)
  const raw = where.get(VALUE_RAW)
  if (keys === undefined || meta === undefined || raw === undefined) return undefined
  const keyOf = runs(d, keys, (k) => {
    const n = uleb(k)
    const s = TEXT.decode(d.subarray(k.at, k.at + n))
    skip(k, n)
    return s
  })
  const metaOf = runs(d, meta, uleb)
  if (keyOf.length !== metaOf.length) return undefined
  const out: DocumentOp[] = []
  let value = raw.at
  for (let i = 0; i < metaOf.length; i++) {
    const m = metaOf[i] ?? 0
    const len = Math.floor(m / 16)
    if (value + len > raw.at + raw.len) return undefined
    out.push({ key: keyOf[i], type: m % 16, bytes: d.subarray(value, value + len) })
    value += len
  }
  return value === raw.at + raw.len ? out : undefined
}

const TEXT = new TextDecoder('utf-8', { fatal: true })

function columns (c: Cursor): Array<{ spec: number, len: number }> {
  const n = uleb(c)
  if (n > c.end - c.at) throw new RangeError('column count')
  const out: Array<{ spec: number, len: number }> = []
  for (let i = 0; i < n; i++) out.push({ spec: uleb(c), len: uleb(c) })
  return out
}

// A run-length encoded column, values read by `value` (leb128.ts rleValues).
function runs<T> (d: Uint8Array, col: { at: number, len: number }, value: (c: Cursor) => T): Array<T | null> {
  return rleValues(d, col.at, col.at + col.len, value)
}
