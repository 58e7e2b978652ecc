/**
 * The record puts of an Automerge change chunk, read from its columns without Automerge: the
 * staged merge's fast path. `A.decodeChange` turns every byte of a bytes value into a JS number
 * in an array: reading a member's flood of 20,000 records took it 1.1 s on an idle core and
 * tens of MB of garbage, 5.6-7.6 s of each honest daemon's CPU over the attack.
 *
 * Strict: the answer is given only for a change that is provably N puts of bytes values into
 * the records map (`RECORDS_OBJ`) under string keys, none overwriting anything; anything else,
 * or anything not read here (an unknown or repeated column, columns out of order, a column with
 * more or fewer values than the change has ops, a value of another type, a bad checksum), is
 * undefined, and the caller reads the change with Automerge (`recordPuts` then names the fault).
 * The checks `recordPuts` makes of each put (the key is the hash of its value) are the caller's,
 * on either path.
 *
 * A change chunk (Automerge binary format): magic (4), checksum (4: the first bytes of the
 * SHA-256 of what follows), type 1, uLEB128 length; then the dependencies (count, 32-byte
 * hashes), the author (length, bytes), seq, start op, time (sLEB128), message (length, UTF-8),
 * the other actors (count; each length, bytes), the op column metadata (count; spec, length),
 * the columns, and extra bytes. A column spec is `id << 4 | type`, bit 3 set when DEFLATE'd
 * (never inside a change chunk). Op columns: obj 0 (actor, counter), key 1 (actor, delta
 * counter, string), insert 3 (boolean), action 4 (integer; 1 = put), value 5 (metadata:
 * `length << 4 | type`, 7 = bytes; raw), pred 7 (group: count per op; actor; delta counter),
 * expand 9 (boolean), mark name 10 (string). Integers and strings are run-length encoded (a
 * signed count n, then one value repeated n times (n > 0), -n literal values (n < 0), or a
 * uLEB128 count of nulls (n = 0)); a boolean column is uLEB128 run lengths, alternating, from
 * false. An absent column reads as nulls (obj null is the root: so obj must be present).
 *
 * @example
 * const fast = changePuts(plainChunk)   // { hash, actor, seq, ..., puts: [{ id, bytes }] } | undefined
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { toHex } from './canonical.js'
import { GENESIS_ACTOR } from './intent-doc.js'
import { rleValues, skip, sleb, uleb, type Cursor } from './leb128.js'

/** A change read by `changePuts`: its metadata as `A.decodeChange` gives it, and its puts. */
export interface ChangePuts {
  readonly hash: string
  readonly actor: string
  readonly seq: number
  readonly startOp: number
  readonly time: number
  readonly message: string | null
  readonly deps: string[]
  readonly puts: Array<{ id: string, bytes: Uint8Array }>
}

const CHANGE_CHUNK = 1
const OBJ_ACTOR = 0x01
const OBJ_CTR = 0x02
const KEY_ACTOR = 0x11
const KEY_CTR = 0x13
const KEY_STR = 0x15
const INSERT = 0x34
const ACTION = 0x42
const VAL_META = 0x56
const VAL_RAW = 0x57
const PRED_GROUP = 0x70
const PRED_ACTOR = 0x71
const PRED_CTR = 0x73
const EXPAND = 0x94
const MARK_NAME = 0xa5
const KNOWN = new Set([
  OBJ_ACTOR,
  OBJ_CTR,
  KEY_ACTOR,
  KEY_CTR,
  KEY_STR,
  INSERT,
  ACTION,
  VAL_META,
  VAL_RAW,
  PRED_GROUP,
  PRED_ACTOR,
  PRED_CTR,
  EXPAND,
  MARK_NAME
])
const PUT = 1
const BYTES = 7
const TEXT = new TextDecoder('utf-8', { fatal: true })

/** The puts of an uncompressed change chunk, or undefined when not provably pure puts (see above). */
export function changePuts (chunk: Uint8Array): ChangePuts | undefined {
  try {
    return read(chunk)
  } catch {
    return undefined
  }
}

