/**
 * The join protocol (`/aura/join/1.0.0`). A new peer opens a link to the Mothership — the Noise
 * handshake has already proven which key it holds — and sends its token. The Mothership checks
 * the token (signature, team, expiry, revocation, single use, lockdown), appends an `admit`
 * entry binding the token's jti to that key, and answers with the whole chain and the addresses
 * of peers to sync with. Every attempt, accepted or refused, is recorded with time, source
 * address, key and outcome (bounded: join-audit.ts): that is what `aura mothership audit-token`
 * shows. Attempts are rate-limited per source address and per token, and a refused joiner
 * learns only the code and a fixed sentence (publicRefusal).
 *
 * @example
 * const desk = new JoinDesk(rt)
 * host.handle(JOIN_PROTOCOL, (link) => desk.serve(link, sourceOf(link), peers))
 * const joined = await requestJoin(host, token)   // on the new peer
 */
import { admitEntry, decodeEntry, encodeEntry, type ChainEntry } from '../../crdt/authority-chain.js'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from '../../crdt/canonical.js'
import { AuraError, type ErrorCode, ExistsError, LockdownError, MalformedError, RateLimitedError, RevokedError, TimeoutError, UnreachableError, toAuraError } from '../../crdt/errors.js'
import { decodeToken, tokenUse, verifyToken, type JoinToken } from '../../crdt/join-token.js'
import { keyIdOf, shortId, type Jti } from '../../crdt/ids.js'
import type { Link } from '../sync/link.js'
import type { Host } from '../net/host.js'
import type { NodeRuntime } from '../runtime.js'
import { requireMothership } from './mothership.js'
import { addressOf, JoinAudit } from './join-audit.js'
import { RateLimiter } from './rate-limit.js'

/** The libp2p protocol id of joins. */
export const JOIN_PROTOCOL = '/aura/join/1.0.0'

/** What a successful join returns to the new peer. */
export interface JoinResult {
  team: string
  user: string
  role: string
  entries: ChainEntry[]
  peers: string[]
  mothership: string
}

/** Where a join request came from: the remote address and the public key Noise proved. */
export interface JoinSource {
  source: string
  publicKey: Uint8Array
}

/** Bounds of the Mothership's join desk (`[mothership] join_*`). */
export interface JoinDeskInit {
  /** Join attempts one source address may make per minute. */
  perSource: number
  /** Join attempts with one token per minute, from anywhere. */
  perToken: number
  /** Attempts stored one by one per token before they are only counted (join-audit.ts). */
  auditPerToken: number
  /** Attempts stored one by one with tokens never issued here, all together. */
  auditUnissued: number
}

/** Join attempts with tokens never issued here that are stored one by one, in all. */
export const JOIN_AUDIT_UNISSUED = 1000

/** Most bytes a joiner may send (its request holds one token of a few hundred bytes). */
export const JOIN_REQUEST_BYTES = 64 * 1024

/** The defaults of JoinDeskInit (docs/config.md). */
export const JOIN_DESK_DEFAULTS: JoinDeskInit = {
  perSource: 60,
  perToken: 30,
  auditPerToken: 100,
  auditUnissued: JOIN_AUDIT_UNISSUED
}

/**
 * The Mothership's side of joins: one request per link, rate-limited per source address and
 * per token (E_RATE_LIMITED), every attempt recorded in the bounded join audit, and every
 * refusal told to the joiner only by its code and a fixed sentence (publicRefusal): the caller
 * is not a member yet, so nothing about members, reasons or the team crosses the wire.
 */
export class JoinDesk {
  private readonly perSource: RateLimiter
  private readonly perToken: RateLimiter
  readonly audit: JoinAudit

  constructor (private readonly rt: NodeRuntime, init: JoinDeskInit = JOIN_DESK_DEFAULTS) {
    this.perSource = new RateLimiter({ perMinute: init.perSource, now: () => rt.now() })
    this.perToken = new RateLimiter({ perMinute: init.perToken, now: () => rt.now() })
    this.audit = new JoinAudit(rt, { perToken: init.auditPerToken, unissued: init.auditUnissued })
  }

  /** Serves one join request on `link`; the link is closed after the answer or refusal. */
  serve (link: Link, from: JoinSource, peers: () => string[]): void {
    let handled = false
    link.onFrame = (frame) => {
      if (handled) return
      handled = true
      void this.redeem(link, from, frame, peers).catch(() => {})
    }
    link.onClose = () => {}
  }

  private async redeem (link: Link, from: JoinSource, frame: Uint8Array, peers: () => string[]): Promise<void> {
    const rt = this.rt
    const source = from.source
    let jti: Jti | null = null
    try {
      const msg = parseCanonical(frame) as { t?: unknown, token?: unknown }
      if (msg === null || typeof msg !== 'object' || msg.t !== 'join' || typeof msg.token !== 'string') throw new MalformedError('expected a join request')
      const token = decodeToken(msg.token)
      jti = token.jti as Jti
      this.limit(this.perSource, addressOf(source), 'from this address')
      this.limit(this.perToken, jti, 'with this token')
      const entries = await admit(rt, link, token, from.publicKey)
      await this.audit.record({ jti, ts: rt.now(), source, peer: link.remote, outcome: 'accepted', reason: null })
      const answer = { t: 'joined', team: token.team, user: token.user, role: token.role, entries: entries.map((e) => toB64u(encodeEntry(e))), peers: peers() }
      link.send(canonicalBytes(answer))
      link.close()
    } catch (err) {
      const e = toAuraError(err)
      await this.audit.record({ jti, ts: rt.now(), source, peer: link.remote, outcome: 'refused', reason: `${e.code}: ${e.message}` })
      link.close(publicRefusal(e))
    }
  }

