/**
 * AI agents as team members: the Mothership issues an agent credential (an `agent` chain entry
 * with role, capabilities, quotas and expiry; the agent's own ed25519 key), agents sign their
 * records with that key, and incident responders list and revoke them — one agent, or every
 * agent of a role at once (`revoke-all --role agent`, the hard pause of Playbook 3).
 *
 * Enforcement happens before an agent's record is signed: revoked (E_REVOKED), expired or
 * lacking the capability (E_CAPABILITY), over its hourly quota (E_QUOTA). Peers apply the very
 * same rules (crdt/write-rules.ts) to every record they hold, whoever signed it and however it
 * arrived: a record the agent's key signs outside `aura` is quarantined with the reason.
 *
 * @example
 * await issueAgent(rt, { name: 'claude', role: 'agent', capabilities: ['intent'] })
 * await revokeAgent(rt, { agent: 'claude', reason: 'generated unvetted deletions' })
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { agentEntry } from '../../crdt/authority-chain.js'
import type { AgentMember, PeerMember } from '../../crdt/chain-state.js'
import { toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import { CapabilityError, KeyMismatchError, LockdownError, NotFoundError, RevokedError, UsageError } from '../../crdt/errors.js'
import { keyIdOf, shortId } from '../../crdt/ids.js'
import type { RecordKind } from '../../crdt/record.js'
import { parseDuration } from '../config.js'
import { assertPrivate, parseKeyFile } from '../key-files.js'
import { requireMothership, revokeContext } from '../mothership/mothership.js'
import { keyRevocation } from '../mothership/revoke.js'
import type { NodeRuntime } from '../runtime.js'
import { identityDirectory, resolveMemberIn } from '../ids-resolve.js'
import { CAPABILITIES, ROLE_CAPABILITIES, ROLES, parseRole } from '../roles.js'
import { nearest, oneOfValues } from '../config/suggest.js'

export { ROLE_CAPABILITIES } from '../roles.js'

/** `aura agent issue NAME`: a credential (chain entry) and the agent's key file. */
export async function issueAgent (
  rt: NodeRuntime,
  opts: {
    name: string
    role?: string
    capabilities?: string[]
    ttl?: string
    maxCommitsPerHour?: number
    owner?: string
  }
) {
  const key = requireMothership(rt)
  const chain = rt.requireChain()
  const defaults = rt.config.agents.defaults
  if (chain.locked) throw new LockdownError('the team is in lockdown: no agent credentials are issued')
  if (opts.role === undefined && defaults.require_explicit_role) {
    throw new UsageError('[agents.defaults] require_explicit_role is set: pass --role', { hint: 'e.g. aura agent issue claude --role agent' })
  }
  const role = parseRole(opts.role ?? defaults.role, opts.role === undefined ? '[agents.defaults] role' : '--role')
  const allowed = ROLE_CAPABILITIES[role]
  const capabilities = opts.capabilities?.map((c) => oneOfValues('capability', c, CAPABILITIES)) ?? [...allowed]
  const extra = capabilities.filter((c) => !allowed.includes(c))
  if (extra.length > 0 && defaults.deny_capability_escalation) {
    throw new CapabilityError(`role ${role} does not grant ${extra.join(', ')} ([agents.defaults] deny_capability_escalation)`, { role, capabilities: extra })
  }
  const ttl = opts.ttl === undefined ? defaults.max_ttl : parseDuration(opts.ttl)
  if (ttl === undefined || ttl <= 0) throw new UsageError(`--ttl takes a duration such as 2h; got '${opts.ttl ?? ''}'`)
  if (ttl > defaults.max_ttl) throw new UsageError(`--ttl ${ttl}s exceeds [agents.defaults] max_ttl (${defaults.max_ttl}s)`)
  const agentKey = keyPairFromSeed(randomBytes(32))
  const now = rt.now()
  const entry = agentEntry(key, chain.head, {
    pub: toB64u(agentKey.publicKey),
    name: opts.name,
    role,
    capabilities,
    quotas: { max_commits_per_hour: opts.maxCommitsPerHour ?? defaults.max_commits_per_hour },
    expires: now + ttl * 1000,
    owner: opts.owner ?? rt.defaultActor(),
    ts: now
  })
  await rt.appendOwnEntries([entry])
  const id = keyIdOf(agentKey.publicKey)
  const file = await saveAgentKey(rt.home, opts.name, agentKey)
  await rt.audit('agent-issued', { agent: id, name: opts.name, role, capabilities })
  return {
    agent: shortId(id, opts.name),
    key: id,
    role,
    capabilities,
    expiresAt: new Date(now + ttl * 1000).toISOString(),
    credential: file
  }
}

/** `aura agent list [--filter k=v]`: agents (and, with kind=peer or kind=all, peers). */
export function listAgents (rt: NodeRuntime, opts: { filter?: string }) {
  const chain = rt.requireChain()
  const filters = parseFilter(opts.filter, [...new Set(chain.members().map((m) => m.name))])
  const now = rt.now()
  const rows = chain.members().map((m) => {
    const rev = chain.revocation(m.key)
    const agent = m.kind === 'agent' ? m as AgentMember : null
    const expired = agent?.expires != null && agent.expires <= now
    return {
      id: shortId(m.key, agent === null ? 'peer' : m.name),
      key: m.key,
      kind: m.kind,
      name: m.name,
      role: m.role,
      capabilities: agent?.capabilities ?? ROLE_CAPABILITIES[m.role] ?? [],
      expiresAt: agent?.expires == null ? null : new Date(agent.expires).toISOString(),
      status: rev !== undefined ? 'revoked' : expired ? 'expired' : 'active',
      reason: rev?.reason ?? null
    }
  })
  const kind = filters.kind ?? (opts.filter === undefined ? 'agent' : undefined)
  return rows.filter((r) => (kind === undefined || kind === 'all' || r.kind === kind) &&
    Object.entries(filters).every(([k, v]) => k === 'kind' || String((r as Record<string, unknown>)[k]) === v))
}

