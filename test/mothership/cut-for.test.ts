/**
 * The cut the Mothership puts in a revocation (`cutFor`): the newest record of the key whose
 * whole ancestry is held and unequivocal. An honest node that crashed skips seqs (it never
 * reuses one it may have used, docs/storage.md): the cut must follow its chain across the gap.
 */
import { describe, expect, it } from 'vitest'
import type { RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { cutFor } from '../../node/mothership/revoke.js'
import type { NodeRuntime } from '../../node/runtime.js'
import { Writer } from '../crdt/record-fixtures.js'

function runtimeHolding (records: Array<{ id: RecordId, record: SignedRecord }>): NodeRuntime {
  const byId = new Map(records.map((r) => [r.id, r.record]))
  return {
    store: { intent: { log: { records: () => records, record: (id: RecordId) => byId.get(id) } } }
  } as unknown as NodeRuntime
}

describe('cutFor', () => {
  it('follows an honest chain across a seq gap to its newest record', () => {
    const alice = new Writer('alice')
    const before = [alice.write('1'), alice.write('2')]
    const after = [alice.write('after a crash', { seq: 1027, prev: before[1].id }), alice.write('next')]
    expect(cutFor(runtimeHolding([...before, ...after]), alice.signer)).toEqual({ seq: 1028, hash: after[1].id })
  })

  it('stops below an equivocated seq, and below a record whose ancestor is not held', () => {
    const mallory = new Writer('mallory')
    const m = [mallory.write('1'), mallory.write('2')]
    const twin = new Writer('mallory')
    twin.head = m[0]
    const other2 = twin.write('another 2')
    const m3 = mallory.write('3')
    expect(cutFor(runtimeHolding([...m, other2, m3]), mallory.signer)).toEqual({ seq: 1, hash: m[0].id })
    expect(cutFor(runtimeHolding([m[0], m3]), mallory.signer)).toEqual({ seq: 1, hash: m[0].id })
    expect(cutFor(runtimeHolding([]), mallory.signer)).toEqual({ seq: 0, hash: null })
  })
})