  private limit (limiter: RateLimiter, key: string, what: string): void {
    const wait = limiter.take(key)
    if (wait > 0) throw new RateLimitedError(`too many join attempts ${what}; retry in ${Math.ceil(wait / 1000)} s`, { retryAfterMs: wait })
  }
}

/**
 * What a refused joiner is told: the code and a fixed sentence. The full reason (which peer
 * redeemed the token, why it or the key was revoked, the lockdown's reason, the team's name)
 * goes only to the Mothership's own audit trail.
 */
export function publicRefusal (e: AuraError): AuraError {
  const say = PUBLIC_REASONS[e.code]
  if (say === undefined) return new AuraError('E_INTERNAL', 'the Mothership could not complete the join')
  return new AuraError(e.code, e.code === 'E_RATE_LIMITED' ? e.message : say)
}

const PUBLIC_REASONS: Partial<Record<ErrorCode, string>> = {
  E_MALFORMED: 'the join request or its token is malformed, or the token is for another team',
  E_BAD_SIGNATURE: 'the token is not signed by this team\'s current Mothership key: forged, altered or superseded',
  E_REVOKED: 'the token, or the key joining with it, is revoked',
  E_TOKEN_EXPIRED: 'the token has expired',
  E_TOKEN_USED: 'the token is single-use and was already redeemed',
  E_LOCKDOWN: 'the team is in lockdown: no joins are accepted',
  E_EXISTS: 'this key is already a member of the team',
  E_RATE_LIMITED: 'too many join attempts; retry later',
  E_NOT_MOTHERSHIP: 'this node does not admit members',
  E_TIMEOUT: 'no join request arrived in time',
  E_FRAME_TOO_LARGE: 'the join request is too large'
}

async function admit (rt: NodeRuntime, link: Link, token: JoinToken, publicKey: Uint8Array): Promise<ChainEntry[]> {
  const key = requireMothership(rt)
  const chain = rt.requireChain()
  verifyToken(token, { mothershipPub: chain.mothershipKey, nowMs: rt.now(), chain })
  if (token.team !== chain.team) throw new MalformedError(`token is for team '${token.team}', this Mothership runs '${chain.team}'`)
  const rev = chain.revocation(link.remote)
  if (rev !== undefined) throw new RevokedError(`key ${shortId(link.remote)} is revoked: ${rev.reason}`, { peer: shortId(link.remote) })
  if (chain.locked) throw new LockdownError(`the team is in lockdown (${chain.lockdownReason ?? ''}): no joins are accepted`)
  const member = chain.member(link.remote)
  if (member !== undefined) {
    if (chain.admissionsByJti(token.jti as Jti).includes(link.remote)) return chain.entries(0)
    throw new ExistsError(`key ${shortId(link.remote)} is already admitted as ${member.name}`, { peer: shortId(link.remote) })
  }
  tokenUse(chain, token.jti as Jti, token.reusable)
  // The key admitted must be the one Noise proved on this very link.
  if (keyIdOf(publicKey) !== link.remote) throw new MalformedError('could not read the public key the transport proved for this joiner')
  const entry = admitEntry(
    key,
    chain.head,
    { pub: toB64u(publicKey), user: token.user, role: token.role, jti: token.jti as Jti, ts: rt.now() }
  )
  await rt.appendOwnEntries([entry])
  await rt.audit('admit', { peer: link.remote, user: token.user, role: token.role, jti: token.jti })
  return chain.entries(0)
}

/** The new peer's side: redeem `tokenText` at the addresses it carries. */
export async function requestJoin (host: Host, tokenText: string, timeoutMs = 15_000): Promise<JoinResult> {
  const token = decodeToken(tokenText)
  if (token.addrs.length === 0) throw new UnreachableError('the token carries no Mothership address', { hint: 'ask for a token issued while the Mothership node runs' })
  let last: AuraError = new UnreachableError('no Mothership address answered')
  for (const addr of token.addrs) {
    let link: Link
    try {
      link = await host.openLink(addr, JOIN_PROTOCOL)
    } catch (err) {
      last = new UnreachableError(`could not reach the Mothership at ${addr}: ${toAuraError(err).message}`, { addr })
      continue
    }
    const answer = await exchange(link, canonicalBytes({ t: 'join', token: tokenText }), timeoutMs)
    const msg = parseCanonical(answer) as {
      t?: string
      team?: string
      user?: string
      role?: string
      entries?: string[]
      peers?: string[]
    }
    if (msg.t !== 'joined' || !Array.isArray(msg.entries)) throw new MalformedError('the Mothership sent an unexpected answer')
    const entries = msg.entries.map((e) => decodeEntry(fromB64u(e)))
    link.close()
    return { team: msg.team ?? token.team, user: msg.user ?? token.user, role: msg.role ?? token.role, entries, peers: (msg.peers ?? []).filter((p) => typeof p === 'string'), mothership: token.mothershipKeyId }
  }
  throw last
}

async function exchange (link: Link, request: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { link.close(); reject(new TimeoutError(`the Mothership did not answer within ${timeoutMs} ms`)) }, timeoutMs)
    link.onFrame = (frame) => { clearTimeout(timer); resolve(frame) }
    link.onClose = (reason) => {
      clearTimeout(timer)
      reject(reason ?? new UnreachableError('the Mothership closed the connection without an answer'))
    }
    link.send(request)
  })
}
