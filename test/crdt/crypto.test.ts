/**
 * The one ed25519 rule (crdt/crypto.ts): the libsodium fast path and the noble-arithmetic
 * reference must accept and reject exactly the same signatures. Two verifiers that disagree on
 * one edge case would split the team's view of the log.
 */
import { readFileSync } from 'node:fs'
import { createPublicKey, verify as osslVerify } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as ed from '@noble/ed25519'
import {
  isAcceptablePublicKey, keyPairFromSeed, sign, signedMessage, verify, verifyRaw, verifyRawReference,
  verifyReference, type SignDomain
} from '../../crdt/crypto.js'
import { bytesEqual, fromHex, toHex, utf8 } from '../../crdt/canonical.js'
import {
  L, MESSAGE, PAYLOAD, buildEdgeCases, challenge, expanded, le, n32, nonCanonicalEncodings, toFixture,
  torsionPoints, type EdgeCase
} from '../fixtures/ed25519-edge-cases.js'

const fixture = JSON.parse(readFileSync(new URL('../fixtures/ed25519-edge-cases.json', import.meta.url), 'utf8'))
const cases = buildEdgeCases()
const DOMAINS: SignDomain[] = ['record', 'chain', 'token', 'beacon', 'hello', 'join', 'backup', 'test']

const both = (
  m: Uint8Array,
  sig: Uint8Array,
  pk: Uint8Array
): [boolean, boolean] => [verifyRaw(m, sig, pk), verifyRawReference(m, sig, pk)]
const inGroup = (g: string): EdgeCase[] => cases.filter((c) => c.group.startsWith(g))

describe('hand-built edge cases', () => {
  // Informational, not asserted: how noble (strict and ZIP-215) and OpenSSL judge the same cases.
  afterAll(() => {
    const verdict = (f: () => boolean): string => { try { return f() ? 'accept' : 'reject' } catch { return 'throws' } }
    const openssl = (c: EdgeCase): boolean => {
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(c.pk).toString('base64url') }, format: 'jwk' })
      return osslVerify(null, c.message, key, c.sig)
    }
    const rows = cases.map((c) => ({
      case: `${c.group}: ${c.name}`,
      rule: c.expected ? 'accept' : 'reject',
      'noble strict': verdict(() => ed.verify(c.sig, c.message, c.pk, { zip215: false })),
      'noble zip215': verdict(() => ed.verify(c.sig, c.message, c.pk, { zip215: true })),
      'node:crypto': verdict(() => openssl(c))
    }))
    const differ = rows.filter((r) => r['noble strict'] !== r.rule || r['noble zip215'] !== r.rule || r['node:crypto'] !== r.rule)
    console.log(`${differ.length} of ${rows.length} cases where another verifier departs from the rule (fast path and reference follow it):`)
    console.table(differ)
  })

  it('are the pinned golden vectors', () => {
    expect(toFixture(cases)).toEqual(fixture)
  })

  it('start from the eight well-known small-order points', () => {
    const known = [
      '0100000000000000000000000000000000000000000000000000000000000000',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0000000000000000000000000000000000000000000000000000000000000080',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
      'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
      '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85'
    ]
    expect(torsionPoints().map((p) => p.toHex()).sort()).toEqual(known.sort())
  })

  it.each(cases.map((c) => ({ ...c, label: `${c.group}: ${c.name}` })))('$label', (c) => {
    expect(both(c.message, c.sig, c.pk)).toEqual([c.expected, c.expected])
    if (bytesEqual(c.message, MESSAGE)) {
      expect([verify('test', PAYLOAD, c.sig, c.pk), verifyReference('test', PAYLOAD, c.sig, c.pk)]).toEqual([c.expected, c.expected])
    }
  })
})

describe('each case is what it claims to be', () => {
  it('(c) small-order A: the bare equation holds and a ZIP-215 verifier accepts, so only the small-order clause refuses', () => {
    const c = inGroup('c')
    expect(c).toHaveLength(14)
    for (const x of c) {
      expect(x.cofactorless).toBe(true)
      // Documented by @noble/ed25519: any message verifies under ZIP-215 for a torsion-subgroup key.
      expect(ed.verify(x.sig, x.message, x.pk, { zip215: true })).toBe(true)
    }
  })

  it('(e) small-order and mixed-order R: a cofactored verifier accepts all; the bare equation holds for R = identity and for every small-order R paired with a mixed-order key', () => {
    const e = inGroup('e')
    expect(e).toHaveLength(18)
    for (const x of e) expect(x.cofactored).toBe(true)
    const bare = e.filter((x) => x.name.startsWith('R = 0T') || x.name.includes('-[k]T = R'))
    expect(bare).toHaveLength(8)
    for (const x of bare) expect(x.cofactorless).toBe(true)
  })

  it('(f) mixed-order A: a cofactored verifier accepts all; ours accepts exactly when the bare equation holds, and admission refuses the key', () => {
    const f = inGroup('f')
    expect(f).toHaveLength(6)
    for (const x of f) {
      expect(x.cofactored).toBe(true)
      expect(x.cofactorless).toBe(x.expected)
      // Not in the prime-order subgroup: the chain never admits such a key.
      expect(isAcceptablePublicKey(x.pk)).toBe(false)
    }
  })

  it('(g) small-order non-canonical R: a cofactored check on the decoded point would accept', () => {
    const small = inGroup('g').filter((x) => !x.name.includes('p+3') && !x.name.includes('sign bit flipped'))
    expect(small).toHaveLength(6)
    for (const x of small) expect(x.cofactored).toBe(true)
  })

  it('every non-canonical encoding is refused as a key', () => {
    const all = nonCanonicalEncodings()
    expect(all.length).toBeGreaterThan(20)
    for (const e of all) expect(isAcceptablePublicKey(e.bytes)).toBe(false)
  })
})

