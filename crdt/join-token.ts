/**
 * Join tokens: one self-contained string a new peer pastes to join, `aurajoin1.` + base64url of
 * the canonical JSON `{v, jti, team, user, role, expiresAt, reusable, mothershipKeyId, addrs,
 * sig}`, signed by the Mothership key (domain `token`). Whether a single-use token was already
 * redeemed is read from the chain's admit entries (`tokenUse`).
 *
 * @example
 * const claims = { jti, team: 'acme', user: 'alice', role: 'contributor', expiresAt, reusable: false, addrs }
 * const s = issueToken(claims, mothership)
 * verifyToken(decodeToken(s), { mothershipPub, nowMs, chain }) // or E_BAD_SIGNATURE / E_TOKEN_EXPIRED / E_REVOKED
 * tokenUse(chain, jti, false)                                    // E_TOKEN_USED once admitted
 */
import { z } from 'zod'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from './canonical.js'
import { sign, verify, type KeyPair } from './crypto.js'
import { BadSignatureError, MalformedError, RevokedError, TokenExpiredError, TokenUsedError, UsageError } from './errors.js'
import { keyIdOf, shortId, type Jti, type KeyId } from './ids.js'
import { firstIssue, hex64, jti, name, role, sigB64u, uint } from './chain-schema.js'
import type { TokenRevocation } from './chain-state.js'

/** Every join token string starts with this; the digit is the format version. */
export const TOKEN_PREFIX = 'aurajoin1.'

/** What a join token says. `addrs` are multiaddrs where the Mothership (or a peer) listens. */
export interface TokenClaims {
  readonly jti: Jti
  readonly team: string
  readonly user: string
  readonly role: string
  readonly expiresAt: number
  readonly reusable: boolean
  readonly mothershipKeyId: KeyId
  readonly addrs: readonly string[]
}

/** A decoded, signed join token. */
export interface JoinToken extends TokenClaims {
  readonly v: 1
  readonly sig: string
}

const tokenSchema = z.strictObject({
  v: z.literal(1),
  jti,
  team: name,
  user: name,
  role,
  expiresAt: uint,
  reusable: z.boolean(),
  mothershipKeyId: hex64,
  addrs: z.array(z.string().min(1).max(256)).max(16),
  sig: sigB64u
})

/** Signs a token with the Mothership key; `mothershipKeyId`, if given, must be that key's id. */
export function issueToken (claims: Omit<TokenClaims, 'mothershipKeyId'> & { mothershipKeyId?: KeyId }, key: KeyPair): string {
  const keyId = keyIdOf(key.publicKey)
  if (claims.mothershipKeyId !== undefined && claims.mothershipKeyId !== keyId) {
    throw new UsageError(`mothershipKeyId ${shortId(claims.mothershipKeyId, 'key')} is not the id of the signing key ${shortId(keyId, 'key')}`)
  }
  const unsigned = { ...claims, v: 1, mothershipKeyId: keyId }
  const token = parseToken({ ...unsigned, sig: toB64u(sign('token', canonicalBytes(unsigned), key)) })
  return TOKEN_PREFIX + toB64u(canonicalBytes(token))
}

/** Parses a token string; E_MALFORMED saying what is wrong with it. */
export function decodeToken (text: string): JoinToken {
  const s = text.trim()
  if (!s.startsWith(TOKEN_PREFIX)) throw new MalformedError(`not an Aura join token: it should start with '${TOKEN_PREFIX}'`)
  let bytes: Uint8Array
  try {
    bytes = fromB64u(s.slice(TOKEN_PREFIX.length))
  } catch {
    throw new MalformedError('join token is damaged: the part after the prefix is not base64url (was it cut or re-wrapped when copied?)')
  }
  let value: unknown
  try {
    value = parseCanonical(bytes)
  } catch {
    throw new MalformedError('join token is damaged: its content is not canonical JSON (was it cut when copied?)')
  }
  return parseToken(value)
}

/**
 * Checks a token's signature against the Mothership key, then the chain's token revocations,
 * then its expiry. Returns the token; throws BadSignatureError, RevokedError, TokenExpiredError.
 */
export function verifyToken (
  token: JoinToken | string,
  opts: {
    mothershipPub: Uint8Array
    nowMs: number
    chain?: { isTokenRevoked: (jti: Jti) => TokenRevocation | undefined }
  }
): JoinToken {
  const t = typeof token === 'string' ? decodeToken(token) : parseToken(token)
  const context = { jti: t.jti }
  if (t.mothershipKeyId !== keyIdOf(opts.mothershipPub)) {
    throw new BadSignatureError(`token ${t.jti} was issued by another Mothership key (${shortId(t.mothershipKeyId, 'key')}), not this team's current one`, context)
  }
  const { sig, ...unsigned } = t
  if (!verify('token', canonicalBytes(unsigned), fromB64u(sig), opts.mothershipPub)) {
    throw new BadSignatureError(`token ${t.jti} has a bad signature: forged or altered`, context)
  }
  const revoked = opts.chain?.isTokenRevoked(t.jti)
  if (revoked !== undefined) {
    throw new RevokedError(`token ${t.jti} was revoked (chain entry ${revoked.seq}): ${revoked.reason}`, { ...context, seq: revoked.seq, reason: revoked.reason })
  }
  if (opts.nowMs >= t.expiresAt) {
    const ago = Math.round((opts.nowMs - t.expiresAt) / 1000)
    throw new TokenExpiredError(`token ${t.jti} expired at ${new Date(t.expiresAt).toISOString()} (${ago} s ago)`, { ...context, expiresAt: t.expiresAt })
  }
  return t
}

/** Refuses a second redemption of a single-use token: TokenUsedError if an admit entry used it. */
export function tokenUse (
  chain: { admissionsByJti: (jti: Jti) => readonly KeyId[] },
  jti: Jti,
  reusable: boolean
): void {
  const used = chain.admissionsByJti(jti)
  if (!reusable && used.length > 0) {
    throw new TokenUsedError(`token ${jti} is single-use and was already redeemed by ${used.map((k) => shortId(k)).join(', ')}`, { jti, usedBy: used.map((k) => shortId(k)) })
  }
}

function parseToken (value: unknown): JoinToken {
  const r = tokenSchema.safeParse(value)
  if (!r.success) throw new MalformedError(`join token is malformed: ${firstIssue(r.error)}`)
  return r.data as unknown as JoinToken
}
