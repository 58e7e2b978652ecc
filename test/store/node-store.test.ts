import { afterEach, describe, expect, it } from 'vitest'
import { canonicalBytes, utf8 } from '../../crdt/canonical.js'
import { keyIdOf, type Jti, type KeyId } from '../../crdt/ids.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { MemorySeqReserve } from '../../node/store/seq-reserve.js'
import { layout } from '../../node/store/layout.js'
import { MemoryKV } from '../../node/store/memory-kv.js'
import { NodeStore } from '../../node/store/node-store.js'
import { TestClock, intentFields, keyFor, tempStore } from './helpers.js'

const alice = keyFor('alice')
const bob = keyIdOf(keyFor('bob').publicKey)
const jti = 'tk_01JD0000000000000000000000' as Jti

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups) await c(); cleanups = [] })

/** Everything observable about a store, for comparing before and after a reopen. */
async function snapshot (store: NodeStore) {
  const ids = [...store.intent.log.ids()].sort()
  return {
    chain: (await store.chain.load()).map((b) => Buffer.from(b).toString('hex')),
    forks: (await store.chain.forks()).length,
    records: ids.map((id) => [id, Buffer.from(store.intent.log.get(id)!).toString('hex')]),
    aliceIndex: await store.intent.idsOf(keyIdOf(alice.publicKey)),
    head: await store.intent.head(keyIdOf(alice.publicKey)),
    audit: await store.audit.list(),
    peers: await store.peers.list(),
    joins: await store.joins.list()
  }
}

async function copyOf (kv: MemoryKV): Promise<MemoryKV> {
  const copy = new MemoryKV()
  for await (const [k, v] of kv.iterator()) await copy.put(k, v)
  return copy
}

async function fill (store: NodeStore, n: number): Promise<void> {
  const writer = await IntentWriter.open({ intent: store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'laptop' })
  for (let i = 0; i < n; i += 4) {
    await Promise.all([0, 1, 2, 3].map(async (j) => await writer.append(intentFields(i + j))))
  }
  await store.chain.append([canonicalBytes({ seq: 0, kind: 'genesis' }), canonicalBytes({ seq: 1, kind: 'admit' })])
  await store.chain.addFork(canonicalBytes({ seq: 1, kind: 'admit', other: true }))
  await store.audit.append({ ts: 10, type: 'lockdown', reason: 'incident 42' })
  await store.peers.put(bob, { addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: 9 })
  await store.joins.append({ jti, ts: 11, source: '127.0.0.1:5000', peer: bob, outcome: 'accepted', reason: null })
}

