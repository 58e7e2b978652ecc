/**
 * The signed backup file (docs/storage.md, "Backup file"): two lines of RFC 8785 JSON.
 *
 *   line 1, the header: {format: "aura-backup", v: 1, team, genesis, creator, pub, created,
 *                        since, chainHead: {seq, hash}, records, body: {bytes, sha256}, sig}
 *   line 2, the body:   {chain: [entry, ...], records: [record, ...]}   (base64url of the
 *                        canonical bytes of each chain entry and each record, records in id order)
 *
 * `sig` is the creator node's signature under the `backup` domain over the header without
 * `sig`; the header names the body's length and SHA-256, so one signature covers the file.
 * Decoding checks everything before anything is returned: the exact bytes (canonical, no byte
 * more or less), the file's signature, the body's hash, every chain entry against the chain's
 * rule, and every record's signature. A damaged or truncated file is E_BACKUP_CORRUPT, a forged
 * one E_BAD_SIGNATURE (or E_BAD_CHAIN for a chain that does not verify).
 *
 * @example
 * const bytes = encodeBackup({ chain, records, creator: key, created: now, since: null })
 * const b = decodeBackup(bytes)   // { header, chain: AuthorityChain, entries, records }
 */
import { z } from 'zod'
import { AuthorityChain, decodeEntry, encodeEntry } from '../../crdt/authority-chain.js'
import { canonicalBytes, fromB64u, parseCanonical, sha256Hex, toB64u } from '../../crdt/canonical.js'
import { sign, verify, type KeyPair } from '../../crdt/crypto.js'
import { AuraError, BackupCorruptError, BadSignatureError, NotAdmittedError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId } from '../../crdt/ids.js'
import { decodeVerifiedAll, type SignatureBatch } from '../../crdt/record.js'
import type { ChainEntry } from '../../crdt/chain-entry.js'

/** The `format` of every backup header. */
export const BACKUP_FORMAT = 'aura-backup'
/** The version this code writes and reads. */
export const BACKUP_VERSION = 1

const hex64 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const headerShape = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  v: z.literal(BACKUP_VERSION),
  team: z.string().min(1).max(256),
  genesis: hex64,
  creator: hex64,
  pub: z.string().length(43),
  created: count,
  since: count.nullable(),
  chainHead: z.strictObject({ seq: count, hash: hex64 }),
  records: count,
  body: z.strictObject({ bytes: count, sha256: hex64 }),
  sig: z.string().length(86)
})
const bodyShape = z.strictObject({
  chain: z.array(z.string()).min(1),
  records: z.array(z.string())
})

/** The header of a backup: who made it, of which team, what it holds. */
export type BackupHeader = z.infer<typeof headerShape>

/** A decoded and fully verified backup. */
export interface Backup {
  readonly header: BackupHeader
  /** The chain the file holds, verified entry by entry. */
  readonly chain: AuthorityChain
  readonly entries: ChainEntry[]
  /** Canonical record bytes, each verified. */
  readonly records: Uint8Array[]
}

/** What goes into a backup. */
export interface BackupContent {
  readonly chain: AuthorityChain
  /** Canonical record bytes (each as held in the log). */
  readonly records: Iterable<Uint8Array>
  /** The node key that signs the file. */
  readonly creator: KeyPair
  readonly created: number
  readonly since: number | null
}

