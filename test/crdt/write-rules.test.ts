// The rules beyond signature, membership and cut (crdt/write-rules.ts) as the effective view
// applies them: capability, expired, backdated, over_quota, each decided from signed content
// only; the receive-side refusal that keeps a member's flood out of memory; and properties: the
// view is the same under any record order, and the quota walk agrees with a naive count.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { effectiveView, type EffectiveView } from '../../crdt/effective-view.js'
import type { RecordId } from '../../crdt/ids.js'
import { recordSize, type EncodedRecord } from '../../crdt/record.js'
import { chainFindings, DEFAULT_QUOTAS, QUOTA_WINDOW_MS, receiptRefusal, type ChainLink } from '../../crdt/write-rules.js'
import { authHash, FakeAuthority, Writer } from './record-fixtures.js'

const T = 1_700_000_000_000
const HOUR = QUOTA_WINDOW_MS

function reasons (view: EffectiveView): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [id] of view.effective) out[id] = 'effective'
  for (const [id, q] of view.quarantined) out[id] = q.reason
  return out
}

function outcomes (view: EffectiveView, rs: EncodedRecord[]): string[] {
  const r = reasons(view)
  return rs.map((x) => r[x.id])
}

describe('capability: what the signer\'s credential grants, per record kind', () => {
  it('a reader agent may not write intents; an agent never signs receipts; a rewind needs the rewind capability', () => {
    const watcher = new Writer('watcher')
    const claude = new Writer('claude')
    const auth = new FakeAuthority().admit(watcher, 'agent', { role: 'reader', capabilities: ['read'] }).admit(claude, 'agent')
    const w = watcher.write('an intent from a reader')
    const c1 = claude.write('an intent')
    const c2 = claude.write('a receipt', { kind: 'receipt' })
    const c3 = claude.write('a rewind', { kind: 'rewind' })
    expect(outcomes(effectiveView([w, c1, c2, c3], auth), [w, c1, c2, c3])).toEqual(['capability', 'effective', 'capability', 'capability'])
  })

  it('a reader peer signs receipts only; other peer roles write any kind', () => {
    const rita = new Writer('rita')
    const alice = new Writer('alice')
    const auth = new FakeAuthority().admit(rita, 'peer', { role: 'reader' }).admit(alice)
    const r1 = rita.write('receipt', { kind: 'receipt' })
    const r2 = rita.write('an intent')
    const a1 = alice.write('a rewind', { kind: 'rewind' })
    expect(outcomes(effectiveView([r1, r2, a1], auth), [r1, r2, a1])).toEqual(['effective', 'capability', 'effective'])
  })
})

describe('expired: decided from the record and the entry it references, never a clock', () => {
  const expires = T + 10_000

  it('a record claiming a time at or past expiry is expired', () => {
    const claude = new Writer('claude')
    const auth = new FakeAuthority().admit(claude, 'agent', { expires })
    const before = claude.write('before', { ts: expires - 1 })
    const at = claude.write('at', { ts: expires })
    expect(outcomes(effectiveView([before, at], auth), [before, at])).toEqual(['effective', 'expired'])
  })

  it('backdating: an early claimed time with an auth reference signed after expiry is expired', () => {
    const claude = new Writer('claude')
    const auth = new FakeAuthority().admit(claude, 'agent', { expires })
    const late = auth.extend(false, expires + 60_000)
    const early = auth.extend(false, expires - 60_000)
    // Honest order of the chain does not matter to the rule: each reference carries its own time.
    const forged = claude.write('claims to predate expiry', { ts: T, auth: { seq: late, hash: authHash(late) } })
    const fine = new Writer('claude')
    const ok = fine.write('really before expiry', { ts: T, auth: { seq: early, hash: authHash(early) } })
    expect(reasons(effectiveView([forged], auth))[forged.id]).toBe('expired')
    expect(reasons(effectiveView([ok], auth))[ok.id]).toBe('effective')
  })

  it('a peer or an agent without expiry never expires', () => {
    const alice = new Writer('alice')
    const bot = new Writer('bot')
    const auth = new FakeAuthority().admit(alice).admit(bot, 'agent', { expires: null })
    const rs = [alice.write('x', { ts: 8e12 }), bot.write('y', { ts: 8e12 })]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'effective'])
  })
})

describe('backdated: time never goes back along the signer\'s chain, nor before its admission', () => {
  it('a record claiming a time below its parent\'s is backdated; the record after it is judged on its own', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    const rs = [bob.write('1', { ts: T + 5000 }), bob.write('2', { ts: T + 1000 }), bob.write('3', { ts: T + 6000 })]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'backdated', 'effective'])
  })

  it('a record claiming a time before its signer\'s admission entry is backdated', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob, 'peer', { ts: T + 10_000 })
    const rs = [bob.write('1', { ts: T + 9_999 }), bob.write('2', { ts: T + 10_000 })]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['backdated', 'effective'])
  })
})

