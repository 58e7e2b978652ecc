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
import { RECORD_KINDS } from '../crdt/record.js'
import { oneOfValues } from './config/suggest.js'
import { shortId, type KeyId } from '../crdt/ids.js'
import type { NodeRuntime } from './runtime.js'
import { traceRecords, traceRows, type RecordFilter } from './evidence/trace.js'
import { auditExport, auditExportLines } from './evidence/audit-export.js'
import type { AuditStreamStatus } from './evidence/export-stream.js'
import type { RefusedChanges } from './sync/engine.js'
import type { ConfigState } from './config-reload.js'
import { receiptAuthSeq, receiptSummary, syncStatus } from './sync/receipts.js'
import type { SignedRecord } from '../crdt/record.js'
import { packageVersion } from './version.js'
import { resolveRecord } from './evidence/resolve-record.js'
import * as ms from './mothership/mothership.js'
import { issueAgent, listAgents, resolveAgent, revokeAgent } from './agents/agents.js'
import { inbox, sendMessage } from './agents/sentinel.js'
import { mcpCall } from './agents/mcp-tools.js'
import { WORKSPACE_OPERATIONS } from './workspace-node/operations.js'
import { claimZone, listZones, releaseZone } from './zones/zones.js'

import type { ConnectionInfo } from './net/host.js'

/** What a running daemon adds to an operation: live network state. */
export interface LiveState {
  listen: string[]
  connected: KeyId[]
  lastRefusal: { code: string, message: string, peer: string | null, at: string } | null
  stale: boolean
  lastBeacon: number | null
  knownAddresses: Array<{ addr: string, lastError: string | null }>
  /** Open connections: direct or relayed, remote address, round trip (ms). */
  connections: ConnectionInfo[]
  /** Addresses peers observed this node at (identify): its face outside a NAT. */
  observed: string[]
  /** Whether this node serves as a circuit relay for admitted peers now. */
  relay: boolean
  startedAt: number
  /** Continuous audit export (`[audit.export]`), when enabled. */
  auditExport: AuditStreamStatus | null
  /** Intent-log changes refused on sync links, per peer, direction and code (node/sync/engine.ts). */
  refusedChanges?: RefusedChanges[]
  /** aura.toml as the daemon applied it: keys waiting for a restart, the last refused reload. */
  config: Pick<ConfigState, 'restartNeeded' | 'error'> | null
}

/** Refused changes newer than this are a problem in `aura status`; older ones are only listed. */
const REFUSED_RECENT_MS = 10 * 60_000

/** One operation: params in, JSON out. `live` is set when a daemon runs it. */
export type Operation = (rt: NodeRuntime, params: Record<string, any>, live?: LiveState) => Promise<unknown>

function need (params: Record<string, unknown>, name: string): string {
  const v = params[name]
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`missing ${name}`)
  return v
}

/** An operation whose result is a list of rows, produced one at a time. */
export type StreamOperation = (rt: NodeRuntime, params: Record<string, any>) => Promise<Iterable<unknown>>

// One reading of trace's parameters for both tables: an unknown --kind is refused, never a filter.
function traceFilter (p: Record<string, any>): RecordFilter {
  return { actor: p.actor, signer: p.signer, since: p.since, kind: p.kind === undefined ? undefined : oneOfValues('--kind', String(p.kind), RECORD_KINDS), receipts: p.receipts === true }
}

/**
 * The operations whose results can outgrow any single answer (evidence of a large store): the
 * daemon streams their rows over the control socket and the CLI writes each as it arrives. The
 * same names in OPERATIONS return the rows as one array (MCP tools, small callers).
 */
export const STREAM_OPERATIONS: Record<string, StreamOperation> = {
  trace: async (rt, p) => traceRows(rt, traceFilter(p)),
  'audit-export': async (rt, p) => await auditExportLines(rt, { actor: p.actor, signer: p.signer, since: p.since })
}

