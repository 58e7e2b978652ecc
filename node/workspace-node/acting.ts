/**
 * Who a workspace operation acts as: this node (its user, or the actor given), or an agent
 * whose credential is in this home (`--agent claude-7f3a`), checked for the capability the
 * operation needs. Records that only support another (blobs, snapshots) are signed by the node
 * with the agent as actor, so they never use up the agent's quota.
 *
 * @example
 * const who = await actingAs(rt, { agent: 'claude-7f3a' }, 'rewind')   // the record kind it will sign
 * await rt.appendRecord({ kind: 'rewind', actor: who.actor, text }, who.signer)
 */
import type { KeyPair } from '../../crdt/crypto.js'
import type { RecordKind } from '../../crdt/record.js'
import { shortId } from '../../crdt/ids.js'
import { enforceAgentWrite, loadAgentKey, resolveAgent } from '../agents/agents.js'
import type { NodeRuntime } from '../runtime.js'

/** The identity an operation writes as. */
export interface Acting {
  /** The actor of its records: a user name or an agent id. */
  actor: string
  /** The agent key that signs the main record; undefined: the node's own key. */
  signer?: KeyPair
  /** The short id of whoever signs the main record. */
  label: string
}

/**
 * Resolves `params.agent` / `params.actor`; for an agent, whether
 * it may sign a `kind` record (E_REVOKED, E_CAPABILITY, E_QUOTA).
 */
export async function actingAs (
  rt: NodeRuntime,
  p: { agent?: unknown, actor?: unknown },
  kind: RecordKind
): Promise<Acting> {
  if (typeof p.agent === 'string') {
    const agent = resolveAgent(rt, p.agent)
    await enforceAgentWrite(rt, agent, kind)
    const label = shortId(agent.key, agent.name)
    return { actor: label, signer: await loadAgentKey(rt, agent), label }
  }
  return { actor: typeof p.actor === 'string' ? p.actor : rt.defaultActor(), label: rt.identity.shortId }
}
