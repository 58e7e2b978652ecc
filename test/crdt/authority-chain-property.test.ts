import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { AuraError } from '../../crdt/errors.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { decodeEntry, encodeEntry, type ChainEntry } from '../../crdt/chain-entry.js'
import { ChainBuilder, jtiOf, keyOf, NO_CUT, snapshot } from './authority-chain-fixture.js'

const ROLES = ['contributor', 'reader', 'agent']
type Op = { op: number, pick: number }

/** A valid chain driven by random ops; each op that would be invalid in the state is skipped. */
function buildChain (ops: Op[]): ChainEntry[] {
  const b = new ChainBuilder()
  const ref = AuthorityChain.fromGenesis(b.entries[0])
  let nextKey = 2
  let nextMothership = 1000
  const active = (): KeyId[] => ref.members().filter((m) => ref.revocation(m.key) === undefined).map((m) => m.key)
  for (const { op, pick } of ops) {
    const before = b.entries.length
    if (op === 0) {
      const jti = jtiOf(pick % 5)
      b.admit(nextKey++, `user${pick}`, ROLES[pick % 2], ref.isTokenRevoked(jti) === undefined ? jti : null)
    } else if (op === 1) {
      b.agent(nextKey++, `agent${pick}`, 'agent')
    } else if (op === 2 && active().length > 0) {
      const key = active()[pick % active().length]
      const cut = pick % 3 === 0 ? NO_CUT : { seq: pick, hash: key as string as RecordId }
      b.revoke({ type: ref.member(key)?.kind ?? 'peer', key, cut })
    } else if (op === 3 && ref.isTokenRevoked(jtiOf(pick % 5)) === undefined) {
      b.revoke({ type: 'token', jti: jtiOf(pick % 5) })
    } else if (op === 4) {
      const role = ROLES[pick % 3]
      const cuts = Object.fromEntries(
        ref.members().filter((m) => m.role === role && m.since % 2 === 0).map(
          (m) => [m.key, { seq: m.since, hash: m.key as string as RecordId }]
        )
      )
      b.revoke({ type: 'role', role, cuts })
    } else if (op === 5) {
      b.lockdown(`l${pick}`)
    } else if (op === 6) {
      b.unlock(`u${pick}`)
    } else if (op === 7) {
      b.rotate(keyOf(nextMothership++))
    }
    if (b.entries.length > before) expect(ref.applyBatch(b.entries.slice(before))).toEqual({ applied: 1 })
  }
  return b.entries
}

const chainArb = fc.array(
  fc.record({ op: fc.integer({ min: 0, max: 7 }), pick: fc.nat({ max: 1000 }) }),
  { minLength: 1, maxLength: 24 }
)
  .map(buildChain)

