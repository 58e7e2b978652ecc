/**
 * The effective-view function the simulator checks: the real one from crdt/, reduced to the set
 * of effective ids. Tests pass a different `EffectiveIdsFn` (for example one that sees the
 * chain through a view whose `revocation()` forgets revocations) to prove the checker fails.
 *
 * @example
 * realEffectiveIds(log.records(), chain) // Set of effective record ids
 */
import type { AuthorityView } from '../crdt/authority-view.js'
import { effectiveView } from '../crdt/effective-view.js'
import type { RecordId } from '../crdt/ids.js'
import type { SignedRecord } from '../crdt/record.js'
import type { EffectiveIdsFn } from './properties.js'

/** The ids crdt/effective-view.ts accepts. */
export const realEffectiveIds: EffectiveIdsFn = (
  records: Array<{ id: RecordId, record: SignedRecord }>,
  view: AuthorityView
) =>
  new Set(effectiveView(records, view).effective.keys())

/** An effective-view function that sees every chain through `wrap` (for mutation tests). */
export function effectiveIdsThrough (wrap: (view: AuthorityView) => AuthorityView): EffectiveIdsFn {
  return (records, view) => realEffectiveIds(records, wrap(view))
}
