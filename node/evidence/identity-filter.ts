/**
 * Matching records to the identity an operator typed (`--actor`, `--signer`, `--author`,
 * `--agent`): `peer-5f3a`, `claude-7f3a`, a bare hex prefix, a user name such as `alice`, or an
 * agent's name such as `claude`. The rules live in node/ids-resolve.ts, the one resolver of every
 * command: input that names nobody is E_NOT_FOUND with the closest candidates, never an empty
 * result.
 *
 * @example
 * const match = identityFilter(rt, 'peer-5f3a')
 * records.filter((r) => match(r.record))
 */
import { identityDirectory, identityMatcher, type Attributed } from '../ids-resolve.js'
import type { NodeRuntime } from '../runtime.js'

/** A predicate over records (or events shaped `{signer, actor}`) for one typed identity. */
export function identityFilter (rt: NodeRuntime, input: string): (r: Attributed) => boolean {
  return identityMatcher(input, identityDirectory(rt))
}
