// Receipts tell "received" from "applied to the workspace", and stay readable both ways: a receipt
// written before `ws` existed (or by a node without a workspace) leaves "applied" unknown, never
// assumed; the fields old readers know are unchanged.
import { describe, expect, it } from 'vitest'
import type { Json } from '../../crdt/canonical.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { receiptSummary, summaryJson, syncStatus, MAX_UNAPPLIED } from '../../node/sync/receipts.js'

const alice = 'a'.repeat(64) as KeyId
const bob = 'b'.repeat(64) as KeyId
const carol = 'c'.repeat(64) as KeyId
const change = { id: 'f'.repeat(64) as RecordId, record: { kind: 'rewind', signer: alice, seq: 3, ts: 1, delta: { v: 1, entries: [{ path: 'a.py', name: 'f' }] } } as unknown as SignedRecord }

function receipt (signer: KeyId, data: Json): { id: RecordId, record: SignedRecord } {
  return { id: `${signer.slice(0, 1)}${'0'.repeat(63)}` as RecordId, record: { kind: 'receipt', signer, seq: 1, ts: 2, data } as unknown as SignedRecord }
}

describe('receipts: received and applied', () => {
  it('reads applied from the workspace backlog, unknown without one', () => {
    const heads = { [alice]: 3 }
    const auth = { seq: 1, hash: 'h' }
    const manual = summaryJson(receiptSummary([change], auth, { apply: 'manual', unapplied: [change.id], more: 0 }))
    const old = { auth, heads } as Json   // as written before `ws` existed
    expect(summaryJson(receiptSummary([change], auth))).toEqual(old)
    const report = syncStatus({
      records: [change, receipt(bob, manual), receipt(carol, old)],
      members: [alice, bob, carol].map((key, i) => ({ key, kind: 'peer', name: `u${i}`, role: 'contributor', since: i + 1, publicKey: '' })) as any,
      isRevoked: () => false,
      self: { key: alice, summary: receiptSummary([change], auth, { apply: 'auto', unapplied: [], more: 0 }), now: 3 },
      intent: change
    })
    const row = (k: KeyId) => report.peers.find((p) => p.key === k)!
    expect(row(alice)).toMatchObject({ holdsIntent: true, appliedIntent: true })
    expect(row(bob)).toMatchObject({ holdsIntent: true, appliedIntent: false, apply: 'manual' })
    expect(row(carol)).toMatchObject({ holdsIntent: true, appliedIntent: null, apply: null })
    expect(report.unapplied).toEqual([row(bob).peer])
    expect(report.verdict).toContain('not applied it to the workspace')
  })

  it('a truncated backlog makes a record not named in it unknown, not applied', () => {
    const many = Array.from({ length: MAX_UNAPPLIED + 1 }, (_, i) => i.toString(16).padStart(64, '0'))
    const s = receiptSummary([], { seq: 1, hash: 'h' }, { apply: 'manual', unapplied: many, more: 0 })
    expect(s.ws?.unapplied.length).toBe(MAX_UNAPPLIED)
    expect(s.ws?.more).toBe(1)
    const report = syncStatus({
      records: [change, receipt(bob, summaryJson({ ...s, heads: { [alice]: 3 } }))],
      members: [{ key: bob, kind: 'peer', name: 'bob', role: 'contributor', since: 1, publicKey: '' }] as any,
      isRevoked: () => false,
      self: { key: alice, summary: s, now: 3 },
      intent: change
    })
    expect(report.peers[0]).toMatchObject({ holdsIntent: true, appliedIntent: null })
  })
})
