/**
 * The Mothership's operations: create the team, issue join tokens, admit (join.ts), revoke
 * peers/tokens, lock down and unlock, rotate the signing key, and the folds operators read
 * (list-peers, list-tokens, audit-token). Every change is a signed chain entry appended through
 * the runtime, which persists it and (under a daemon) pushes it to every connected peer at once.
 *
 * @example
 * await mothershipInit(rt, { team: 'acme' })
 * const { token } = await issuePeer(rt, { user: 'alice', role: 'contributor' })
 * await revokePeer(rt, { peer: 'peer-5f3a', reason: 'laptop theft' })
 */
import { randomBytes } from 'node:crypto'
import { AuthorityChain, admitEntry, genesisEntry, lockdownEntry, unlockEntry } from '../../crdt/authority-chain.js'
import { ConflictError, ExistsError, LockdownError, NotFoundError, NotMothershipError, UsageError } from '../../crdt/errors.js'
import { issueToken } from '../../crdt/join-token.js'
import { keyIdOf, makeJti, shortId, type Jti, type KeyId } from '../../crdt/ids.js'
import { effectiveTokenTtl, parseDuration } from '../config.js'
import { writeMothershipKey, type NodeRuntime } from '../runtime.js'
import { tokenBook, type IssuedToken } from './tokens.js'
import { knownAddresses } from './addresses.js'
import { JoinAudit } from './join-audit.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import { parseRole } from '../roles.js'
import { identityDirectory, resolveMemberIn, resolveTokenId } from '../ids-resolve.js'
import { agentsToRevoke, keyRevocation, keyRevocations, tokenRevocation, type RevokeContext } from './revoke.js'
import { keyRotation } from './rotate.js'

/** The signing key, or E_NOT_MOTHERSHIP. */
export function requireMothership (rt: NodeRuntime): KeyPair {
  if (rt.mothershipKey === null) {
    throw new NotMothershipError(`this node (${rt.identity.shortId}) does not hold the Mothership signing key`, {
      home: rt.home,
      hint: 'run Mothership commands with --home pointing at the Mothership\'s home'
    })
  }
  return rt.mothershipKey
}

/** `aura mothership init`: the signing key, the genesis entry, and this node admitted as admin. */
export async function mothershipInit (
  rt: NodeRuntime,
  opts: { team?: string, user?: string }
): Promise<{ team: string, mothershipKey: string, head: { seq: number, hash: string } }> {
  if (rt.chain !== null) throw new ExistsError(`this node already belongs to team '${rt.chain.team}'`, { team: rt.chain.team })
  const team = opts.team ?? 'team'
  const key = await writeMothershipKey(rt.home)
  const now = rt.now()
  const genesis = genesisEntry(key, { team, ts: now, quotas: { ...rt.config.quotas } })
  const chain = AuthorityChain.fromGenesis(genesis)
  chain.applyBatch([admitEntry(key, chain.head, { pub: rt.identity.publicKey, user: opts.user ?? rt.config.node.name, role: 'admin', jti: null, ts: now })])
  rt.chain = chain
  rt.mothershipKey = key
  await rt.persistChainFrom(0)
  await rt.audit('mothership-init', { team })
  return { team, mothershipKey: keyIdOf(key.publicKey), head: chain.head }
}

