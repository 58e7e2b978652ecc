/**
 * Test helpers for the authority chain: fixed keys, fixed times, and a builder that appends
 * valid entries the way the Mothership would.
 *
 * @example
 * const b = new ChainBuilder()
 * const alice = b.admit(2, 'alice')       // the admitted key id
 * b.revoke({ type: 'peer', key: alice, cut: NO_CUT })
 * AuthorityChain.fromEntries(b.entries)
 */
import { toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, makeJti, type Jti, type KeyId } from '../../crdt/ids.js'
import {
  admitEntry, agentEntry, genesisEntry, headOf, lockdownEntry, revokeEntry, rotateEntry, unlockEntry,
  type ChainEntry, type Head, type RevokeSubject
} from '../../crdt/chain-entry.js'
import type { AuthorityChain } from '../../crdt/authority-chain.js'

/** 2026-01-01T00:00:00Z. */
export const T0 = 1_767_225_600_000
/** The cut of a key with no accepted record. */
export const NO_CUT = { seq: 0, hash: null } as const

/** A deterministic key pair: seed bytes `n, n>>8, 0, ...` (n > 0). */
export function keyOf (n: number): KeyPair {
  const seed = new Uint8Array(32)
  seed[0] = n & 0xff
  seed[1] = n >> 8
  seed[31] = 0xa5
  return keyPairFromSeed(seed)
}

/** A deterministic token id. */
export function jtiOf (n: number): Jti {
  return makeJti(T0, new Uint8Array(10).fill(n & 0xff))
}

/** Appends valid entries; `key` is the current Mothership key. */
export class ChainBuilder {
  key: KeyPair
  readonly entries: ChainEntry[]
  ts = T0

  constructor (key: KeyPair = keyOf(1), team = 'acme') {
    this.key = key
    this.entries = [genesisEntry(key, { team, ts: this.ts })]
  }

  get head (): Head { return headOf(this.entries[this.entries.length - 1]) }

  /** Admits the key of seed `n` as a peer; returns its key id. */
  admit (n: number, user: string, role = 'contributor', jti: Jti | null = jtiOf(n)): KeyId {
    const pub = keyOf(n).publicKey
    this.push(admitEntry(this.key, this.head, { pub: toB64u(pub), user, role, jti, ts: this.tick() }))
    return keyIdOf(pub)
  }

  /** Grants the key of seed `n` an agent credential; returns its key id. */
  agent (n: number, name: string, role = 'agent'): KeyId {
    const pub = keyOf(n).publicKey
    this.push(agentEntry(this.key, this.head, {
      pub: toB64u(pub), name, role, capabilities: ['read', 'commit'], quotas: { max_commits_per_hour: 20 }, expires: T0 + 7_200_000, owner: 'alice', ts: this.tick()
    }))
    return keyIdOf(pub)
  }

  revoke (subject: RevokeSubject, reason = 'test'): ChainEntry {
    return this.push(revokeEntry(this.key, this.head, { subject, reason, ts: this.tick() }))
  }

  lockdown (reason = 'incident'): ChainEntry { return this.push(lockdownEntry(this.key, this.head, { reason, ts: this.tick() })) }
  unlock (reason = 'all clear'): ChainEntry { return this.push(unlockEntry(this.key, this.head, { reason, ts: this.tick() })) }

  /** Rotates to `next`, signed by the current key. */
  rotate (next: KeyPair): ChainEntry {
    const e = this.push(rotateEntry(this.key, this.head, { mothership: toB64u(next.publicKey), ts: this.tick() }))
    this.key = next
    return e
  }

  private push (e: ChainEntry): ChainEntry {
    this.entries.push(e)
    return e
  }

  private tick (): number {
    this.ts += 1000
    return this.ts
  }
}

/** Everything a chain's queries say, as one comparable value. */
export function snapshot (chain: AuthorityChain): unknown {
  return {
    head: chain.head,
    team: chain.team,
    mothership: chain.mothershipKeyId,
    entries: chain.entries().length,
    members: chain.members(),
    revocations: chain.members().map((m) => [m.key, chain.revocation(m.key) ?? null]),
    tokens: chain.tokenRevocations(),
    locked: chain.locked,
    reason: chain.lockdownReason ?? null,
    lockedAt: chain.entries().map((e) => chain.lockedAt(e.seq)),
    forks: chain.forks.length
  }
}
