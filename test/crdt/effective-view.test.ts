import { describe, expect, it } from 'vitest'
import { canonicalBytes } from '../../crdt/canonical.js'
import { effectiveView, QUARANTINE_REASONS, type EffectiveView } from '../../crdt/effective-view.js'
import type { RecordId } from '../../crdt/ids.js'
import { decodeRecord, type EncodedRecord } from '../../crdt/record.js'
import { authHash, FakeAuthority, Writer } from './record-fixtures.js'

function reasons (view: EffectiveView): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [id] of view.effective) out[id] = 'effective'
  for (const [id, q] of view.quarantined) out[id] = q.reason
  return out
}

function forge (r: EncodedRecord, change: Record<string, unknown>): { id: RecordId, record: EncodedRecord['record'] } {
  return decodeRecord(canonicalBytes({ ...r.record, ...change }))
}

describe('effective view', () => {
  it('lists the reasons in the documented order', () => {
    expect(QUARANTINE_REASONS).toEqual(['bad_signature', 'not_admitted', 'unknown_authority', 'beyond_cut', 'equivocation', 'written_during_lockdown', 'capability', 'expired', 'backdated', 'over_quota'])
  })

  it('admitted, well-referenced, validly signed records are effective', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const rs = [alice.write('1'), alice.write('2')]
    const view = effectiveView(rs, auth)
    expect([...view.effective.keys()]).toEqual(rs.map((r) => r.id).sort())
    expect(view.quarantined.size).toBe(0)
    expect(view.effective.get(rs[0].id)).toBe(rs[0].record)
  })

  it('bad_signature: a record whose content changed after signing', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const good = alice.write('1')
    const bad = forge(good, { text: 'edited' })
    expect(reasons(effectiveView([good, bad], auth))).toEqual({ [good.id]: 'effective', [bad.id]: 'bad_signature' })
  })

  it('not_admitted: a signer the chain never admitted', () => {
    const carol = new Writer('carol')
    const r = carol.write('hi')
    expect(effectiveView([r], new FakeAuthority()).quarantined.get(r.id)?.reason).toBe('not_admitted')
  })

  it('unknown_authority: an auth reference this replica does not hold, or with the wrong hash', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const ahead = alice.write('1', { auth: { seq: 9, hash: authHash(9) } })
    const wrong = alice.write('2', { auth: { seq: 2, hash: authHash(3) } })
    expect(reasons(effectiveView([ahead, wrong], auth))).toEqual({ [ahead.id]: 'unknown_authority', [wrong.id]: 'unknown_authority' })
    auth.extend(); auth.extend(); auth.extend(); auth.extend(); auth.extend(); auth.extend()
    expect(effectiveView([ahead], auth).effective.has(ahead.id)).toBe(true)
  })

  it('beyond_cut: only the cut record and its ancestors count, whatever ts the rest claim', () => {
    const mallory = new Writer('mallory')
    const auth = new FakeAuthority().admit(mallory)
    const m = [mallory.write('1'), mallory.write('2'), mallory.write('3')]
    auth.revoke(mallory.signer, { seq: 2, hash: m[1].id })
    const backdated = mallory.write('after revocation', { ts: 0 })
    // An alternative branch from m1 with the compromised key: not an ancestor of the cut.
    const branch = new Writer('mallory')
    branch.head = m[0]
    const alt = branch.write('alt 2', { ts: 1 })
    const view = effectiveView([...m, backdated, alt], auth)
    expect(reasons(view)).toEqual({
      [m[0].id]: 'effective',
      [m[1].id]: 'effective',
      [m[2].id]: 'beyond_cut',
      [backdated.id]: 'beyond_cut',
      [alt.id]: 'beyond_cut'
    })
  })

  it('beyond_cut: cut seq 0 means none; an unheld cut record or ancestor hides the older ones until it arrives', () => {
    const mallory = new Writer('mallory')
    const m = [mallory.write('1'), mallory.write('2'), mallory.write('3')]
    const none = new FakeAuthority().admit(mallory).revoke(mallory.signer, { seq: 0, hash: null })
    expect([...effectiveView(m, none).quarantined.values()].map((q) => q.reason)).toEqual(['beyond_cut', 'beyond_cut', 'beyond_cut'])
    const cut3 = new FakeAuthority().admit(mallory).revoke(mallory.signer, { seq: 3, hash: m[2].id })
    expect(effectiveView([m[0], m[1]], cut3).effective.size).toBe(0)
    expect(reasons(effectiveView([m[0], m[2]], cut3))).toEqual({ [m[0].id]: 'beyond_cut', [m[2].id]: 'effective' })
    expect(effectiveView(m, cut3).effective.size).toBe(3)
  })

  it('beyond_cut: a cut whose seq does not match the record it names admits nothing', () => {
    const mallory = new Writer('mallory')
    const m = [mallory.write('1'), mallory.write('2')]
    const auth = new FakeAuthority().admit(mallory).revoke(mallory.signer, { seq: 1, hash: m[1].id })
    expect(effectiveView(m, auth).effective.size).toBe(0)
  })

  it('equivocation: two validly signed records of one signer with one seq are both quarantined', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    const b1 = bob.write('1')
    const b2 = bob.write('2')
    const twin = new Writer('bob')
    twin.head = b1
    const b2x = twin.write('2, differently')
    const b3 = bob.write('3')
    expect(reasons(effectiveView([b1, b2, b2x, b3], auth))).toEqual({
      [b1.id]: 'effective', [b2.id]: 'equivocation', [b2x.id]: 'equivocation', [b3.id]: 'effective'
    })
  })

  it('a forgery with a bad signature cannot make an honest record look equivocal', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const a1 = alice.write('1')
    const forged = forge(a1, { text: 'forged, same seq' })
    expect(reasons(effectiveView([a1, forged], auth))).toEqual({ [a1.id]: 'effective', [forged.id]: 'bad_signature' })
  })

  it('a revoked key cannot make its pre-cut records look equivocal', () => {
    const mallory = new Writer('mallory')
    const m = [mallory.write('1'), mallory.write('2')]
    const auth = new FakeAuthority().admit(mallory).revoke(mallory.signer, { seq: 2, hash: m[1].id })
    const twin = new Writer('mallory')
    twin.head = m[0]
    const m2x = twin.write('2, after compromise')
    expect(reasons(effectiveView([...m, m2x], auth))).toEqual({ [m[0].id]: 'effective', [m[1].id]: 'effective', [m2x.id]: 'beyond_cut' })
  })

  it('written_during_lockdown: the chain was locked at the record\'s auth reference', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority(2).admit(alice)
    const locked = auth.extend(true)
    const unlocked = auth.extend(false)
    const during = alice.write('during', { auth: { seq: locked, hash: authHash(locked) } })
    const after = alice.write('after', { auth: { seq: unlocked, hash: authHash(unlocked) } })
    expect(reasons(effectiveView([during, after], auth))).toEqual({ [during.id]: 'written_during_lockdown', [after.id]: 'effective' })
  })

  it('takes the first reason that applies', () => {
    const carol = new Writer('carol')
    const alice = new Writer('alice')
    const auth = new FakeAuthority(2).admit(alice)
    const locked = auth.extend(true)
    // not admitted and unknown authority: not_admitted
    const c = carol.write('x', { auth: { seq: 50, hash: authHash(50) } })
    // bad signature and not admitted: bad_signature
    const cf = forge(c, { text: 'y' })
    // unknown authority and locked: unknown_authority
    const a1 = alice.write('1', { auth: { seq: locked, hash: authHash(99) } })
    // equivocation and locked: equivocation
    const a2 = alice.write('2', { auth: { seq: locked, hash: authHash(locked) } })
    const twin = new Writer('alice')
    twin.head = a1
    const a2x = twin.write('2x', { auth: { seq: locked, hash: authHash(locked) } })
    expect(reasons(effectiveView([c, cf, a1, a2, a2x], auth))).toEqual({
      [c.id]: 'not_admitted', [cf.id]: 'bad_signature', [a1.id]: 'unknown_authority', [a2.id]: 'equivocation', [a2x.id]: 'equivocation'
    })
  })

  it('does not depend on input order or duplicates, and iterates in id order', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    const rs = [bob.write('1'), bob.write('2'), bob.write('3')]
    const a = effectiveView([rs[2], rs[0], rs[1], rs[0]], auth)
    const b = effectiveView(rs, auth)
    expect([...a.effective.keys()]).toEqual([...b.effective.keys()])
    expect([...a.effective.keys()]).toEqual(rs.map((r) => r.id).sort())
  })
})
