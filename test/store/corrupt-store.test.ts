/**
 * A damaged store on disk is E_STORE_CORRUPT naming the folder and how to recover, never
 * E_INTERNAL: a table file with a broken footer, a damaged manifest, an intent log that does not
 * load. A write-ahead-log record LevelDB skips as damaged is reported in `droppedOnRecovery`.
 * The store's folder is 0700 and its files 0600 after every open, whatever the umask.
 */
import { cp, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { utf8 } from '../../crdt/canonical.js'
import { LevelKV } from '../../node/store/level-kv.js'
import { layout } from '../../node/store/layout.js'
import { NodeStore } from '../../node/store/node-store.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { MemorySeqReserve } from '../../node/store/seq-reserve.js'
import { TestClock, intentFields, keyFor } from './helpers.js'

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups) await c(); cleanups = [] })

async function storeDir (): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'aura-corrupt-'))
  cleanups.push(async () => await rm(base, { recursive: true, force: true }))
  return join(base, 'store')
}

// A store with records, closed and reopened once so LevelDB has turned its log into a table.
async function filledStore (): Promise<string> {
  const dir = await storeDir()
  const store = await NodeStore.open(dir)
  const writer = await IntentWriter.open({ intent: store.intent, key: keyFor('alice'), clock: new TestClock(), seqs: new MemorySeqReserve() }, { host: 'h' })
  for (let i = 0; i < 20; i++) await writer.append(intentFields(i))
  await store.close()
  await (await NodeStore.open(dir)).close()
  return dir
}

async function overwrite (file: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await open(file, 'r+')
  try { await fh.write(bytes, 0, bytes.length, at) } finally { await fh.close() }
}

async function errorOf (p: Promise<unknown>): Promise<{
  code: string
  message: string
  context: Record<string, unknown>
}> {
  return await p.then(() => { throw new Error('opened a damaged store') }, (e) => e)
}

describe('a damaged store', () => {
  it('a table file with a broken footer is E_STORE_CORRUPT naming the store and the recovery', async () => {
    const dir = await filledStore()
    const tables = (await readdir(dir)).filter((f) => f.endsWith('.ldb'))
    expect(tables.length).toBeGreaterThan(0)
    for (const t of tables) {
      const size = (await stat(join(dir, t))).size
      await overwrite(join(dir, t), size - 8, Buffer.alloc(8, 0x41))
    }
    const err = await errorOf(NodeStore.open(dir))
    expect(err.code).toBe('E_STORE_CORRUPT')
    expect(err.message).toContain(dir)
    expect(err.context.path).toBe(dir)
    expect(String(err.context.hint)).toContain('docs/storage.md')
    expect(String(err.context.hint)).toContain(`mv ${dir} ${dir}.damaged`)
  })

  it('damage found by a read after opening (a running node) is E_STORE_CORRUPT too', async () => {
    const dir = await filledStore()
    for (const t of (await readdir(dir)).filter((f) => f.endsWith('.ldb'))) {
      const size = (await stat(join(dir, t))).size
      await overwrite(join(dir, t), size - 8, Buffer.alloc(8, 0x41))
    }
    const kv = await LevelKV.open(dir)
    try {
      const err = await errorOf(kv.get(layout.format))
      expect(err.code).toBe('E_STORE_CORRUPT')
      expect(err.context.path).toBe(dir)
    } finally {
      await kv.close()
    }
  })

  it('a damaged manifest is E_STORE_CORRUPT', async () => {
    const dir = await filledStore()
    const manifest = (await readdir(dir)).find((f) => f.startsWith('MANIFEST-'))!
    await writeFile(join(dir, manifest), Buffer.alloc((await stat(join(dir, manifest))).size, 0x5a))
    const err = await errorOf(LevelKV.open(dir))
    expect(err.code).toBe('E_STORE_CORRUPT')
    expect(err.context.path).toBe(dir)
  })

  it('an intent log that does not load is E_STORE_CORRUPT naming the store', async () => {
    const dir = await filledStore()
    const kv = await LevelKV.open(dir)
    await kv.put(layout.docBase, utf8('not an automerge document'))
    await kv.close()
    const err = await errorOf(NodeStore.open(dir))
    expect(err.code).toBe('E_STORE_CORRUPT')
    expect(err.context.path).toBe(dir)
  })

  it('reports write-ahead-log records LevelDB dropped on recovery', async () => {
    const dir = await storeDir()
    const kv = await LevelKV.open(dir)
    for (let i = 0; i < 50; i++) await kv.put(`k/${i}`, new Uint8Array(100).fill(i))
    // Killed, not closed: copy the folder as it is on disk.
    const copy = `${dir}-copy`
    cleanups.push(async () => await rm(copy, { recursive: true, force: true }))
    await cp(dir, copy, { recursive: true })
    await kv.close()
    await rm(join(copy, 'LOCK'), { force: true })
    const log = (await readdir(copy)).find((f) => f.endsWith('.log') && f !== 'LOG')!
    // One bit of a value in the middle: a checksum mismatch, which LevelDB skips and logs. (A
    // damaged length field at the end of the log looks like a torn write and is not logged at all.)
    const at = Math.floor((await stat(join(copy, log))).size / 2)
    const fh = await open(join(copy, log), 'r+')
    const byte = Buffer.alloc(1)
    await fh.read(byte, 0, 1, at)
    byte[0] ^= 1
    await fh.write(byte, 0, 1, at)
    await fh.close()
    const reopened = await LevelKV.open(copy)
    try {
      expect(reopened.droppedOnRecovery.length).toBeGreaterThan(0)
      expect(reopened.droppedOnRecovery[0]).toMatch(/dropping \d+ bytes/)
    } finally {
      await reopened.close()
    }
    const clean = await LevelKV.open(dir)
    expect(clean.droppedOnRecovery).toEqual([])
    await clean.close()
  })

  it('keeps the store folder 0700 and its files 0600 even under umask 000', async () => {
    const old = process.umask(0)
    try {
      const dir = await filledStore()
      expect((await stat(dir)).mode & 0o777).toBe(0o700)
      for (const f of await readdir(dir)) expect((await stat(join(dir, f))).mode & 0o777, f).toBe(0o600)
    } finally {
      process.umask(old)
    }
  })
})
