import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { canonicalBytes } from '../../crdt/canonical.js'
import type { Jti, KeyId } from '../../crdt/ids.js'
import { ChainStore } from '../../node/store/chain-store.js'
import { AuditStore, EventCounter, JoinStore } from '../../node/store/event-store.js'
import type { KV } from '../../node/store/kv.js'
import { LevelKV } from '../../node/store/level-kv.js'
import { PeerStore } from '../../node/store/peer-store.js'
import { WriteQueue } from '../../node/store/write-queue.js'

const jti = 'tk_01JD0000000000000000000000' as Jti
const bob = 'b0'.repeat(32) as KeyId
const entry = (seq: number, extra = ''): Uint8Array => canonicalBytes({ seq, kind: 'x', note: extra })

let dir: string
let kv: KV
afterEach(async () => { await kv?.close(); if (dir !== undefined) await rm(dir, { recursive: true, force: true }) })

async function freshLevel (): Promise<KV> {
  dir = await mkdtemp(join(tmpdir(), 'aura-stores-'))
  kv = await LevelKV.open(dir)
  return kv
}

async function reopen (): Promise<KV> {
  await kv.close()
  kv = await LevelKV.open(dir)
  return kv
}

describe('ChainStore', () => {
  it('appends contiguous entries and loads them in order after reopening', async () => {
    let c = await ChainStore.open(await freshLevel(), new WriteQueue())
    await c.append([entry(0), entry(1)])
    await c.append([entry(2)])
    c = await ChainStore.open(await reopen(), new WriteQueue())
    expect(c.size).toBe(3)
    expect((await c.load()).map((b) => JSON.parse(new TextDecoder().decode(b)).seq)).toEqual([0, 1, 2])
  })

  it('refuses a gap or a rewrite, writing nothing of the batch', async () => {
    const c = await ChainStore.open(await freshLevel(), new WriteQueue())
    await c.append([entry(0)])
    await expect(c.append([entry(1), entry(3)])).rejects.toMatchObject({ code: 'E_CONFLICT' })
    await expect(c.append([entry(0, 'other')])).rejects.toMatchObject({ code: 'E_CONFLICT' })
    await expect(c.append([canonicalBytes({ kind: 'no seq' })])).rejects.toMatchObject({ code: 'E_MALFORMED' })
    expect(c.size).toBe(1)
    expect((await c.load()).length).toBe(1)
  })

  it('keeps concurrent appends contiguous', async () => {
    const c = await ChainStore.open(await freshLevel(), new WriteQueue())
    await c.append([entry(0)])
    await Promise.all([c.append([entry(1)]), c.append([entry(2)]), c.append([entry(3)])])
    expect((await c.load()).length).toBe(4)
  })

  it('keeps fork evidence across reopening', async () => {
    const c = await ChainStore.open(await freshLevel(), new WriteQueue())
    await c.append([entry(0), entry(1, 'held')])
    await c.addFork(entry(1, 'other'))
    await c.addFork(entry(1, 'other'))
    const again = await ChainStore.open(await reopen(), new WriteQueue())
    const forks = await again.forks()
    expect(forks.map((b) => JSON.parse(new TextDecoder().decode(b)).note)).toEqual(['other'])
  })
})

describe('AuditStore and JoinStore', () => {
  it('lists audit events by time range, ties in append order, across reopening', async () => {
    await freshLevel()
    let q = new WriteQueue()
    let counter = await EventCounter.open(kv)
    let audit = new AuditStore(kv, q, counter)
    await Promise.all([
      audit.append({ ts: 2000, type: 'b' }),
      audit.append({ ts: 1000, type: 'a' }),
      audit.append({ ts: 2000, type: 'c' })
    ])
    await reopen()
    q = new WriteQueue()
    counter = await EventCounter.open(kv)
    audit = new AuditStore(kv, q, counter)
    // Same ms as before the restart: the counter, not the clock, keeps the keys apart.
    await audit.append({ ts: 2000, type: 'd', detail: { peer: 'peer-5f3a' } })
    expect((await audit.list()).map((e) => e.type)).toEqual(['a', 'b', 'c', 'd'])
    expect((await audit.list({ from: 1001 })).map((e) => e.type)).toEqual(['b', 'c', 'd'])
    expect((await audit.list({ to: 2000 })).map((e) => e.type)).toEqual(['a'])
    expect((await audit.list({ from: 2000, to: 2001, limit: 2 })).map((e) => e.type)).toEqual(['b', 'c'])
    expect((await audit.list())[3]).toEqual({ ts: 2000, type: 'd', detail: { peer: 'peer-5f3a' } })
    await expect(audit.append({ ts: -1, type: 'x' })).rejects.toMatchObject({ code: 'E_MALFORMED' })
  })

  it('lists join attempts per token and overall', async () => {
    await freshLevel()
    const q = new WriteQueue()
    const counter = await EventCounter.open(kv)
    const joins = new JoinStore(kv, q, counter)
    const other = 'tk_01JD0000000000000000000001' as Jti
    await joins.append({ jti, ts: 5, source: '127.0.0.7:4100', peer: null, outcome: 'refused', reason: 'E_TOKEN_EXPIRED' })
    await joins.append({ jti: other, ts: 1, source: '127.0.0.8:4100', peer: bob, outcome: 'accepted', reason: null })
    await joins.append({ jti, ts: 6, source: '127.0.0.7:4101', peer: bob, outcome: 'accepted', reason: null })
    expect((await joins.list(jti)).map((a) => a.ts)).toEqual([5, 6])
    expect((await joins.list()).map((a) => a.jti)).toEqual([jti, jti, other])
  })
})

describe('PeerStore', () => {
  it('puts, gets, lists and forgets peers', async () => {
    const peers = new PeerStore(await freshLevel())
    await peers.put(bob, { addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: 7 })
    expect(await peers.get(bob)).toEqual({ addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: 7 })
    expect(await peers.list()).toEqual([{ key: bob, info: { addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: 7 } }])
    await peers.del(bob)
    expect(await peers.get(bob)).toBeUndefined()
    await expect(peers.put('nope' as KeyId, { addrs: [], seen: null })).rejects.toMatchObject({ code: 'E_MALFORMED' })
  })
})