/** `aura mothership issue-peer USER --role ROLE`: a signed, self-contained join token. */
export async function issuePeer (
  rt: NodeRuntime,
  opts: { user: string, role: string, ttl?: string, reusable?: boolean }
) {
  const key = requireMothership(rt)
  const chain = rt.requireChain()
  if (chain.locked) throw new LockdownError(`the team is in lockdown (${chain.lockdownReason ?? ''}): no tokens are issued`, { hint: 'run `aura mothership unlock` when the incident allows' })
  const ttl = opts.ttl === undefined ? effectiveTokenTtl(rt.config) : parseDuration(opts.ttl)
  if (ttl === undefined || ttl <= 0) throw new UsageError(`--ttl takes a duration such as 10m, 1h or 600; got '${opts.ttl ?? ''}'`)
  opts = { ...opts, role: parseRole(opts.role, '--role') }
  const now = rt.now()
  const jti = makeJti(now, randomBytes(10))
  const addrs = await knownAddresses(rt)
  const token = issueToken(
    {
      jti,
      team: chain.team,
      user: opts.user,
      role: opts.role,
      expiresAt: now + ttl * 1000,
      reusable: opts.reusable === true,
      addrs: addrs.slice(0, 16)
    },
    key
  )
  const issued: IssuedToken = {
    jti,
    team: chain.team,
    user: opts.user,
    role: opts.role,
    issuedAt: now,
    expiresAt: now + ttl * 1000,
    reusable: opts.reusable === true,
    mothershipKeyId: keyIdOf(key.publicKey)
  }
  await tokenBook(rt.store.kv).put(issued)
  await rt.audit('token-issued', { jti, user: opts.user, role: opts.role, expiresAt: issued.expiresAt, reusable: issued.reusable })
  const existing = chain.peers().filter(
    (p) => p.name === opts.user && chain.revocation(p.key) === undefined
  ).map((p) => shortId(p.key))
  const notes: string[] = []
  if (addrs.length === 0) notes.push('no listen address is known yet: start the Mothership node (`aura node start`) and issue again, or the joiner cannot reach it')
  if (existing.length > 0) notes.push(`${opts.user} already has ${existing.join(', ')}: this token issues a NEW identity; revoke the old key separately (aura mothership revoke-peer ${existing[0]} --reason ...)`)
  return {
    token,
    jti,
    user: opts.user,
    role: opts.role,
    expiresAt: new Date(issued.expiresAt).toISOString(),
    reusable: issued.reusable,
    addrs,
    notes
  }
}

/** The peer a typed id names among the chain's peers. */
export function resolvePeer (rt: NodeRuntime, input: string): KeyId {
  rt.requireChain()
  return resolveMemberIn(input, identityDirectory(rt), { kinds: ['peer'] }).key
}

/** The token id a typed id (unique prefix, any case) names among those this Mothership knows. */
async function resolveJti (rt: NodeRuntime, input: string): Promise<Jti> {
  const issued = (await tokenBook(rt.store.kv).list()).map((t) => t.jti as Jti)
  return resolveTokenId(input, [...issued, ...rt.requireChain().tokenRevocations().map((r) => r.jti)])
}

/** What this Mothership signs revocations with (revoke.ts); E_NOT_MOTHERSHIP on any other node. */
export function revokeContext (rt: NodeRuntime): RevokeContext {
  const signing = requireMothership(rt)
  return { chain: rt.requireChain(), signing, holdings: rt, self: rt.key, ts: rt.now() }
}

/** `aura mothership revoke-peer PEER --reason TEXT`. */
export async function revokePeer (rt: NodeRuntime, opts: { peer: string, reason: string }) {
  const ctx = revokeContext(rt)
  const peer = resolvePeer(rt, opts.peer)
  const member = ctx.chain.member(peer)
  const { cut, entry } = keyRevocation(ctx, peer, opts.reason)
  await rt.appendOwnEntries([entry])
  await rt.audit('revoke-peer', { peer, reason: opts.reason, cutSeq: cut.seq, entry: entry.seq })
  return { revoked: shortId(peer), key: peer, user: member?.name ?? null, reason: opts.reason, cut, entry: entry.seq }
}

/**
 * `aura agent revoke-all --role ROLE --reason TEXT`. `--role agent` is the hard pause of
 * Playbook 3: every AI agent credential, whatever role it was issued with (the default agent
 * role is `reader`), until new ones are issued. Any other role revokes the agents of that role.
 * Humans are never touched. One `agent` revocation per credential, each with its own cut, in
 * one batch: a role-wide chain entry would also reach the people who hold that role.
 */
export async function revokeAllAgents (rt: NodeRuntime, opts: { role: string, reason: string }) {
  const ctx = revokeContext(rt)
  const role = parseRole(opts.role, '--role')
  const targets = agentsToRevoke(ctx.chain, role)
  const entries = keyRevocations(ctx, targets.map((m) => m.key), opts.reason).map((r) => r.entry)
  await rt.appendOwnEntries(entries)
  await rt.audit('revoke-agents', { role, reason: opts.reason, count: targets.length, agents: targets.map((m) => m.key) })
  return {
    role,
    revoked: targets.map((m) => shortId(m.key, m.name)),
    reason: opts.reason,
    entries: entries.map((e) => e.seq)
  }
}

