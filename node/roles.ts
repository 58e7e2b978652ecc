/**
 * The roles a peer or agent can be given and the capabilities each grants. A role name that is
 * not here is refused wherever one is typed (`issue-peer --role`, `agent issue --role`,
 * `agent list --filter role=`, `[agents.defaults] role`): a typo must never issue a credential
 * that can do nothing, or nothing that was meant.
 *
 * @example
 * parseRole('contributor', '--role')   // 'contributor'
 * parseRole('agnet', '--role')         // E_USAGE: ... did you mean 'agent'?
 */
import { ROLE_CAPABILITIES } from '../crdt/write-rules.js'
import { oneOfValues } from './config/suggest.js'

/** The role table lives with the rules that enforce it (crdt/write-rules.ts); re-exported here. */
export { ROLE_CAPABILITIES }

/** Every role name, least capable first. */
export const ROLES = Object.keys(ROLE_CAPABILITIES) as readonly string[]

/** Every capability some role grants. */
export const CAPABILITIES = [...new Set(Object.values(ROLE_CAPABILITIES).flat())]

/** The role `input` names (any case), or E_USAGE with the roles and a did-you-mean. */
export function parseRole (input: string, what = 'role'): string {
  return oneOfValues(what, input, ROLES)
}
