/**
 * The sentinel inbox: messages between agents (and people), as signed `message` records in the
 * intent log, so every instruction one agent gives another replicates, is quarantined by the
 * same rules as any record (a revoked sender's messages past its cut count nowhere), and can be
 * reviewed in an incident: `aura sentinel inbox --agent claude-7f3a` lists what a rogue agent
 * told others, and flags the messages whose recipient is still active and may still be acting
 * on them (Playbook 3: "review aura sentinel inbox for cross-agent coordination traces").
 *
 * A message is `kind: "message"`, its text, and `data: { to: [key ids] }`. Sending needs the
 * `intent` capability (an agent's quota counts it like any record).
 *
 * @example
 * await sendMessage(rt, { agent: 'claude', to: ['reviewer'], text: 'run the migration' })
 * inbox(rt, { agent: 'claude', since: '7d' })   // rows, oldest first
 */
import type { Json } from '../../crdt/canonical.js'
import { UsageError } from '../../crdt/errors.js'
import { shortId, type KeyId } from '../../crdt/ids.js'
import { actingAs } from '../workspace-node/acting.js'
import type { NodeRuntime } from '../runtime.js'
import { resolveMember } from './agents.js'
import { traceRecords, type TraceRow } from '../evidence/trace.js'

/** One message as the inbox shows it. */
export interface InboxRow {
  id: string
  ts: string
  from: string
  fromKey: KeyId
  to: Array<{ id: string, key: KeyId, revoked: boolean }>
  text: string
  /** As in `aura trace`: a revoked sender's messages past its cut are quarantined. */
  status: TraceRow['status']
  reason: string | null
  senderRevoked: boolean
  /** Some recipient is still active: it may still be acting on this message. */
  activeRecipients: boolean
}

/** `aura sentinel send --to ID TEXT [--agent ID]`. */
export async function sendMessage (
  rt: NodeRuntime,
  p: { to?: unknown, text?: unknown, agent?: unknown, actor?: unknown }
): Promise<Record<string, unknown>> {
  if (typeof p.text !== 'string' || p.text.trim() === '') throw new UsageError('missing message text')
  const names = Array.isArray(p.to) ? p.to.map(String) : typeof p.to === 'string' ? [p.to] : []
  if (names.length === 0) throw new UsageError('missing --to: the agent or peer the message is for')
  const to = names.map((n) => resolveMember(rt, n))
  const who = await actingAs(rt, p, 'intent')
  const a = await rt.appendRecord({ kind: 'message', text: p.text, actor: who.actor, data: { to: to.map((m) => m.key) } as Json }, who.signer)
  return { id: a.id, seq: a.seq, from: who.label, to: to.map((m) => shortId(m.key, m.kind === 'agent' ? m.name : 'peer')) }
}

/** `aura sentinel inbox [--agent ID] [--since D]`: messages from or to that agent (all without). */
export function inbox (rt: NodeRuntime, p: { agent?: unknown, since?: unknown }): InboxRow[] {
  const chain = rt.requireChain()
  const subject = typeof p.agent === 'string' ? resolveMember(rt, p.agent).key : null
  const label = (key: KeyId): string => {
    const m = chain.member(key)
    return shortId(key, m?.kind === 'agent' ? m.name : 'peer')
  }
  const rows: InboxRow[] = []
  for (const row of traceRecords(rt, { kind: 'message', since: typeof p.since === 'string' ? p.since : undefined })) {
    const record = rt.store.intent.log.record(row.id)
    const data = record?.data as { to?: unknown } | null | undefined
    const toKeys = Array.isArray(data?.to) ? data.to.filter((k): k is KeyId => typeof k === 'string') : []
    if (subject !== null && row.signerKey !== subject && !toKeys.includes(subject)) continue
    const to = toKeys.map((key) => ({ id: label(key), key, revoked: chain.revocation(key) !== undefined }))
    rows.push({
      id: row.id,
      ts: row.ts,
      from: row.signer,
      fromKey: row.signerKey,
      to,
      text: row.text,
      status: row.status,
      reason: row.reason,
      senderRevoked: row.revoked !== null,
      activeRecipients: to.some((t) => !t.revoked)
    })
  }
  return rows.sort((a, b) => a.ts.localeCompare(b.ts))
}
