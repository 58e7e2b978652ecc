/**
 * Identifiers: key ids, short forms, git-style unique-prefix resolution, and tk_ + ULID token ids.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { decodeTime, encodeTime } from 'ulid'
import { keyIdOf, makeJti, parseJti, parseKeyId, parseRecordId, resolvePrefix, shortId, type KeyId } from '../../crdt/ids.js'
import { fromHex } from '../../crdt/canonical.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'

const code = (c: string): unknown => expect.objectContaining({ code: c })
const JTI = /^tk_[0-9A-HJKMNP-TV-Z]{26}$/
const id = (prefix: string): KeyId => prefix.padEnd(64, '0') as KeyId

describe('key ids', () => {
  it('is the hex SHA-256 of the public key (RFC 8032 test 1 key)', () => {
    const pk = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a')
    expect(keyIdOf(pk)).toBe('21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9')
    expect(shortId(keyIdOf(pk))).toBe('peer-21fe')
    expect(shortId(keyIdOf(pk), 'claude')).toBe('claude-21fe')
  })

  it('parseKeyId and parseRecordId take 64 lower-case hex digits only', () => {
    const k = keyIdOf(keyPairFromSeed(new Uint8Array(32)).publicKey)
    expect(parseKeyId(k)).toBe(k)
    expect(parseRecordId(k)).toBe(k)
    for (const bad of [k.toUpperCase(), k.slice(1), `${k}0`, `peer-${k.slice(0, 4)}`, '', ` ${k}`]) {
      expect(() => parseKeyId(bad)).toThrow(code('E_MALFORMED'))
      expect(() => parseRecordId(bad)).toThrow(code('E_MALFORMED'))
    }
  })
})

describe('resolvePrefix', () => {
  const alice = id('5f3a11')
  const bob = id('7f3a22')
  const claude = id('7f3b33')
  const codex = id('9c0d44')
  const twinA = id('abcd1234ef01')
  const twinB = id('abcd1234ef02')
  const all = [alice, bob, claude, codex, twinA, twinB]
  const labelOf = (c: KeyId): string => c === claude ? 'claude' : c === codex ? 'codex' : 'peer'

  it('resolves a full id, a bare prefix of 4+ digits, and peer-<hex>', () => {
    expect(resolvePrefix(alice, all)).toBe(alice)
    expect(resolvePrefix('5f3a', all)).toBe(alice)
    expect(resolvePrefix('peer-5f3a', all)).toBe(alice)
    expect(resolvePrefix('  peer-5f3a1 ', all)).toBe(alice)
  })

  it('resolves agent labels such as claude-7f3b, and a label narrows the match', () => {
    expect(resolvePrefix('claude-7f3b', all, labelOf)).toBe(claude)
    expect(resolvePrefix('claude-7f3b', [...all, id('7f3b99')], labelOf)).toBe(claude)
    expect(() => resolvePrefix('peer-7f3b', [...all, id('7f3b99')], labelOf)).toThrow(code('E_AMBIGUOUS'))
    expect(() => resolvePrefix('codex-7f3b', all, labelOf)).toThrow(code('E_NOT_FOUND'))
  })

  it('treats peer- as the default label, matching any kind', () => {
    expect(resolvePrefix('peer-7f3b', all, labelOf)).toBe(claude)
  })

  it('an ambiguous prefix is E_AMBIGUOUS listing every candidate', () => {
    let err: unknown
    try { resolvePrefix('peer-7f3a', [bob, id('7f3a99')]) } catch (e) { err = e }
    expect(err).toMatchObject({ code: 'E_AMBIGUOUS', context: { input: 'peer-7f3a', candidates: ['peer-7f3a2200', 'peer-7f3a9900'] } })
    expect((err as Error).message).toContain('peer-7f3a2200')
    expect((err as Error).message).toContain('peer-7f3a9900')
  })

  it('lists candidates with enough digits to tell them apart', () => {
    let err: unknown
    try { resolvePrefix('abcd', all) } catch (e) { err = e }
    expect(err).toMatchObject({ code: 'E_AMBIGUOUS', context: { candidates: ['peer-abcd1234ef01', 'peer-abcd1234ef02'] } })
    expect(resolvePrefix('abcd1234ef02', all)).toBe(twinB)
  })

  it('lists candidates with their labels', () => {
    let err: unknown
    try { resolvePrefix('peer-7f3b', [claude, id('7f3b55')], labelOf) } catch (e) { err = e }
    expect(err).toMatchObject({ code: 'E_AMBIGUOUS', context: { candidates: ['claude-7f3b3300', 'peer-7f3b5500'] } })
  })

  it('no match is E_NOT_FOUND', () => {
    expect(() => resolvePrefix('dead', all)).toThrow(code('E_NOT_FOUND'))
    expect(() => resolvePrefix(`${alice}0`, all)).toThrow(code('E_NOT_FOUND'))
    expect(() => resolvePrefix('5f3a', [])).toThrow(code('E_NOT_FOUND'))
  })

  it('fewer than 4 hex digits, or anything that is not an id, is E_MALFORMED', () => {
    for (const bad of ['', '5f3', 'peer-5f3', 'peer-', 'peer', '5f3g', '-5f3a', 'peer--5f3a', '5f3a-peer', 'peer 5f3a']) {
      expect(() => resolvePrefix(bad, all), bad).toThrow(code('E_MALFORMED'))
    }
    // Any case is the same id (an operator in a hurry types it as it comes).
    expect(() => resolvePrefix('PEER-5F3A', all)).not.toThrow(code('E_MALFORMED'))
  })
})

describe('makeJti', () => {
  const rnd = (n: number): Uint8Array => new Uint8Array(10).fill(n)

  it('is tk_ + a 26-character Crockford ULID whose time part is the given time', () => {
    const t = 1_764_220_800_123
    const j = makeJti(t, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))
    expect(j).toMatch(JTI)
    expect(j.slice(3, 13)).toBe(encodeTime(t, 10))
    expect(decodeTime(j.slice(3))).toBe(t)
    expect(parseJti(j)).toBe(j)
  })

  it('encodes the 80 random bits big-endian, 5 bits a character', () => {
    expect(makeJti(0, rnd(0))).toBe('tk_00000000000000000000000000')
    expect(makeJti(0, rnd(0xff))).toBe('tk_0000000000ZZZZZZZZZZZZZZZZ')
    expect(makeJti(2 ** 48 - 1, new Uint8Array([0x84, 0x21, 0x08, 0x42, 0x10, 0x84, 0x21, 0x08, 0x42, 0x10]))).toBe('tk_7ZZZZZZZZZGGGGGGGGGGGGGGGG')
  })

  it('refuses times outside ULID range and short randomness with E_MALFORMED', () => {
    for (const t of [-1, 2 ** 48, NaN, Infinity]) expect(() => makeJti(t, rnd(1)), String(t)).toThrow(code('E_MALFORMED'))
    expect(() => makeJti(0, new Uint8Array(9))).toThrow(code('E_MALFORMED'))
  })

  it('property: later time sorts later whatever the randomness; same time sorts by randomness', () => {
    const time = fc.integer({ min: 0, max: 2 ** 48 - 1 })
    const bytes = fc.uint8Array({ minLength: 10, maxLength: 10 })
    fc.assert(fc.property(time, time, bytes, bytes, (t1, t2, r1, r2) => {
      const a = makeJti(t1, r1)
      const b = makeJti(t2, r2)
      expect(a).toMatch(JTI)
      if (t1 !== t2) expect(a < b).toBe(t1 < t2)
      else expect(a < b ? -1 : a > b ? 1 : 0).toBe(Buffer.compare(Buffer.from(r1), Buffer.from(r2)))
    }), { numRuns: 500 })
  })

  it('parseJti refuses anything else', () => {
    const good = makeJti(1, rnd(7))
    for (const bad of [good.slice(3), good.toLowerCase(), `${good}0`, good.slice(0, -1), `tk_${'I'.repeat(26)}`, `tk_${'U'.repeat(26)}`, `TK_${good.slice(3)}`, '']) {
      expect(() => parseJti(bad), bad).toThrow(code('E_MALFORMED'))
    }
  })
})
