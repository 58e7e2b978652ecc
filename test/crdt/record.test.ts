import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { canonicalBytes, parseCanonical, toB64u, utf8 } from '../../crdt/canonical.js'
import { sign, verifyRaw } from '../../crdt/crypto.js'
import { AuraError } from '../../crdt/errors.js'
import { keyIdOf } from '../../crdt/ids.js'
import { decodeRecord, decodeVerified, decodeVerifiedAll, MAX_RECORD_BYTES, nextRecordFields, recordIdOf, recordShape, shapeOf, signRecord, verifyRecord, type SignatureBatch, type SignatureCheck, type SignedRecord } from '../../crdt/record.js'
import { authHash, keyOf, Writer } from './record-fixtures.js'

function reencode (record: SignedRecord, change: Record<string, unknown>): Uint8Array {
  return canonicalBytes({ ...(record as unknown as Record<string, unknown>), ...change })
}

function codeOf (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return err instanceof AuraError ? err.code : 'not-aura' }
  return undefined
}

describe('signed records', () => {
  const alice = new Writer('alice')
  const first = alice.write('fix the login redirect', { data: { ticket: 'AUR-1' }, delta: { file: 'a.ts', ops: [1, 2] } })

  it('signs, decodes and verifies', () => {
    const { id, record } = decodeRecord(first.bytes)
    expect(id).toBe(first.id)
    expect(id).toBe(recordIdOf(first.bytes))
    expect(record).toEqual(first.record)
    expect(record.signer).toBe(keyIdOf(alice.key.publicKey))
    expect(record.seq).toBe(1)
    expect(record.prev).toBeNull()
    expect(verifyRecord(record)).toBe(true)
    expect(Object.isFrozen(record) && Object.isFrozen(record.auth) && Object.isFrozen(record.refs)).toBe(true)
  })

  it('chains seq and prev through nextRecordFields', () => {
    expect(nextRecordFields(undefined)).toEqual({ seq: 1, prev: null })
    expect(nextRecordFields(first)).toEqual({ seq: 2, prev: first.id })
    const w = new Writer('bob')
    const a = w.write('one')
    const b = w.write('two', { refs: [a.id] })
    expect(b.record.seq).toBe(2)
    expect(b.record.prev).toBe(a.id)
    expect(b.record.refs).toEqual([a.id])
  })

  it('signs under the record domain, over the record without sig', () => {
    const { sig, ...unsigned } = first.record
    expect(toB64u(sign('record', canonicalBytes(unsigned), alice.key))).toBe(sig)
    expect(toB64u(sign('chain', canonicalBytes(unsigned), alice.key))).not.toBe(sig)
  })

  it('keeps the golden encoding of a record stable', () => {
    const r = signRecord({
      kind: 'incident', actor: 'alice', host: 'h', seq: 1, prev: null, ts: 0, auth: { seq: 0, hash: authHash(0) }, text: 'x'
    }, keyOf('golden'))
    const text = new TextDecoder().decode(r.bytes)
    expect(text.startsWith('{"actor":"alice","auth":{"hash":"')).toBe(true)
    expect(Object.keys(parseCanonical(r.bytes) as object)).toEqual(['actor', 'auth', 'data', 'delta', 'host', 'kind', 'prev', 'pub', 'refs', 'seq', 'sig', 'signer', 'text', 'ts', 'v'])
    expect(r.id).toBe(recordIdOf(r.bytes))
    // Pinned: a change here changes every record id in every team's log.
    expect(r.id).toBe('fe04e0ae7c3843bcfc5a6faafa671454fa9831e482071d240590598490f1615e')
  })

  it('refuses fields that would not decode before signing', () => {
    expect(codeOf(() => alice.write('bad', { seq: 0 } as never))).toBe('E_MALFORMED')
    expect(codeOf(() => signRecord({ ...nextRecordFields(undefined), prev: first.id, kind: 'intent', actor: 'a', host: '', ts: 0, auth: { seq: 0, hash: authHash(0) }, text: '' }, alice.key))).toBe('E_MALFORMED')
    expect(codeOf(() => signRecord({ seq: 1, prev: null, kind: 'gossip' as never, actor: 'a', host: '', ts: 0, auth: { seq: 0, hash: authHash(0) }, text: '' }, alice.key))).toBe('E_MALFORMED')
  })

  it.each([
    ['non-canonical spelling', () => utf8(new TextDecoder().decode(first.bytes).replace('{', '{ '))],
    ['an unknown field', () => reencode(first.record, { extra: 1 })],
    ['a missing field', () => { const { text: _t, ...rest } = first.record; return canonicalBytes(rest) }],
    ['another version', () => reencode(first.record, { v: 2 })],
    ['an unknown kind', () => reencode(first.record, { kind: 'gossip' })],
    ['seq 0', () => reencode(first.record, { seq: 0 })],
    ['seq 1 with a prev', () => reencode(first.record, { prev: 'ab'.repeat(32) })],
    ['a float ts', () => reencode(first.record, { ts: 1.5 })],
    ['a signer that is not the key id of pub', () => reencode(first.record, { signer: keyIdOf(keyOf('mallory').publicKey) })],
    ['a short sig', () => reencode(first.record, { sig: first.record.sig.slice(2) })],
    ['a bad ref', () => reencode(first.record, { refs: ['nope'] })],
    ['not JSON', () => utf8('hello')],
    ['an array', () => canonicalBytes([1])]
  ])('decode refuses %s with E_MALFORMED', (_name, make) => {
    expect(codeOf(() => decodeRecord(make()))).toBe('E_MALFORMED')
  })

  it('accepts a seq past a gap with no prev: a signer that lost every record it held starts again above its seq mark', () => {
    const restarted = signRecord({ seq: 2049, prev: null, kind: 'intent', actor: 'a', host: '', ts: 0, auth: { seq: 0, hash: authHash(0) }, text: '' }, alice.key)
    expect(verifyRecord(decodeRecord(restarted.bytes).record)).toBe(true)
  })

  it('refuses records over the size limit without parsing them', () => {
    expect(codeOf(() => decodeRecord(new Uint8Array(MAX_RECORD_BYTES + 1)))).toBe('E_MALFORMED')
  })

  it('a record signed by one key and claiming another fails verification', () => {
    const mallory = keyOf('mallory')
    const { sig: _s, ...unsigned } = first.record
    const forged = { ...unsigned, sig: toB64u(sign('record', canonicalBytes(unsigned), mallory)) }
    const { record } = decodeRecord(canonicalBytes(forged))
    expect(verifyRecord(record)).toBe(false)
  })

  it('a changed field under the original signature fails verification', () => {
    const { record } = decodeRecord(reencode(first.record, { ts: 1 }))
    expect(verifyRecord(record)).toBe(false)
    const { record: other } = decodeRecord(reencode(first.record, { text: 'fix the login redirect!' }))
    expect(verifyRecord(other)).toBe(false)
  })

  it('verifies records built by hand (not decoded) without caching them', () => {
    const copy = { ...first.record }
    expect(verifyRecord(copy)).toBe(true)
    copy.text = 'changed' as never
    expect(verifyRecord(copy)).toBe(false)
  })

  it('decodeVerified decodes and verifies at once, and does not trust signed bytes changed afterwards', () => {
    const w = new Writer('dave')
    const r = w.write('original text')
    expect(decodeVerified(r.bytes).id).toBe(r.id)
    expect(decodeVerified(new Uint8Array(r.bytes)).record).toEqual(r.record)
    const bad = reencode(r.record, { text: 'other' })
    const err = (() => { try { decodeVerified(bad) } catch (e) { return e as AuraError } })()
    expect(err?.code).toBe('E_BAD_SIGNATURE')
    expect(err?.context.record).toBe(recordIdOf(bad))
    // Same array object, content changed in place to another validly shaped record.
    const tampered = new TextEncoder().encode(new TextDecoder().decode(r.bytes).replace('original text', 'originaL text'))
    r.bytes.set(tampered)
    expect(codeOf(() => decodeVerified(r.bytes))).toBe('E_BAD_SIGNATURE')
  })

  it('verifies a record whose data, delta and text spell sig and signer members of their own', () => {
    const w = new Writer('frank')
    const spoof = { sig: 'A'.repeat(86), signer: 'f'.repeat(64), text: '","sig":"' }
    const r = w.write(',"sig":"x","signer":"', { data: { ...spoof, inner: [spoof] }, delta: { z: spoof } })
    const { record } = decodeRecord(new Uint8Array(r.bytes))
    expect(verifyRecord(record)).toBe(true)
    const { record: changed } = decodeRecord(reencode(record, { data: { ...spoof, inner: [] } }))
    expect(verifyRecord(changed)).toBe(false)
  })

  it('any record signed here decodes and verifies, whatever its text, data and delta (fast-check)', () => {
    const w = new Writer('erin')
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.jsonValue(), fc.jsonValue(), fc.string({ minLength: 1, maxLength: 40 }), (text, data, delta, actor) => {
      const clean = (v: unknown) => JSON.parse(JSON.stringify(v)) as never
      let r
      try {
        r = signRecord({ seq: 1, prev: null, kind: 'audit', actor, host: 'h', ts: 7, auth: { seq: 0, hash: authHash(0) }, text, data: clean(data), delta: clean(delta) }, w.key)
      } catch (err) {
        // Only values without a canonical JSON form (lone surrogates, -0 and the like) may be refused.
        expect((err as AuraError).code).toBe('E_MALFORMED')
        return
      }
      const { record } = decodeRecord(r.bytes)
      expect(verifyRecord(record)).toBe(true)
      // The bytes signRecord spliced together are the record's canonical
      // encoding, and what it hands back is what they decode to.
      expect(r.bytes).toEqual(canonicalBytes(record))
      expect(r.record).toEqual(record)
      const { record: changed } = decodeRecord(reencode(record, { ts: 8 }))
      expect(verifyRecord(changed)).toBe(false)
    }), { numRuns: 300 })
  })

  it('signs records whose data and delta hold sig and signer keys of their own', () => {
    const w = new Writer('sam')
    for (const data of [{ signer: 'x', sig: 'y' }, { a: 1, signer: { sig: ',"signer":"' } }, [',"signer":"', { signer: null }]]) {
      const r = signRecord({ seq: 1, prev: null, kind: 'audit', actor: 'a', host: 'h', ts: 7, auth: { seq: 0, hash: authHash(0) }, text: 'say ,"signer":" here', data, delta: data }, w.key)
      expect(r.bytes).toEqual(canonicalBytes(r.record))
      expect(verifyRecord(decodeRecord(r.bytes).record)).toBe(true)
    }
  })

  it('flipping any bit of a record is never accepted (fast-check)', () => {
    const target = new Writer('carol').write('refactor payments', { refs: [first.id], data: { n: 1 } })
    fc.assert(fc.property(fc.nat(target.bytes.length - 1), fc.integer({ min: 1, max: 255 }), (at, mask) => {
      const bytes = new Uint8Array(target.bytes)
      bytes[at] ^= mask
      let accepted = false
      try {
        const { record } = decodeRecord(bytes)
        accepted = verifyRecord(record)
      } catch (err) {
        expect(err).toBeInstanceOf(AuraError)
        expect((err as AuraError).code).toBe('E_MALFORMED')
      }
      expect(accepted).toBe(false)
    }), { numRuns: 2000 })
  })

  it('every single-byte flip of every position is refused (exhaustive)', () => {
    let refused = 0
    for (let at = 0; at < first.bytes.length; at++) {
      const bytes = new Uint8Array(first.bytes)
      bytes[at] ^= 0x01
      try {
        if (!verifyRecord(decodeRecord(bytes).record)) refused++
      } catch { refused++ }
    }
    expect(refused).toBe(first.bytes.length)
  })
})

