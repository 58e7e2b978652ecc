// A peer that holds only genesis gets the whole document: the message Automerge itself would
// send, with the document saved without DEFLATE, leaving both sync states as Automerge's own
// exchange would; the receiver loads it into a document of its own and adopts it.
import { describe, expect, it, vi } from 'vitest'
import * as A from '@automerge/automerge'
import { exportSyncState } from '../../crdt/automerge-sync.js'
import { genesisDoc } from '../../crdt/intent-doc.js'
import { DOCUMENT_CHUNK, splitChunks } from '../../crdt/intent-staging.js'
import { IntentLog, type SyncState } from '../../crdt/intent-log.js'
import { readEnvelope, replaceChanges } from '../../crdt/sync-envelope.js'
import { acceptAll, actorOf, syncPair, Writer } from './record-fixtures.js'

function seeded (records = 24): IntentLog {
  const w = new Writer('alice')
  const log = IntentLog.create(actorOf('alice'))
  for (let i = 0; i < records; i += 4) log.append([0, 1, 2, 3].map((k) => w.write(`r${i + k}`)), i * 1000)
  return log
}

/** The sender's state after the fresh peer's first answer, and that peer's state. */
function firstRound (sender: IntentLog, fresh: IntentLog): { sa: SyncState, sb: SyncState } {
  let sa = sender.initSyncState()
  let sb = fresh.initSyncState()
  let m: Uint8Array | null
  ;[sa, m] = sender.generateSyncMessage(sa)
  sb = fresh.receiveSyncMessage(sb, m as Uint8Array, acceptAll, 0).state
  ;[sb, m] = fresh.generateSyncMessage(sb)
  sa = sender.receiveSyncMessage(sa, m as Uint8Array, acceptAll, 0).state
  return { sa, sb }
}

/** What Automerge's own backend says from the same document and state. */
function automergeOwn (sender: IntentLog, sa: SyncState): { state: SyncState, message: Uint8Array } {
  const state = sa.clone()
  const message = A.getBackend(A.load(sender.save(), { actor: actorOf('ref') })).generateSyncMessage(state)
  if (message == null) throw new Error('Automerge had nothing to say')
  return { state, message }
}

function onlyDocument (message: Uint8Array): Uint8Array {
  const env = readEnvelope(message)
  if (env === null || env.changes.length !== 1) throw new Error('not one entry')
  const chunks = splitChunks(env.changes[0])
  expect(chunks.map((c) => c.type)).toEqual([DOCUMENT_CHUNK])
  return chunks[0].bytes
}

