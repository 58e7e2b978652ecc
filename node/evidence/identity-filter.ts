/**
 * Matching records to the identity an operator typed: `peer-5f3a`, `claude-7f3a`, a bare hex
 * prefix, a user/actor name such as `alice`, or an agent's name such as `claude`. Id-shaped input must name exactly one known
 * key (E_NOT_FOUND / E_AMBIGUOUS, as git does with hashes), so a typo never quietly returns
 * nothing.
 *
 * @example
 * const match = identityFilter('peer-5f3a', knownKeys, labelOf)
 * records.filter((r) => match(r.record))
 */
import { resolvePrefix, type KeyId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'

const ID_SHAPED = /^(?:[A-Za-z][A-Za-z0-9_.]*-)?[0-9a-f]{4,64}$/

/** A predicate over records for one typed identity (matches signer key or actor). */
export function identityFilter (input: string, knownKeys: Iterable<KeyId>, labelOf?: (key: KeyId) => string): (r: SignedRecord) => boolean {
  // A name: the actor a record names, or an agent of that name (whose records are signed by
  // it and name it `claude-7f3a`), so `--author claude` finds what `claude-7f3a` did.
  if (!ID_SHAPED.test(input)) {
    const agentActor = new RegExp(`^${input.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{4,64}$`)
    return (r) => r.actor === input || (input !== 'peer' && (labelOf?.(r.signer) === input || agentActor.test(r.actor)))
  }
  const key = resolvePrefix(input, knownKeys, labelOf)
  return (r) => r.signer === key || r.actor === input
}