describe('over_quota: counted along the signer\'s own chain over an hour of its own times', () => {
  it('records past records_per_hour in any hour are over quota; an hour later it writes again', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 3 }
    const rs = [0, 1, 2, 3, 4].map((i) => bob.write(`${i}`, { ts: T + i * 1000 }))
    rs.push(bob.write('an hour after the first', { ts: T + HOUR }))
    rs.push(bob.write('an hour after the second', { ts: T + HOUR + 1000 }))
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'effective', 'effective', 'over_quota', 'over_quota', 'over_quota', 'over_quota'])
    const later = bob.write('quiet for an hour', { ts: T + 3 * HOUR })
    expect(reasons(effectiveView([...rs, later], auth))[later.id]).toBe('effective')
  })

  it('a backdated record cannot reopen the window: the chain\'s clock is the running maximum', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 2 }
    const rs = [bob.write('1', { ts: T + 2 * HOUR }), bob.write('2', { ts: T + 2 * HOUR }), bob.write('back', { ts: T }), bob.write('4', { ts: T + 2 * HOUR })]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'effective', 'backdated', 'over_quota'])
  })

  it('bytes_per_hour and max_record_bytes bound the bytes', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    const big = 'x'.repeat(10_000)
    const rs = [bob.write(big), bob.write(big), bob.write(big)]
    const size = recordSize(rs[0].record)
    auth.quotas = { ...DEFAULT_QUOTAS, bytes_per_hour: size * 2 + 100 }
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'effective', 'over_quota'])
    auth.quotas = { ...DEFAULT_QUOTAS, max_record_bytes: size - 1 }
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['over_quota', 'over_quota', 'over_quota'])
  })

  it('an agent credential narrows the team quotas (max_commits_per_hour)', () => {
    const claude = new Writer('claude')
    const auth = new FakeAuthority().admit(claude, 'agent', { quotas: { max_commits_per_hour: 2 } })
    const rs = [claude.write('1'), claude.write('2'), claude.write('3')]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['effective', 'effective', 'over_quota'])
  })

  it('branches of an equivocating signer are counted each along its own path', () => {
    const bob = new Writer('bob')
    const auth = new FakeAuthority().admit(bob)
    auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 2 }
    const b1 = bob.write('1')
    const b2 = bob.write('2')
    const twin = new Writer('bob'); twin.head = b1
    const b2x = twin.write('2x')
    const links: ChainLink[] = [b1, b2, b2x].map(
      (r) => ({ id: r.id, seq: r.record.seq, prev: r.record.prev, ts: r.record.ts, size: 10 })
    )
    expect(chainFindings(links, auth.quotas).overQuota.size).toBe(0)
  })
})

describe('the first reason that applies, in the documented order', () => {
  it('lockdown before capability before expired before backdated before over_quota', () => {
    const claude = new Writer('claude')
    const auth = new FakeAuthority(2).admit(claude, 'agent', { role: 'reader', capabilities: ['read'], expires: T + 1, ts: T + 5 })
    const locked = auth.extend(true)
    const rs = [claude.write('locked and incapable', { auth: { seq: locked, hash: authHash(locked) } }), claude.write('incapable and expired', { ts: T + 10 })]
    expect(outcomes(effectiveView(rs, auth), rs)).toEqual(['written_during_lockdown', 'capability'])
    const agent = new Writer('agent2')
    auth.admit(agent, 'agent', { expires: T + 1, ts: T + 5 })
    auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 1 }
    // Expired (T+10 >= T+1) and backdated (T+10 ... before admission? no): expired wins.
    const e = agent.write('expired', { ts: T + 10 })
    expect(reasons(effectiveView([e], auth))[e.id]).toBe('expired')
    const peer = new Writer('pat')
    auth.admit(peer, 'peer', { ts: T + 100 })
    const p = [peer.write('before admission', { ts: T }), peer.write('second, same time', { ts: T })]
    expect(outcomes(effectiveView(p, auth), p)).toEqual(['backdated', 'backdated'])
  })
})

describe('at receipt: what a daemon refuses to store (E_QUOTA)', () => {
  const bob = new Writer('bob')
  const auth = new FakeAuthority().admit(bob)
  auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 3 }
  const rs = [0, 1, 2, 3].map((i) => bob.write(`${i}`, { ts: T + i }))
  const held = (n: number) => () => rs.slice(0, n)

  it('accepts records within quota, counting what is held', () => {
    expect(receiptRefusal(rs.slice(0, 3), held(0), auth, recordSize)).toBeUndefined()
    expect(receiptRefusal([rs[2]], held(2), auth, recordSize)).toBeUndefined()
  })

  it('refuses the first record past the quota, whether the rest is held or arrives with it', () => {
    expect(receiptRefusal(rs, held(0), auth, recordSize)).toMatchObject({ id: rs[3].id, reason: 'over_quota' })
    expect(receiptRefusal([rs[3]], held(3), auth, recordSize)).toMatchObject({ id: rs[3].id, reason: 'over_quota' })
  })

  it('refuses a record larger than max_record_bytes, and one from past the clock tolerance', () => {
    const small = { ...auth, member: auth.member, quotas: { ...DEFAULT_QUOTAS, max_record_bytes: 100 } }
    expect(receiptRefusal([rs[0]], held(0), small, recordSize)).toMatchObject({ reason: 'too_large' })
    expect(receiptRefusal([rs[0]], held(0), auth, recordSize, T - 1)).toMatchObject({ reason: 'future' })
    expect(receiptRefusal([rs[0]], held(0), auth, recordSize, T)).toBeUndefined()
  })
})

