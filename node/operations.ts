/**
 * Every operation a node offers, in one table: each declares its zod parameters, whether it needs
 * the daemon, and what it returns (the type of its `run`). The daemon serves the table over its
 * control socket, checking parameters there; without a daemon the CLI opens the node and calls
 * the same entries; the MCP tools and the incident page call them too — all through
 * `invokeOperation` (node/operation.ts), so the same parameters are refused with the same E_USAGE
 * and the same errors (with the same codes) come back whoever asks.
 *
 * Loading this table is cheap: the implementations are imported inside `run`.
 *
 * @example
 * const result = await invokeOperation(OPERATIONS, 'log-intent', { text: 'fix login' }, { rt })
 */
import { z } from 'zod'
import { defineOperation, defineStreamOperation, invokeOperation, invokeRows, type OperationContext, type ParamsOf, type ResultOf } from './operation.js'
import { WORKSPACE_OPERATIONS } from './workspace-node/operations.js'

// A parameter that must be given, as a non-blank string.
const required = z.string().refine((s) => s.trim() !== '', 'must not be empty')
const optional = z.string().optional()
const flag = z.boolean().optional()
// One value or several (`--to a --to b`).
const some = z.union([z.string(), z.array(z.string())]).optional()
// Who writes: this node's user (`actor` names the person), or an agent whose credential is in this home.
const acting = { agent: optional, actor: optional }
// Records to look at, as `aura trace` filters them.
const filter = { actor: optional, signer: optional, since: optional }
const none = z.strictObject({})

async function traceFilter (p: { actor?: string, signer?: string, since?: string, kind?: string, receipts?: boolean }): Promise<import('./evidence/trace.js').RecordFilter> {
  // An unknown --kind is refused, never a filter that matches nothing.
  const [{ oneOfValues }, { RECORD_KINDS }] = await Promise.all([import('./config/suggest.js'), import('../crdt/record.js')])
  return { actor: p.actor, signer: p.signer, since: p.since, kind: p.kind === undefined ? undefined : oneOfValues('--kind', p.kind, RECORD_KINDS), receipts: p.receipts === true }
}

const ms = async (): Promise<typeof import('./mothership/mothership.js')> => await import('./mothership/mothership.js')
const agents = async (): Promise<typeof import('./agents/agents.js')> => await import('./agents/agents.js')