/** The operation table. */
export const OPERATIONS: Record<string, Operation> = {
  // With a workspace (params.workspace, [workspace] path, or a checkout at params.cwd) the
  // record carries the units changed since the last intent; see node/workspace-node/.
  'log-intent': async (rt, p) => await (await import('./workspace-node/log-intent.js')).logIntent(rt, p),

  ...WORKSPACE_OPERATIONS,

  trace: async (rt, p) => traceRecords(rt, traceFilter(p)),

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
      self: { key: rt.key, summary: receiptSummary(records, chain.head, await (await import('./workspace-node/apply-ops.js')).unappliedSummary(rt)), now: rt.now() },
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
  'agent-resolve': async (rt, p) => { const a = resolveAgent(rt, need(p, 'agent')); return { agent: shortId(a.key, a.name), key: a.key, capabilities: [...a.capabilities] } },
  'agent-revoke': async (rt, p) => await revokeAgent(rt, { agent: need(p, 'agent'), reason: need(p, 'reason') }),
  'agent-revoke-all': async (rt, p) => await ms.revokeAllAgents(rt, { role: need(p, 'role'), reason: need(p, 'reason') }),
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
  'peer-list': async (rt) => (await rt.store.peers.list()).map(({ key, info }) => ({ peer: shortId(key), key, addrs: info.addrs, lastSeen: info.seen === null ? null : new Date(info.seen).toISOString() }))
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
  const refused = (live?.refusedChanges ?? []).map((r) => ({ peer: shortId(r.peer), direction: r.direction, code: r.code, count: r.count, last: new Date(r.last).toISOString(), message: r.message }))
  for (const r of live?.refusedChanges ?? []) {
    if (rt.now() - r.last > REFUSED_RECENT_MS) continue
    const what = r.direction === 'in' ? `refused ${r.count} intent change message(s) from ${shortId(r.peer)}` : `${shortId(r.peer)} refused ${r.count} intent change message(s) of this node`
    problems.push({ code: r.code, message: `refused changes: ${what}, last at ${new Date(r.last).toISOString()}: ${r.message}` })
  }
  if (chain === null) problems.push({ code: 'E_NOT_ADMITTED', message: 'not part of a team yet: `aura join TOKEN` or `aura mothership init`' })
  const cfg = live?.config ?? null
  if (cfg?.error != null) problems.push({ code: 'E_CONFIG', message: `aura.toml was not reloaded (${cfg.error.at}), the daemon keeps its running config: ${cfg.error.message}` })
  if (cfg !== null && cfg.restartNeeded.length > 0) problems.push({ code: 'E_CONFIG', message: `restart needed: aura.toml sets ${cfg.restartNeeded.map((r) => r.key).join(', ')}, which the daemon reads only at start (\`aura node stop\` then \`aura node start\`)` })
  const authSeqs = newestReceiptAuthSeq(records, new Set((live?.connections ?? []).map((c) => c.key)))
  return {
    version: packageVersion(),
    peer: rt.identity.shortId,
    key: rt.key,
    peerId: rt.identity.peerId,
    user: self?.name ?? rt.config.node.name,
    role: self?.role ?? null,
    team: chain?.team ?? null,
    mothership: rt.mothershipKey !== null,
    daemon: live === undefined ? 'not running' : 'running',
    pid: live === undefined ? null : process.pid,
    // The daemon's memory now (MB): resident, JS heap in use, and outside it (Automerge's WebAssembly memory, buffers).
    memory: live === undefined ? null : memoryMb(),
    listen: (live?.listen ?? []).filter((a) => !a.includes('/p2p-circuit')),
    // Circuit addresses: reachable through a relay that holds a reservation for this node.
    relayed: (live?.listen ?? []).filter((a) => a.includes('/p2p-circuit')),
    connected: (live?.connected ?? []).map((k) => shortId(k)),
    // How this node reaches each connected peer: one row per connection.
    // Per connection: how (direct or relayed, the remote address, round trip), the peer's bytes
    // in and out since the daemon started, when it last sent anything, and the authority seq of
    // its newest receipt here (what it had applied when it signed it).
    peers: (live?.connections ?? []).map((c) => ({
      peer: shortId(c.key),
      key: c.key,
      user: chain?.member(c.key)?.name ?? null,
      via: c.via,
      addr: c.addr,
      rttMs: c.rttMs,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      lastSeen: c.lastHeardAt === null ? null : new Date(c.lastHeardAt).toISOString(),
      authSeq: authSeqs.get(c.key) ?? null
    })),
    observed: live?.observed ?? [],
    relay: live?.relay ?? false,
    authority: chain === null ? null : { seq: chain.head.seq, hash: chain.head.hash },
    /** The team's write quotas as every peer enforces them (genesis), whatever this node's [quotas] says. */
    quotas: chain?.quotas ?? null,
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
    refusedChanges: refused,
    config: cfg === null ? null : { restartNeeded: cfg.restartNeeded.map((r) => r.key), reloadError: cfg.error },
    problems
  }
}

/** The auth seq of each wanted signer's newest receipt (highest record seq). */
function newestReceiptAuthSeq (records: Iterable<{ record: SignedRecord }>, signers: Set<KeyId>): Map<KeyId, number> {
  const newest = new Map<KeyId, { seq: number, auth: number }>()
  if (signers.size === 0) return new Map()
  for (const { record } of records) {
    if (record.kind !== 'receipt' || !signers.has(record.signer)) continue
    const auth = receiptAuthSeq(record.data)
    const had = newest.get(record.signer)
    if (auth !== null && (had === undefined || record.seq > had.seq)) newest.set(record.signer, { seq: record.seq, auth })
  }
  return new Map([...newest].map(([k, v]) => [k, v.auth]))
}

function memoryMb (): { rss: number, heapUsed: number, external: number, arrayBuffers: number } {
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1048576)
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) }
}