describe('AuthorityChain properties', () => {
  it('any split, duplication and order of batches converges to the same head and state', () => {
    const scenario = chainArb.chain((entries) => fc.record({
      entries: fc.constant(entries),
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, entries.length - 1) }), { maxLength: entries.length }),
      dups: fc.array(fc.nat(), { maxLength: 4 }),
      weights: fc.array(fc.nat(), { minLength: entries.length + 4, maxLength: entries.length + 4 })
    }))
    fc.assert(fc.property(scenario, ({ entries, cuts, dups, weights }) => {
      const bounds = [0, ...cuts.sort((a, b) => a - b), entries.length]
      const chunks = bounds.slice(1).map((end, i) => entries.slice(bounds[i], end)).filter((c) => c.length > 0)
      const batches = [...chunks, ...dups.map((d) => chunks[d % chunks.length])]
        .map((batch, i) => ({ batch, w: weights[i % weights.length] }))
        .sort((a, b) => a.w - b.w)
        .map((x) => x.batch)
      const replica = AuthorityChain.fromGenesis(entries[0])
      let queue = batches
      const maxRounds = batches.length + 1
      for (let round = 0; round < maxRounds && queue.length > 0; round++) {
        const retry: ChainEntry[][] = []
        for (const batch of queue) {
          try {
            replica.applyBatch(batch)
          } catch (err) {
            expect(err).toMatchObject({ code: 'E_BAD_CHAIN', context: { reason: 'gap' } })
            retry.push(batch)
          }
        }
        queue = retry
      }
      expect(queue).toEqual([])
      expect(snapshot(replica)).toEqual(snapshot(AuthorityChain.fromEntries(entries)))
    }), { numRuns: 60 })
  })

  it('a flipped byte in any entry is refused at decode or at verification, never accepted', () => {
    const flip = fc.record({
      entries: chainArb,
      at: fc.nat(),
      pos: fc.nat(),
      xor: fc.oneof(fc.constantFrom(1, 2, 4, 8, 16, 32), fc.integer({ min: 1, max: 255 }))
    })
    fc.assert(fc.property(flip, ({ entries, at, pos, xor }) => {
      const i = at % entries.length
      const bytes = encodeEntry(entries[i])
      bytes[pos % bytes.length] ^= xor
      expectRefused(entries, i, bytes, new Map())
    }), { numRuns: 200 })
  })

  it('every single-bit flip of every byte of a chain with every kind of entry is refused', () => {
    const entries = buildChain([0, 1, 0, 2, 3, 4, 5, 6, 7, 0].map((op, pick) => ({ op, pick: pick + 3 })))
    expect(new Set(entries.map((e) => e.kind)).size).toBe(7)
    let decoded = 0
    const chains = new Map<number, AuthorityChain>()
    for (let i = 0; i < entries.length; i++) {
      const clean = encodeEntry(entries[i])
      for (let pos = 0; pos < clean.length; pos++) {
        const bytes = clean.slice()
        bytes[pos] ^= 1
        if (expectRefused(entries, i, bytes, chains)) decoded++
      }
    }
    // Most flips still decode (hex digits, letters): verification, not parsing, refuses them.
    expect(decoded).toBeGreaterThan(1000)
  })
})

/**
 * Asserts the altered entry i is refused, by a chain holding entries before it and by one
 * holding them all; returns whether it got past decoding. Chains are cached by length: a
 * refused batch leaves them unchanged, which this checks too.
 */
function expectRefused (
  entries: ChainEntry[],
  i: number,
  bytes: Uint8Array,
  chains: Map<number, AuthorityChain>
): boolean {
  const chainOf = (n: number): AuthorityChain => {
    let c = chains.get(n)
    if (c === undefined) chains.set(n, c = AuthorityChain.fromEntries(entries.slice(0, n)))
    return c
  }
  let entry: ChainEntry
  try {
    entry = decodeEntry(bytes)
  } catch (err) {
    expect(err).toMatchObject({ code: 'E_MALFORMED' })
    return false
  }
  const refusal = (f: () => unknown): AuraError => {
    try {
      f()
    } catch (err) {
      expect(err).toBeInstanceOf(AuraError)
      return err as AuraError
    }
    throw new AuraError('E_INTERNAL', `altered entry ${i} was accepted`)
  }
  if (i === 0) {
    expect(['E_BAD_SIGNATURE', 'E_BAD_CHAIN']).toContain(refusal(() => AuthorityChain.fromGenesis(entry)).code)
  } else {
    const prefix = chainOf(i)
    expect(['E_BAD_SIGNATURE', 'E_BAD_CHAIN']).toContain(refusal(() => prefix.applyBatch([entry])).code)
    expect(prefix.head.seq).toBe(i - 1)
  }
  const full = chainOf(entries.length)
  expect(refusal(() => full.applyBatch([entry])).code).toBe(entry.seq < entries.length ? 'E_BAD_SIGNATURE' : 'E_BAD_CHAIN')
  expect(full.isForked).toBe(false)
  expect(full.head.seq).toBe(entries.length - 1)
  return true
}
