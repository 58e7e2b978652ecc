/**
 * The intent log's Automerge document and the one shape of change it accepts.
 *
 * Every replica starts from the same fixed genesis change (actor all zeros, time 0) that creates
 * the `records` map, so two logs created apart share that map instead of each making its own
 * (two concurrent `records` maps would hide one side's records). After genesis, the only
 * acceptable operation is putting canonical record bytes under their own id in that map: no
 * deletes, no overwrites, no other objects. `recordPuts` enforces that on one decoded change;
 * `documentPuts` proves it for a whole document far faster, by counting.
 *
 * @example
 * const doc = genesisDoc('aa'.repeat(16))
 * recordPuts(A.decodeChange(change)) // [{ id, bytes }], or E_MALFORMED
 * documentPuts(A.getBackend(doc), A.getChangesMetaSince(doc, [])) // [{ id, bytes }], or undefined: not proven
 */
import * as A from '@automerge/automerge'
import type { Backend } from './automerge-sync.js'
import { fromHex } from './canonical.js'
import { BYTES_TYPE, documentOps } from './document-ops.js'
import { MalformedError } from './errors.js'
import type { RecordId } from './ids.js'
import { recordIdOf } from './record.js'

/** The document: record id → canonical signed record bytes. */
export interface IntentDoc {
  records: { [id: string]: Uint8Array }
}

/** The actor of the genesis change; no other change may use it. */
export const GENESIS_ACTOR = '00'.repeat(16)
/** Automerge object id of the `records` map, made by the genesis change. */
export const RECORDS_OBJ = `1@${GENESIS_ACTOR}`
/** Hash of the genesis change; pinned by a test. */
export const GENESIS_HASH = '85fe568adcea0e4851bc328609a493ced85e045051ce3463ceeb8edea13ad2ff'

// A.init({actor: GENESIS_ACTOR}) then change({time: 0}, d => { d.records = {} }), encoded. Kept
// as bytes so an Automerge upgrade that encodes differently cannot silently fork the team's log.
const GENESIS_CHANGE = fromHex('856f4a8385fe568a0132001000000000000000000000000000000000010100000005150934014202560270027f077265636f726473017f007f007f00')

/** A record put found in a change. */
export interface RecordPut {
  readonly id: RecordId
  readonly bytes: Uint8Array
}

/** Checks an actor id: lower-case hex, 1 to 32 bytes, not the genesis actor. */
export function parseActor (actorHex: string): string {
  if (!/^(?:[0-9a-f]{2}){1,32}$/.test(actorHex) || actorHex === GENESIS_ACTOR) {
    throw new MalformedError(`not a usable Automerge actor id: '${actorHex}'`, { actor: actorHex })
  }
  return actorHex
}

/** A document holding only the genesis change, writing as `actorHex`. */
export function genesisDoc (actorHex: string): A.Doc<IntentDoc> {
  const [doc] = A.applyChanges(A.init<IntentDoc>({ actor: parseActor(actorHex) }), [GENESIS_CHANGE])
  return doc
}

/**
 * The record puts of one decoded change; throws E_MALFORMED if the change does anything else.
 * Values must be bytes whose hex SHA-256 is their key, so a key names exactly one value and
 * concurrent puts of the same record can never disagree.
 */
export function recordPuts (change: A.DecodedChange): RecordPut[] {
  if (change.hash === GENESIS_HASH) return []
  const where = { change: change.hash, actor: change.actor, seq: change.seq }
  if (change.actor === GENESIS_ACTOR) throw new MalformedError(`change ${change.hash.slice(0, 12)} claims the genesis actor`, where)
  const puts: RecordPut[] = []
  change.ops.forEach((op, i) => {
    const bad = (why: string): never => { throw new MalformedError(`change ${change.hash.slice(0, 12)} op ${i}: ${why}`, { ...where, op: i }) }
    if (op.action === 'del') bad('deletes a key')
    if (op.action !== 'set') bad(`${op.action} is not allowed`)
    if (op.obj !== RECORDS_OBJ) bad('writes outside the records map')
    const raw = op as A.DecodedChange['ops'][number] & { insert?: boolean, elemId?: string }
    if (raw.insert !== undefined || raw.elemId !== undefined || typeof op.key !== 'string') bad('is not a map put')
    if (op.pred.length > 0) bad(`overwrites record ${op.key.slice(0, 12)}`)
    if (op.datatype !== undefined && op.datatype !== 'bytes') bad(`value is ${op.datatype}, not bytes`)
    const bytes = asBytes(op.value) ?? bad('value is not bytes')
    if (recordIdOf(bytes) !== op.key) bad(`key ${op.key.slice(0, 12)} is not the hash of its value`)
    puts.push({ id: op.key as RecordId, bytes })
  })
  return puts
}

