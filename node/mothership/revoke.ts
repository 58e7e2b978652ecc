/**
 * The Mothership's revoke path, once for its operations (revoke-peer, revoke-token and
 * agent revoke-all in mothership.ts, agent revoke in node/agents/agents.ts) and for the
 * simulator's operator (sim/world.ts): which entries it signs, and when there is nothing to sign.
 * A key's revocation names its subject by its membership (peer or agent) and carries its cut: the
 * newest record of the key whose whole ancestry the Mothership holds (cutFor). Appending is the
 * caller's: the runtime persists the entries and its hook, like the simulator, hands them to the
 * peer core (PeerCore.chainAppended: pushed to every session, whose engines close the key's
 * sessions, a beacon vouching for them, a receipt).
 *
 * @example
 * const ctx = { chain, signing, holdings: rt, self: rt.key, ts: rt.now() }
 * const { entry, cut } = keyRevocation(ctx, key, 'laptop theft')
 * await rt.appendOwnEntries([entry])
 */
import { revokeEntry, type AgentMember, type AuthorityChain } from '../../crdt/authority-chain.js'
import type { Cut } from '../../crdt/authority-view.js'
import { headOf, type ChainEntry } from '../../crdt/chain-entry.js'
import type { KeyPair } from '../../crdt/crypto.js'
import { ConflictError, NotFoundError, UsageError } from '../../crdt/errors.js'
import { shortId, type Jti, type KeyId, type RecordId } from '../../crdt/ids.js'
import type { IntentLog } from '../../crdt/intent-log.js'

/** What `cutFor` reads: the records this node holds (a NodeRuntime, or the simulator's Mothership). */
export interface CutSource { readonly store: { readonly intent: { readonly log: Pick<IntentLog, 'records'> } } }

/** What a revocation is signed from. */
export interface RevokeContext {
  chain: AuthorityChain
  /** The team's signing key. */
  signing: KeyPair
  /** The records the Mothership holds, for the cuts. */
  holdings: CutSource
  /** The Mothership's own node key, never revoked (rotate the Mothership instead). */
  self: KeyId
  ts: number
}

/** One key's revocation entry and the cut it carries. */
export interface KeyRevocation {
  key: KeyId
  cut: Cut
  entry: ChainEntry
}

/**
 * The entry revoking `key`, with its cut; E_CONFLICT if it is revoked already, E_USAGE for the
 * Mothership's own node key, E_NOT_FOUND for a key that is no member. `label` names it in errors.
 */
export function keyRevocation (c: RevokeContext, key: KeyId, reason: string, label = shortId(key)): KeyRevocation {
  return keyRevocations(c, [key], reason, () => label)[0]
}

/** The entries revoking each of `keys`, one batch in order (each on the one before); as keyRevocation. */
export function keyRevocations (
  c: RevokeContext,
  keys: readonly KeyId[],
  reason: string,
  label: (key: KeyId) => string = (key) => shortId(key)
): KeyRevocation[] {
  const out: KeyRevocation[] = []
  let head = c.chain.head
  for (const key of keys) {
    const existing = c.chain.revocation(key)
    if (existing !== undefined) throw new ConflictError(`${label(key)} is already revoked (entry ${existing.seq}: ${existing.reason})`, { peer: shortId(key) })
    if (key === c.self) throw new UsageError('the Mothership cannot revoke its own node key; rotate the Mothership instead')
    const member = c.chain.member(key)
    if (member === undefined) throw new NotFoundError(`${label(key)} is no member of team '${c.chain.team}'`, { peer: shortId(key) })
    const cut = cutFor(c.holdings, key)
    const entry = revokeEntry(c.signing, head, { subject: { type: member.kind, key, cut }, reason, ts: c.ts })
    out.push({ key, cut, entry })
    head = headOf(entry)
  }
  return out
}

/**
 * Whom `aura agent revoke-all --role ROLE` revokes: every active agent credential of that role,
 * and with `agent` every one whatever its role (Playbook 3's hard pause). Never a person: a
 * role-wide entry would reach the people who hold the role too. E_NOT_FOUND when none is active.
 */
export function agentsToRevoke (chain: AuthorityChain, role: string): AgentMember[] {
  const targets = chain.agents().filter((m) => (role === 'agent' || m.role === role) && chain.revocation(m.key) === undefined)
  if (targets.length === 0) {
    throw new NotFoundError(`no active agent ${role === 'agent' ? 'credential' : `has role '${role}'`}: nothing to revoke`, { role, hint: 'see `aura agent list --filter kind=agent`' })
  }
  return targets
}

/** The entry revoking join token `jti`; E_CONFLICT if it is revoked already. */
export function tokenRevocation (c: RevokeContext, jti: Jti, reason: string): ChainEntry {
  const existing = c.chain.isTokenRevoked(jti)
  if (existing !== undefined) throw new ConflictError(`token ${jti} is already revoked (entry ${existing.seq}: ${existing.reason})`, { jti })
  return revokeEntry(c.signing, c.chain.head, { subject: { type: 'token', jti }, reason, ts: c.ts })
}

/**
 * The cut for a key: its newest record held here (the last one accepted as legitimate) whose
 * whole ancestry by `prev` is held, with seqs falling at each step (an honest node skips seqs
 * after a crash, docs/storage.md) and no seq of it equivocated.
 */
export function cutFor (rt: CutSource, key: KeyId): { seq: number, hash: RecordId | null } {
  const mine = new Map<RecordId, { seq: number, prev: RecordId | null }>()
  const perSeq = new Map<number, number>()
  for (const { id, record } of rt.store.intent.log.records()) {
    if (record.signer !== key) continue
    mine.set(id, { seq: record.seq, prev: record.prev })
    perSeq.set(record.seq, (perSeq.get(record.seq) ?? 0) + 1)
  }
  const good = new Map<RecordId, boolean>()
  let cut: { seq: number, hash: RecordId | null } = { seq: 0, hash: null }
  for (const [id, r] of mine) {
    if (r.seq > cut.seq && legitimateAncestry(id, mine, perSeq, good)) cut = { seq: r.seq, hash: id }
  }
  return cut
}

// Whether `id` and its ancestors are all held, unequivocal, with falling seqs, down to a first
// record (prev null). Memoised in `good`; iterative, each record visited once overall.
function legitimateAncestry (
  id: RecordId,
  mine: Map<RecordId, { seq: number, prev: RecordId | null }>,
  perSeq: Map<number, number>,
  good: Map<RecordId, boolean>
): boolean {
  const path: RecordId[] = []
  let verdict: boolean | undefined
  for (let at: RecordId | null = id; verdict === undefined;) {
    if (at === null) { verdict = true; break }
    const r = mine.get(at)
    const child = path.length > 0 ? mine.get(path[path.length - 1]) : undefined
    if (r === undefined || (child !== undefined && r.seq >= child.seq)) { verdict = false; break }
    const known = good.get(at)
    if (known !== undefined) { verdict = known; break }
    if (perSeq.get(r.seq) !== 1) { verdict = false; break }
    path.push(at)
    at = r.prev
  }
  // A record is good only if every record below it is: one verdict for the whole path, except
  // that a failing record itself was not pushed and keeps no entry.
  for (const p of path) good.set(p, verdict)
  return verdict
}
