// Zones as a pure fold over the effective view: pattern matching and overlap, claims and
// releases (only the claimant releases), expiry decided only by the `now` the caller passes, and a
// revoked signer's claims beyond its cut dropping out with the view.
import { describe, expect, it } from 'vitest'
import { effectiveView } from '../../crdt/effective-view.js'
import { activeZones, checkPattern, patternCovers, patternsOverlap, zonesOf } from '../../crdt/zones.js'
import { FakeAuthority, Writer } from './record-fixtures.js'

const claim = (patterns: string[], mode = 'block', ttl = 3_600_000) => ({ kind: 'zone' as const, data: { v: 1, op: 'claim', patterns, mode, ttl } })
const release = (id: string) => ({ kind: 'zone' as const, data: { v: 1, op: 'release' }, refs: [id] })

describe('zone patterns', () => {
  it('path globs, plain directories and PATH:NAME functions cover the units they name', () => {
    const u = (path: string, name: string) => ({ path, name })
    expect(patternCovers('src/auth/**', u('src/auth/verify.py', 'verify_token'))).toBe(true)
    expect(patternCovers('src/auth/**', u('src/authx/verify.py', 'f'))).toBe(false)
    expect(patternCovers('src/auth', u('src/auth/deep/x.py', 'f'))).toBe(true)
    expect(patternCovers('src/*.py', u('src/a.py', 'f'))).toBe(true)
    expect(patternCovers('src/*.py', u('src/sub/a.py', 'f'))).toBe(false)
    expect(patternCovers('**/*.py', u('a.py', 'f'))).toBe(true)
    expect(patternCovers('src/a.py:verify', u('src/a.py', 'verify'))).toBe(true)
    expect(patternCovers('src/a.py:verify', u('src/a.py', 'verify_token'))).toBe(false)
    expect(patternCovers('src/a.py:Session', u('src/a.py', 'Session.close'))).toBe(true)
    expect(patternCovers('src/a.py:get_*', u('src/a.py', 'get_user'))).toBe(true)
    // A dot in a pattern is a dot, not "any character".
    expect(patternCovers('src/a.py', u('src/axpy', 'f'))).toBe(false)
  })

  it('overlap errs towards yes, never misses a real one', () => {
    expect(patternsOverlap('src/auth/**', 'src/auth/verify.py:verify_token')).toBe(true)
    expect(patternsOverlap('src/auth', 'src/auth/verify.py')).toBe(true)
    expect(patternsOverlap('src/**', 'src/auth/x.py')).toBe(true)
    expect(patternsOverlap('src/auth/**', 'src/billing/**')).toBe(false)
    expect(patternsOverlap('src/a.py:f', 'src/a.py:g')).toBe(false)
    expect(patternsOverlap('src/a.py:C', 'src/a.py:C.m')).toBe(true)
    expect(patternsOverlap('src/a.py:get_*', 'src/a.py:get_user')).toBe(true)
  })

  it('refuses patterns that could escape the workspace or are empty', () => {
    for (const bad of ['', '/etc/passwd', '../x', 'src/../x', 'src//x', 'src/a.py:', 'a:b:c']) {
      expect(() => checkPattern(bad), bad).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
    }
    expect(checkPattern('src/auth/**')).toBe('src/auth/**')
  })
})

describe('zonesOf', () => {
  it('folds claims and releases; only the claimant releases; expiry comes from the caller', () => {
    const alice = new Writer('alice')
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(alice).admit(bob)
    const a = alice.write('claim auth', claim(['src/auth/**']))
    const b = bob.write('claim billing', { ...claim(['src/billing/**'], 'warn'), ts: a.record.ts + 60_000 })
    const foreign = bob.write('release alice', release(a.id))
    let zones = zonesOf(effectiveView([a, b, foreign], auth).effective)
    expect(zones.map((z) => [z.id, z.releasedBy])).toEqual([[a.id, null], [b.id, null]])
    expect(zones[1].mode).toBe('warn')
    expect(zones[0].expiresAt).toBe(a.record.ts + 3_600_000)
    // Expiry: the same zones, two different nows.
    expect(activeZones(zones, a.record.ts).length).toBe(2)
    expect(activeZones(zones, a.record.ts + 3_600_000).map((z) => z.id)).toEqual([b.id])
    const own = alice.write('release', release(a.id))
    zones = zonesOf(effectiveView([a, b, foreign, own], auth).effective)
    expect(zones.find((z) => z.id === a.id)?.releasedBy).toBe(own.id)
    expect(activeZones(zones, a.record.ts).map((z) => z.id)).toEqual([b.id])
  })

  it('a claim dated in the future binds only once its time comes', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const now = 1_700_000_000_000
    // In signing order: a signer's record times never go back along its chain (write rules).
    const skewed = alice.write('claim', { ...claim(['lib/**'], 'block', 3_600_000), ts: now + 60_000 })
    const ahead = alice.write('claim', { ...claim(['src/**'], 'block', 3_600_000), ts: now + 24 * 3_600_000 })
    const zones = zonesOf(effectiveView([ahead, skewed], auth).effective)
    expect(activeZones(zones, now).map((z) => z.id)).toEqual([skewed.id])
    expect(activeZones(zones, now + 24 * 3_600_000).map((z) => z.id)).toEqual([ahead.id])
  })

  it('ignores malformed zone data', () => {
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(alice)
    const rs = [
      alice.write('no patterns', { kind: 'zone', data: { v: 1, op: 'claim', patterns: [], mode: 'block', ttl: 1 } }),
      alice.write('bad mode', { kind: 'zone', data: { v: 1, op: 'claim', patterns: ['a'], mode: 'lock', ttl: 1 } }),
      alice.write('escaping', { kind: 'zone', data: { v: 1, op: 'claim', patterns: ['../a'], mode: 'block', ttl: 1 } }),
      alice.write('intent', { data: { v: 1, op: 'claim', patterns: ['a'], mode: 'block', ttl: 1 } })
    ]
    expect(zonesOf(effectiveView(rs, auth).effective)).toEqual([])
  })

  it("a revoked signer's claims beyond its cut stop counting; those within it stay", () => {
    const mallory = new Writer('mallory')
    const auth = new FakeAuthority().admit(mallory)
    const before = mallory.write('claim', claim(['src/auth/**']))
    const after = mallory.write('claim more', claim(['src/**']))
    auth.revoke(mallory.signer, { seq: before.record.seq, hash: before.id })
    expect(zonesOf(effectiveView([before, after], auth).effective).map((z) => z.id)).toEqual([before.id])
  })
})
