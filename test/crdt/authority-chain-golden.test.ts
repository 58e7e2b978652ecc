/**
 * Golden vectors: a fixed seed key and fixed times produce these exact bytes. If one of these
 * fails, the chain, token or beacon format changed: that must be a decision (a new `v`), never
 * an accident, because every stored chain and every issued token depends on it.
 */
import { describe, expect, it } from 'vitest'
import { canonicalBytes, fromB64u, sha256, toB64u, toHex } from '../../crdt/canonical.js'
import { keyPairFromSeed, verifyReference } from '../../crdt/crypto.js'
import { makeJti } from '../../crdt/ids.js'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { admitEntry, decodeEntry, encodeEntry, genesisEntry, hashEntry, headOf } from '../../crdt/chain-entry.js'
import { decodeToken, issueToken, verifyToken } from '../../crdt/join-token.js'
import { encodeBeacon, makeBeacon, verifyBeacon } from '../../crdt/beacon.js'

const T0 = 1_767_225_600_000
const mothership = keyPairFromSeed(Uint8Array.from({ length: 32 }, (_, i) => i + 1))
const alice = keyPairFromSeed(new Uint8Array(32).fill(2))
const jti = makeJti(T0, Uint8Array.from({ length: 10 }, (_, i) => i))

const GENESIS = '{"body":{"mothership":"ebVWLo_mVPlAeLES6KmLp5AfhTrmlb7X4OORC60ElmQ","team":"acme","ts":1767225600000},' +
  '"kind":"genesis","prev":null,"seq":0,"sig":"hMhRBFpNNLjWbdlSZdcB8BlwO2uWVsNQZoZM0rghBQWC6uPKiv2WtcciDYVMzFJEaZ9tvfDjFhGVUeMmfppUCg",' +
  '"signer":"65b60673d6ed884bf01c2c222d82ada0740f29ac3355d6a925c81f17f47a27b8","v":1}'
const GENESIS_HASH = '1a1d06afad5f133eb39c7307e1d2996df01515870ab42336b109a2b3adeb72d6'
const ADMIT_HASH = '9374db92db2b8a916c7234906fcfd43a08c073229419bb03360778678e33b4b6'
const TOKEN = 'aurajoin1.eyJhZGRycyI6WyIvaXA0LzEyNy4wLjAuMS90Y3AvNDAwMSJdLCJleHBpcmVzQXQiOjE3NjcyMjYyMDAwMDAsImp0aSI6InRrXzAxS0RWRE5BMDAwMDBH' +
  'NDBSNDBNMzBFMjA5IiwibW90aGVyc2hpcEtleUlkIjoiNjViNjA2NzNkNmVkODg0YmYwMWMyYzIyMmQ4MmFkYTA3NDBmMjlhYzMzNTVkNmE5MjVjODFmMTdmNDdhMjdiOCIsInJl' +
  'dXNhYmxlIjpmYWxzZSwicm9sZSI6ImNvbnRyaWJ1dG9yIiwic2lnIjoiaUJ6MFJ5NTRSemRreWYxQmhNWE5iRzRTM0pEVW5YT3ZuZVJWd1JYWElfRVVIb21lT1ZsbzdQb1hjMWhL' +
  'RjZYeWxHUlBvM2wwZU42MmVLaUMyTmx5QWciLCJ0ZWFtIjoiYWNtZSIsInVzZXIiOiJhbGljZSIsInYiOjF9'
const BEACON_HASH = '5f0c5f57210bb3974ecd364562dd7d8ce4dfab8198559467429eed8df808a682'

describe('golden vectors', () => {
  it('genesis and admit entries', () => {
    const genesis = genesisEntry(mothership, { team: 'acme', ts: T0 })
    expect(new TextDecoder().decode(encodeEntry(genesis))).toBe(GENESIS)
    expect(hashEntry(genesis)).toBe(GENESIS_HASH)
    const admit = admitEntry(mothership, headOf(genesis), { pub: toB64u(alice.publicKey), user: 'alice', role: 'contributor', jti, ts: T0 + 1000 })
    expect(hashEntry(admit)).toBe(ADMIT_HASH)
  })

  it('the stored genesis still loads, verifies (on both verifiers) and founds a chain', () => {
    const genesis = decodeEntry(new TextEncoder().encode(GENESIS))
    const { sig, ...unsigned } = genesis
    expect(verifyReference('chain', canonicalBytes(unsigned), fromB64u(sig), mothership.publicKey)).toBe(true)
    expect(AuthorityChain.fromGenesis(genesis).head).toEqual({ seq: 0, hash: GENESIS_HASH })
  })

  it('join token string', () => {
    const token = issueToken({ jti, team: 'acme', user: 'alice', role: 'contributor', expiresAt: T0 + 600_000, reusable: false, addrs: ['/ip4/127.0.0.1/tcp/4001'] }, mothership)
    expect(token).toBe(TOKEN)
    expect(verifyToken(decodeToken(TOKEN), { mothershipPub: mothership.publicKey, nowMs: T0 })).toMatchObject({ jti, user: 'alice' })
  })

  it('beacon', () => {
    const beacon = makeBeacon({ team: 'acme', headSeq: 1, headHash: ADMIT_HASH, ts: T0 + 5000 }, mothership)
    const bytes = encodeBeacon(beacon)
    expect(toHex(sha256(bytes))).toBe(BEACON_HASH)
    expect(verifyBeacon(bytes, mothership.publicKey)).toEqual(beacon)
  })
})
