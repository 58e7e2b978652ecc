/**
 * The one resolver for every identity an operator types, in every command: `peer-5f3a`,
 * `claude-7f3a`, a bare hex prefix of at least 4 digits (any case), a user name (`alice`) or an
 * agent name (`claude`). An input that names nobody is E_NOT_FOUND listing the closest
 * candidates, a prefix that names several is E_AMBIGUOUS listing them: a typo never quietly
 * selects nothing.
 *
 * Two uses: `resolveMemberIn` names one member (revoke, send to, act as); `identityMatcher`
 * selects records and events (trace, audit export, pr-review, snapshot-list, sentinel inbox),
 * where a name covers every credential of that name, revoked ones included (they are evidence).
 * A bare name given to `resolveMemberIn` means its newest active credential (an agent re-issued
 * under the same name); older ones stay reachable by id.
 *
 * @example
 * const dir = identityDirectory(rt)
 * resolveMemberIn('claude', dir, { kinds: ['agent'] })      // the newest active `claude`
 * const m = identityMatcher('peer-5f3a', dir); records.filter((r) => m(r))
 */
import { AmbiguousError, NotFoundError, UsageError, type AuraError } from '../crdt/errors.js'
import { shortId, type Jti, type KeyId } from '../crdt/ids.js'
import type { AgentMember, PeerMember } from '../crdt/chain-state.js'
import type { NodeRuntime } from './runtime.js'
import { nearest } from './config/suggest.js'

/** A chain member: a peer (human's node) or an agent credential. */
export type Member = PeerMember | AgentMember

/** What identities exist: chain members, plus signers and actors seen only in records. */
export interface IdentityDirectory {
  /** Every member ever admitted, in admission order. */
  members: readonly Member[]
  /** Keys that signed records held here (members or not: unknown signers are evidence too). */
  signers: ReadonlySet<KeyId>
  /** Every `actor` named by a record held here. */
  actors: ReadonlySet<string>
  /** Whether a member may still act (not revoked, not expired). */
  isActive: (m: Member) => boolean
}

/** A record or event as the matcher sees it. */
export interface Attributed { signer: KeyId | string, actor: string }

const ID = /^(?:([A-Za-z][A-Za-z0-9_.]*)-)?([0-9a-fA-F]{4,64})$/
const MAX_SHOWN = 5

/** The label of a key in short ids: an agent's name, else `peer`. */
export function labelOfMember (m: Member | undefined): string {
  return m?.kind === 'agent' ? m.name : 'peer'
}

/** The directory of a node: its chain's members and the signers and actors of its records. */
export function identityDirectory (rt: NodeRuntime): IdentityDirectory {
  const chain = rt.chain
  const signers = new Set<KeyId>()
  const actors = new Set<string>()
  for (const { record } of rt.store.intent.log.records()) {
    signers.add(record.signer)
    actors.add(record.actor)
  }
  const now = rt.now()
  return {
    members: chain?.members() ?? [],
    signers,
    actors,
    isActive: (m) => chain?.revocation(m.key) === undefined && !(m.kind === 'agent' && m.expires !== null && m.expires <= now)
  }
}

/** The one member `input` names among `kinds`; a bare name means its newest active credential. */
export function resolveMemberIn (input: string, dir: IdentityDirectory, opts: { kinds: ReadonlyArray<Member['kind']>, what?: string }): Member {
  const pool = dir.members.filter((m) => opts.kinds.includes(m.kind))
  const what = opts.what ?? opts.kinds.map((k) => k === 'agent' ? 'agent' : 'peer').join(' or ')
  const byId = idMatches(input, pool.map((m) => m.key), (k) => labelOfMember(pool.find((m) => m.key === k)))
  if (byId.length === 1) return pool.find((m) => m.key === byId[0])!
  if (byId.length > 1) throw ambiguous(input, byId, (k) => pool.find((m) => m.key === k))
  const named = pool.filter((m) => m.name === input.trim())
  if (named.length === 0) throw notFound(input, what, candidatesOf(pool, pool.map((m) => m.key), []))
  const active = named.filter(dir.isActive)
  // Several active keys of one person is a choice the operator must make (revoking the wrong
  // laptop is costly); several active credentials of one agent name is a re-issue: the newest.
  if (active.length > 1 && active.some((m) => m.kind === 'peer')) throw ambiguous(input, active.map((m) => m.key), (k) => pool.find((m) => m.key === k))
  const chosen = active.length > 0 ? active : named
  return chosen.reduce((a, b) => (b.since > a.since ? b : a))
}

/**
 * A predicate selecting what `input` names: by id, the records signed by that key (or naming
 * it as actor); by name, every credential of that name and every record naming it as actor.
 */
