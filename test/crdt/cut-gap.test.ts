/**
 * A node never reuses a seq it may have used (docs/storage.md), so after a crash its chain can
 * skip seqs: the first record after the gap has `prev` = the newest record it still held and a
 * seq past its high-water mark. Such an honest chain must stay whole under a revocation: the cut
 * walk follows `prev` through falling seqs, so the records before the gap stay effective.
 */
import { describe, expect, it } from 'vitest'
import { effectiveView } from '../../crdt/effective-view.js'
import { FakeAuthority, Writer } from './record-fixtures.js'

describe('a seq gap in an honest chain', () => {
  it('keeps the records before the gap inside the cut, and the walk still stops at a missing ancestor', () => {
    const alice = new Writer('alice')
    const before = [alice.write('1'), alice.write('2')]
    // Records 3..4 were acknowledged, pushed to peers, then lost by alice's store; the mark was 2050.
    const lost = [alice.write('3'), alice.write('4')]
    alice.head = before[1]
    const after = [alice.write('after the crash', { seq: 2051, prev: before[1].id }), alice.write('and on')]
    expect(after[1].record.seq).toBe(2052)
    const auth = new FakeAuthority().admit(alice).revoke(alice.signer, { seq: 2052, hash: after[1].id })
    const view = effectiveView([...before, ...lost, ...after], auth)
    for (const r of [...before, ...after]) expect(view.effective.has(r.id), `seq ${r.record.seq}`).toBe(true)
    // The lost branch is no ancestor of the cut: quarantined alike on every replica, never an equivocation.
    for (const r of lost) expect(view.quarantined.get(r.id)?.reason).toBe('beyond_cut')
    // Without the record at seq 2 the walk stops there, and seq 1 waits for it.
    const partial = effectiveView([before[0], ...after], auth)
    expect(partial.quarantined.get(before[0].id)?.reason).toBe('beyond_cut')
  })

  it('does not let the cut walk climb: an ancestor with a seq not below its child ends it', () => {
    const mallory = new Writer('mallory')
    const m1 = mallory.write('1')
    const high = mallory.write('claims a later seq', { seq: 9 })
    mallory.head = high
    // A record whose prev is a record with a higher seq: not a chain an honest writer makes.
    const odd = mallory.write('odd', { seq: 5, prev: high.id })
    const auth = new FakeAuthority().admit(mallory).revoke(mallory.signer, { seq: 5, hash: odd.id })
    const view = effectiveView([m1, high, odd], auth)
    expect(view.effective.has(odd.id)).toBe(true)
    expect(view.quarantined.get(high.id)?.reason).toBe('beyond_cut')
    expect(view.quarantined.get(m1.id)?.reason).toBe('beyond_cut')
  })
})
