/**
 * The write path both the daemon (NodeRuntime.appendRecord, its IntentWriter) and the simulator's
 * node run (node/peer/writer.ts): who may sign, what the node fills in, when a record is signed,
 * and where in its signer's chain it goes — after a restart too.
 */
import { describe, expect, it } from 'vitest'
import { agentEntry, AuthorityChain, revokeEntry } from '../../crdt/authority-chain.js'
import { toB64u } from '../../crdt/canonical.js'
import { writerActor } from '../../crdt/change-auth.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { keyIdOf } from '../../crdt/ids.js'
import { WriteGate } from '../../node/agents/write-gate.js'
import { NO_AUTHORITY, RecordWriter, signBatch, signNext, type RecordRules, type SignerHead } from '../../node/peer/index.js'
import { keyNamed, MothershipBook, T0 } from '../sync/engine-fixture.js'

const alice = keyNamed('alice')
const claude = keyNamed('claude')
const aliceId = keyIdOf(alice.publicKey)
const claudeId = keyIdOf(claude.publicKey)

/** A team where alice's node hosts the agent claude (role `reader`: no intents). */
function team (): { book: MothershipBook, chain: () => AuthorityChain, apply: () => void, revokeClaude: () => void } {
  const book = new MothershipBook()
  book.admit('alice', alice)
  const head = (): { seq: number, hash: string } => AuthorityChain.fromEntries(book.entries).head
  book.entries.push(agentEntry(book.key, head(), {
    pub: toB64u(claude.publicKey), name: 'claude', role: 'reader', capabilities: [], quotas: {}, expires: null, owner: 'alice', ts: ++book.clock
  }))
  let chain = AuthorityChain.fromEntries(book.entries)
  const apply = (): void => { chain = AuthorityChain.fromEntries(book.entries) }
  const revokeClaude = (): void => {
    book.entries.push(revokeEntry(book.key, head(), {
      subject: { type: 'agent', key: claudeId, cut: { seq: 0, hash: null } }, reason: 'prompt injection', ts: ++book.clock
    }))
    apply()
  }
  return { book, chain: () => chain, apply, revokeClaude }
}

function writerOf (chain: () => AuthorityChain | null, clock: { now: number }, rules?: RecordRules): RecordWriter {
  return new RecordWriter({ localKey: aliceId, chain, now: () => clock.now, host: () => 'alice-laptop', name: () => 'config-name', rules })
}

describe('peer core: the write path', () => {
  it('refuses the signer the gate refuses: a revoked agent on a node that is not, a lockdown but for receipts', () => {
    const t = team()
    const w = writerOf(t.chain, { now: T0 + 10_000 })
    expect(w.prepare({ kind: 'intent', text: 'mine' }, aliceId, undefined).actor).toBe('alice')
    t.revokeClaude()
    expect(() => w.prepare({ kind: 'receipt', text: '' }, claudeId, undefined)).toThrow(expect.objectContaining({ code: 'E_REVOKED' }))
    expect(w.refusal('intent', claudeId)?.code).toBe('E_REVOKED')
    expect(w.refusal('intent')).toBeNull()
    t.book.lockdown()
    t.apply()
    expect(() => w.prepare({ kind: 'intent', text: 'during lockdown' }, aliceId, undefined)).toThrow(expect.objectContaining({ code: 'E_LOCKDOWN' }))
    expect(w.prepare({ kind: 'receipt', text: '' }, aliceId, undefined).kind).toBe('receipt')
  })

  it('applies the record rules when it has them (the daemon), and not when it has none (the simulator)', () => {
    const t = team()
    const clock = { now: T0 + 10_000 }
    const log = IntentLog.create(writerActor(aliceId, '00'.repeat(16)))
    const daemon = writerOf(t.chain, clock, new WriteGate(log))
    expect(() => daemon.prepare({ kind: 'intent', text: 'x' }, claudeId, undefined)).toThrow(expect.objectContaining({ code: 'E_CAPABILITY' }))
    expect(writerOf(t.chain, clock).prepare({ kind: 'intent', text: 'x' }, claudeId, undefined).kind).toBe('intent')
  })

  it('fills in the actor, the chain head and null fields; without a team, the config name and no authority', () => {
    const t = team()
    const w = writerOf(t.chain, { now: T0 })
    expect(w.prepare({ kind: 'intent', text: 'fix login' }, aliceId, undefined)).toEqual({
      kind: 'intent', actor: 'alice', auth: { ...t.chain().head }, text: 'fix login', delta: null, data: null, refs: []
    })
    expect(w.prepare({ kind: 'intent', text: 'for claude', actor: 'claude' }, claudeId, undefined).actor).toBe('claude')
    const alone = writerOf(() => null, { now: T0 })
    expect(alone.prepare({ kind: 'intent', text: 'x' }, aliceId, undefined)).toMatchObject({ actor: 'config-name', auth: NO_AUTHORITY })
  })

  it('signs no earlier than the rules last admitted a record at, when the clock steps back', () => {
    const t = team()
    const clock = { now: T0 + 60_000 }
    const log = IntentLog.create(writerActor(aliceId, '00'.repeat(16)))
    const w = writerOf(t.chain, clock, new WriteGate(log))
    w.prepare({ kind: 'intent', text: 'first' }, aliceId, undefined)
    expect(w.signingTime(aliceId)).toBe(T0 + 60_000)
    clock.now -= 30_000
    expect(w.signingTime(aliceId)).toBe(T0 + 60_000)
    expect(writerOf(t.chain, clock).signingTime(aliceId)).toBe(T0 + 30_000)
  })

  it("chains each record after its signer's newest one, above the seq mark, across a restart", () => {
    const t = team()
    const w = writerOf(t.chain, { now: T0 + 10_000 })
    const fields = (text: string) => w.prepare({ kind: 'intent', text }, aliceId, undefined)
    const at = { ts: T0 + 10_000, host: 'alice-laptop' }
    const first = signBatch(undefined, 0, [fields('a'), fields('b'), fields('c')], at, alice)
    const [a, b] = first.records
    expect(first.records.map((r) => [r.record.seq, r.record.prev])).toEqual([[1, null], [2, a.id], [3, b.id]])
    expect(first.head).toEqual({ seq: 3, id: first.records[2].id })
    // Restarted after a crash: the store's head is seq 3, the seq mark says up to 1027 may be signed.
    const after = signNext(first.head as SignerHead, 1027, { ...fields('d'), ...at }, alice)
    expect(after.record.record).toMatchObject({ seq: 1028, prev: first.records[2].id })
    expect(after.head).toEqual({ seq: 1028, id: after.record.id })
    // Restored from an empty store with the mark kept: a gap, never a seq again.
    expect(signNext(undefined, 1028, { ...fields('e'), ...at }, alice).record.record).toMatchObject({ seq: 1029, prev: null })
    // A clean restart (the mark lowered to the head) continues with no gap.
    expect(signNext(after.head, 1028, { ...fields('f'), ...at }, alice).record.record).toMatchObject({ seq: 1029, prev: after.record.id })
  })
})
