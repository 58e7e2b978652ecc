// SignaturePool: worker threads answer exactly as verifyRaw does, across chunks and a tail, and
// a batch still answers when the workers are gone; an IntentLog using the pool takes a whole
// document and refuses one with a bad signature.
import * as A from '@automerge/automerge'
import { afterAll, describe, expect, it } from 'vitest'
import { canonicalBytes, utf8 } from '../../crdt/canonical.js'
import { sign, signedMessage, verifyRaw } from '../../crdt/crypto.js'
import { AuraError } from '../../crdt/errors.js'
import { genesisDoc, type IntentDoc } from '../../crdt/intent-doc.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { recordIdOf, type SignatureCheck } from '../../crdt/record.js'
import { SignaturePool } from '../../node/verify/pool.js'
import { appendAs, acceptAll, commitSigned, actorOf, keyOf, syncPair, Writer } from '../crdt/record-fixtures.js'

/** Syncs a raw Automerge document into a log until neither side has more to say (bounded). */
function pushDoc (source: A.Doc<IntentDoc>, log: IntentLog): void {
  let doc = source
  let sd = A.initSyncState()
  let sl = log.initSyncState()
  for (let round = 0; round < 10; round++) {
    let m1: Uint8Array | null
    let m2: Uint8Array | null
    ;[sd, m1] = A.generateSyncMessage(doc, sd)
    if (m1 !== null) sl = log.receiveSyncMessage(sl, m1, acceptAll, 0).state
    ;[sl, m2] = log.generateSyncMessage(sl)
    if (m2 !== null) [doc, sd] = A.receiveSyncMessage(doc, sd, m2)
    if (m1 === null && m2 === null) return
  }
  throw new AuraError('E_TIMEOUT', 'pushDoc did not settle')
}

function checks (n: number): SignatureCheck[] {
  const key = keyOf('pool')
  return Array.from({ length: n }, (_, i) => {
    const message = signedMessage('test', utf8(`message ${i}`))
    const sig = sign('test', utf8(`message ${i}`), key)
    const pub = key.publicKey
    switch (i % 6) {
      case 1: return { message: signedMessage('test', utf8(`other ${i}`)), sig, pub }
      case 2: return { message, sig: Uint8Array.from(sig, (b, j) => j === 5 ? b ^ 1 : b), pub }
      case 3: return { message, sig: sig.subarray(0, 63), pub }
      case 4: return { message, sig, pub: new Uint8Array(32) }
      default: return { message, sig, pub }
    }
  })
}

describe('SignaturePool', () => {
  const pool = SignaturePool.start({ workers: 2, chunkSize: 8 })
  afterAll(async () => { await pool.close() })

  it('hands chunks to its workers, which answer them', async () => {
    for (let i = 0; i < 100 && pool.stats.workers === 0; i++) {
      const batch = pool.batch()
      for (const c of checks(16)) batch.add(c)
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(batch.finish()).toEqual(checks(16).map((c) => verifyRaw(c.message, c.sig, c.pub)))
    }
    expect(pool.stats.workers).toBeGreaterThan(0)
  })

  it('answers every check as verifyRaw does, over many chunks and a tail', () => {
    const list = checks(203)
    const batch = pool.batch()
    for (const c of list) batch.add(c)
    const answers = batch.finish()
    expect(answers).toEqual(list.map((c) => verifyRaw(c.message, c.sig, c.pub)))
    expect(answers.filter(Boolean).length).toBe(list.filter((_, i) => i % 6 === 0 || i % 6 === 5).length)
  })

  it('still answers when its workers are stopped in the middle of a batch', async () => {
    const doomed = SignaturePool.start({ workers: 1, chunkSize: 4, giveUpMs: 200 })
    const list = checks(40)
    const batch = doomed.batch()
    for (const c of list.slice(0, 20)) batch.add(c)
    await doomed.close()
    for (const c of list.slice(20)) batch.add(c)
    expect(batch.finish()).toEqual(list.map((c) => verifyRaw(c.message, c.sig, c.pub)))
  })

  it('lets an IntentLog take a whole document, and refuse one carrying a bad signature', () => {
    const w = new Writer('hana')
    const source = IntentLog.create(actorOf('source'))
    appendAs(source, Array.from({ length: 150 }, (_, i) => w.write(`record ${i}`)), 0)
    const fresh = IntentLog.create(actorOf('fresh'))
    fresh.useSignatureBatches(() => pool.batch())
    syncPair(source, fresh)
    expect(fresh.ids().sort()).toEqual(source.ids().sort())

    const r = w.write('signed')
    const { sig: _sig, ...unsigned } = r.record
    const forged = canonicalBytes({ ...unsigned, text: 'changed', sig: r.record.sig })
    const honest = Array.from({ length: 100 }, (_, i) => w.write(`more ${i}`))
    // IntentLog.append refuses bad signatures, so the hostile document is made with Automerge.
    const hostile = commitSigned(genesisDoc(actorOf('mallory')), w.key, [...honest, { id: recordIdOf(forged), bytes: forged }])
    const victim = IntentLog.create(actorOf('victim'))
    victim.useSignatureBatches(() => pool.batch())
    const err = (() => { try { pushDoc(hostile, victim); return undefined } catch (e) { return e as AuraError } })()
    expect(err?.code).toBe('E_BAD_SIGNATURE')
    expect(err?.context.record).toBe(recordIdOf(forged))
    expect(victim.size).toBe(0)
  })
})
