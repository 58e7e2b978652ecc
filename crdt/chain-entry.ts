/**
 * Authority chain entries: their types, canonical bytes, hash, signature, and the builders the
 * Mothership uses to append one. An entry is `{v, seq, prev, kind, body, signer, sig}`; `sig`
 * covers the canonical bytes of the entry without `sig`, domain `chain`; the entry's hash is
 * the hex SHA-256 of its full canonical bytes and is the next entry's `prev`.
 *
 * @example
 * const g = genesisEntry(mothership, { team: 'acme', ts })
 * const a = admitEntry(mothership, headOf(g), { pub: alicePubB64u, user: 'alice', role: 'contributor', jti, ts })
 * decodeEntry(encodeEntry(a)) // the same entry; E_MALFORMED on anything else
 */
import { canonicalBytes, fromB64u, parseCanonical, sha256, toB64u, toHex } from './canonical.js'
import { sign, type KeyPair } from './crypto.js'
import { verifyOnce } from './signature-memo.js'
import { MalformedError } from './errors.js'
import { keyIdOf, type Jti, type KeyId } from './ids.js'
import type { Cut } from './authority-view.js'
import type { Quotas } from './write-rules.js'
import { entrySchema, firstIssue } from './chain-schema.js'

/** Seq and hash of a chain's newest entry. */
export interface Head { readonly seq: number, readonly hash: string }

/** Genesis: the first Mothership key and the team. */
export interface GenesisBody {
  readonly team: string
  readonly mothership: string
  readonly ts: number
  readonly quotas?: Quotas
}
/** A peer key admitted for a user, with the token it redeemed (null: the Mothership's own node). */
export interface AdmitBody {
  readonly key: KeyId
  readonly pub: string
  readonly user: string
  readonly role: string
  readonly jti: Jti | null
  readonly ts: number
}
/** An agent credential. `expires` is a ms time or null; `owner` is the user responsible for it. */
export interface AgentBody {
  readonly key: KeyId
  readonly pub: string
  readonly name: string
  readonly role: string
  readonly capabilities: readonly string[]
  readonly quotas: Readonly<Record<string, number>>
  readonly expires: number | null
  readonly owner: string
  readonly ts: number
}
/** What a revoke entry revokes: one key (with its cut), one token, or every member of a role. */
export type RevokeSubject =
  | { readonly type: 'peer' | 'agent', readonly key: KeyId, readonly cut: Cut }
  | { readonly type: 'token', readonly jti: Jti }
  | { readonly type: 'role', readonly role: string, readonly cuts: Readonly<Record<string, Cut>> }
/** A revocation, with its reason. */
export interface RevokeBody { readonly subject: RevokeSubject, readonly reason: string, readonly ts: number }
/** Lockdown or unlock; the latest one wins. */
export interface LockBody { readonly reason: string, readonly ts: number }
/** A new Mothership key, signed by the old one. */
export interface RotateBody { readonly mothership: string, readonly ts: number }

interface EntryOf<K extends string, B> {
  readonly v: 1
  readonly seq: number
  readonly prev: string | null
  readonly kind: K
  readonly body: B
  readonly signer: KeyId
  readonly sig: string
}

/** One signed authority chain entry. */
export type ChainEntry =
  | EntryOf<'genesis', GenesisBody>
  | EntryOf<'admit', AdmitBody>
  | EntryOf<'agent', AgentBody>
  | EntryOf<'revoke', RevokeBody>
  | EntryOf<'lockdown', LockBody>
  | EntryOf<'unlock', LockBody>
  | EntryOf<'rotate', RotateBody>

/** The kinds of entry. */
export type EntryKind = ChainEntry['kind']
/** An entry before it is signed. */
export type UnsignedEntry = Omit<ChainEntry, 'sig'>

/** Canonical bytes of an entry: what is stored, sent, and hashed. */
export function encodeEntry (entry: ChainEntry): Uint8Array {
  return canonicalBytes(entry)
}

/** Decodes canonical bytes into an entry; E_MALFORMED on non-canonical bytes or a bad shape. */
export function decodeEntry (bytes: Uint8Array): ChainEntry {
  return parseEntry(parseCanonical(bytes))
}

