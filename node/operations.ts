/**
 * Every operation the CLI can ask of a node, in one table. The daemon serves them over its
 * control socket; without a daemon the CLI opens the node and calls them directly. Either way
 * the same code runs and the same errors (with the same codes) come back.
 *
 * @example
 * const result = await OPERATIONS['log-intent'](rt, { text: 'fix login' })
 */
import { effectiveView } from '../crdt/effective-view.js'
import { UsageError } from '../crdt/errors.js'
import { shortId, type KeyId } from '../crdt/ids.js'
import type { NodeRuntime } from './runtime.js'
import { traceRecords } from './evidence/trace.js'
import { auditExport } from './evidence/audit-export.js'
import type { AuditStreamStatus } from './evidence/export-stream.js'
import { receiptSummary, syncStatus } from './sync/receipts.js'
import { resolveRecord } from './evidence/resolve-record.js'
import * as ms from './mothership/mothership.js'
import { issueAgent, listAgents, resolveAgent, revokeAgent, revokeAllAgents } from './agents/agents.js'
import { inbox, sendMessage } from './agents/sentinel.js'
import { mcpCall } from './agents/mcp-tools.js'
import { WORKSPACE_OPERATIONS } from './workspace-node/operations.js'
import { claimZone, listZones, releaseZone } from './zones/zones.js'

/** What a running daemon adds to an operation: live network state. */
export interface LiveState {
  listen: string[]
  connected: KeyId[]
  lastRefusal: { code: string, message: string, peer: string | null, at: string } | null
  stale: boolean
  lastBeacon: number | null
  knownAddresses: Array<{ addr: string, lastError: string | null }>
  startedAt: number
  /** Continuous audit export (`[audit.export]`), when enabled. */
  auditExport: AuditStreamStatus | null
}

/** One operation: params in, JSON out. `live` is set when a daemon runs it. */
export type Operation = (rt: NodeRuntime, params: Record<string, any>, live?: LiveState) => Promise<unknown>

function need (params: Record<string, unknown>, name: string): string {
  const v = params[name]
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`missing ${name}`)
  return v
}

/** The operation table. */
export const OPERATIONS: Record<string, Operation> = {
  // With a workspace (params.workspace, [workspace] path, or a checkout at params.cwd) the
  // record carries the units changed since the last intent; see node/workspace-node/.
  'log-intent': async (rt, p) => await (await import('./workspace-node/log-intent.js')).logIntent(rt, p),

  ...WORKSPACE_OPERATIONS,

  trace: async (rt, p) => traceRecords(rt, { actor: p.actor, signer: p.signer, since: p.since, kind: p.kind, receipts: p.receipts === true }),

  'audit-export': async (rt, p) => await auditExport(rt, { actor: p.actor, signer: p.signer, since: p.since }),

  status: async (rt, _p, live) => {
    const s = status(rt, live)
    const workspace = await (await import('./workspace-node/apply-ops.js')).workspaceSummary(rt)
    if (workspace.conflicts > 0) s.problems.push({ code: 'E_CONFLICT', message: `${workspace.conflicts} received change${workspace.conflicts === 1 ? '' : 's'} not applied to the workspace: see \`aura conflicts\`` })
    return { ...s, workspace }
  },

  'sync-status': async (rt, p) => {
    const chain = rt.requireChain()
    const records = rt.store.intent.log.records()
    const intent = typeof p.intent === 'string' ? resolveRecord(rt, p.intent) : null
    return syncStatus({
      records,
      members: chain.members(),
      isRevoked: (k) => chain.revocation(k) !== undefined,
      self: { key: rt.key, summary: receiptSummary(records, chain.head), now: rt.now() },
      intent
    })
  },

  'mothership-init': async (rt, p) => await ms.mothershipInit(rt, { team: p.team, user: p.user }),
  'issue-peer': async (rt, p) => await ms.issuePeer(rt, { user: need(p, 'user'), role: need(p, 'role'), ttl: p.ttl, reusable: p.reusable === true }),
  'list-peers': async (rt) => ms.listPeers(rt),
  'list-tokens': async (rt, p) => await ms.listTokens(rt, { active: p.active === true }),
  'revoke-peer': async (rt, p) => await ms.revokePeer(rt, { peer: need(p, 'peer'), reason: need(p, 'reason') }),
  'revoke-token': async (rt, p) => await ms.revokeToken(rt, { jti: need(p, 'jti'), reason: need(p, 'reason') }),
  'audit-token': async (rt, p) => await ms.auditToken(rt, { jti: need(p, 'jti') }),
  lockdown: async (rt, p) => await ms.lockdown(rt, { reason: need(p, 'reason') }),
  unlock: async (rt, p) => await ms.unlock(rt, { reason: p.reason }),
  'rotate-key': async (rt) => await ms.rotateKey(rt),

  'agent-issue': async (rt, p) => await issueAgent(rt, { name: need(p, 'name'), role: p.role, capabilities: p.capabilities, ttl: p.ttl, maxCommitsPerHour: p.maxCommitsPerHour }),
  'agent-list': async (rt, p) => listAgents(rt, { filter: p.filter }),
  'agent-resolve': async (rt, p) => { const a = resolveAgent(rt, need(p, 'agent')); return { agent: shortId(a.key, a.name), key: a.key } },
  'agent-revoke': async (rt, p) => await revokeAgent(rt, { agent: need(p, 'agent'), reason: need(p, 'reason') }),
  'agent-revoke-all': async (rt, p) => await revokeAllAgents(rt, { role: need(p, 'role'), reason: need(p, 'reason') }),
  'sentinel-send': async (rt, p) => await sendMessage(rt, p),
  'sentinel-inbox': async (rt, p) => inbox(rt, p),
  'zone-claim': async (rt, p) => await claimZone(rt, p),
  'zone-list': async (rt, p) => listZones(rt, p),
  'zone-release': async (rt, p) => await releaseZone(rt, p),
  'backup-create': async (rt, p) => await (await import('./evidence/backup.js')).createBackup(rt, { file: need(p, 'file'), since: p.since }),
  'backup-import': async (rt, p, live) => await (await import('./evidence/backup.js')).importBackup(rt, { file: need(p, 'file'), stale: live?.stale === true }),
  'mcp-call': async (rt, p, live) => await mcpCall(rt, p, async (op, params) => await OPERATIONS[op](rt, params, live)),

  'peer-add': async (rt, p) => {
    const addr = need(p, 'addr')
    const { keyIdFromMultiaddr } = await import('./net/peer-identity.js')
    const key = keyIdFromMultiaddr(addr)
    if (key === null) throw new UsageError(`'${addr}' has no /p2p/<peer id> part: copy the full address from the other node's \`aura status\``)
    const prev = await rt.store.peers.get(key)
    await rt.store.peers.put(key, { addrs: [addr, ...(prev?.addrs ?? []).filter((a) => a !== addr)], seen: prev?.seen ?? null })
    return { added: addr, peer: shortId(key) }
  },
  'peer-list': async (rt) => (await rt.store.peers.list()).map(({ key, info }) => ({ peer: shortId(key), key, addrs: info.addrs, seen: info.seen === null ? null : new Date(info.seen).toISOString() }))
}

