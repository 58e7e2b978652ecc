/**
 * What `aura status` reports of a node: identity, team, authority head, records, and — when the
 * daemon runs it — the live network state, with every problem found listed under `problems`.
 *
 * @example
 * const s = nodeStatus(rt, live)   // s.problems: [{ code: 'E_STALE', message: ... }]
 */
import { shortId, type KeyId } from '../crdt/ids.js'
import type { SignedRecord } from '../crdt/record.js'
import type { LiveState } from './operation.js'
import type { NodeRuntime } from './runtime.js'
import { receiptAuthSeq } from './sync/receipts.js'
import { packageVersion } from './version.js'

/** Refused changes newer than this are a problem in `aura status`; older ones are only listed. */
const REFUSED_RECENT_MS = 10 * 60_000

/** The node's status; `live` is set when the daemon runs it. */
export function nodeStatus (rt: NodeRuntime, live?: LiveState) {
  const chain = rt.chain
  const records = rt.store.intent.log.records()
  const view = rt.effectiveView()
  const self = chain?.member(rt.key)
  const revoked = chain?.revocation(rt.key)
  const problems: Array<{ code: string, message: string }> = []
  if (revoked !== undefined) problems.push({ code: 'E_REVOKED', message: `this node is revoked: ${revoked.reason}` })
  else if (live?.lastRefusal?.code === 'E_REVOKED') {
    // Refused by a peer that holds a revocation this node has not received (it was cut off).
    problems.push({ code: 'E_REVOKED', message: `${live.lastRefusal.peer ?? 'a peer'} refused this node: ${live.lastRefusal.message}` })
  }
  if (chain?.locked === true) problems.push({ code: 'E_LOCKDOWN', message: `team in lockdown: ${chain.lockdownReason ?? ''}` })
  if (live?.stale === true) problems.push({ code: 'E_STALE', message: 'no fresh Mothership beacon, or one names chain entries not held yet: new records from others are refused' })
  const exp = live?.auditExport ?? null
  if (exp !== null && exp.lastError !== null) problems.push({ code: 'E_UNREACHABLE', message: `audit export: ${exp.lastError} (${exp.pending} lines pending${exp.dropped > 0 ? `, ${exp.dropped} dropped` : ''})` })
  const refused = (live?.refusedChanges ?? []).map((r) => ({
    peer: shortId(r.peer),
    direction: r.direction,
    code: r.code,
    count: r.count,
    lastAt: new Date(r.last).toISOString(),
    message: r.message
  }))
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
    stale: {
      stale: live?.stale ?? false,
      lastBeacon: live?.lastBeacon == null ? null : new Date(live.lastBeacon).toISOString()
    },
    revoked: revoked === undefined ? null : { reason: revoked.reason, entry: revoked.seq },
    lastRefusal: live?.lastRefusal ?? null,
    auditExport: exp === null
      ? null
      : { ...exp, lastSuccess: exp.lastSuccess === null ? null : new Date(exp.lastSuccess).toISOString() },
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
    if (auth !== null &&
      (had === undefined || record.seq > had.seq)) newest.set(record.signer, { seq: record.seq, auth })
  }
  return new Map([...newest].map(([k, v]) => [k, v.auth]))
}

function memoryMb (): { rss: number, heapUsed: number, external: number, arrayBuffers: number } {
  const m = process.memoryUsage()
  const mb = (n: number): number => Math.round(n / 1048576)
  return { rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) }
}