/** Checks that a value has the shape of an entry; E_MALFORMED naming the first problem. */
export function parseEntry (value: unknown): ChainEntry {
  const r = entrySchema.safeParse(value)
  if (!r.success) throw new MalformedError(`malformed chain entry: ${firstIssue(r.error)}`)
  return r.data as ChainEntry
}

/** The entry's hash: hex SHA-256 of its full canonical bytes. */
export function hashEntry (entry: ChainEntry): string {
  return toHex(sha256(encodeEntry(entry)))
}

/** The head a chain has when `entry` is its newest. */
export function headOf (entry: ChainEntry): Head {
  return { seq: entry.seq, hash: hashEntry(entry) }
}

/** Signs an unsigned entry with `key` (domain `chain`). */
export function signEntry (unsigned: UnsignedEntry, key: KeyPair): ChainEntry {
  const sig = sign('chain', canonicalBytes(unsigned), key)
  return { ...unsigned, sig: toB64u(sig) } as ChainEntry
}

/** Whether the entry's signature verifies under `publicKey`. */
export function verifyEntrySignature (entry: ChainEntry, publicKey: Uint8Array): boolean {
  const { sig, ...unsigned } = entry
  return verifyOnce('chain', canonicalBytes(unsigned), fromB64u(sig), publicKey)
}

/** Builds and signs the entry after `head` (the genesis when head is null). */
export function makeEntry<K extends EntryKind> (key: KeyPair, head: Head | null, kind: K, body: Extract<ChainEntry, { kind: K }>['body']): ChainEntry {
  const unsigned = {
    v: 1,
    seq: head === null ? 0 : head.seq + 1,
    prev: head?.hash ?? null,
    kind,
    body,
    signer: keyIdOf(key.publicKey)
  }
  return signEntry(parseUnsigned(unsigned), key)
}

/** The genesis entry of a team whose first Mothership key is `key` (with its write quotas, if given). */
export function genesisEntry (key: KeyPair, body: { team: string, ts: number, quotas?: Quotas }): ChainEntry {
  const base = { team: body.team, mothership: toB64u(key.publicKey), ts: body.ts }
  return makeEntry(key, null, 'genesis', body.quotas === undefined ? base : { ...base, quotas: { ...body.quotas } })
}

/** Admits a peer key; its key id is derived from `pub` (base64url). */
export function admitEntry (key: KeyPair, head: Head, body: Omit<AdmitBody, 'key'>): ChainEntry {
  return makeEntry(key, head, 'admit', { ...body, key: keyIdOf(fromB64u(body.pub)) })
}

/** Grants an agent credential; its key id is derived from `pub` (base64url). */
export function agentEntry (key: KeyPair, head: Head, body: Omit<AgentBody, 'key'>): ChainEntry {
  return makeEntry(key, head, 'agent', { ...body, key: keyIdOf(fromB64u(body.pub)) })
}

/** Revokes a peer, an agent, a token, or a role. */
export function revokeEntry (key: KeyPair, head: Head, body: RevokeBody): ChainEntry {
  return makeEntry(key, head, 'revoke', body)
}

/** Puts the team in lockdown. */
export function lockdownEntry (key: KeyPair, head: Head, body: LockBody): ChainEntry {
  return makeEntry(key, head, 'lockdown', body)
}

/** Lifts a lockdown. */
export function unlockEntry (key: KeyPair, head: Head, body: LockBody): ChainEntry {
  return makeEntry(key, head, 'unlock', body)
}

/** Hands the chain to the key `body.mothership` (base64url), signed by the current key `key`. */
export function rotateEntry (key: KeyPair, head: Head, body: RotateBody): ChainEntry {
  return makeEntry(key, head, 'rotate', body)
}

// Builders check the shape before signing, so the Mothership can never sign an entry that
// every replica would refuse as malformed.
function parseUnsigned (unsigned: object): UnsignedEntry {
  const { sig: _sig, ...checked } = parseEntry({ ...unsigned, sig: toB64u(new Uint8Array(64)) })
  return checked
}
