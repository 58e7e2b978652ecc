/**
 * Resolving a record id a person typed (full, or a unique prefix of at least 4 hex digits).
 *
 * @example
 * const { id, record } = resolveRecord(rt, '3f9a12')
 */
import { NotFoundError } from '../../crdt/errors.js'
import { resolvePrefix, type RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import type { NodeRuntime } from '../runtime.js'

/** The one record a typed id names; E_NOT_FOUND / E_AMBIGUOUS otherwise. */
export function resolveRecord (rt: NodeRuntime, input: string): { id: RecordId, record: SignedRecord } {
  const log = rt.store.intent.log
  const id = resolvePrefix(input, log.ids())
  const record = log.record(id)
  if (record === undefined) throw new NotFoundError(`record ${input} is not readable here`, { record: input })
  return { id, record }
}
