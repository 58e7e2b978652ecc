/**
 * An intent-log document of many writers, built fast for the benchmarks: each writer's records
 * go in changes of its own (`perChange` records each), under an actor bound to its key and
 * signed as `IntentLog.append` signs them (crdt/change-auth.ts). Each writer's changes form a
 * chain of their own (each depends on the writer's previous change): writers that wrote
 * concurrently and never saw each other's changes. The document is then every writer's
 * history loaded into one.
 *
 * Why not writers that take turns, each depending on the newest change of the whole document
 * (this builder until 2026-12-08): every writer then has to follow the whole document, and
 * Automerge's `getChanges` and `applyChanges` cost grows with it, so the build was quadratic
 * (2,000 records 2.6 s, 4,000 10.2 s, 8,000 37.6 s; 100,000 did not finish in the bench's
 * 300 s). Built this way: 20,000 in 3.8 s, 50,000 in 12.4 s.
 *
 * @example
 * const doc = buildSignedDocument(records, 10, (signer) => keys.get(signer)!) // Uint8Array, as IntentLog.save() writes
 */
import * as A from '@automerge/automerge'
import { signChange, writerActor } from '../../crdt/change-auth.js'
import type { KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, type KeyId } from '../../crdt/ids.js'
import { genesisDoc, RECORDS_OBJ } from '../../crdt/intent-doc.js'
import { decodeRecord } from '../../crdt/record.js'

/** The whole document (saved without DEFLATE) holding `records`, each in a change of its signer. */
export function buildSignedDocument (
  records: readonly Uint8Array[],
  perChange: number,
  keyOf: (signer: KeyId) => KeyPair,
  timeMs = 1_700_000_000_000
): Uint8Array {
  const bySigner = new Map<KeyId, Array<{ id: string, bytes: Uint8Array }>>()
  for (const bytes of records) {
    const { id, record } = decodeRecord(bytes)
    let list = bySigner.get(record.signer)
    if (list === undefined) {
      list = []
      bySigner.set(record.signer, list)
    }
    list.push({ id, bytes })
  }
  const main = A.getBackend(genesisDoc('aa'.repeat(16)))
  for (const [signer, list] of bySigner) {
    const key = keyOf(signer)
    const actor = writerActor(keyIdOf(key.publicKey), 'bb'.repeat(16))
    const backend = A.getBackend(genesisDoc(actor))
    let seq = 0
    for (let at = 0, round = 0; at < list.length; at += perChange, round++) {
      const batch = list.slice(at, at + perChange)
      const deps = backend.getHeads()
      const startOp = Math.max(...deps.map((h) => backend.getChangeMetaByHash(h)?.maxOp ?? 0)) + 1
      const time = Math.floor((timeMs + round * 1000) / 1000)
      const message = signChange({ actor, seq: ++seq, startOp, time, deps }, batch.map((r) => r.id), key)
      for (const r of batch) backend.put(RECORDS_OBJ, r.id, r.bytes, 'bytes')
      backend.commit(message, time)
    }
    // The writer's whole history at once: copying each change out (getLastLocalChange) made
    // the build spend most of its time in garbage collection (50,000 records: 95 s, now 12 s).
    main.loadIncremental(backend.saveNoCompress())
  }
  return main.saveNoCompress()
}