export function identityMatcher (input: string, dir: IdentityDirectory): (r: Attributed) => boolean {
  const typed = input.trim()
  const keys = [...new Set<KeyId>([...dir.members.map((m) => m.key), ...dir.signers])]
  const labelOf = (k: KeyId): string => labelOfMember(dir.members.find((m) => m.key === k))
  const byId = idMatches(typed, keys, labelOf)
  if (byId.length > 1) throw ambiguous(typed, byId, (k) => dir.members.find((m) => m.key === k))
  if (byId.length === 1) {
    const key = byId[0]
    const forms = new Set([typed, key, shortId(key, labelOf(key))])
    return (r) => r.signer === key || forms.has(r.actor)
  }
  const named = new Set(dir.members.filter((m) => m.name === typed).map((m) => m.key))
  const agentActor = new RegExp(`^${escape(typed)}-[0-9a-f]{4,64}$`)
  const actorSeen = dir.actors.has(typed) || (typed !== 'peer' && [...dir.actors].some((a) => agentActor.test(a)))
  if (named.size === 0 && !actorSeen) throw notFound(typed, 'identity', candidatesOf(dir.members, keys, [...dir.actors]))
  return (r) => named.has(r.signer as KeyId) || r.actor === typed || (typed !== 'peer' && agentActor.test(r.actor))
}

/**
 * The token id `input` names among `known`: the full id or a unique prefix of at least 4
 * characters after `tk_` (which may be left out), in any case.
 */
export function resolveTokenId (input: string, known: readonly Jti[]): Jti {
  const typed = input.trim()
  const body = (/^tk_/i.test(typed) ? typed.slice(3) : typed).toUpperCase()
  const norm = `tk_${body}`
  if (!/^[0-9A-Z]{4,26}$/.test(body)) {
    throw new UsageError(`'${input}' is not a token id: use tk_ followed by at least 4 characters of its ULID, e.g. tk_01J2ABCD`, { input, hint: 'list them with `aura mothership list-tokens`' })
  }
  const matches = [...new Set(known)].filter((j) => j.startsWith(norm))
  if (matches.length === 1) return matches[0]
  if (matches.length > 1) {
    throw new AmbiguousError(`'${input}' matches ${matches.length} tokens: ${matches.join(', ')}; type more characters`, { input, candidates: matches })
  }
  // A full id this Mothership never issued may still have join attempts (a forged or foreign token).
  if (body.length === 26) return norm as Jti
  const near = nearest(norm, known, MAX_SHOWN)
  throw new NotFoundError(`no token matches '${input}'; ${near.length === 0 ? 'none was issued here' : `closest: ${near.join(', ')}`}`, {
    input,
    candidates: near,
    hint: 'list them with `aura mothership list-tokens`'
  })
}

// Keys an id-shaped input names: hex prefix (any case), and the label when it is not `peer`.
function idMatches (input: string, keys: readonly KeyId[], labelOf: (k: KeyId) => string): KeyId[] {
  const m = ID.exec(input.trim())
  if (m === null) return []
  const label = m[1]
  const hex = m[2].toLowerCase()
  return keys.filter((k) => k.startsWith(hex) && (label === undefined || label.toLowerCase() === 'peer' || labelOf(k) === label))
}

function display (key: KeyId, m: Member | undefined): string {
  const id = shortId(key, labelOfMember(m))
  if (m === undefined) return `${id} (not a member)`
  return m.kind === 'agent' ? `${id} (agent, role ${m.role})` : `${id} (${m.name}, ${m.role})`
}

function candidatesOf (
  members: readonly Member[],
  keys: readonly KeyId[],
  actors: readonly string[]
): Array<{ match: string, shown: string }> {
  const out: Array<{ match: string, shown: string }> = []
  for (const k of keys) {
    const m = members.find((x) => x.key === k)
    out.push({ match: shortId(k, labelOfMember(m)), shown: display(k, m) })
  }
  for (const m of members) out.push({ match: m.name, shown: m.name })
  for (const a of actors) out.push({ match: a, shown: a })
  return out
}

function notFound (input: string, what: string, candidates: Array<{ match: string, shown: string }>): AuraError {
  const near = nearest(input, candidates.map((c) => c.match), MAX_SHOWN)
  const shown = [...new Set(near.map((n) => candidates.find((c) => c.match === n)!.shown))]
  const list = shown.length === 0 ? 'none is known here' : `closest: ${shown.join(', ')}`
  return new NotFoundError(`no ${what} matches '${input}'; ${list}`, {
    input,
    candidates: shown,
    hint: 'list identities with `aura mothership list-peers` and `aura agent list --filter kind=all`'
  })
}

function ambiguous (input: string, keys: KeyId[], memberOf: (k: KeyId) => Member | undefined): AuraError {
  // Enough digits to tell every candidate apart, as the advice says to type.
  let n = 8
  while (n < 64 && new Set(keys.map((k) => k.slice(0, n))).size < keys.length) n += 2
  const shown = keys.map((k) => { const m = memberOf(k); return `${labelOfMember(m)}-${k.slice(0, n)}${m === undefined ? '' : ` (${m.name})`}` })
  return new AmbiguousError(`'${input}' matches ${keys.length} identities: ${shown.join(', ')}; type more digits`, { input, candidates: shown })
}

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
