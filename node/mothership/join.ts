/**
 * The join protocol (`/aura/join/1.0.0`). A new peer opens a link to the Mothership — the Noise
 * handshake has already proven which key it holds — and sends its token. The Mothership checks
 * the token (signature, team, expiry, revocation, single use, lockdown), appends an `admit`
 * entry binding the token's jti to that key, and answers with the whole chain and the addresses
 * of peers to sync with. Every attempt, accepted or refused, is recorded with time, source
 * address, key and outcome: that is what `aura mothership audit-token` shows.
 *
 * @example
 * host.handle(JOIN_PROTOCOL, (link) => void serveJoin(rt, link, sourceOf(link)))
 * const joined = await requestJoin(host, token)   // on the new peer
 */
import { admitEntry, decodeEntry, encodeEntry, type ChainEntry } from '../../crdt/authority-chain.js'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from '../../crdt/canonical.js'
import { AuraError, ExistsError, LockdownError, MalformedError, RevokedError, TimeoutError, UnreachableError, toAuraError } from '../../crdt/errors.js'
import { decodeToken, tokenUse, verifyToken, type JoinToken } from '../../crdt/join-token.js'
import { keyIdOf, shortId, type Jti } from '../../crdt/ids.js'
import type { Link } from '../sync/link.js'
import type { Host } from '../net/host.js'
import type { NodeRuntime } from '../runtime.js'
import { requireMothership } from './mothership.js'

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

/** The Mothership's side: one join request on `link`. */
export function serveJoin (rt: NodeRuntime, link: Link, from: JoinSource, peers: () => string[]): void {
  let handled = false
  link.onFrame = (frame) => {
    if (handled) return
    handled = true
    void redeem(rt, link, from, frame, peers).catch(() => {})
  }
  link.onClose = () => {}
}

async function redeem (rt: NodeRuntime, link: Link, from: JoinSource, frame: Uint8Array, peers: () => string[]): Promise<void> {
  const source = from.source
  let jti: Jti | null = null
  try {
    const msg = parseCanonical(frame) as { t?: unknown, token?: unknown }
    if (msg === null || typeof msg !== 'object' || msg.t !== 'join' || typeof msg.token !== 'string') throw new MalformedError('expected a join request')
    const token = decodeToken(msg.token)
    jti = token.jti as Jti
    const entries = await admit(rt, link, token, from.publicKey)
    await rt.store.joins.append({ jti, ts: rt.now(), source, peer: link.remote, outcome: 'accepted', reason: null })
    const answer = { t: 'joined', team: token.team, user: token.user, role: token.role, entries: entries.map((e) => toB64u(encodeEntry(e))), peers: peers() }
    link.send(canonicalBytes(answer))
  } catch (err) {
    const e = toAuraError(err)
    if (jti !== null) {
      await rt.store.joins.append({ jti, ts: rt.now(), source, peer: link.remote, outcome: 'refused', reason: `${e.code}: ${e.message}` }).catch(() => {})
    }
    await rt.audit('join-refused', { jti, source, peer: link.remote, code: e.code, message: e.message }).catch(() => {})
    link.close(e)
  }
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
  const entry = admitEntry(key, chain.head, { pub: toB64u(publicKey), user: token.user, role: token.role, jti: token.jti as Jti, ts: rt.now() })
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
    const msg = parseCanonical(answer) as { t?: string, team?: string, user?: string, role?: string, entries?: string[], peers?: string[] }
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
