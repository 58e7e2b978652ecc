/**
 * The golden store of format 1: what `writeFixture` puts in a store is checked in under
 * test/fixtures/store-v1/ as a real LevelDB directory (`level/`) and as a readable listing
 * (`layout.json`). test/store/fixture.test.ts loads both and checks that today's code still
 * writes exactly that listing, so a layout change is a decision (new format, new fixture).
 *
 * Regenerate (only together with a FORMAT_VERSION decision):
 * npx tsx test/store/fixture-store.ts --write
 */
import '../../node/compat.js'
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { canonicalBytes } from '../../crdt/canonical.js'
import { keyIdOf, type Jti } from '../../crdt/ids.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { MemorySeqReserve } from '../../node/store/seq-reserve.js'
import type { KV } from '../../node/store/kv.js'
import { LevelKV } from '../../node/store/level-kv.js'
import { NodeStore } from '../../node/store/node-store.js'
import { TestClock, intentFields, keyFor } from './helpers.js'

/** Where the fixture lives. */
export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/store-v1/', import.meta.url))
/** The Automerge actors of the fixture's two sessions (fixed, so the output is too). */
export const FIXTURE_ACTORS = ['f1'.repeat(16), 'f2'.repeat(16)] as const
/** The fixture's signing key. */
export const fixtureKey = keyFor('fixture')
/** The fixture's join token id. */
export const FIXTURE_JTI = 'tk_01JD000000F1XTVRE000000000' as Jti

/**
 * Writes the fixture into the empty LevelDB directory `dir` in two sessions: the first ends
 * with a clean close (its intent chunks become `doc/base`), the second ends as a crash would
 * (the KV is closed without compaction), so the result holds a base and chunks.
 */
export async function writeFixture (dir: string): Promise<void> {
  const clock = new TestClock(1_700_000_000_000)
  const bob = keyIdOf(keyFor('bob').publicKey)
  let store = await NodeStore.open(dir, { actor: FIXTURE_ACTORS[0] })
  let writer = await IntentWriter.open({ intent: store.intent, key: fixtureKey, clock, seqs: new MemorySeqReserve() }, { host: 'fixture-host' })
  await writer.append(intentFields(0, 'alice'))
  clock.ms += 1000
  await Promise.all([writer.append(intentFields(1, 'alice')), writer.append(intentFields(2, 'claude'))])
  await store.chain.append([canonicalBytes({ seq: 0, kind: 'genesis', team: 'acme' }), canonicalBytes({ seq: 1, kind: 'admit', user: 'alice' })])
  await store.chain.addFork(canonicalBytes({ seq: 1, kind: 'admit', user: 'mallory' }))
  await store.audit.append({ ts: clock.ms, type: 'lockdown', reason: 'incident 42' })
  await store.peers.put(bob, { addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: clock.ms })
  await store.joins.append({ jti: FIXTURE_JTI, ts: clock.ms, source: '127.0.0.1:50000', peer: null, outcome: 'refused', reason: 'E_TOKEN_EXPIRED' })
  await store.close()

  store = await NodeStore.open(dir, { actor: FIXTURE_ACTORS[1] })
  writer = await IntentWriter.open({ intent: store.intent, key: fixtureKey, clock, seqs: new MemorySeqReserve() }, { host: 'fixture-host' })
  clock.ms += 1000
  await writer.append(intentFields(3, 'alice'))
  await writer.append(intentFields(4, 'alice'))
  await store.chain.append([canonicalBytes({ seq: 2, kind: 'lockdown', reason: 'incident 42' })])
  await store.audit.append({ ts: clock.ms, type: 'unlock', reason: 'resolved' })
  await store.joins.append({ jti: FIXTURE_JTI, ts: clock.ms, source: '127.0.0.1:50001', peer: bob, outcome: 'accepted', reason: null })
  await store.kv.close()
}

/** One line of the listing: the key, and the value as text when it is UTF-8, else base64. */
export type DumpEntry = [key: string, value: { text: string } | { base64: string }]

const strict = new TextDecoder('utf-8', { fatal: true })

/** Every entry of a KV, in key order. */
export async function dumpKV (kv: KV): Promise<DumpEntry[]> {
  const out: DumpEntry[] = []
  for await (const [key, value] of kv.iterator()) {
    let text: string | undefined
    try { text = strict.decode(value) } catch {}
    out.push([key, text !== undefined && !key.startsWith('doc/') ? { text } : { base64: Buffer.from(value).toString('base64') }])
  }
  return out
}

/** Loads a listing into a KV. */
export async function loadDump (kv: KV, dump: readonly DumpEntry[]): Promise<void> {
  await kv.batch(dump.map(([key, v]) => ({ type: 'put' as const, key, value: 'text' in v ? new TextEncoder().encode(v.text) : new Uint8Array(Buffer.from(v.base64, 'base64')) })))
}

if (process.argv.includes('--write')) {
  await rm(FIXTURE_DIR, { recursive: true, force: true })
  await mkdir(FIXTURE_DIR, { recursive: true })
  await writeFixture(`${FIXTURE_DIR}level`)
  const kv = await LevelKV.open(`${FIXTURE_DIR}level`)
  const dump = await dumpKV(kv)
  await kv.close()
  // LevelDB's info logs and the empty write-ahead log it left are not part of the fixture.
  for (const f of await readdir(`${FIXTURE_DIR}level`)) {
    const path = `${FIXTURE_DIR}level/${f}`
    if (f === 'LOG' || f === 'LOG.old' || (f.endsWith('.log') && (await stat(path)).size === 0)) await rm(path)
  }
  await writeFile(`${FIXTURE_DIR}layout.json`, JSON.stringify(dump, null, 1) + '\n')
  process.stderr.write(`wrote ${dump.length} keys to ${FIXTURE_DIR}\n`)
}