describe('whole document to a fresh peer', () => {
  it('is Automerge\'s own message with the document saved without DEFLATE, and leaves the state Automerge would', () => {
    const sender = seeded()
    const { sa } = firstRound(sender, IntentLog.create(actorOf('fresh')))
    const own = automergeOwn(sender, sa)
    const [state, message] = sender.generateSyncMessage(sa)
    expect(message).not.toBeNull()
    const ours = readEnvelope(message as Uint8Array)
    const theirs = readEnvelope(own.message)
    if (ours === null || theirs === null) throw new Error('envelope')
    expect(ours.version).toBe(0x43)
    // Heads, need, have and what follows the changes: byte for byte Automerge's.
    expect(message?.subarray(0, ours.changesAt)).toEqual(own.message.subarray(0, theirs.changesAt))
    expect(message?.subarray(ours.changesEnd)).toEqual(own.message.subarray(theirs.changesEnd))
    // The same document, saved without compression (Automerge's is compressed, so smaller).
    const doc = onlyDocument(message as Uint8Array)
    const ref = onlyDocument(own.message)
    expect(doc).toEqual(sender.save())
    expect(ref.length).toBeLessThan(doc.length)
    const loaded = A.load(doc, { actor: actorOf('x') })
    const refLoaded = A.load(ref, { actor: actorOf('y') })
    expect(A.getHeads(loaded)).toEqual(A.getHeads(refLoaded))
    expect(A.getAllChanges(loaded)).toEqual(A.getAllChanges(refLoaded))
    // Every change counted as sent, in flight: as Automerge leaves it.
    expect(exportSyncState(state)).toEqual(exportSyncState(own.state))
    expect(Object.keys(exportSyncState(state).sentHashes).length).toBe(A.getAllChanges(loaded).length)
    // The state given is left as it was.
    expect(Object.keys(exportSyncState(sa).sentHashes)).toEqual([])
  })

  it('is taken whole by the fresh peer, whose sync state then is what Automerge\'s own message leaves', () => {
    const sender = seeded()
    const fresh = IntentLog.create(actorOf('fresh'))
    const { sa, sb } = firstRound(sender, fresh)
    const own = automergeOwn(sender, sa)
    const [, message] = sender.generateSyncMessage(sa)
    const got = fresh.receiveSyncMessage(sb, message as Uint8Array, acceptAll, 0)
    expect(got.added.sort()).toEqual(sender.ids().sort())
    // Reference: Automerge's backend applying its own message to a genesis document.
    const refState = sb.clone()
    A.getBackend(genesisDoc(actorOf('twin'))).receiveSyncMessage(refState, own.message)
    expect(exportSyncState(got.state)).toEqual(exportSyncState(refState))
    // Stored as received: the base is the document's bytes, not re-saved.
    expect(fresh.receivedDocument()).toEqual(onlyDocument(message as Uint8Array))
    expect(A.getHeads(A.load(fresh.save(), { actor: actorOf('z') }))).toEqual(A.getHeads(A.load(sender.save(), { actor: actorOf('w') })))
    // The exchange then settles: nothing is sent twice.
    const [, again] = sender.generateSyncMessage(sa.clone())
    expect(again).not.toBeNull()
    expect(syncPair(sender, fresh).bytes).toBeLessThan(4096)
  })

  it('is saved once per heads: a second fresh peer gets the same bytes, a new record makes a new document', () => {
    const sender = seeded()
    const backend = A.getBackend((sender as unknown as { doc: A.Doc<unknown> }).doc)
    const saves = vi.spyOn(backend, 'saveNoCompress')
    const w = new Writer('bob')
    const docOf = (): Uint8Array => {
      const { sa } = firstRound(sender, IntentLog.create(actorOf('f' + Math.random().toString(16).slice(2, 8))))
      return onlyDocument(sender.generateSyncMessage(sa)[1] as Uint8Array)
    }
    const first = docOf()
    const second = docOf()
    expect(second).toEqual(first)
    expect(saves).toHaveBeenCalledTimes(1)
    const extra = w.write('late')
    sender.append([extra], 99_000)
    const third = docOf()
    expect(saves).toHaveBeenCalledTimes(2)
    expect(A.load(third, { actor: actorOf('q') }).records[extra.id]).toEqual(extra.bytes)
  })

  it('goes as Automerge compresses it when larger than the limit, and still arrives', () => {
    const sender = seeded()
    sender.limitWholeDocumentBytes(1024)
    const fresh = IntentLog.create(actorOf('fresh'))
    const { sa } = firstRound(sender, fresh)
    const own = automergeOwn(sender, sa)
    const [, message] = sender.generateSyncMessage(sa)
    expect(message).toEqual(own.message)
    syncPair(sender, fresh)
    expect(fresh.ids().sort()).toEqual(sender.ids().sort())
  })

  it('is Automerge\'s own path for a peer that holds more than genesis', () => {
    const sender = seeded()
    const other = IntentLog.create(actorOf('other'))
    other.append([new Writer('carol').write('own')], 0)
    const { sa } = firstRound(sender, other)
    const own = automergeOwn(sender, sa)
    expect(sender.generateSyncMessage(sa)[1]).toEqual(own.message)
  })

  it('refused by the fresh peer\'s check leaves it holding genesis only, and it takes the document on the next try', () => {
    const sender = seeded()
    const fresh = IntentLog.create(actorOf('fresh'))
    const { sa, sb } = firstRound(sender, fresh)
    const [, message] = sender.generateSyncMessage(sa)
    const refuse = (): void => { throw Object.assign(new Error('team is in lockdown'), { code: 'E_LOCKDOWN' }) }
    expect(() => fresh.receiveSyncMessage(sb, message as Uint8Array, refuse, 0)).toThrow(/lockdown/)
    expect(fresh.size).toBe(0)
    expect(fresh.receivedDocument()).toBeUndefined()
    const got = fresh.receiveSyncMessage(sb, message as Uint8Array, acceptAll, 0)
    expect(got.added.length).toBe(sender.size)
  })

  it('that does not load is left to the staged path, which names the fault', () => {
    const sender = seeded()
    const fresh = IntentLog.create(actorOf('fresh'))
    const { sa, sb } = firstRound(sender, fresh)
    const message = sender.generateSyncMessage(sa)[1] as Uint8Array
    const env = readEnvelope(message)
    if (env === null) throw new Error('envelope')
    const doc = onlyDocument(message).slice()
    doc[doc.length - 5] ^= 0xff
    const bad = replaceChanges(message, env, [doc])
    let code: string | undefined
    try { fresh.receiveSyncMessage(sb, bad, acceptAll, 0) } catch (err) { code = (err as { code?: string }).code }
    expect(code).toBe('E_MALFORMED')
    expect(fresh.size).toBe(0)
    expect(fresh.receiveSyncMessage(sb, message, acceptAll, 0).added.length).toBe(sender.size)
  })
})

describe('replaceChanges', () => {
  it('swaps the change entries of real messages and keeps the rest as Automerge reads it', () => {
    const sender = seeded(8)
    const { sa } = firstRound(sender, IntentLog.create(actorOf('fresh')))
    const msgs = [automergeOwn(sender, sa).message, sender.generateSyncMessage(sa.clone())[1] as Uint8Array, sender.generateSyncMessage(sender.initSyncState())[1] as Uint8Array]
    for (const m of msgs) {
      const env = readEnvelope(m)
      if (env === null) throw new Error('envelope')
      const before = A.decodeSyncMessage(m)
      for (const entries of [[], [Uint8Array.of(1, 2, 3)], [new Uint8Array(300).fill(9), Uint8Array.of(4)]]) {
        const swapped = replaceChanges(m, env, entries)
        const after = A.decodeSyncMessage(swapped)
        expect(after.changes).toEqual(entries)
        expect({ ...after, changes: [] }).toEqual({ ...before, changes: [] })
        expect(replaceChanges(swapped, readEnvelope(swapped) ?? env, env.changes)).toEqual(m)
      }
    }
  })
})