function status (rt: NodeRuntime, live?: LiveState) {
  const chain = rt.chain
  const records = rt.store.intent.log.records()
  const view = chain === null ? null : effectiveView(records, chain)
  const self = chain?.member(rt.key)
  const revoked = chain?.revocation(rt.key)
  const problems: Array<{ code: string, message: string }> = []
  if (revoked !== undefined) problems.push({ code: 'E_REVOKED', message: `this node is revoked: ${revoked.reason}` })
  else if (live?.lastRefusal?.code === 'E_REVOKED') {
    // Refused by a peer that holds a revocation this node has not received (it was cut off).
    problems.push({ code: 'E_REVOKED', message: `${live.lastRefusal.peer ?? 'a peer'} refused this node: ${live.lastRefusal.message}` })
  }
  if (chain?.locked === true) problems.push({ code: 'E_LOCKDOWN', message: `team in lockdown: ${chain.lockdownReason ?? ''}` })
  if (live?.stale === true) problems.push({ code: 'E_STALE', message: 'no fresh Mothership beacon: new records from others are refused' })
  const exp = live?.auditExport ?? null
  if (exp !== null && exp.lastError !== null) problems.push({ code: 'E_UNREACHABLE', message: `audit export: ${exp.lastError} (${exp.pending} lines pending${exp.dropped > 0 ? `, ${exp.dropped} dropped` : ''})` })
  if (chain === null) problems.push({ code: 'E_NOT_ADMITTED', message: 'not part of a team yet: `aura join TOKEN` or `aura mothership init`' })
  return {
    peer: rt.identity.shortId,
    key: rt.key,
    peerId: rt.identity.peerId,
    user: self?.name ?? rt.config.node.name,
    role: self?.role ?? null,
    team: chain?.team ?? null,
    mothership: rt.mothershipKey !== null,
    daemon: live === undefined ? 'not running' : 'running',
    pid: live === undefined ? null : process.pid,
    listen: live?.listen ?? [],
    connected: (live?.connected ?? []).map((k) => shortId(k)),
    authority: chain === null ? null : { seq: chain.head.seq, hash: chain.head.hash },
    records: {
      total: records.length,
      effective: view?.effective.size ?? 0,
      quarantined: view?.quarantined.size ?? 0
    },
    lockdown: { locked: chain?.locked ?? false, reason: chain?.locked === true ? chain.lockdownReason ?? null : null },
    stale: { stale: live?.stale ?? false, lastBeacon: live?.lastBeacon == null ? null : new Date(live.lastBeacon).toISOString() },
    revoked: revoked === undefined ? null : { reason: revoked.reason, entry: revoked.seq },
    lastRefusal: live?.lastRefusal ?? null,
    auditExport: exp === null ? null : { ...exp, lastSuccess: exp.lastSuccess === null ? null : new Date(exp.lastSuccess).toISOString() },
    problems
  }
}