/** The operation table. */
export const OPERATIONS = {
  'log-intent': defineOperation({
    summary: 'Append a signed intent (an incident when the text starts with INCIDENT:), with the workspace\'s changes',
    daemon: 'optional',
    // With a workspace (workspace, [workspace] path, or a checkout at cwd) the record carries the
    // units changed since the last intent; see node/workspace-node/. `delta` is used only without one.
    params: z.strictObject(
      { text: required, ...acting, delta: z.unknown().optional(), workspace: optional, cwd: optional }
    ),
    run: async ({ rt }, p) => await (await import('./workspace-node/log-intent.js')).logIntent(rt, p)
  }),

  ...WORKSPACE_OPERATIONS,

  // The rows of a large store can outgrow any single answer: the daemon streams them.
  trace: defineStreamOperation({
    summary: 'Records with their status (effective, quarantined), oldest first',
    daemon: 'optional',
    params: z.strictObject({ ...filter, kind: optional, receipts: flag }),
    rows: async ({ rt }, p) => {
      await rt.warmedUp()
      return (await import('./evidence/trace.js')).traceRows(rt, await traceFilter(p))
    }
  }),
  'audit-export': defineStreamOperation({
    summary: 'Records and audit events as verifiable JSON lines',
    daemon: 'optional',
    params: z.strictObject(filter),
    rows: async ({ rt }, p) => {
      await rt.warmedUp()
      return await (await import('./evidence/audit-export.js')).auditExportLines(rt, p)
    }
  }),

  status: defineOperation({
    summary: 'This node: identity, team, authority head, records, connections, problems',
    daemon: 'optional',
    params: none,
    run: async ({ rt, live }) => {
      await rt.warmedUp()
      const s = (await import('./status.js')).nodeStatus(rt, live)
      const workspace = await (await import('./workspace-node/apply-ops.js')).workspaceSummary(rt)
      if (workspace.conflicts > 0) s.problems.push({ code: 'E_CONFLICT', message: `${workspace.conflicts} received change${workspace.conflicts === 1 ? '' : 's'} not applied to the workspace: see \`aura conflicts\`` })
      return { ...s, workspace }
    }
  }),
  'sync-status': defineOperation({
    summary: 'Which peers hold what (receipts); with `intent`, who has received that record',
    daemon: 'optional',
    params: z.strictObject({ intent: optional }),
    run: async ({ rt }, p) => {
      const [{ receiptSummary, syncStatus }, { resolveRecord }, { unappliedSummary }] = await Promise.all([import('./sync/receipts.js'), import('./evidence/resolve-record.js'), import('./workspace-node/apply-ops.js')])
      const chain = rt.requireChain()
      const records = rt.store.intent.log.records()
      const intent = p.intent === undefined ? null : resolveRecord(rt, p.intent)
      return syncStatus({
        records,
        members: chain.members(),
        isRevoked: (k) => chain.revocation(k) !== undefined,
        self: { key: rt.key, summary: receiptSummary(records, chain.head, await unappliedSummary(rt)), now: rt.now() },
        intent
      })
    }
  }),

  'mothership-init': defineOperation({
    summary: 'Make this node the team\'s Mothership: a signing key and the genesis entry',
    daemon: 'optional',
    params: z.strictObject({ team: optional, user: optional }),
    run: async ({ rt }, p) => await (await ms()).mothershipInit(rt, p)
  }),
  'issue-peer': defineOperation({
    summary: 'Issue a join token for a person (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ user: required, role: required, ttl: optional, reusable: flag }),
    run: async ({ rt }, p) => await (await ms()).issuePeer(rt, { ...p, reusable: p.reusable === true })
  }),
  'list-peers': defineOperation({ summary: 'Admitted peers', daemon: 'optional', params: none, run: async ({ rt }) => (await ms()).listPeers(rt) }),
  'list-tokens': defineOperation({
    summary: 'Join tokens issued (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ active: flag }),
    run: async ({ rt }, p) => await (await ms()).listTokens(rt, { active: p.active === true })
  }),
  'revoke-peer': defineOperation({
    summary: 'Revoke a peer key, cutting its records at the last one accepted (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ peer: required, reason: required }),
    run: async ({ rt }, p) => await (await ms()).revokePeer(rt, p)
  }),
  'revoke-token': defineOperation({
    summary: 'Revoke a join token (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ jti: required, reason: required }),
    run: async ({ rt }, p) => await (await ms()).revokeToken(rt, p)
  }),
  'audit-token': defineOperation({
    summary: 'Who tried to redeem a token, from where, with what outcome (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ jti: required }),
    run: async ({ rt }, p) => await (await ms()).auditToken(rt, p)
  }),
  lockdown: defineOperation({
    summary: 'Put the team in lockdown: no new tokens, joins, records or zone claims (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ reason: required }),
    run: async ({ rt }, p) => await (await ms()).lockdown(rt, p)
  }),
  unlock: defineOperation({
    summary: 'End a lockdown (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ reason: optional }),
    run: async ({ rt }, p) => await (await ms()).unlock(rt, p)
  }),
  'rotate-key': defineOperation({ summary: 'Rotate the Mothership signing key', daemon: 'optional', params: none, run: async ({ rt }) => await (await ms()).rotateKey(rt) }),

  'agent-issue': defineOperation({
    summary: 'Issue an agent credential (Mothership)',
    daemon: 'optional',
    params: z.strictObject({
      name: required,
      role: optional,
      capabilities: z.array(z.string()).optional(),
      ttl: optional,
      maxCommitsPerHour: z.number().optional()
    }),
    run: async ({ rt }, p) => await (await agents()).issueAgent(rt, p)
  }),
  'agent-list': defineOperation({
    summary: 'Agent credentials (and peers, with kind=peer or kind=all)',
    daemon: 'optional',
    params: z.strictObject({ filter: optional }),
    run: async ({ rt }, p) => (await agents()).listAgents(rt, p)
  }),
  'agent-resolve': defineOperation({
    summary: 'An agent by name or id: its key and capabilities',
    daemon: 'optional',
    params: z.strictObject({ agent: required }),
    run: async ({ rt }, p) => {
      const [{ resolveAgent }, { shortId }] = await Promise.all([agents(), import('../crdt/ids.js')])
      const a = resolveAgent(rt, p.agent)
      return { agent: shortId(a.key, a.name), key: a.key, capabilities: [...a.capabilities] }
    }
  }),
  'agent-revoke': defineOperation({
    summary: 'Revoke an agent credential (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ agent: required, reason: required }),
    run: async ({ rt }, p) => await (await agents()).revokeAgent(rt, p)
  }),
  'agent-revoke-all': defineOperation({
    summary: 'Revoke every credential of a role (Mothership)',
    daemon: 'optional',
    params: z.strictObject({ role: required, reason: required }),
    run: async ({ rt }, p) => await (await ms()).revokeAllAgents(rt, p)
  }),
  'sentinel-send': defineOperation({
    summary: 'Send a signed message to agents or peers',
    daemon: 'optional',
    params: z.strictObject({ text: optional, to: some, ...acting }),
    run: async ({ rt }, p) => await (await import('./agents/sentinel.js')).sendMessage(rt, p)
  }),
  'sentinel-inbox': defineOperation({
    summary: 'Messages from and to an agent (all without one)',
    daemon: 'optional',
    params: z.strictObject({ agent: optional, since: optional }),
    run: async ({ rt }, p) => (await import('./agents/sentinel.js')).inbox(rt, p)
  }),
  'zone-claim': defineOperation({
    summary: 'Claim a zone (paths, globs, PATH:NAME functions) for a while',
    daemon: 'optional',
    params: z.strictObject({ patterns: some, mode: optional, ttl: optional, ...acting }),
    run: async ({ rt }, p) => await (await import('./zones/zones.js')).claimZone(rt, p)
  }),
  'zone-list': defineOperation({
    summary: 'Zones held, newest first (active ones, or all)',
    daemon: 'optional',
    params: z.strictObject({ owner: optional, all: flag }),
    run: async ({ rt }, p) => (await import('./zones/zones.js')).listZones(rt, p)
  }),
  'zone-release': defineOperation({
    summary: 'Release a zone this identity claimed',
    daemon: 'optional',
    params: z.strictObject({ id: optional, ...acting }),
    run: async ({ rt }, p) => await (await import('./zones/zones.js')).releaseZone(rt, p)
  }),
  'backup-create': defineOperation({
    summary: 'Write a signed backup of the chain and records (all, or since) to a new file',
    daemon: 'optional',
    params: z.strictObject({ file: required, since: optional }),
    run: async ({ rt }, p) => await (await import('./evidence/backup.js')).createBackup(rt, p)
  }),
  'backup-import': defineOperation({
    summary: 'Import a signed backup: its entries and records go through the same checks as synced ones',
    daemon: 'optional',
    params: z.strictObject({ file: required }),
    run: async ({ rt, live }, p) => await (await import('./evidence/backup.js')).importBackup(rt, { file: p.file, stale: live?.stale === true })
  }),
  'mcp-call': defineOperation({
    summary: 'One MCP tool call of an agent, with its capabilities and quota enforced and audited',
    daemon: 'optional',
    params: z.strictObject({
      agent: required,
      tool: z.string(),
      args: z.record(z.string(), z.unknown()).optional(),
      cwd: optional,
      workspace: optional
    }),
    run: async (ctx, p): Promise<unknown> => {
      const { mcpCall } = await import('./agents/mcp-tools.js')
      return await mcpCall(ctx.rt, p, async (op, params) => await runOperation(op, params, ctx))
    }
  }),

  'peer-add': defineOperation({
    summary: 'Remember a peer\'s address (with its /p2p/ id) and dial it when the daemon runs',
    daemon: 'optional',
    params: z.strictObject({ addr: required }),
    run: async ({ rt, daemon }, p) => {
      const [{ keyIdFromMultiaddr }, { UsageError }, { shortId }] = await Promise.all([import('./net/peer-identity.js'), import('../crdt/errors.js'), import('../crdt/ids.js')])
      const key = keyIdFromMultiaddr(p.addr)
      if (key === null) throw new UsageError(`'${p.addr}' has no /p2p/<peer id> part: copy the full address from the other node's \`aura status\``)
      const prev = await rt.store.peers.get(key)
      await rt.store.peers.put(
        key,
        { addrs: [p.addr, ...(prev?.addrs ?? []).filter((a) => a !== p.addr)], seen: prev?.seen ?? null }
      )
      daemon?.dial(p.addr)
      return { added: p.addr, peer: shortId(key) }
    }
  }),
  'peer-list': defineOperation({
    summary: 'The address book: peers and the addresses known for them',
    daemon: 'optional',
    params: none,
    run: async ({ rt }) => {
      const { shortId } = await import('../crdt/ids.js')
      return (await rt.store.peers.list()).map(({ key, info }) => ({
        peer: shortId(key),
        key,
        addrs: info.addrs,
        lastSeen: info.seen === null ? null : new Date(info.seen).toISOString()
      }))
    }
  }),
  join: defineOperation({
    summary: 'Redeem a join token at the Mothership: through the daemon\'s host, else a transient one',
    daemon: 'optional',
    params: z.strictObject({ token: required }),
    run: async ({ rt, daemon }, p) => {
      const joined = await (await import('./mothership/join-team.js')).joinTeam(rt, p.token, daemon?.host ?? null)
      daemon?.joined(joined.peers)
      return joined.result
    }
  }),

  // What only the running daemon can answer.
  ping: defineOperation({ summary: 'Whether a daemon answers, and as which peer', daemon: 'required', params: none, run: async ({ rt }) => ({ ok: true, peer: rt.identity.shortId }) }),
  stop: defineOperation({ summary: 'Stop the daemon', daemon: 'required', params: none, run: async ({ daemon }) => { daemon.stop(); return { stopping: true } } }),
  'config-state': defineOperation({ summary: 'aura.toml as the daemon applied it: keys waiting for a restart, the last refused reload', daemon: 'required', params: none, run: async ({ daemon }) => daemon.configState() }),
  revocations: defineOperation({ summary: 'When each revocation took effect here and its key\'s last connection closed', daemon: 'required', params: none, run: async ({ daemon }) => daemon.revocations() }),
  ui: defineOperation({
    summary: 'Serve the incident page; a new one-time login URL per call',
    daemon: 'required',
    params: z.strictObject({ port: z.union([z.string(), z.number()]).optional(), actions: flag, cwd: optional }),
    run: async ({ daemon }, p) => await daemon.openUi(p)
  })
}

/** The name of an operation. */
export type OperationName = keyof typeof OPERATIONS

/** The parameters operation `N` takes, as a caller writes them. */
export type OperationParams<N extends OperationName> = ParamsOf<(typeof OPERATIONS)[N]>

/** What operation `N` resolves to. */
export type OperationResult<N extends OperationName> = ResultOf<(typeof OPERATIONS)[N]>

/** Runs operation `name` with `params` checked against its schema first (E_USAGE naming a bad one). */
export async function runOperation (name: string, params: unknown, ctx: OperationContext): Promise<unknown> {
  return await invokeOperation(OPERATIONS, name, params, ctx)
}

/** The rows of a list-valued operation (`trace`, `audit-export`), its parameters checked the same way. */
export async function operationRows (name: string, params: unknown, ctx: OperationContext): Promise<Iterable<unknown>> {
  return await invokeRows(OPERATIONS, name, params, ctx)
}
