import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LevelKV } from '../../node/store/level-kv.js'
import { MemoryKV } from '../../node/store/memory-kv.js'
import type { KV } from '../../node/store/kv.js'
import { kvAcceptance, type KVHarness } from './kv-acceptance.js'

async function levelHarness (sync: boolean): Promise<KVHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-kv-'))
  let kv: KV = await LevelKV.open(dir, { sync })
  const h: KVHarness = {
    kv,
    reopen: async () => { await kv.close(); kv = await LevelKV.open(dir, { sync }); h.kv = kv; return kv },
    cleanup: async () => { await kv.close(); await rm(dir, { recursive: true, force: true }) }
  }
  return h
}

kvAcceptance('MemoryKV', async () => {
  const kv = new MemoryKV()
  return { kv, cleanup: async () => { await kv.close() } }
})
kvAcceptance('LevelKV (sync)', async () => await levelHarness(true))
kvAcceptance('LevelKV (no sync)', async () => await levelHarness(false))

describe('LevelKV', () => {
  it('refuses a second opener of the same directory with E_DAEMON_RUNNING', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aura-kv-'))
    const first = await LevelKV.open(dir)
    try {
      await expect(LevelKV.open(dir)).rejects.toMatchObject({ code: 'E_DAEMON_RUNNING' })
    } finally {
      await first.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