/** A batch that checks by the rule of verifyRaw at `finish`, or answers `lie` to everything. */
class TestBatch implements SignatureBatch {
  readonly checks: SignatureCheck[] = []
  constructor (private readonly lie?: boolean) {}
  add (check: SignatureCheck): void { this.checks.push(check) }
  finish (): boolean[] { return this.checks.map((c) => this.lie ?? verifyRaw(c.message, c.sig, c.pub)) }
}

describe('decodeVerifiedAll', () => {
  const w = new Writer('gina')
  const records = Array.from({ length: 5 }, (_, i) => w.write(`change ${i}`))
  // Copies: bytes signed in this process are recognised and never checked again.
  const copies = (): Uint8Array[] => records.map((r) => new Uint8Array(r.bytes))
  const badSig = reencode(records[1].record, { text: 'edited after signing' })
  const malformed = utf8('{"v":1}')

  it('gives what decodeVerified gives, with every signature checked by the batch', () => {
    const batch = new TestBatch()
    const all = decodeVerifiedAll(copies(), batch)
    expect(all.map((r) => r.id)).toEqual(records.map((r) => r.id))
    expect(all.map((r) => r.record)).toEqual(records.map((r) => r.record))
    expect(batch.checks).toHaveLength(5)
    expect(decodeVerifiedAll(copies()).map((r) => r.id)).toEqual(records.map((r) => r.id))
  })

  it('takes the batch\'s answers as they are: a refusal throws the first record refused', () => {
    const list = copies()
    const err = (() => { try { decodeVerifiedAll(list, new TestBatch(false)) } catch (e) { return e as AuraError } })()
    expect(err?.code).toBe('E_BAD_SIGNATURE')
    expect(err?.context.record).toBe(records[0].id)
  })

  it('throws the first failure in list order, whichever kind it is', () => {
    const [good, , third] = copies()
    const first = (list: Uint8Array[]): AuraError | undefined => {
      try {
        decodeVerifiedAll(
          list,
          new TestBatch()
        )
      } catch (e) { return e as AuraError }
    }
    expect(first([good, badSig, malformed])?.context.record).toBe(recordIdOf(badSig))
    expect(first([good, malformed, badSig])?.code).toBe('E_MALFORMED')
    const batch = new TestBatch()
    expect(() => decodeVerifiedAll([good, third, malformed, new Uint8Array(records[4].bytes)], batch)).toThrow(/malformed/)
    expect(batch.checks).toHaveLength(2)
  })

  it('does not check again the bytes signed in this process', () => {
    const batch = new TestBatch()
    expect(decodeVerifiedAll(records.map((r) => r.bytes), batch)).toHaveLength(5)
    expect(batch.checks).toHaveLength(0)
  })
})

