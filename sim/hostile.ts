/**
 * What the wider adversary puts on the wire (issue 16 item 6), built by hand the way hostile
 * software would, since the production encoders refuse to make most of it: chain entries and
 * beacons that claim the Mothership's key (or carry a retired one's), intent-log changes under
 * another member's actor or on a dependency nobody holds, and a frame past the frame limit.
 * Pure: every byte comes from the arguments (keys, heads, times), so runs stay deterministic.
 *
 * @example
 * const b64 = forgedEntry(victimHead, mothershipId, malloryKey, strangerPub, 'bad-signature')
 * link.send(encodeMessage({ t: 'chain', entries: [b64] }))
 */
import * as A from '@automerge/automerge'
import { admitEntry, encodeEntry, type Head } from '../crdt/authority-chain.js'
import { encodeBeacon, makeBeacon } from '../crdt/beacon.js'
import { canonicalString, toB64u } from '../crdt/canonical.js'
import { changeBody } from '../crdt/change-auth.js'
import { sign, type KeyPair } from '../crdt/crypto.js'
import { GENESIS_HASH, genesisDoc, RECORDS_OBJ } from '../crdt/intent-doc.js'
import type { KeyId } from '../crdt/ids.js'
import type { EncodedRecord } from '../crdt/record.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../node/sync/frame.js'

/**
 * A chain entry after `head` admitting `subjectPub` as an admin: `bad-signature` names the
 * Mothership key as its signer but is signed with `key`; `own-key` is honestly signed by `key`,
 * which is no Mothership key. Base64url canonical bytes, as a `chain` message carries them.
 */
export function forgedEntry (
  head: Head,
  mothershipId: KeyId,
  key: KeyPair,
  subjectPub: Uint8Array,
  form: 'bad-signature' | 'own-key',
  ts: number
): string {
  const entry = admitEntry(key, head, { pub: toB64u(subjectPub), user: 'admin2', role: 'admin', jti: null, ts })
  return toB64u(encodeEntry(form === 'own-key' ? entry : { ...entry, signer: mothershipId }))
}

/** A beacon for `head` dated `ts`, signed with `key`, which it names as its signer (a retired Mothership key). */
export function signedBeacon (team: string, head: Head, ts: number, key: KeyPair): string {
  return toB64u(encodeBeacon(makeBeacon({ team, headSeq: head.seq, headHash: head.hash, ts }, key)))
}

/** A beacon for `head` dated `ts` naming the Mothership key as its signer, signed with `key`. */
export function forgedBeacon (team: string, head: Head, ts: number, mothershipId: KeyId, key: KeyPair): string {
  const beacon = makeBeacon({ team, headSeq: head.seq, headHash: head.hash, ts }, key)
  return toB64u(encodeBeacon({ ...beacon, signer: mothershipId }))
}

/**
 * An Automerge sync message carrying one change of `actor` that puts `record`, its writer
 * signature made with `key` over exactly its header (so the only fault is the one asked for).
 * With `phantom`, a first change putting it is made and kept back: the change sent depends on
 * a change nobody else holds. Without, the change is the actor's first, on genesis.
 */
export function handChange (
  actor: string,
  record: EncodedRecord,
  key: KeyPair,
  timeMs: number,
  phantom?: EncodedRecord
): Uint8Array {
  const backend = A.getBackend(genesisDoc(actor))
  const time = Math.floor(timeMs / 1000)
  let head = { seq: 0, maxOp: 1, hash: GENESIS_HASH }
  for (const rec of phantom === undefined ? [record] : [phantom, record]) {
    const header = { actor, seq: head.seq + 1, startOp: head.maxOp + 1, time, deps: [head.hash] }
    const message = canonicalString({ pub: toB64u(key.publicKey), sig: toB64u(sign('change', changeBody(header, [rec.id]), key)) })
    backend.put(RECORDS_OBJ, rec.id, rec.bytes, 'bytes')
    const hash = backend.commit(message, time) as string
    head = { seq: header.seq, maxOp: header.startOp, hash }
  }
  const change = backend.getChangeByHash(head.hash) as Uint8Array
  return A.encodeSyncMessage({ heads: [head.hash], need: [], have: [], changes: [change] })
}

/** An intent-log frame one byte past the default frame limit (its body is zeros). */
export function oversizedFrame (): Uint8Array {
  const frame = new Uint8Array(DEFAULT_MAX_FRAME_BYTES + 1)
  frame[0] = 0x02
  return frame
}