describe('domain separation', () => {
  it('a signature verifies under its own domain and no other', () => {
    const k = keyPairFromSeed(new Uint8Array(32).fill(9))
    for (const d1 of DOMAINS) {
      const sig = sign(d1, PAYLOAD, k)
      for (const d2 of DOMAINS) {
        expect([verify(d2, PAYLOAD, sig, k.publicKey), verifyReference(d2, PAYLOAD, sig, k.publicKey)]).toEqual([
          d1 === d2,
          d1 === d2
        ])
      }
    }
  })

  it('the tag is aura/v1/<domain> then NUL, before the payload', () => {
    expect(toHex(signedMessage('record', utf8('x')))).toBe(toHex(utf8('aura/v1/record\0x')))
  })
})

describe('keys and signing', () => {
  it('matches RFC 8032 test 1 (key derivation and signature)', () => {
    const k = keyPairFromSeed(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
    expect(toHex(k.publicKey)).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    const sig = fromHex('e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b')
    expect(both(new Uint8Array(0), sig, k.publicKey)).toEqual([true, true])
  })

  it('signing is deterministic and equal to noble over the tagged message', () => {
    const seed = new Uint8Array(32).fill(3)
    const k = keyPairFromSeed(seed)
    expect(toHex(sign('record', PAYLOAD, k))).toBe(toHex(sign('record', PAYLOAD, k)))
    expect(toHex(sign('record', PAYLOAD, k))).toBe(toHex(ed.sign(signedMessage('record', PAYLOAD), seed)))
  })

  it('derives the same public key as noble for any seed (key-pair.ts is node:crypto)', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
      expect(toHex(keyPairFromSeed(seed).publicKey)).toBe(toHex(ed.getPublicKey(seed)))
    }), { numRuns: 200 })
  })

  it('refuses a seed that is not 32 bytes with E_MALFORMED', () => {
    expect(() => keyPairFromSeed(new Uint8Array(31))).toThrow(expect.objectContaining({ code: 'E_MALFORMED' }))
  })

  it('accepts an ordinary key, refuses wrong lengths', () => {
    expect(isAcceptablePublicKey(keyPairFromSeed(new Uint8Array(32)).publicKey)).toBe(true)
    expect(isAcceptablePublicKey(new Uint8Array(31))).toBe(false)
  })
})

describe('property: both implementations agree', () => {
  const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
  const payloadArb = fc.uint8Array({ minLength: 0, maxLength: 320 })

  it('random keys, messages and one optional bit flip anywhere in sig, key or message', () => {
    fc.assert(fc.property(seedArb, payloadArb, fc.nat(), fc.boolean(), (seed, payload, pos, flip) => {
      const k = keyPairFromSeed(seed)
      const m = signedMessage('record', payload)
      const blob = new Uint8Array([...sign('record', payload, k), ...k.publicKey, ...m])
      if (flip) blob[Math.floor(pos / 8) % blob.length] ^= 1 << (pos % 8)
      const [fast, ref] = both(blob.subarray(96), blob.subarray(0, 64), blob.subarray(64, 96))
      expect(fast).toBe(ref)
      if (!flip) expect(fast).toBe(true)
    }), { numRuns: 300 })
  })

  it('random bytes as signature and key', () => {
    const sigArb = fc.uint8Array({ minLength: 64, maxLength: 64 })
    const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
    fc.assert(fc.property(sigArb, keyArb, payloadArb, (sig, pk, m) => {
      const [fast, ref] = both(m, sig, pk)
      expect(fast).toBe(ref)
    }), { numRuns: 300 })
  })

  it('torsion added to A and R: both follow the cofactorless model exactly', () => {
    const T = torsionPoints()
    let accepted = 0
    let refused = 0
    const rbArb = fc.uint8Array({ minLength: 32, maxLength: 32 })
    const bit = fc.boolean()
    fc.assert(fc.property(seedArb, rbArb, fc.nat(7), fc.nat(7), bit, bit, (seed, rb, i, j, addL, pureTorsionR) => {
      const { a, A } = expanded(seed)
      // r = 0 makes R = T_j itself, a small-order R the rule refuses even when the equation holds.
      const r = pureTorsionR ? 0n : le(rb) % (L - 1n) + 1n
      const Ap = A.add(T[i]).toBytes()
      const Rp = (r === 0n ? T[j] : ed.Point.BASE.multiply(r).add(T[j])).toBytes()
      const k = challenge(Rp, Ap, MESSAGE)
      const S = (r + k * a) % L + (addL ? L : 0n)
      const sig = new Uint8Array([...Rp, ...n32(S)])
      const model = !addL && r !== 0n && T[j].add(T[i].multiplyUnsafe(k % 8n)).is0()
      expect(both(MESSAGE, sig, Ap)).toEqual([model, model])
      if (model) accepted++; else refused++
    }), { numRuns: 300 })
    // The property only means something if both outcomes occurred.
    expect(accepted).toBeGreaterThan(0)
    expect(refused).toBeGreaterThan(0)
  })
})