// decodeChange reports a bytes value as an array of numbers (strings stay strings).
function asBytes (value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value
  if (!Array.isArray(value)) return undefined
  for (const b of value) if (!Number.isInteger(b) || b < 0 || b > 255) return undefined
  return Uint8Array.from(value as number[])
}

/**
 * The records of a whole document, if its history provably holds nothing but genesis and
 * record puts; undefined when that cannot be shown from the state (the caller then reads every
 * change). The proof counts: each op of each change uses one op counter, deletes and overwrites
 * included, and every visible record value is one op. So when the history holds exactly one op
 * (genesis) more than there are visible records, every other op is a put that still shows, and
 * the visible values are checked to be bytes under their own hash. "Bytes" means Automerge's
 * bytes type: a value of an unknown type code reads back as a Uint8Array too (from everything
 * but a per-key `getWithType`), and a peer that later gets its change on its own refuses it
 * (`recordPuts`). `loaded`: the document's chunk and its records map as just loaded
 * (`doc.records`), which saves reading the values out again and lets their types be proven from
 * the chunk (`documentOps`) instead of asked key by key (~0.1 s at 10,000 records).
 */
export function documentPuts (
  backend: Backend,
  metas: A.ChangeMetadata[],
  loaded?: { chunk: Uint8Array, values: Readonly<Record<string, unknown>> }
): RecordPut[] | undefined {
  const root = backend.keys('_root')
  if (root.length !== 1 || root[0] !== 'records') return undefined
  const records = backend.getWithType('_root', 'records')
  if (records === null || records[0] !== 'map' || records[1] !== RECORDS_OBJ) return undefined
  let ops = 0
  for (const m of metas) {
    if (m.actor === GENESIS_ACTOR && m.hash !== GENESIS_HASH) return undefined
    ops += Math.max(0, m.maxOp - m.startOp + 1)
  }
  // One call for every visible value (a call per key costs ~4x more at 10,000 records).
  const values = loaded?.values ?? backend.materialize(RECORDS_OBJ) as Record<string, unknown>
  const keys = Object.keys(values)
  if (ops !== keys.length + 1) return undefined
  const typed = loaded !== undefined && bytesTyped(loaded.chunk, values, keys.length)
  const puts: RecordPut[] = []
  for (const key of keys) {
    const value = values[key]
    if (!(value instanceof Uint8Array) || recordIdOf(value) !== key) return undefined
    if (!typed && backend.getWithType(RECORDS_OBJ, key)?.[0] !== 'bytes') return undefined
    puts.push({ id: key as RecordId, bytes: value })
  }
  return puts
}

// Whether the chunk's ops, as its columns state them, are the genesis op (key 'records', no
// value) and one bytes-typed value for each of the `visible` keys of `values`, byte for byte
// the value the load shows. Together with the op count above, every visible value is then of
// the bytes type. False (ask key by key) for a chunk not read here, such as a compressed one.
function bytesTyped (chunk: Uint8Array, values: Readonly<Record<string, unknown>>, visible: number): boolean {
  const ops = documentOps(chunk)
  if (ops === undefined || ops.length !== visible + 1) return false
  const seen = new Set<string>()
  let genesis = 0
  for (const op of ops) {
    if (op.type === BYTES_TYPE && op.key !== null && !seen.has(op.key) && Object.hasOwn(values, op.key)) {
      const value = values[op.key]
      if (!(value instanceof Uint8Array) || !sameBytes(value, op.bytes)) return false
      seen.add(op.key)
    } else if (op.type === 0 && op.key === 'records' && op.bytes.length === 0) {
      genesis++
    } else {
      return false
    }
  }
  return genesis === 1 && seen.size === visible
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}
