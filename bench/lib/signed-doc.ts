/**
 * An intent-log document of many writers, built fast for the benchmarks: each writer's records
 * go in changes of its own (`perChange` records each), under an actor bound to its key and
 * signed as `IntentLog.append` signs them (crdt/change-auth.ts), with the writers taking turns.
 * One Automerge backend per writer follows the shared document, so no document is cloned per
 * change (what `IntentLog.append` would do when one log writes for many keys).
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
    if (list === undefined) { list = []; bySigner.set(record.signer, list) }
    list.push({ id, bytes })
  }
  const main = A.getBackend(genesisDoc('aa'.repeat(16)))
  const writers = [...bySigner.entries()].map(([signer, list]) => {
    const key = keyOf(signer)
    const actor = writerActor(keyIdOf(key.publicKey), 'bb'.repeat(16))
    return {
      key,
      actor,
      list,
      at: 0,
      seq: 0,
      last: undefined as string | undefined,
      backend: A.getBackend(genesisDoc(actor))
    }
  })
  for (let round = 0; writers.some((w) => w.at < w.list.length); round++) {
    for (const w of writers) {
      if (w.at >= w.list.length) continue
      w.backend.applyChanges(main.getChanges(w.backend.getHeads()))
      const batch = w.list.slice(w.at, w.at + perChange)
      w.at += batch.length
      const heads = w.backend.getHeads()
      const deps = w.last === undefined || heads.includes(w.last) ? heads : [...heads, w.last]
      const startOp = Math.max(...heads.map((h) => w.backend.getChangeMetaByHash(h)?.maxOp ?? 0)) + 1
      const time = Math.floor((timeMs + round * 1000) / 1000)
      const message = signChange({ actor: w.actor, seq: ++w.seq, startOp, time, deps }, batch.map((r) => r.id), w.key)
      for (const r of batch) w.backend.put(RECORDS_OBJ, r.id, r.bytes, 'bytes')
      w.last = w.backend.commit(message, time) ?? undefined
      main.applyChanges([w.backend.getLastLocalChange() as Uint8Array])
    }
  }
  return main.saveNoCompress()
}