// Values a filter key may take; `name` is checked against the names the chain holds.
const FILTER_VALUES: Record<string, readonly string[] | null> = {
  kind: ['agent', 'peer', 'all'],
  role: ROLES,
  status: ['active', 'revoked', 'expired'],
  name: null
}

function parseFilter (filter: string | undefined, names: readonly string[]): Record<string, string> {
  if (filter === undefined) return {}
  const out: Record<string, string> = {}
  const parts = filter.split(/[,\s]+/).filter(Boolean)
  if (parts.length === 0) throw new UsageError('--filter takes key=value pairs such as "kind=agent"; got nothing')
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq <= 0 || eq === part.length - 1) throw new UsageError(`--filter takes key=value pairs such as "kind=agent"; got '${part}'`)
    const k = oneOfValues('--filter key', part.slice(0, eq), Object.keys(FILTER_VALUES))
    const v = part.slice(eq + 1)
    const allowed = FILTER_VALUES[k]
    if (allowed !== null) out[k] = oneOfValues(`--filter ${k}`, v, allowed)
    else if (names.includes(v)) out[k] = v
    else throw new NotFoundError(`no agent or peer is named '${v}'; ${names.length === 0 ? 'none is known' : `closest: ${nearest(v, names).join(', ')}`}`, { input: v, candidates: nearest(v, names) })
  }
  return out
}

/** The agent a typed id (`claude-7f3a`, a hex prefix) or name names; a name means its newest active credential. */
export function resolveAgent (rt: NodeRuntime, input: string): AgentMember {
  rt.requireChain()
  return resolveMemberIn(input, identityDirectory(rt), { kinds: ['agent'] }) as AgentMember
}

/** Any member, peer or agent, by id or name (node/ids-resolve.ts). */
export function resolveMember (rt: NodeRuntime, input: string): PeerMember | AgentMember {
  rt.requireChain()
  return resolveMemberIn(input, identityDirectory(rt), { kinds: ['agent', 'peer'] })
}

/** `aura agent revoke ID --reason`. */
export async function revokeAgent (rt: NodeRuntime, opts: { agent: string, reason: string }) {
  const ctx = revokeContext(rt)
  const agent = resolveAgent(rt, opts.agent)
  const { cut, entry } = keyRevocation(ctx, agent.key, opts.reason, shortId(agent.key, agent.name))
  await rt.appendOwnEntries([entry])
  await rt.audit('revoke-agent', { agent: agent.key, reason: opts.reason, cutSeq: cut.seq })
  return { revoked: shortId(agent.key, agent.name), key: agent.key, reason: opts.reason, cut, entry: entry.seq }
}

/** Writes an agent's key where its runner (on this machine) finds it: `<home>/agents/<name>.key`. */
async function saveAgentKey (home: string, name: string, key: KeyPair): Promise<string> {
  const dir = join(home, 'agents')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, `${name}-${keyIdOf(key.publicKey).slice(0, 8)}.key`)
  await writeFile(file, JSON.stringify({ seed: toB64u(key.seed), pub: toB64u(key.publicKey), name }) + '\n', { mode: 0o600, flag: 'wx' })
  return file
}

/** The key of an agent whose credential file is in this home. */
export async function loadAgentKey (rt: NodeRuntime, agent: AgentMember): Promise<KeyPair> {
  const dir = join(rt.home, 'agents')
  const files = await readdir(dir).catch(() => [] as string[])
  const file = files.find((f) => f === `${agent.name}-${agent.key.slice(0, 8)}.key`)
  if (file === undefined) throw new NotFoundError(`no key for ${shortId(agent.key, agent.name)} in ${dir}`, { hint: 'the agent runs where its credential file is' })
  const path = join(dir, file)
  await assertPrivate([{ path: dir, kind: 'dir' }, { path, kind: 'file' }])
  const key = parseKeyFile(await readFile(path, 'utf8'), path, `${shortId(agent.key, agent.name)}'s key`)
  if (keyIdOf(key.publicKey) !== agent.key) {
    throw new KeyMismatchError(`${path} does not hold ${shortId(agent.key, agent.name)}'s key`, { path, hint: 'restore the credential file the Mothership issued for this agent' })
  }
  return key
}

/**
 * Checks an agent may write a record of `kind` now, before any work is done: E_REVOKED, then the
 * rules peers apply to its records (crdt/write-rules.ts through the write gate): E_CAPABILITY
 * (kind not granted, credential expired), E_QUOTA. The gate checks again as each record is signed.
 */
export async function enforceAgentWrite (rt: NodeRuntime, agent: AgentMember, kind: RecordKind): Promise<void> {
  const chain = rt.requireChain()
  const id = shortId(agent.key, agent.name)
  const rev = chain.revocation(agent.key)
  if (rev !== undefined) throw new RevokedError(`${id} is revoked: ${rev.reason}`, { agent: id })
  const head = await rt.store.intent.head(agent.key)
  rt.gate.admit(chain, agent, head, { kind, ts: rt.now(), authSeq: chain.head.seq, size: 0 }, false)
}
