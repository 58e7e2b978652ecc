/**
 * The golden store of format 1 (test/fixtures/store-v1/, written by fixture-store.ts): today's
 * code must open the checked-in LevelDB directory and its listing to the same state, and must
 * still write exactly that listing. If this fails, the layout changed: raise FORMAT_VERSION,
 * migrate, and add a new fixture — never just regenerate this one.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { keyIdOf } from '../../crdt/ids.js'
import { FORMAT_VERSION } from '../../node/store/layout.js'
import { LevelKV } from '../../node/store/level-kv.js'
import { MemoryKV } from '../../node/store/memory-kv.js'
import { NodeStore } from '../../node/store/node-store.js'
import { FIXTURE_DIR, FIXTURE_JTI, dumpKV, fixtureKey, loadDump, writeFixture, type DumpEntry } from './fixture-store.js'

const signer = keyIdOf(fixtureKey.publicKey)
const dirs: string[] = []
afterEach(async () => { for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true }) })

async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'aura-fixture-'))
  dirs.push(d)
  return d
}

async function golden (): Promise<DumpEntry[]> {
  return JSON.parse(await readFile(join(FIXTURE_DIR, 'layout.json'), 'utf8')) as DumpEntry[]
}

/** The state a v1 store must open to, spelled out independently of the code that wrote it. */
async function expectFixtureState (store: NodeStore): Promise<void> {
  const own = await store.intent.idsOf(signer)
  expect(own.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5])
  expect(store.intent.log.size).toBe(5)
  const records = own.map((r) => store.intent.log.record(r.id)!)
  expect(records.map((r) => r.actor)).toEqual(['alice', 'alice', 'claude', 'alice', 'alice'])
  expect(records.map((r) => r.prev)).toEqual([null, ...own.slice(0, 4).map((r) => r.id)])
  expect(await store.intent.head(signer)).toEqual({ seq: 5, id: own[4].id })
  const chain = (await store.chain.load()).map((b) => JSON.parse(new TextDecoder().decode(b)).kind)
  expect(chain).toEqual(['genesis', 'admit', 'lockdown'])
  expect((await store.chain.forks()).map((b) => JSON.parse(new TextDecoder().decode(b)).user)).toEqual(['mallory'])
  expect((await store.audit.list()).map((e) => e.type)).toEqual(['lockdown', 'unlock'])
  expect((await store.joins.list(FIXTURE_JTI)).map((j) => j.outcome)).toEqual(['refused', 'accepted'])
  expect((await store.peers.list()).map((p) => p.info.addrs)).toEqual([['/ip4/127.0.0.1/tcp/4100']])
}

describe('store format 1 (golden fixture)', () => {
  it('is the format this build writes', async () => {
    const format = (await golden()).find(([k]) => k === 'meta/format')
    expect(format).toEqual(['meta/format', { text: String(FORMAT_VERSION) }])
  })

  it('opens the checked-in LevelDB directory', async () => {
    const dir = await tempDir()
    await cp(join(FIXTURE_DIR, 'level'), dir, { recursive: true })
    const store = await NodeStore.open(dir)
    try {
      await expectFixtureState(store)
    } finally {
      await store.close()
    }
  })

  it('opens the checked-in listing', async () => {
    const kv = new MemoryKV()
    await loadDump(kv, await golden())
    const store = await NodeStore.open('(listing)', { kv })
    try {
      await expectFixtureState(store)
    } finally {
      await store.close()
    }
  })

  it('still writes exactly the checked-in listing', async () => {
    const dir = await tempDir()
    await writeFixture(dir)
    const kv = await LevelKV.open(dir)
    const now = await dumpKV(kv)
    await kv.close()
    const was = await golden()
    expect(now.map(([k]) => k)).toEqual(was.map(([k]) => k))
    // Automerge's own encoding may change with its version; what it holds must not.
    const notDoc = (d: DumpEntry[]) => d.filter(([k]) => !k.startsWith('doc/'))
    expect(notDoc(now)).toEqual(notDoc(was))
    const a = new MemoryKV()
    const b = new MemoryKV()
    await loadDump(a, now)
    await loadDump(b, was)
    const [sa, sb] = [await NodeStore.open('(now)', { kv: a }), await NodeStore.open('(was)', { kv: b })]
    const content = (s: NodeStore) => s.intent.log.ids().sort().map((id) => [id, Buffer.from(s.intent.log.get(id)!).toString('hex')])
    expect(content(sa)).toEqual(content(sb))
    await sa.close()
    await sb.close()
  })
})