describe('NodeStore', () => {
  it('reopens to exactly the same state', async () => {
    const h = await tempStore()
    cleanups.push(h.cleanup)
    await fill(h.store, 12)
    const before = await snapshot(h.store)
    expect(before.records.length).toBe(12)
    expect(before.head?.seq).toBe(12)
    const after = await snapshot(await h.reopen())
    expect(after).toEqual(before)
  })

  it('compacts chunks into a fresh base in one batch, losing nothing', async () => {
    const h = await tempStore({ compaction: { maxChunks: 3, maxBytes: 1 << 30 } })
    cleanups.push(h.cleanup)
    const writer = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
    for (let i = 0; i < 7; i++) await writer.append(intentFields(i))
    // Commits 1-3 write chunks, the 4th compacts (a 4th chunk would exceed 3), 5-7 write chunks again.
    expect(h.store.intent.chunkCount).toBe(3)
    expect(await h.store.kv.get(layout.docBase)).toBeDefined()
    const before = await snapshot(h.store)
    const again = await h.reopen()
    expect(await snapshot(again)).toEqual(before)
    expect(again.intent.log.size).toBe(7)
  })

  it('compacts on size as well as on count', async () => {
    const h = await tempStore({ compaction: { maxChunks: 1000, maxBytes: 2000 } })
    cleanups.push(h.cleanup)
    const writer = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
    let sawCompaction = false
    for (let i = 0; i < 10; i++) {
      await writer.append(intentFields(i))
      if (h.store.intent.chunkCount === 0) sawCompaction = true
    }
    expect(sawCompaction).toBe(true)
    expect((await h.reopen()).intent.log.size).toBe(10)
  })

  it('lets the tail of chunks grow with the base (tailRatio), so compaction stays rare as the log grows', async () => {
    const longest = async (tailRatio: number): Promise<number> => {
      const h = await tempStore({ compaction: { maxChunks: 1000, maxBytes: 1000, tailRatio } })
      cleanups.push(h.cleanup)
      await fill(h.store, 40)
      const store = await h.reopen() // a base of 40 records, no chunks
      const writer = await IntentWriter.open({ intent: store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
      let most = 0
      for (let i = 0; i < 6; i++) {
        await writer.append(intentFields(100 + i))
        most = Math.max(most, store.intent.chunkCount)
      }
      expect((await h.reopen()).intent.log.size).toBe(46)
      return most
    }
    // Two ~1 KB chunks exceed maxBytes: without the ratio the tail never holds more than one.
    expect(await longest(0)).toBeLessThanOrEqual(1)
    expect(await longest(4)).toBe(6)
  })

  it('folds chunks into a base on close, so a clean restart loads only a base', async () => {
    const h = await tempStore()
    cleanups.push(h.cleanup)
    await fill(h.store, 8)
    expect(h.store.intent.chunkCount).toBeGreaterThan(0)
    const again = await h.reopen()
    expect(again.intent.chunkCount).toBe(0)
    expect(await again.kv.get(layout.docBase)).toBeDefined()
    expect(again.intent.log.size).toBe(8)
  })

  it('does not write the whole document again on the first commit after reopening', async () => {
    const h = await tempStore()
    cleanups.push(h.cleanup)
    await fill(h.store, 8)
    const again = await h.reopen()
    const writer = await IntentWriter.open({ intent: again.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
    await writer.append(intentFields(100))
    const chunks: number[] = []
    for await (const [, v] of again.kv.iterator({ prefix: layout.docIncPrefix })) chunks.push(v.length)
    // One ~750-byte record in one change, not 9 records' worth.
    expect(chunks.length).toBe(1)
    expect(chunks[0]).toBeLessThan(2000)
  })

  it('stores a document received whole (a fresh peer\'s first sync) as the base, byte for byte', async () => {
    const seeded = await tempStore()
    cleanups.push(seeded.cleanup)
    await fill(seeded.store, 40)
    const fresh = await tempStore()
    cleanups.push(fresh.cleanup)
    const a = seeded.store.intent.log
    const b = fresh.store.intent.log
    let sa = a.initSyncState()
    let sb = b.initSyncState()
    let document: Uint8Array | undefined
    for (let round = 0; round < 6 && b.size < a.size; round++) {
      let m: Uint8Array | null
      ;[sa, m] = a.generateSyncMessage(sa)
      if (m !== null) {
        sb = b.receiveSyncMessage(sb, m, () => {}, 0).state
        document ??= b.receivedDocument()
      }
      ;[sb, m] = b.generateSyncMessage(sb)
      if (m !== null) sa = a.receiveSyncMessage(sa, m, () => {}, 0).state
    }
    expect(b.size).toBe(40)
    expect(document).toBeDefined()
    await fresh.store.intent.commit()
    expect(Buffer.from((await fresh.store.kv.get(layout.docBase))!).equals(Buffer.from(document!))).toBe(true)
    expect(fresh.store.intent.chunkCount).toBe(0)
    expect(b.receivedDocument()).toBeUndefined()
    // Nothing is written twice: the next commit with nothing new writes no chunk.
    await fresh.store.intent.commit()
    expect(fresh.store.intent.chunkCount).toBe(0)
    const again = await fresh.reopen()
    expect([...again.intent.log.ids()].sort()).toEqual([...a.ids()].sort())
  })

  it('folds the chunks a crash left into a base when it opens', async () => {
    const kv = new MemoryKV()
    const store = await NodeStore.open('(memory)', { kv, actor: 'a1'.repeat(16) })
    await fill(store, 8)
    // A crash: no close, so no compaction; the next process finds chunks.
    const survivor = await copyOf(kv)
    await store.close()
    let chunks = 0
    for await (const _ of survivor.iterator({ prefix: layout.docIncPrefix })) chunks++
    expect(chunks).toBeGreaterThan(0)
    const again = await NodeStore.open('(memory)', { kv: survivor, actor: 'a2'.repeat(16) })
    cleanups.push(async () => await again.close())
    expect(again.intent.chunkCount).toBe(0)
    expect(again.intent.log.size).toBe(8)
  })

  it('rebuilds index entries missing from a store', async () => {
    const h = await tempStore()
    cleanups.push(h.cleanup)
    await fill(h.store, 4)
    const [first] = await h.store.intent.idsOf(keyIdOf(alice.publicKey))
    await h.store.kv.del(layout.rec(keyIdOf(alice.publicKey), first.seq, first.id))
    expect((await h.store.intent.idsOf(keyIdOf(alice.publicKey))).length).toBe(3)
    const again = await h.reopen()
    expect((await again.intent.idsOf(keyIdOf(alice.publicKey))).length).toBe(4)
  })

  it('refuses a store of another format, or data without a format', async () => {
    const newer = new MemoryKV()
    await newer.put(layout.format, utf8('2'))
    await expect(NodeStore.open('(newer)', { kv: newer })).rejects.toMatchObject({ code: 'E_MALFORMED', context: { format: '2' } })
    const bare = new MemoryKV()
    await bare.put('something/else', utf8('x'))
    await expect(NodeStore.open('(bare)', { kv: bare })).rejects.toMatchObject({ code: 'E_MALFORMED' })
  })

  it('works the same over MemoryKV', async () => {
    const kv = new MemoryKV()
    const store = await NodeStore.open('(memory)', { kv })
    cleanups.push(async () => await store.close())
    await fill(store, 4)
    const s = await snapshot(store)
    expect(s.records.length).toBe(4)
    expect(s.chain.length).toBe(2)
    expect(s.audit).toEqual([{ ts: 10, type: 'lockdown', reason: 'incident 42' }])
    expect(s.peers[0].key).toBe(bob as KeyId)
  })
})
