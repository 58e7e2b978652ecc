/**
 * Shared test fixtures for records, the intent log and the effective view: deterministic keys,
 * a record writer that keeps each signer's seq/prev chain, a two-log sync driver, and a small
 * in-memory AuthorityView.
 */
import * as A from '@automerge/automerge'
import type { AuthorityView, Cut, KeyRevocation, Member } from '../../crdt/authority-view.js'
import { changeBody, signChange, writerActor, type ChangeHeader } from '../../crdt/change-auth.js'
import { GENESIS_HASH, genesisDoc, RECORDS_OBJ, type IntentDoc } from '../../crdt/intent-doc.js'
import { canonicalString, sha256, toB64u, toHex, utf8 } from '../../crdt/canonical.js'
import { TimeoutError } from '../../crdt/errors.js'
import { keyPairFromSeed, sign, type KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { IncomingCheck, IntentLog, SyncState } from '../../crdt/intent-log.js'
import { DEFAULT_QUOTAS, type Quotas } from '../../crdt/write-rules.js'
import { decodeRecord, nextRecordFields, signRecord, type EncodedRecord, type RecordFields, type RecordKind } from '../../crdt/record.js'

const keysBySigner = new Map<KeyId, KeyPair>()

function signerOf (bytes: Uint8Array): KeyId | undefined {
  try { return decodeRecord(bytes).record.signer } catch { return undefined }
}

/** A deterministic key pair named after a person. */
export function keyOf (name: string): KeyPair {
  const key = keyPairFromSeed(sha256(utf8(`aura-test-key:${name}`)))
  keysBySigner.set(keyIdOf(key.publicKey), key)
  return key
}

/**
 * Appends records as their signers write them: each run of one signer's records in one change
 * written and signed by that signer (the log's carrier rule allows nothing else by default).
 */
export function appendAs (
  log: IntentLog,
  records: ReadonlyArray<EncodedRecord | { id: RecordId, bytes: Uint8Array }>,
  timeMs: number
): void {
  let run: Array<{ id: RecordId, bytes: Uint8Array }> = []
  let key: KeyPair | undefined
  const flush = (): void => { if (key !== undefined && run.length > 0) log.append(run, timeMs, key); run = [] }
  for (const r of records) {
    const signer = 'record' in r ? r.record.signer : signerOf(r.bytes)
    const k = (signer === undefined ? undefined : keysBySigner.get(signer)) ?? key ?? keyOf('nobody')
    if (k !== key) { flush(); key = k }
    run.push({ id: r.id, bytes: r.bytes })
  }
  flush()
}

/** A hex actor id named after a person (16 bytes). */
export function actorOf (name: string): string {
  return toHex(sha256(utf8(`actor:${name}`))).slice(0, 32)
}

/** A fake authority hash for chain position `seq`. */
export function authHash (seq: number): string {
  return toHex(sha256(utf8(`chain-entry:${seq}`)))
}

/** Writes a signer's records in order, keeping seq/prev right. */
export class Writer {
  readonly key: KeyPair
  readonly signer: KeyId
  head: EncodedRecord | undefined

  /** `baseTs`: the claimed time of seq 0 (each later record one second on). */
  constructor (readonly name: string, key: KeyPair = keyOf(name), readonly baseTs = 1_700_000_000_000) {
    this.key = key
    this.signer = keyIdOf(this.key.publicKey)
    keysBySigner.set(this.signer, key)
  }

  /** The next record in this signer's chain. */
  write (text: string, over: Partial<RecordFields> = {}): EncodedRecord {
    const r = signRecord({
      ...nextRecordFields(this.head),
      kind: 'intent' as RecordKind,
      actor: this.name,
      host: `${this.name}-laptop`,
      ts: this.baseTs + (this.head?.record.seq ?? 0) * 1000,
      auth: { seq: 1, hash: authHash(1) },
      text,
      ...over
    }, this.key)
    this.head = r
    return r
  }
}

/** Accepts everything. */
export const acceptAll: IncomingCheck = () => {}

/**
 * Runs Automerge sync between two logs until both are quiet (bounded rounds). Returns the bytes
 * sent each way and the messages a -> b, so tests can replay or tamper with them.
 */
export function syncPair (
  a: IntentLog,
  b: IntentLog,
  check: IncomingCheck = acceptAll,
  maxRounds = 20
): { rounds: number, bytes: number, messages: Uint8Array[] } {
  let sa: SyncState = a.initSyncState()
  let sb: SyncState = b.initSyncState()
  let bytes = 0
  const messages: Uint8Array[] = []
  for (let round = 1; round <= maxRounds; round++) {
    let m1: Uint8Array | null
    let m2: Uint8Array | null
    ;[sa, m1] = a.generateSyncMessage(sa)
    // As the engine does (RESYNC_CODES): a change sent without its dependency, because
    // Automerge's bloom filter wrongly said the receiver held it, is refused, and both sides
    // start afresh; the dependency then comes with it.
    const resync = (err: unknown): boolean => {
      if ((err as { code?: string }).code !== 'E_MISSING_DEPS') throw err
      sa = a.initSyncState()
      sb = b.initSyncState()
      return true
    }
    if (m1 !== null) {
      bytes += m1.length
      messages.push(m1)
      try {
        sb = b.receiveSyncMessage(sb, m1, check, 0).state
      } catch (err) { if (resync(err)) continue }
    }
    ;[sb, m2] = b.generateSyncMessage(sb)
    if (m2 !== null) {
      bytes += m2.length
      try {
        sa = a.receiveSyncMessage(sa, m2, check, 0).state
      } catch (err) { if (resync(err)) continue }
    }
    if (m1 === null && m2 === null) return { rounds: round, bytes, messages }
  }
  throw new TimeoutError(`sync did not settle in ${maxRounds} rounds`)
}

/** A small in-memory authority view: chain hashes by seq, members, revocations, lockdown per seq. */
export class FakeAuthority implements AuthorityView {
  readonly hashes: string[] = []
  readonly locked: boolean[] = []
  readonly members = new Map<KeyId, Member>()
  readonly revoked = new Map<KeyId, KeyRevocation>()
  /** Signed time of each chain position (0 unless a test sets one). */
  readonly times: number[] = []
  quotas: Quotas = DEFAULT_QUOTAS

  constructor (length = 4) {
    for (let s = 0; s < length; s++) { this.hashes.push(authHash(s)); this.locked.push(false); this.times.push(0) }
  }

  get head (): { seq: number, hash: string } {
    return { seq: this.hashes.length - 1, hash: this.hashes[this.hashes.length - 1] }
  }

  /** Appends a chain position (optionally a locked one) and returns its seq. */
  extend (locked = this.locked[this.locked.length - 1] ?? false, ts = 0): number {
    this.hashes.push(authHash(this.hashes.length))
    this.locked.push(locked)
    this.times.push(ts)
    return this.hashes.length - 1
  }

  admit (w: { signer: KeyId, name: string }, kind: 'peer' | 'agent' = 'peer', credential: Partial<Member> = {}): this {
    const capabilities = kind === 'agent' ? ['read', 'intent', 'commit'] : undefined
    this.members.set(w.signer, { key: w.signer, publicKey: '', kind, name: w.name, role: kind === 'agent' ? 'agent' : 'dev', since: 1, capabilities, ...credential })
    return this
  }

  revoke (signer: KeyId, cut: { seq: number, hash: RecordId | null }): this {
    const c: Cut = { seq: cut.seq, hash: cut.hash }
    this.revoked.set(signer, { seq: this.extend(), cut: c, reason: 'test' })
    return this
  }

  entryHash = (seq: number): string | undefined => this.hashes[seq]
  member = (key: KeyId): Member | undefined => this.members.get(key)
  revocation = (key: KeyId): KeyRevocation | undefined => this.revoked.get(key)
  lockedAt = (seq: number): boolean => this.locked[seq] ?? false
  entryTs = (seq: number): number | undefined => this.times[seq]
}

/**
 * Options of `commitSigned`: the actor (default: `key`'s, suffix ee…), time, and a message of the test's own making.
 */
export interface CommitOptions {
  actor?: string
  time?: number
  message?: (header: ChangeHeader, ids: string[]) => string | null
}

/**
 * A raw Automerge document with one more change putting `records`, signed by `key` as the log
 * signs its own (or with whatever `opts.message` makes): for crafting what a hostile peer sends.
 */
export function commitSigned (
  doc: A.Doc<IntentDoc>,
  key: KeyPair,
  records: ReadonlyArray<{ id: string, bytes: Uint8Array }>,
  opts: CommitOptions = {}
): A.Doc<IntentDoc> {
  const actor = opts.actor ?? writerActor(keyIdOf(key.publicKey), 'ee'.repeat(16))
  const d = A.load<IntentDoc>(A.save(doc), { actor })
  const be = A.getBackend(d)
  const deps = be.getHeads()
  const seq = be.getChangesMeta([]).filter((m) => m.actor === actor).length + 1
  const startOp = Math.max(0, ...deps.map((h) => be.getChangeMetaByHash(h)?.maxOp ?? 0)) + 1
  const header: ChangeHeader = { actor, seq, startOp, time: opts.time ?? 0, deps }
  const ids = records.map((r) => r.id)
  const message = opts.message !== undefined ? opts.message(header, ids) : signChange(header, ids, key)
  for (const r of records) be.put(RECORDS_OBJ, r.id, r.bytes, 'bytes')
  if (records.length === 0) be.emptyChange(message, header.time)
  else be.commit(message, header.time)
  return A.load<IntentDoc>(A.save(d), { actor })
}

/** A change message `{pub, sig}` signed by `key` over any header, even one whose actor it does not own (a forgery). */
export function forgedMessage (key: KeyPair): (header: ChangeHeader, ids: string[]) => string {
  return (header, ids) => canonicalString({ pub: toB64u(key.publicKey), sig: toB64u(sign('change', changeBody(header, ids), key)) })
}

/** A change hash that exists nowhere. */
export const INVENTED = 'ab'.repeat(32)

/**
 * A change of `w`'s, validly signed by it, putting `r` and depending on INVENTED, a change that
 * exists nowhere. Automerge commits only on its heads, so the change is made on genesis, signed
 * over the invented dependency, and its dependency bytes swapped (checksum made again).
 */
export function inventedDependency (w: Writer, r: { id: string, bytes: Uint8Array }): Uint8Array {
  const sign = forgedMessage(w.key)
  const doc = commitSigned(genesisDoc(actorOf('m')), w.key, [r], { message: (h, ids) => sign({ ...h, deps: [INVENTED] }, ids) })
  const chunk = new Uint8Array(A.getAllChanges(doc)[1])
  const genesis = Buffer.from(GENESIS_HASH, 'hex')
  const at = Buffer.from(chunk).indexOf(genesis)
  chunk.set(Buffer.from(INVENTED, 'hex'), at)
  chunk.set(sha256(chunk.subarray(8)).subarray(0, 4), 4)
  return chunk
}