/** The bytes of a backup file. */
export function encodeBackup (c: BackupContent): Uint8Array {
  const entries = c.chain.entries(0)
  const records = [...c.records].map((bytes) => ({ id: sha256Hex(bytes), bytes })).sort(
    (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
  const body = canonicalBytes(
    { chain: entries.map((e) => toB64u(encodeEntry(e))), records: records.map((r) => toB64u(r.bytes)) }
  )
  const unsigned = {
    format: BACKUP_FORMAT,
    v: BACKUP_VERSION,
    team: c.chain.team,
    genesis: c.chain.entryHash(0)!,
    creator: keyIdOf(c.creator.publicKey),
    pub: toB64u(c.creator.publicKey),
    created: c.created,
    since: c.since,
    chainHead: { seq: c.chain.head.seq, hash: c.chain.head.hash },
    records: records.length,
    body: { bytes: body.length, sha256: sha256Hex(body) }
  }
  const sig = toB64u(sign('backup', canonicalBytes(unsigned), c.creator))
  const header = canonicalBytes({ ...unsigned, sig })
  const out = new Uint8Array(header.length + 1 + body.length)
  out.set(header)
  out[header.length] = 0x0a
  out.set(body, header.length + 1)
  return out
}

/**
 * Decodes a backup and verifies all of it (see the file comment); `batch` checks record
 * signatures on worker threads. Throws E_BACKUP_CORRUPT, E_BAD_SIGNATURE, E_BAD_CHAIN, or
 * E_NOT_ADMITTED when the creator is not a member of the team the file holds.
 */
export function decodeBackup (bytes: Uint8Array, batch?: SignatureBatch): Backup {
  const header = decodeHeader(bytes)
  const bodyBytes = bytes.subarray(bytes.indexOf(0x0a) + 1)
  if (bodyBytes.length !== header.body.bytes) throw corrupt(`the body is ${bodyBytes.length} bytes, the header says ${header.body.bytes} (truncated or extended)`)
  if (sha256Hex(bodyBytes) !== header.body.sha256) throw corrupt('the body does not match the hash the header signs (damaged)')
  const body = bodyShape.safeParse(canonical(bodyBytes, 'body'))
  if (!body.success) throw corrupt(`the body is malformed: ${body.error.issues[0].message}`)
  // Signed by the creator, so damage is excluded; what follows catches a creator who signed
  // something false, and each piece is refused with the code the network would use.
  const entries = body.data.chain.map((e) => decodeEntry(b64(e, 'chain entry')))
  const chain = AuthorityChain.fromGenesis(entries[0])
  chain.applyBatch(entries.slice(1))
  if (chain.team !== header.team || chain.entryHash(0) !== header.genesis) throw corrupt('the chain is not of the team the header names')
  if (chain.head.seq !== header.chainHead.seq || chain.head.hash !== header.chainHead.hash) throw corrupt('the chain does not end where the header says')
  if (body.data.records.length !== header.records) throw corrupt(`the body holds ${body.data.records.length} records, the header says ${header.records}`)
  const records = body.data.records.map((r) => b64(r, 'record'))
  decodeVerifiedAll(records, batch)
  if (chain.member(header.creator as KeyId) === undefined) throw new NotAdmittedError(`the backup's creator ${header.creator.slice(0, 12)} is not a member of team ${header.team}`, { creator: header.creator })
  return { header, chain, entries, records }
}

/** The header alone, its signature checked (cheap: for listing files). */
export function decodeHeader (bytes: Uint8Array): BackupHeader {
  const nl = bytes.indexOf(0x0a)
  if (nl < 0) throw corrupt('no header line (not a backup, or truncated)')
  const parsed = headerShape.safeParse(canonical(bytes.subarray(0, nl), 'header'))
  if (!parsed.success) throw corrupt(`the header is malformed: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`)
  const header = parsed.data
  const pub = b64(header.pub, 'creator key')
  const { sig, ...unsigned } = header
  if (keyIdOf(pub) !== header.creator || !verify('backup', canonicalBytes(unsigned), b64(sig, 'signature'), pub)) {
    throw new BadSignatureError(`the backup's signature does not verify as ${header.creator.slice(0, 12)}'s`, { creator: header.creator })
  }
  return header
}

// JSON that must be canonical byte for byte (parseCanonical checks): two encodings of one
// content would let a damaged file pass as another.
function canonical (bytes: Uint8Array, what: string): unknown {
  try {
    return parseCanonical(bytes)
  } catch (err) {
    throw corrupt(`the ${what} is not canonical JSON: ${(err as Error).message}`)
  }
}

function b64 (s: string, what: string): Uint8Array {
  try {
    const out = fromB64u(s)
    if (toB64u(out) !== s) throw new Error('not canonical')
    return out
  } catch {
    throw corrupt(`a ${what} is not canonical base64url`)
  }
}

function corrupt (message: string): AuraError {
  return new BackupCorruptError(`not a valid backup: ${message}`)
}
