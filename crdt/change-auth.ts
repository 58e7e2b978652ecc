/**
 * Who wrote an Automerge change of the intent log. Automerge actor ids are not authenticated,
 * so the log binds them to keys: a writer's actor is the first 16 bytes of its key id followed
 * by 16 bytes chosen afresh for every life of the process (so a node never reuses an (actor,
 * seq) pair after a crash), and every change it makes carries, as its Automerge `message`, the
 * canonical JSON `{pub, sig}` where `sig` signs (domain `change`) the canonical
 * `{v, actor, seq, startOp, time, deps (sorted), records}` — `records` the ids it puts, in op
 * order. A change is accepted only if that signature holds, the key owns the actor, and it puts
 * at least one record; so nobody can write as another member, and nobody can replay a member's
 * records under its actor with another seq or other deps.
 *
 * @example
 * const actor = writerActor(keyIdOf(key.publicKey), suffixHex)
 * const message = signChange({ actor, seq: 1, startOp: 2, time: 0, deps: [GENESIS_HASH] }, [id], key)
 * const { writer, check } = changeSignatureCheck({ ...header, message, hash }, [id]) // E_BAD_SIGNATURE / E_MALFORMED
 * verifyRaw(check.message, check.sig, check.pub) // else badChangeSignature(change)
 */
import { canonicalBytes, canonicalString, fromB64u, parseCanonical, toB64u, utf8 } from './canonical.js'
import { sign, signedMessage, type KeyPair } from './crypto.js'
import { type AuraError, BadSignatureError, MalformedError } from './errors.js'
import type { SignatureCheck } from './record.js'
import { keyIdOf, type KeyId } from './ids.js'

/** Hex digits of a key id that start a writer's actor (16 bytes). */
const KEY_HEX = 32
/** Hex digits of a writer's actor: key part and per-life suffix (32 bytes). */
export const WRITER_ACTOR_HEX = 64

/** The fields of a change its signature covers, besides the records it puts. */
export interface ChangeHeader {
  readonly actor: string
  readonly seq: number
  readonly startOp: number
  readonly time: number
  readonly deps: readonly string[]
}

/** The actor of `key` for one life: its key id's first 16 bytes, then 16 bytes of `suffixHex` (padded or cut). */
export function writerActor (key: KeyId, suffixHex: string): string {
  const suffix = (suffixHex.replace(/[^0-9a-f]/g, '') + '0'.repeat(KEY_HEX)).slice(0, KEY_HEX)
  return key.slice(0, KEY_HEX) + suffix
}

/** Whether `actor` is an actor of `key` (any life). */
export function ownsActor (key: KeyId, actor: string): boolean {
  return actor.length === WRITER_ACTOR_HEX && actor.startsWith(key.slice(0, KEY_HEX))
}

/** The `message` a change must carry: `{pub, sig}` over its header and record ids. */
export function signChange (header: ChangeHeader, records: readonly string[], key: KeyPair): string {
  if (!ownsActor(keyIdOf(key.publicKey), header.actor)) throw new MalformedError(`actor ${header.actor.slice(0, 8)} is not this key's`, { actor: header.actor })
  const sig = sign('change', changeBody(header, records), key)
  return canonicalString({ pub: toB64u(key.publicKey), sig: toB64u(sig) })
}

/** A change as read from a chunk or a document's metadata, with the message that signs it. */
export type SignedChange = ChangeHeader & { readonly message: string | null, readonly hash: string }

/**
 * The writer of a change and the signature that must prove it, to be checked with `verifyRaw`
 * (in a batch, on worker threads): E_MALFORMED for a change that puts no record,
 * E_BAD_SIGNATURE for one unsigned, signed in another form, or by a key that does not own its
 * actor. A signature that does not verify is `badChangeSignature`.
 */
export function changeSignatureCheck (
  change: SignedChange,
  records: readonly string[]
): { writer: KeyId, check: SignatureCheck } {
  const where = { change: change.hash, actor: change.actor, seq: change.seq }
  if (records.length === 0) throw new MalformedError(`${nameOf(change)} puts no record`, where)
  const bad = (why: string): never => { throw new BadSignatureError(`${nameOf(change)} ${why}`, where) }
  if (change.message === null) return bad('is not signed by its writer')
  let pub: Uint8Array
  let sig: Uint8Array
  try {
    const parsed = parseCanonical(utf8(change.message)) as { pub?: unknown, sig?: unknown }
    if (typeof parsed !== 'object' || parsed === null || Object.keys(parsed).length !== 2 || typeof parsed.pub !== 'string' || typeof parsed.sig !== 'string') throw new Error('not {pub, sig}')
    pub = fromB64u(parsed.pub)
    sig = fromB64u(parsed.sig)
    // One spelling only: another base64url form of the same bytes would be another change.
    if (toB64u(pub) !== parsed.pub || toB64u(sig) !== parsed.sig) throw new Error('not canonical base64url')
  } catch {
    return bad('carries no writer signature in canonical form')
  }
  const writer = keyIdOf(pub)
  if (!ownsActor(writer, change.actor)) bad(`claims an actor that is not its signer's (${writer.slice(0, 8)})`)
  return { writer, check: { message: signedMessage('change', changeBody(change, records)), sig, pub } }
}

/** The error of a change whose writer signature does not verify. */
export function badChangeSignature (change: SignedChange): AuraError {
  return new BadSignatureError(`${nameOf(change)} has a writer signature that does not verify`, { change: change.hash, actor: change.actor, seq: change.seq })
}

function nameOf (c: SignedChange): string {
  return `change ${c.hash.slice(0, 12)} (actor ${c.actor.slice(0, 8)}, seq ${c.seq})`
}

/** The canonical bytes a change signature covers (domain `change`). */
export function changeBody (h: ChangeHeader, records: readonly string[]): Uint8Array {
  return canonicalBytes({
    v: 1,
    actor: h.actor,
    seq: h.seq,
    startOp: h.startOp,
    time: h.time,
    deps: [...h.deps].sort(),
    records: [...records]
  })
}

/**
 * The team's carrier rule: a change carries its writer's records, and a peer's also those of
 * agents (an agent writes through the node that holds its key). `member` is the chain's lookup.
 */
export function teamCarrierRule (member: (key: KeyId) => { readonly kind: 'peer' | 'agent' } | undefined): (writer: KeyId, signer: KeyId) => boolean {
  return (writer, signer) => writer === signer || (member(writer)?.kind === 'peer' && member(signer)?.kind === 'agent')
}
