/**
 * Shared helpers of the store tests, the crash child and the append benchmark: deterministic
 * keys, a settable clock, record fields of a realistic size, and temp-dir stores.
 *
 * @example
 * const { store, cleanup } = await tempStore()
 * const w = await IntentWriter.open(
 *   { intent: store.intent, key: keyFor('alice'), clock: new TestClock(), seqs: new MemorySeqReserve() },
 *   { host: 'h' }
 * )
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256, utf8 } from '../../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import type { IntentFields } from '../../node/store/intent-writer.js'
import { NodeStore, type NodeStoreInit } from '../../node/store/node-store.js'

/** A deterministic key pair named by a string. */
export function keyFor (name: string): KeyPair {
  return keyPairFromSeed(sha256(utf8(`aura-test-key/${name}`)))
}

/** A clock tests move by hand. */
export class TestClock {
  constructor (public ms = 1_700_000_000_000) {}
  now (): number { return this.ms }
}

/** The authority head records in tests claim. */
export const AUTH = { seq: 0, hash: 'a0'.repeat(32) }

/** Fields of an intent whose canonical record is about 600 bytes, ~300 of them text. */
export function intentFields (i: number, actor = 'alice'): IntentFields {
  const text = `intent ${i}: ` + 'refactor the login flow so tokens are checked before the session is created; '.repeat(4)
  return { kind: 'intent', actor, auth: AUTH, text: text.slice(0, 300) }
}

/** A NodeStore on LevelDB in a fresh temp dir, and how to reopen and remove it. */
export async function tempStore (init: NodeStoreInit = {}): Promise<{
  dir: string
  store: NodeStore
  reopen: () => Promise<NodeStore>
  cleanup: () => Promise<void>
}> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-store-'))
  const h = {
    dir,
    store: await NodeStore.open(dir, init),
    reopen: async () => {
      await h.store.close()
      h.store = await NodeStore.open(dir, init)
      return h.store
    },
    cleanup: async () => {
      await h.store.close()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return h
}