function read (d: Uint8Array): ChangePuts | undefined {
  if (d.length < 10 || d[8] !== CHANGE_CHUNK) return undefined
  const digest = sha256(d.subarray(8))
  for (let i = 0; i < 4; i++) if (d[4 + i] !== digest[i]) return undefined
  const c: Cursor = { d, at: 9, end: d.length }
  const length = uleb(c)
  if (c.at + length !== d.length) return undefined
  const deps: string[] = []
  const ndeps = uleb(c)
  if (ndeps > (c.end - c.at) / 32) return undefined
  for (let i = 0; i < ndeps; i++) { deps.push(toHex(d.subarray(c.at, c.at + 32))); skip(c, 32) }
  const actors = [bytesOf(c)]
  const seq = uleb(c)
  const startOp = uleb(c)
  if (startOp === 0) return undefined
  const time = sleb(c)
  const message = TEXT.decode(bytesOf(c))
  const others = uleb(c)
  if (others > c.end - c.at) return undefined
  for (let i = 0; i < others; i++) actors.push(bytesOf(c))
  const actorHex = actors.map((a) => toHex(a))
  if (actorHex[0] === GENESIS_ACTOR) return undefined
  const ncols = uleb(c)
  if (ncols > KNOWN.size) return undefined
  const cols = new Map<number, { at: number, end: number }>()
  const specs: Array<{ spec: number, len: number }> = []
  for (let i = 0; i < ncols; i++) specs.push({ spec: uleb(c), len: uleb(c) })
  let at = c.at
  let previous = -1
  for (const { spec, len } of specs) {
    if (!KNOWN.has(spec) || spec <= previous) return undefined
    previous = spec
    if (len > d.length - at) return undefined
    cols.set(spec, { at, end: at + len })
    at += len
  }
  const keys = column(d, cols.get(KEY_STR), (k) => TEXT.decode(bytesOf(k)))
  const n = keys.length
  if (n === 0 || keys.some((k) => k === null)) return undefined
  // The records map, 1@genesis, for every op.
  const objActor = column(d, cols.get(OBJ_ACTOR), uleb)
  const objCtr = column(d, cols.get(OBJ_CTR), uleb)
  if (objActor.length !== n || objCtr.length !== n) return undefined
  for (let i = 0; i < n; i++) {
    if (objCtr[i] !== 1 || objActor[i] === null || actorHex[objActor[i] as number] !== GENESIS_ACTOR) return undefined
  }
  // Map keys: no key actor or counter (those are list positions).
  if (!allNull(d, cols.get(KEY_ACTOR), n, uleb) || !allNull(d, cols.get(KEY_CTR), n, sleb)) return undefined
  if (!allFalse(d, cols.get(INSERT), n) || !allFalse(d, cols.get(EXPAND), n)) return undefined
  if (!allNull(d, cols.get(MARK_NAME), n, (k) => bytesOf(k))) return undefined
  const actions = column(d, cols.get(ACTION), uleb)
  if (actions.length !== n || actions.some((a) => a !== PUT)) return undefined
  // Nothing overwritten: every pred group empty, and no pred actor or counter at all.
  const preds = cols.get(PRED_GROUP) === undefined ? [] : column(d, cols.get(PRED_GROUP), uleb)
  if ((preds.length !== 0 && preds.length !== n) || preds.some((p) => p !== 0)) return undefined
  if (!empty(cols.get(PRED_ACTOR)) || !empty(cols.get(PRED_CTR))) return undefined
  const meta = column(d, cols.get(VAL_META), uleb)
  const raw = cols.get(VAL_RAW)
  if (meta.length !== n || raw === undefined) return undefined
  const puts: Array<{ id: string, bytes: Uint8Array }> = []
  let value = raw.at
  for (let i = 0; i < n; i++) {
    const m = meta[i]
    if (m === null || m % 16 !== BYTES) return undefined
    const len = Math.floor(m / 16)
    if (value + len > raw.end) return undefined
    puts.push({ id: keys[i] as string, bytes: d.slice(value, value + len) })
    value += len
  }
  if (value !== raw.end) return undefined
  return { hash: toHex(digest), actor: actorHex[0], seq, startOp, time, message: message === '' ? null : message, deps, puts }
}

function bytesOf (c: Cursor): Uint8Array {
  const n = uleb(c)
  const out = c.d.subarray(c.at, c.at + n)
  skip(c, n)
  return out
}

function empty (col: { at: number, end: number } | undefined): boolean {
  return col === undefined || col.at === col.end
}

// A run-length encoded column's values (leb128.ts rleValues); none when absent.
function column<T> (
  d: Uint8Array,
  col: { at: number, end: number } | undefined,
  value: (c: Cursor) => T
): Array<T | null> {
  return col === undefined ? [] : rleValues(d, col.at, col.end, value)
}

// Absent, or exactly `n` nulls.
function allNull<T> (
  d: Uint8Array,
  col: { at: number, end: number } | undefined,
  n: number,
  value: (c: Cursor) => T
): boolean {
  if (empty(col)) return true
  const values = column(d, col, value)
  return values.length === n && values.every((v) => v === null)
}

// A boolean column: absent, or runs that make exactly `n` values, all false (one run of n).
function allFalse (d: Uint8Array, col: { at: number, end: number } | undefined, n: number): boolean {
  if (empty(col)) return true
  const c: Cursor = { d, at: col!.at, end: col!.end }
  const falses = uleb(c)
  return c.at === c.end && falses === n
}