describe('shapeOf (the record schema by hand) agrees with the zod schema', () => {
  const alice = new Writer('alice')
  const base = parseCanonical(alice.write('shape').bytes) as Record<string, unknown>
  const keys = Object.keys(base)
  const odd = fc.oneof(fc.jsonValue(), fc.constantFrom(undefined, Number.NaN, Infinity, -0, 2 ** 53, 1.5, -1, '', 'x'.repeat(257), 'ab'.repeat(32), 'AB'.repeat(32), 'a'.repeat(43), 'a'.repeat(86), null, [], {}, ['ab'.repeat(32)], { seq: 0, hash: 'ab'.repeat(32) }, { seq: 0, hash: 'ab'.repeat(32), x: 1 }))
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...keys, 'extra'), value: odd }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('auth' as const), key: fc.constantFrom('seq', 'hash', 'x'), value: odd })
  )

  it('accepts and refuses the same values, and yields the same record (fast-check)', () => {
    fc.assert(fc.property(fc.array(mutation, { maxLength: 3 }), (mutations) => {
      const v: Record<string, unknown> = structuredClone(base)
      for (const m of mutations) {
        if (m.op === 'delete') delete v[m.key]
        else if (m.op === 'set') v[m.key] = m.value
        else v.auth = { ...(v.auth as object), [m.key]: m.value }
      }
      const zod = recordShape.safeParse(v)
      const mine = shapeOf(v)
      expect(mine !== undefined).toBe(zod.success)
      if (zod.success) expect(mine).toEqual(zod.data)
    }), { numRuns: 3000 })
  })

  it('agrees on every field set to each of the edge values', () => {
    const edges: unknown[] = [undefined, Number.NaN, Infinity, -0, 0, 1, 2, 2 ** 53, 2 ** 53 - 1, 1.5, -1, '', 'x', 'x'.repeat(256), 'x'.repeat(257), 'ab'.repeat(32), 'AB'.repeat(32), 'ab'.repeat(33), 'a'.repeat(43), 'a+'.repeat(21) + 'a', 'a'.repeat(86), 'a'.repeat(85), null, true, [], {}, ['ab'.repeat(32)], ['x'], Array(1025).fill('ab'.repeat(32)), { seq: 0, hash: 'ab'.repeat(32) }, { seq: 0, hash: 'ab'.repeat(32), x: 1 }, { seq: -1, hash: 'ab'.repeat(32) }, { a: [1, { b: null }] }, [Infinity], new Date(0), 'intent', 'blob', 'other']
    let accepted = 0
    for (const key of [...keys, 'extra']) {
      for (const value of edges) {
        const v: Record<string, unknown> = { ...structuredClone(base), [key]: value }
        const zod = recordShape.safeParse(v)
        expect([key, value, shapeOf(v) !== undefined]).toEqual([key, value, zod.success])
        if (zod.success) accepted++
      }
    }
    expect(accepted).toBeGreaterThan(20)
  })

  it('yields the record in the schema\'s key order', () => {
    expect(Object.keys(shapeOf(base) as object)).toEqual(Object.keys(recordShape.parse(base)))
  })
})