/** `aura mothership revoke-token JTI --reason TEXT`. */
export async function revokeToken (rt: NodeRuntime, opts: { jti: string, reason: string }) {
  const ctx = revokeContext(rt)
  const chain = ctx.chain
  const jti = await resolveJti(rt, opts.jti)
  const issued = await tokenBook(rt.store.kv).get(jti)
  if (issued === undefined && chain.admissionsByJti(jti).length === 0) {
    throw new NotFoundError(`no token ${jti} was issued by this Mothership`, { jti, hint: 'list them with `aura mothership list-tokens`' })
  }
  const entry = tokenRevocation(ctx, jti, opts.reason)
  await rt.appendOwnEntries([entry])
  await rt.audit('revoke-token', { jti, reason: opts.reason, entry: entry.seq })
  const boundTo = chain.admissionsByJti(jti).map((k) => shortId(k))
  const notes = boundTo.length > 0 ? [`token was already redeemed by ${boundTo.join(', ')}: that peer stays admitted; if it is unknown to you, revoke it (Playbook 1)`] : []
  return { revoked: jti, reason: opts.reason, entry: entry.seq, boundTo, notes }
}

/** `aura mothership lockdown --reason TEXT`. */
export async function lockdown (rt: NodeRuntime, opts: { reason: string }) {
  const key = requireMothership(rt)
  const chain = rt.requireChain()
  if (chain.locked) throw new ConflictError(`the team is already in lockdown (${chain.lockdownReason ?? ''})`)
  const entry = lockdownEntry(key, chain.head, { reason: opts.reason, ts: rt.now() })
  await rt.appendOwnEntries([entry])
  await rt.audit('lockdown', { reason: opts.reason, entry: entry.seq })
  return { locked: true, reason: opts.reason, entry: entry.seq }
}

/** `aura mothership unlock`. */
export async function unlock (rt: NodeRuntime, opts: { reason?: string }) {
  const key = requireMothership(rt)
  const chain = rt.requireChain()
  if (!chain.locked) throw new ConflictError('the team is not in lockdown')
  if (chain.isForked) throw new ConflictError('the chain is forked (Mothership key compromise suspected): unlock is refused; escalate to the vendor')
  const reason = opts.reason ?? 'unlocked by operator'
  const entry = unlockEntry(key, chain.head, { reason, ts: rt.now() })
  await rt.appendOwnEntries([entry])
  await rt.audit('unlock', { reason, entry: entry.seq })
  return { locked: false, reason, entry: entry.seq }
}

/** `aura mothership rotate-key`: a new signing key announced by an entry the old key signs. */
export async function rotateKey (rt: NodeRuntime) {
  const oldKey = requireMothership(rt)
  const chain = rt.requireChain()
  const seed = randomBytes(32)
  // Signed before the key file is replaced: a refused rotation leaves the old key on disk.
  const { entry, from, to } = keyRotation({ chain, signing: oldKey, ts: rt.now() }, keyPairFromSeed(seed))
  const next = await writeMothershipKey(rt.home, seed, true)
  // The new key is in use before the entry is pushed: the beacon sent with it must verify
  // under the rotated chain.
  rt.mothershipKey = next
  try {
    await rt.appendOwnEntries([entry])
  } catch (err) {
    // Put the old key back only if the chain never learnt of the new one; once the rotate
    // entry is held, the old key can sign nothing that verifies.
    if (chain.entryHash(entry.seq) === undefined) {
      rt.mothershipKey = oldKey
      await writeMothershipKey(rt.home, oldKey.seed, true)
    }
    throw err
  }
  await rt.audit('rotate-key', { from, to, entry: entry.seq })
  return {
    rotated: true,
    from,
    to,
    entry: entry.seq,
    notes: ['every join token signed by the old key stops working: re-issue the ones still needed (aura mothership issue-peer ...)']
  }
}

