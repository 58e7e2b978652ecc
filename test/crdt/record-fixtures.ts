/**
 * Shared test fixtures for records, the intent log and the effective view: deterministic keys,
 * a record writer that keeps each signer's seq/prev chain, a two-log sync driver, and a small
 * in-memory AuthorityView.
 */
import type { AuthorityView, Cut, KeyRevocation, Member } from '../../crdt/authority-view.js'
import { sha256, toHex, utf8 } from '../../crdt/canonical.js'
import { TimeoutError } from '../../crdt/errors.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { IncomingCheck, IntentLog, SyncState } from '../../crdt/intent-log.js'
import { DEFAULT_QUOTAS, type Quotas } from '../../crdt/write-rules.js'
import { nextRecordFields, signRecord, type EncodedRecord, type RecordFields, type RecordKind } from '../../crdt/record.js'

/** A deterministic key pair named after a person. */
export function keyOf (name: string): KeyPair {
  return keyPairFromSeed(sha256(utf8(`aura-test-key:${name}`)))
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
export function syncPair (a: IntentLog, b: IntentLog, check: IncomingCheck = acceptAll, maxRounds = 20): { rounds: number, bytes: number, messages: Uint8Array[] } {
  let sa: SyncState = a.initSyncState()
  let sb: SyncState = b.initSyncState()
  let bytes = 0
  const messages: Uint8Array[] = []
  for (let round = 1; round <= maxRounds; round++) {
    let m1: Uint8Array | null
    let m2: Uint8Array | null
    ;[sa, m1] = a.generateSyncMessage(sa)
    if (m1 !== null) { bytes += m1.length; messages.push(m1); sb = b.receiveSyncMessage(sb, m1, check, 0).state }
    ;[sb, m2] = b.generateSyncMessage(sb)
    if (m2 !== null) { bytes += m2.length; sa = a.receiveSyncMessage(sa, m2, check, 0).state }
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
