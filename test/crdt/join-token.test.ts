import { describe, expect, it } from 'vitest'
import { canonicalBytes, toB64u } from '../../crdt/canonical.js'
import { sign } from '../../crdt/crypto.js'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { decodeToken, issueToken, TOKEN_PREFIX, tokenUse, verifyToken, type JoinToken } from '../../crdt/join-token.js'
import { ChainBuilder, jtiOf, keyOf, T0 } from './authority-chain-fixture.js'

const mothership = keyOf(1)
const mallory = keyOf(666)
const claims = { jti: jtiOf(1), team: 'acme', user: 'alice', role: 'contributor', expiresAt: T0 + 600_000, reusable: false, addrs: ['/ip4/127.0.0.1/tcp/4001'] }
const opts = { mothershipPub: mothership.publicKey, nowMs: T0 }

function reencode (token: JoinToken): string {
  return TOKEN_PREFIX + toB64u(canonicalBytes(token))
}

describe('join tokens', () => {
  it('issue, decode and verify', () => {
    const s = issueToken(claims, mothership)
    expect(s.startsWith(TOKEN_PREFIX)).toBe(true)
    expect(s).toMatch(/^aurajoin1\.[A-Za-z0-9_-]+$/)
    const t = decodeToken(`  ${s}\n`)
    expect(t).toMatchObject({ ...claims, v: 1 })
    expect(verifyToken(t, opts)).toEqual(t)
    expect(verifyToken(s, opts)).toEqual(t)
  })

  it('expired: says when', () => {
    const s = issueToken(claims, mothership)
    expect(verifyToken(s, { ...opts, nowMs: claims.expiresAt - 1 }).jti).toBe(claims.jti)
    expect(() => verifyToken(s, { ...opts, nowMs: claims.expiresAt + 90_000 }))
      .toThrow(expect.objectContaining({ code: 'E_TOKEN_EXPIRED', message: expect.stringMatching(/expired at 2026-01-01T00:10:00.000Z \(90 s ago\)/) }))
    expect(() => verifyToken(s, { ...opts, nowMs: claims.expiresAt })).toThrow(expect.objectContaining({ code: 'E_TOKEN_EXPIRED' }))
  })

  it('forged: from another Mothership, or by mallory under our key id', () => {
    expect(() => verifyToken(issueToken(claims, mallory), opts)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE', message: expect.stringMatching(/another Mothership/) }))
    const unsigned = {
      ...claims,
      v: 1 as const,
      mothershipKeyId: decodeToken(issueToken(claims, mothership)).mothershipKeyId
    }
    const forged = { ...unsigned, sig: toB64u(sign('token', canonicalBytes(unsigned), mallory)) } as JoinToken
    expect(() => verifyToken(reencode(forged), opts)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE', message: expect.stringMatching(/forged or altered/) }))
    expect(() => issueToken({ ...claims, mothershipKeyId: forged.mothershipKeyId }, mallory)).toThrow(expect.objectContaining({ code: 'E_USAGE' }))
  })

  it('a signature for another domain does not pass as a token', () => {
    const unsigned = {
      ...claims,
      v: 1 as const,
      mothershipKeyId: decodeToken(issueToken(claims, mothership)).mothershipKeyId
    }
    const crossDomain = { ...unsigned, sig: toB64u(sign('chain', canonicalBytes(unsigned), mothership)) } as JoinToken
    expect(() => verifyToken(crossDomain, opts)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
  })

  it('tampered: a changed claim, or any changed character of the string', () => {
    const t = decodeToken(issueToken(claims, mothership))
    for (const change of [{ role: 'admin' }, { expiresAt: T0 + 1e9 }, { reusable: true }, { addrs: ['/ip4/6.6.6.6/tcp/1'] }]) {
      expect(() => verifyToken(reencode({ ...t, ...change }), opts)).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    }
    const s = issueToken(claims, mothership)
    for (let i = TOKEN_PREFIX.length; i < s.length; i++) {
      const altered = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
      expect(() => verifyToken(altered, opts)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^E_(MALFORMED|BAD_SIGNATURE)$/) }))
    }
  })

  it('decode explains what is wrong', () => {
    const s = issueToken(claims, mothership)
    expect(() => decodeToken('tk_01ABC')).toThrow(/should start with 'aurajoin1\.'/)
    expect(() => decodeToken(s.slice(0, 60))).toThrow(/damaged/)
    expect(() => decodeToken(`${TOKEN_PREFIX}!!!`)).toThrow(/not base64url/)
    expect(() => decodeToken(TOKEN_PREFIX + toB64u(canonicalBytes({ v: 1 })))).toThrow(expect.objectContaining({ code: 'E_MALFORMED', message: expect.stringMatching(/malformed: jti/) }))
  })

  it('revoked in the chain', () => {
    const b = new ChainBuilder(mothership)
    b.revoke({ type: 'token', jti: claims.jti }, 'posted to #general')
    const chain = AuthorityChain.fromEntries(b.entries)
    const s = issueToken(claims, mothership)
    expect(() => verifyToken(s, { ...opts, chain })).toThrow(expect.objectContaining({ code: 'E_REVOKED', message: expect.stringMatching(/posted to #general/) }))
    expect(verifyToken(issueToken({ ...claims, jti: jtiOf(2) }, mothership), { ...opts, chain }).jti).toBe(jtiOf(2))
  })

  it('after a rotation, tokens signed by the old key no longer verify', () => {
    const b = new ChainBuilder(mothership)
    b.rotate(keyOf(100))
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(() => verifyToken(issueToken(claims, mothership), { ...opts, mothershipPub: chain.mothershipKey })).toThrow(expect.objectContaining({ code: 'E_BAD_SIGNATURE' }))
    expect(
      verifyToken(issueToken(claims, keyOf(100)), { ...opts, mothershipPub: chain.mothershipKey }).jti
    ).toBe(claims.jti)
  })

  it('single use: a second redemption is E_TOKEN_USED unless the token is reusable', () => {
    const b = new ChainBuilder(mothership)
    const chain = AuthorityChain.fromEntries(b.entries)
    expect(() => tokenUse(chain, jtiOf(1), false)).not.toThrow()
    b.admit(2, 'alice', 'contributor', jtiOf(1))
    chain.applyBatch(b.entries)
    expect(() => tokenUse(chain, jtiOf(1), false)).toThrow(expect.objectContaining({ code: 'E_TOKEN_USED', context: expect.objectContaining({ jti: jtiOf(1) }) }))
    expect(() => tokenUse(chain, jtiOf(1), true)).not.toThrow()
    b.admit(3, 'alice', 'contributor', jtiOf(1))
    chain.applyBatch(b.entries)
    expect(chain.admissionsByJti(jtiOf(1))).toHaveLength(2)
    expect(() => tokenUse(chain, jtiOf(2), false)).not.toThrow()
  })
})
