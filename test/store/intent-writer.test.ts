import { afterEach, describe, expect, it } from 'vitest'
import type { KeyPair } from '../../crdt/crypto.js'
import { keyIdOf, type RecordId } from '../../crdt/ids.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { decodeRecord, signRecord, verifyRecord } from '../../crdt/record.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { MemorySeqReserve } from '../../node/store/seq-reserve.js'
import type { KVOp } from '../../node/store/kv.js'
import { MemoryKV } from '../../node/store/memory-kv.js'
import { NodeStore } from '../../node/store/node-store.js'
import { AUTH, TestClock, intentFields, keyFor, tempStore } from './helpers.js'

const alice = keyFor('alice')
const bob = keyFor('bob')

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups) await c(); cleanups = [] })

async function setup (key: KeyPair = alice) {
  const h = await tempStore({ actor: 'aa'.repeat(16) })
  cleanups.push(h.cleanup)
  const clock = new TestClock()
  const open = async () => await IntentWriter.open({ intent: h.store.intent, key, clock, seqs: new MemorySeqReserve() }, { host: 'laptop' })
  return { h, clock, writer: await open(), open }
}

function chainOf (store: NodeStore, ids: RecordId[]) {
  return ids.map((id) => decodeRecord(store.intent.log.get(id)!).record)
}

