/**
 * The seq high-water mark (node/store/seq-reserve.ts) and how IntentWriter uses it: seqs are
 * reserved durably, in blocks, before they are signed; a writer reopened after a crash (no
 * clean close) starts above the mark with `prev` the newest record held; a clean close lowers
 * the mark so a restart leaves no gap; a damaged mark is E_STORE_CORRUPT.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { keyIdOf } from '../../crdt/ids.js'
import { signRecord } from '../../crdt/record.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { FileSeqReserve, MemorySeqReserve, type SeqReserve } from '../../node/store/seq-reserve.js'
import { TestClock, intentFields, keyFor, tempStore } from './helpers.js'

const alice = keyFor('alice')
const signer = keyIdOf(alice.publicKey)

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.reverse()) await c(); cleanups = [] })

async function setup () {
  const h = await tempStore({ actor: 'aa'.repeat(16) })
  cleanups.push(h.cleanup)
  const seqDir = await mkdtemp(join(tmpdir(), 'aura-seq-'))
  cleanups.push(async () => await rm(seqDir, { recursive: true, force: true }))
  const open = async (reserveBlock = 16) => {
    const seqs = await FileSeqReserve.open(seqDir, signer)
    return { seqs, writer: await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs }, { host: 'h', reserveBlock }) }
  }
  return { h, seqDir, open }
}

/** Counts durable reservations. */
class CountingReserve extends MemorySeqReserve {
  writes = 0
  override async reserve (upTo: number): Promise<void> {
    if (upTo > this.reserved) this.writes++
    await super.reserve(upTo)
  }
}

describe('FileSeqReserve', () => {
  it('keeps the mark in an owner-only file and reads it back', async () => {
    const { seqDir, open } = await setup()
    const { seqs } = await open()
    expect(seqs.reserved).toBe(0)
    await seqs.reserve(40)
    await seqs.reserve(10)
    expect((await FileSeqReserve.open(seqDir, signer)).reserved).toBe(40)
    expect((await stat(seqs.file)).mode & 0o777).toBe(0o600)
    expect((await stat(seqDir)).mode & 0o777).toBe(0o700)
    await seqs.release(7)
    expect((await FileSeqReserve.open(seqDir, signer)).reserved).toBe(7)
  })

  it('refuses a damaged mark with E_STORE_CORRUPT naming the file', async () => {
    const { seqDir } = await setup()
    await writeFile(join(seqDir, signer), '{"v":1,"reserved":"lots"}\n')
    await expect(FileSeqReserve.open(seqDir, signer)).rejects.toMatchObject({ code: 'E_STORE_CORRUPT', context: { path: join(seqDir, signer) } })
  })
})

describe('IntentWriter and the seq mark', () => {
  it('after a crash (no clean close) continues above the mark, prev the newest record held', async () => {
    const { h, open } = await setup()
    const first = await open()
    const acks = []
    for (let i = 0; i < 3; i++) acks.push(await first.writer.append(intentFields(i)))
    // Reserved before signing, in a block: more than was used.
    expect(first.seqs.reserved).toBe(1 + 16)
    const again = await open()
    const next = await again.writer.append(intentFields(3))
    expect(next.seq).toBe(first.seqs.reserved + 1)
    expect(h.store.intent.log.record(next.id)?.prev).toBe(acks[2].id)
  })

  it('a clean close lowers the mark, so a restart leaves no gap', async () => {
    const { open } = await setup()
    const first = await open()
    for (let i = 0; i < 3; i++) await first.writer.append(intentFields(i))
    await first.writer.close()
    expect(first.seqs.reserved).toBe(3)
    const again = await open()
    expect((await again.writer.append(intentFields(3))).seq).toBe(4)
  })

  it('a close after a crash gap keeps the mark above every seq the crashed run may have used', async () => {
    const { open } = await setup()
    const first = await open()
    await first.writer.append(intentFields(0))
    const mark = first.seqs.reserved
    const again = await open()
    await again.writer.close()
    expect(again.seqs.reserved).toBe(mark)
  })

  it('reserves in blocks: one durable write per block of appends, not per append', async () => {
    const h = await tempStore({ actor: 'ab'.repeat(16) })
    cleanups.push(h.cleanup)
    const seqs = new CountingReserve()
    const writer = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs }, { host: 'h', reserveBlock: 8 })
    for (let i = 0; i < 20; i++) expect((await writer.append(intentFields(i))).seq).toBeLessThanOrEqual(seqs.reserved)
    expect(seqs.writes).toBe(3)
  })

  it('a signer whose store lost every record starts above the mark with no prev', async () => {
    const h = await tempStore({ actor: 'ac'.repeat(16) })
    cleanups.push(h.cleanup)
    const writer = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs: new MemorySeqReserve(100) }, { host: 'h' })
    const a = await writer.append(intentFields(0))
    expect(a.seq).toBe(101)
    expect(h.store.intent.log.record(a.id)?.prev).toBeNull()
  })

  it('an append behind an ingest of its own newer record waits for a reservation above it', async () => {
    const h = await tempStore({ actor: 'ad'.repeat(16) })
    cleanups.push(h.cleanup)
    const seqs: SeqReserve = new MemorySeqReserve()
    const writer = await IntentWriter.open({ intent: h.store.intent, key: alice, clock: new TestClock(), seqs }, { host: 'h', reserveBlock: 4 })
    // The same key wrote seq 50 on an older disk; it comes back through sync.
    const old = signRecord({ ...intentFields(9), host: 'old-disk', ts: 1, seq: 50, prev: null }, alice)
    h.store.intent.log.append([{ id: old.id, bytes: old.bytes }], 1, alice)
    const [, next] = await Promise.all([writer.ingest([old.id]), writer.append(intentFields(10))])
    expect(next.seq).toBe(51)
    expect(seqs.reserved).toBeGreaterThanOrEqual(51)
  })
})
