// The staged merge's fast reader of change chunks (crdt/change-puts.ts) against Automerge's own
// decoder: on every change the intent log writes it must read exactly what `A.decodeChange` and
// `recordPuts` read, and on damaged or foreign chunks it must either say the same or nothing
// (undefined: the caller then asks Automerge). Mutation checks show a reader that skips a rule
// is caught.
import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { sha256 } from '@noble/hashes/sha2.js'
import { changePuts } from '../../crdt/change-puts.js'
import { GENESIS_ACTOR, RECORDS_OBJ, recordPuts } from '../../crdt/intent-doc.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { actorOf, appendAs, Writer } from './record-fixtures.js'

function changesOf (log: IntentLog): Uint8Array[] {
  return A.getBackend((log as unknown as { doc: A.Doc<unknown> }).doc).getChanges([]).map((c) => A.decodeChange(c).hash === '' ? c : c)
}

// A change chunk as Automerge's decoder reads it, in change-puts' shape: its puts when every op
// is a put of a bytes value under a string key into the records map, overwriting nothing (the
// structure `recordPuts` demands; the key-is-hash check stays the caller's on both paths);
// 'not-puts' otherwise, undefined if Automerge cannot decode it.
function automergeReads (chunk: Uint8Array): unknown {
  let decoded: A.DecodedChange
  try { decoded = A.decodeChange(chunk) } catch { return undefined }
  const puts: Array<{ id: string, bytes: number[] }> = []
  for (const op of decoded.ops) {
    const raw = op as typeof op & { insert?: boolean, elemId?: string }
    const bytes = op.value instanceof Uint8Array
      ? Array.from(op.value)
      : Array.isArray(op.value) ? op.value as number[] : undefined
    if (op.action !== 'set' || op.obj !== RECORDS_OBJ || typeof op.key !== 'string' || raw.insert !== undefined || raw.elemId !== undefined || op.pred.length > 0 || (op.datatype !== undefined && op.datatype !== 'bytes') || bytes === undefined) return 'not-puts'
    puts.push({ id: op.key, bytes })
  }
  if (puts.length === 0 || decoded.actor === GENESIS_ACTOR) return 'not-puts'
  return {
    hash: decoded.hash,
    actor: decoded.actor,
    seq: decoded.seq,
    startOp: decoded.startOp,
    time: decoded.time,
    message: decoded.message ?? null,
    deps: [...decoded.deps],
    puts
  }
}

function fastReads (chunk: Uint8Array): unknown {
  const f = changePuts(chunk)
  return f === undefined ? undefined : { ...f, puts: f.puts.map((p) => ({ id: p.id, bytes: Array.from(p.bytes) })) }
}

function sampleLog (): IntentLog {
  const log = IntentLog.create(actorOf('carrier'))
  const w = new Writer('alice')
  const v = new Writer('vera')
  for (let i = 0; i < 6; i++) appendAs(log, Array.from({ length: 1 + i * 7 }, (_, k) => (k % 2 === 0 ? w : v).write(`intent ${i}.${k} ${'é'.repeat(k)}`)), 1_700_000_000_000 + i)
  return log
}

describe('changePuts', () => {
  it('reads every change the intent log writes exactly as Automerge and recordPuts do', () => {
    const chunks = changesOf(sampleLog()).slice(1)
    expect(chunks.length).toBeGreaterThan(5)
    for (const c of chunks) {
      const fast = fastReads(c)
      expect(fast).toBeDefined()
      expect(fast).toEqual(automergeReads(c))
      expect(fast).toEqual({
        ...(fast as object),
        puts: recordPuts(A.decodeChange(c)).map((p) => ({ id: p.id, bytes: Array.from(p.bytes) }))
      })
    }
  })

  it('gives no answer for the genesis change, and on 3,000 damaged chunks never disagrees with Automerge', () => {
    const all = changesOf(sampleLog())
    expect(changePuts(all[0])).toBeUndefined()
    let seed = 12345
    const rand = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n }
    let answered = 0
    for (let t = 0; t < 3000; t++) {
      const c = all[1 + rand(all.length - 1)].slice()
      const flips = 1 + rand(3)
      for (let k = 0; k < flips; k++) c[8 + rand(c.length - 8)] ^= 1 << rand(8)
      // The checksum made right again (most of the time), so the damage reaches the column readers.
      if (rand(10) > 0) c.set(sha256(c.subarray(8)).subarray(0, 4), 4)
      const fast = fastReads(c)
      if (fast === undefined) continue
      answered++
      expect(fast).toEqual(automergeReads(c))
    }
    console.log(`changePuts answered ${answered} of 3000 damaged chunks (each the same as Automerge)`)
  })

  it('gives no answer for a change that is not pure record puts (each rule seen to matter)', () => {
    const log = sampleLog()
    const doc = (log as unknown as { doc: A.Doc<{ records: Record<string, unknown>, [k: string]: unknown }> }).doc
    const key = log.ids()[0]
    const cases: Record<string, (d: { records: Record<string, unknown>, [k: string]: unknown }) => void> = {
      overwrite: (d) => { d.records[key] = new Uint8Array([1, 2, 3]) },
      delete: (d) => { delete d.records[key] },
      'put at the root': (d) => { d.other = new Uint8Array([1]) },
      'string value': (d) => { d.records.abc = 'not bytes' },
      'nested object': (d) => { d.records.abc = { x: 1 } }
    }
    for (const [name, edit] of Object.entries(cases)) {
      const next = A.change(A.clone(doc, { actor: actorOf('edit') }), edit)
      const chunk = A.getLastLocalChange(next)!
      expect(fastReads(chunk), name).toBeUndefined()
      expect(automergeReads(chunk), name).toBe('not-puts')
      expect(() => recordPuts(A.decodeChange(chunk)), name).toThrow()
    }
  })
})
