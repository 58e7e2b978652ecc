/**
 * The shape of authority chain entries, checked with zod. Shape covers everything an entry can
 * be judged on alone (field types, key id = hash of its public key, genesis only at seq 0);
 * rules that need the chain so far live in chain-state.ts.
 *
 * @example
 * const entry = entrySchema.parse(parseCanonical(bytes))
 */
import { z } from 'zod'
import { fromB64u } from './canonical.js'
import { isAcceptablePublicKey } from './crypto.js'
import { keyIdOf, parseJti } from './ids.js'

/** Lower-case hex SHA-256: key ids, entry hashes, record ids. */
export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits')
/** A millisecond timestamp or other non-negative safe integer. */
export const uint = z.int().min(0)
/** An ed25519 public key, base64url, acceptable under the verification rule. */
export const pubB64u = z.string().refine((s) => decodes(s, 32) && isAcceptablePublicKey(fromB64u(s)), 'expected an acceptable ed25519 public key (base64url)')
/** An ed25519 signature, base64url of 64 bytes. */
export const sigB64u = z.string().refine((s) => decodes(s, 64), 'expected a 64-byte signature (base64url)')
/** A join token id, `tk_` + ULID. */
export const jti = z.string().refine((s) => { try { parseJti(s); return true } catch { return false } }, 'expected a token id (tk_ + ULID)')
/** A team or user name. */
export const name = z.string().min(1).max(200)
/** A role such as `contributor`, `reader`, `agent`. */
export const role = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected a role name (letters, digits, _ . -)')
/** An agent name; it is the label of the agent's short id (`claude-7f3a`). */
export const agentName = z.string().regex(/^[A-Za-z][A-Za-z0-9_.]{0,63}$/, 'expected an agent name (a letter, then letters, digits, _ .)')
const reason = z.string().max(1000)
const ts = uint

/** The last record of a revoked key that is accepted; seq 0 (hash null) means none. */
export const cut = z.strictObject({ seq: uint, hash: hex64.nullable() })
  .refine((c) => (c.seq === 0) === (c.hash === null), 'a cut has seq 0 exactly when its hash is null')

/** Team-wide write quotas (write-rules.ts); a genesis without them has the defaults. */
export const quotas = z.strictObject(
  { records_per_hour: uint.min(1), bytes_per_hour: uint.min(1), max_record_bytes: uint.min(1) }
)
const genesis = z.strictObject({ team: name, mothership: pubB64u, ts, quotas: quotas.optional() })
const admit = z.strictObject({ key: hex64, pub: pubB64u, user: name, role, jti: jti.nullable(), ts })
  .refine((b) => b.key === keyIdOf(fromB64u(b.pub)), 'key is not the key id of pub')
const agent = z.strictObject({
  key: hex64,
  pub: pubB64u,
  name: agentName,
  role,
  capabilities: z.array(z.string().regex(/^[a-z][a-z0-9_.:-]{0,63}$/)).max(64)
    .refine((c) => new Set(c).size === c.length, 'capabilities repeat'),
  quotas: z.record(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/), uint),
  expires: uint.nullable(),
  owner: name,
  ts
}).refine((b) => b.key === keyIdOf(fromB64u(b.pub)), 'key is not the key id of pub')
const subject = z.discriminatedUnion('type', [
  z.strictObject({ type: z.enum(['peer', 'agent']), key: hex64, cut }),
  z.strictObject({ type: z.literal('token'), jti }),
  z.strictObject({ type: z.literal('role'), role, cuts: z.record(hex64, cut) })
])
const revoke = z.strictObject({ subject, reason, ts })
const lock = z.strictObject({ reason, ts })
const rotate = z.strictObject({ mothership: pubB64u, ts })

function entryOf<K extends string, B extends z.ZodType> (kind: K, body: B) {
  return z.strictObject(
    { v: z.literal(1), seq: uint, prev: hex64.nullable(), kind: z.literal(kind), body, signer: hex64, sig: sigB64u }
  )
}

/** Every entry kind; genesis exactly at seq 0, which alone has no `prev`. */
export const entrySchema = z.discriminatedUnion('kind', [
  entryOf('genesis', genesis),
  entryOf('admit', admit),
  entryOf('agent', agent),
  entryOf('revoke', revoke),
  entryOf('lockdown', lock),
  entryOf('unlock', lock),
  entryOf('rotate', rotate)
]).refine((e) => (e.seq === 0) === (e.kind === 'genesis') && (e.seq === 0) === (e.prev === null),
  'genesis is exactly the entry at seq 0, and only it has prev null')

/** The first problem zod found, as `path: message`, for error messages people read. */
export function firstIssue (error: z.ZodError): string {
  const issue = error.issues[0]
  const path = issue.path.length > 0 ? issue.path.join('.') : '(top level)'
  return `${path}: ${issue.message}`
}

function decodes (s: string, length: number): boolean {
  try {
    return fromB64u(s).length === length
  } catch {
    return false
  }
}