/** `aura mothership list-peers`. */
export function listPeers (rt: NodeRuntime) {
  const chain = rt.requireChain()
  const receipts = latestReceipts(rt)
  return chain.peers().map((p) => {
    const rev = chain.revocation(p.key)
    const r = receipts.get(p.key)
    return {
      peer: shortId(p.key),
      key: p.key,
      user: p.name,
      role: p.role,
      admittedAt: new Date(p.ts).toISOString(),
      jti: p.jti,
      status: rev === undefined ? 'active' : 'revoked',
      revokedReason: rev?.reason ?? null,
      lastReceiptAt: p.key === rt.key
        ? new Date(rt.now()).toISOString()
        : r === undefined ? null : new Date(r).toISOString()
    }
  })
}

function latestReceipts (rt: NodeRuntime): Map<KeyId, number> {
  const out = new Map<KeyId, number>()
  for (const { record } of rt.store.intent.log.records()) {
    if (record.kind !== 'receipt') continue
    if ((out.get(record.signer) ?? -1) < record.ts) out.set(record.signer, record.ts)
  }
  return out
}

/** `aura mothership list-tokens [--active]`. */
export async function listTokens (rt: NodeRuntime, opts: { active?: boolean }) {
  requireMothership(rt)
  const chain = rt.requireChain()
  const now = rt.now()
  const currentKey = chain.mothershipKeyId
  const rows = (await tokenBook(rt.store.kv).list()).map((t) => {
    const jti = t.jti as Jti
    const revoked = chain.isTokenRevoked(jti)
    const usedBy = chain.admissionsByJti(jti).map((k) => shortId(k))
    const state = revoked !== undefined
      ? 'revoked'
      : t.mothershipKeyId !== currentKey
        ? 'superseded'
        : now >= t.expiresAt
          ? 'expired'
          : !t.reusable && usedBy.length > 0 ? 'used' : 'active'
    return {
      jti: t.jti,
      user: t.user,
      role: t.role,
      issuedAt: new Date(t.issuedAt).toISOString(),
      expiresAt: new Date(t.expiresAt).toISOString(),
      reusable: t.reusable,
      usedBy,
      status: state,
      revokedReason: revoked?.reason ?? null
    }
  })
  rows.sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : -1))
  return opts.active === true ? rows.filter((r) => r.status === 'active') : rows
}

/**
 * `aura mothership audit-token JTI`: every join attempt with the
 * token, refused ones too (past the stored bound, as counts).
 */
export async function auditToken (rt: NodeRuntime, opts: { jti: string }) {
  requireMothership(rt)
  const chain = rt.requireChain()
  const jti = await resolveJti(rt, opts.jti)
  const issued = await tokenBook(rt.store.kv).get(jti)
  const attempts = await rt.store.joins.list(jti)
  const summarised = await JoinAudit.summary(rt.store.kv, jti)
  if (issued === undefined && attempts.length === 0 && summarised === null) {
    const unissued = await JoinAudit.summary(rt.store.kv, null)
    throw new NotFoundError(`no token ${jti} is known to this Mothership`, {
      jti,
      ...(unissued === null ? {} : { hint: `${unissued.count} further attempts with tokens this Mothership never issued were counted without their jti (audit events 'join-attempts-summarised')` })
    })
  }
  const revoked = chain.isTokenRevoked(jti)
  return {
    jti,
    user: issued?.user ?? null,
    role: issued?.role ?? null,
    revoked: revoked === undefined ? null : { reason: revoked.reason, entry: revoked.seq },
    boundTo: chain.admissionsByJti(jti).map(
      (k) => ({ peer: shortId(k), key: k, revoked: chain.revocation(k) !== undefined })
    ),
    attempts: attempts.map((a) => ({
      ts: new Date(a.ts).toISOString(),
      source: a.source,
      peer: a.peer === null ? null : shortId(a.peer),
      key: a.peer,
      outcome: a.outcome,
      reason: a.reason
    })),
    // Attempts past `[mothership] join_audit_per_token`: counted, by outcome and source, not stored one by one.
    summarised: summarised === null
      ? null
      : {
          count: summarised.count,
          first: new Date(summarised.first).toISOString(),
          last: new Date(summarised.last).toISOString(),
          outcomes: summarised.outcomes,
          sources: summarised.sources
        }
  }
}