describe('properties', () => {
  // A naive oracle for one linear chain: count every earlier record whose running-max clock is
  // within the hour before this one's.
  function naiveOver (ts: number[], sizes: number[], limit: number, bytes: number): boolean[] {
    const clock: number[] = []
    return ts.map((t, i) => {
      clock.push(i === 0 ? t : Math.max(t, clock[i - 1]))
      let n = 0
      let b = 0
      for (let j = 0; j <= i; j++) if (clock[j] > clock[i] - HOUR) { n++; b += sizes[j] }
      return n > limit || b > bytes
    })
  }

  it('the quota walk agrees with a naive count on any linear chain', () => {
    fc.assert(fc.property(
      fc.array(
        fc.tuple(fc.integer({ min: -HOUR, max: HOUR }), fc.integer({ min: 1, max: 100 })),
        { minLength: 1, maxLength: 60 }
      ),
      fc.integer({ min: 1, max: 10 }),
      fc.integer({ min: 50, max: 2000 }),
      (steps, limit, bytes) => {
        let t = T
        const ts = steps.map(([d]) => (t = Math.max(0, t + d)))
        const sizes = steps.map(([, s]) => s)
        const links: ChainLink[] = ts.map((x, i) => ({ id: `${i}`.padStart(64, '0') as RecordId, seq: i + 1, prev: i === 0 ? null : `${i - 1}`.padStart(64, '0') as RecordId, ts: x, size: sizes[i] }))
        const { overQuota } = chainFindings(
          links,
          { records_per_hour: limit, bytes_per_hour: bytes, max_record_bytes: 1000 }
        )
        expect(links.map((l) => overQuota.has(l.id))).toEqual(naiveOver(ts, sizes, limit, bytes))
      }
    ), { numRuns: 200 })
  })

  it('the view is the same under any record order and duplication, backdating and branches included', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: -2 * HOUR, max: HOUR }), fc.boolean(), fc.constantFrom('intent', 'receipt', 'rewind')), { minLength: 1, maxLength: 25 }),
      fc.array(fc.nat(1000), { minLength: 1, maxLength: 40 }),
      (steps, order) => {
        const bob = new Writer('bob')
        const claude = new Writer('claude')
        const auth = new FakeAuthority().admit(bob).admit(claude, 'agent', { expires: T + HOUR, quotas: { max_commits_per_hour: 4 } })
        auth.quotas = { ...DEFAULT_QUOTAS, records_per_hour: 5 }
        const all: EncodedRecord[] = []
        let t = T
        for (const [d, branch, kind] of steps) {
          t = Math.max(0, t + d)
          const w = branch && all.length > 0 ? claude : bob
          if (branch && w.head !== undefined && w.head.record.seq > 1) {
            const twin = new Writer(w.name); twin.head = all.find((r) => r.id === w.head!.record.prev)
            if (twin.head !== undefined) all.push(twin.write(`fork ${all.length}`, { ts: t, kind: kind as 'intent' }))
          }
          all.push(w.write(`${all.length}`, { ts: t, kind: kind as 'intent' }))
        }
        const keyed = all.map((r, i) => ({ r, k: order[i % order.length] * 100 + i }))
        const shuffled = keyed.sort((a, b) => a.k - b.k).map((x) => x.r)
        const twice = [...shuffled, ...shuffled.slice(0, order[0] % (shuffled.length + 1))]
        expect(reasons(effectiveView(twice, auth))).toEqual(reasons(effectiveView(all, auth)))
      }
    ), { numRuns: 150 })
  })
})

describe('the staged merge refuses an oversized record before decoding it', () => {
  it('limitRecordBytes: E_QUOTA, nothing stored, and a record within the limit still syncs', async () => {
    const { IntentLog } = await import('../../crdt/intent-log.js')
    const { actorOf, syncPair } = await import('./record-fixtures.js')
    const bob = new Writer('bob')
    const a = IntentLog.create(actorOf('a'))
    const b = IntentLog.create(actorOf('b'))
    b.limitRecordBytes(5_000)
    a.append([bob.write('small')], 0, bob.key)
    syncPair(a, b)
    expect(b.size).toBe(1)
    const big = bob.write('x'.repeat(6_000))
    a.append([big], 0, bob.key)
    expect(() => syncPair(a, b)).toThrow(expect.objectContaining({ code: 'E_QUOTA' }))
    expect(b.has(big.id)).toBe(false)
  })
})