describe('IntentWriter', () => {
  it('signs appends one after another into a seq/prev chain', async () => {
    const { h, clock, writer } = await setup()
    const acks = []
    for (let i = 0; i < 5; i++) { clock.ms += 10; acks.push(await writer.append(intentFields(i))) }
    expect(acks.map((a) => a.seq)).toEqual([1, 2, 3, 4, 5])
    const recs = chainOf(h.store, acks.map((a) => a.id))
    expect(recs[0].prev).toBeNull()
    for (let i = 1; i < 5; i++) expect(recs[i].prev).toBe(acks[i - 1].id)
    expect(recs.every((r) => verifyRecord(r) && r.signer === keyIdOf(alice.publicKey) && r.host === 'laptop')).toBe(true)
    expect(recs.map((r) => r.ts)).toEqual([10, 20, 30, 40, 50].map((d) => 1_700_000_000_000 + d))
    expect(writer.head).toEqual({ seq: 5, id: acks[4].id })
    expect(h.store.intent.chunkCount).toBe(5)
  })

  it('commits concurrent appends made in one tick together, in call order', async () => {
    const { h, writer } = await setup()
    const small = await Promise.all(Array.from({ length: 20 }, async (_, i) => await writer.append(intentFields(i))))
    expect(small.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(h.store.intent.chunkCount).toBe(1)
    const acks = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => await writer.append(intentFields(20 + i)))
    )
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 64 }, (_, i) => 21 + i))
    expect(chainOf(h.store, acks.map((a) => a.id)).map((r) => r.text.split(':')[0])).toEqual(acks.map((_, i) => `intent ${20 + i}`))
    expect(h.store.intent.chunkCount).toBe(2)
    expect(h.store.intent.log.size).toBe(84)
  })

  it('groups appends that arrive while a commit is in flight', async () => {
    const { h, writer } = await setup()
    const first = writer.append(intentFields(0))
    await Promise.resolve()
    await Promise.resolve()
    const rest = Array.from({ length: 20 }, async (_, i) => await writer.append(intentFields(i + 1)))
    const acks = [await first, ...await Promise.all(rest)]
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1))
    expect(h.store.intent.chunkCount).toBeLessThanOrEqual(3)
  })

  it('continues the chain from the store after a restart, with no gap or reused seq', async () => {
    const { h, writer } = await setup()
    const before = await Promise.all([0, 1, 2].map(async (i) => await writer.append(intentFields(i))))
    await h.reopen()
    const again = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'laptop' })
    expect(again.head).toEqual({ seq: 3, id: before[2].id })
    const next = await again.append(intentFields(3))
    expect(next.seq).toBe(4)
    expect(decodeRecord(h.store.intent.log.get(next.id)!).record.prev).toBe(before[2].id)
    expect(h.store.intent.log.size).toBe(4)
  })

  it('rejects only the request whose fields are bad', async () => {
    const { writer } = await setup()
    const [good, bad, good2] = await Promise.allSettled([
      writer.append(intentFields(0)),
      writer.append({ ...intentFields(1), actor: '' }),
      writer.append(intentFields(2))
    ])
    expect(good).toMatchObject({ status: 'fulfilled', value: { seq: 1 } })
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'E_MALFORMED' } })
    expect(good2).toMatchObject({ status: 'fulfilled', value: { seq: 2 } })
  })

  it('persists and indexes records received by sync', async () => {
    const { h, writer } = await setup()
    await writer.append(intentFields(0))
    const remote = IntentLog.create('bb'.repeat(16))
    const b1 = signRecord({ ...intentFields(1, 'bob'), host: 'desk', ts: 5, seq: 1, prev: null }, bob)
    const b2 = signRecord({ ...intentFields(2, 'bob'), host: 'desk', ts: 6, seq: 2, prev: b1.id }, bob)
    remote.append([b1, b2], 6, bob)
    const added = syncInto(remote, h.store.intent.log)
    expect(added.sort()).toEqual([b1.id, b2.id].sort())
    await writer.ingest(added)
    await h.reopen()
    expect(h.store.intent.log.has(b2.id)).toBe(true)
    expect(await h.store.intent.idsOf(keyIdOf(bob.publicKey))).toEqual([{ seq: 1, id: b1.id }, { seq: 2, id: b2.id }])
    await expect(writer.ingest(['ee'.repeat(32) as RecordId])).rejects.toMatchObject({ code: 'E_NOT_FOUND' })
  })

  it('moves its head past its own records coming back through sync', async () => {
    const { h, writer } = await setup()
    const a1 = await writer.append(intentFields(0))
    // The same key wrote seq 2 elsewhere (a restored node): that seq must not be reused.
    const a2 = signRecord({ ...intentFields(1), host: 'old-disk', ts: 1, seq: 2, prev: a1.id }, alice)
    h.store.intent.log.append([{ id: a2.id, bytes: a2.bytes }], 1, alice)
    await writer.ingest([a2.id])
    expect(writer.head).toEqual({ seq: 2, id: a2.id })
    expect((await writer.append(intentFields(2))).seq).toBe(3)
  })

  it('stops after a failed write, and a reopened store resumes from what is on disk', async () => {
    const kv = new FlakyKV()
    const store = await NodeStore.open('(memory)', { kv, actor: 'bb'.repeat(16) })
    cleanups.push(async () => await store.close())
    const writer = await IntentWriter.open({ intent: store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
    const ok = await writer.append(intentFields(0))
    kv.failNext = true
    await expect(writer.append(intentFields(1))).rejects.toMatchObject({ code: 'E_INTERNAL' })
    await expect(writer.append(intentFields(2))).rejects.toMatchObject({ code: 'E_INTERNAL' })
    expect(writer.head).toEqual({ seq: 1, id: ok.id })
    expect(await store.intent.head(keyIdOf(alice.publicKey))).toEqual({ seq: 1, id: ok.id })
  })

  it('refuses a batch staged behind a failed write without writing it', async () => {
    const kv = new FlakyKV()
    const store = await NodeStore.open('(memory)', { kv, actor: 'ee'.repeat(16) })
    cleanups.push(async () => await store.close())
    const writer = await IntentWriter.open({ intent: store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
    const ok = await writer.append(intentFields(0))
    kv.failNext = true
    kv.failAfterMs = 20
    // The first append's write is in flight (and will fail) when the next ten are staged behind it.
    const first = writer.append(intentFields(1))
    await new Promise((resolve) => setImmediate(resolve))
    const behind = Array.from({ length: 10 }, async (_, i) => await writer.append(intentFields(2 + i)))
    const settled = await Promise.allSettled([first, ...behind])
    expect(settled.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'E_INTERNAL')).toBe(true)
    expect(store.intent.log.size).toBe(12)
    expect(kv.sinceFailure).toBe(0)
    expect(writer.head).toEqual({ seq: 1, id: ok.id })
    expect(await store.intent.head(keyIdOf(alice.publicKey))).toEqual({ seq: 1, id: ok.id })
  })

  it('writes a whole base on the commit after a failed one', async () => {
    const kv = new FlakyKV()
    const store = await NodeStore.open('(memory)', { kv, actor: 'cc'.repeat(16) })
    const fields = { kind: 'intent' as const, actor: 'alice', host: 'h', auth: AUTH, text: 'x' }
    const r1 = signRecord({ ...fields, ts: 1, seq: 1, prev: null }, alice)
    const r2 = signRecord({ ...fields, ts: 2, seq: 2, prev: r1.id }, alice)
    store.intent.log.append([{ id: r1.id, bytes: r1.bytes }], 1, alice)
    kv.failNext = true
    await expect(store.intent.commit()).rejects.toMatchObject({ code: 'E_INTERNAL' })
    store.intent.log.append([{ id: r2.id, bytes: r2.bytes }], 2, alice)
    await store.intent.commit()
    expect(store.intent.chunkCount).toBe(0)
    expect(await kv.get('doc/base')).toBeDefined()
    // Reopen over the same KV contents: both records are there although r1's chunk failed.
    const copy = new MemoryKV()
    for await (const [k, v] of kv.iterator()) await copy.put(k, v)
    await store.close()
    const again = await NodeStore.open('(memory)', { kv: copy, actor: 'dd'.repeat(16) })
    expect(again.intent.log.has(r1.id) && again.intent.log.has(r2.id)).toBe(true)
    await again.close()
  })
})

/** Runs Automerge sync from `from` into `to` until quiet; returns the ids `to` gained. */
function syncInto (from: IntentLog, to: IntentLog): RecordId[] {
  let sf = from.initSyncState()
  let st = to.initSyncState()
  const added: RecordId[] = []
  for (let round = 0; round < 10; round++) {
    let m1: Uint8Array | null
    let m2: Uint8Array | null
    ;[sf, m1] = from.generateSyncMessage(sf)
    if (m1 !== null) { const r = to.receiveSyncMessage(st, m1, () => {}, 0); st = r.state; added.push(...r.added) }
    ;[st, m2] = to.generateSyncMessage(st)
    if (m2 !== null) sf = from.receiveSyncMessage(sf, m2, () => {}, 0).state
    if (m1 === null && m2 === null) return added
  }
  return expect.fail('sync did not settle in 10 rounds')
}

class FlakyKV extends MemoryKV {
  failNext = false
  /** How long the failing batch takes before it fails. */
  failAfterMs = 0
  /** Batches written since the last failure. */
  sinceFailure = 0
  override async batch (ops: readonly KVOp[]): Promise<void> {
    this.sinceFailure++
    if (this.failNext) {
      this.sinceFailure = 0
      if (this.failAfterMs > 0) await new Promise((resolve) => setTimeout(resolve, this.failAfterMs))
      this.failNext = false
      // What a failing disk looks like from level: a plain Error, not an AuraError.
      throw new Error('disk full')
    }
    await super.batch(ops)
  }
}
