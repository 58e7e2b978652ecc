// A peer that holds only genesis gets the whole document: the message Automerge itself would
// send, with the document saved without DEFLATE, leaving both sync states as Automerge's own
// exchange would; the receiver loads it into a document of its own and adopts it.
import { describe, expect, it, vi } from 'vitest'
import * as A from '@automerge/automerge'
import { signChange, writerActor } from '../../crdt/change-auth.js'
import { exportSyncState } from '../../crdt/automerge-sync.js'
import { createHash } from 'node:crypto'
import { BYTES_TYPE, documentOps } from '../../crdt/document-ops.js'
import { documentPuts, GENESIS_HASH, genesisDoc, RECORDS_OBJ } from '../../crdt/intent-doc.js'
import { DOCUMENT_CHUNK, splitChunks } from '../../crdt/intent-staging.js'
import { IntentLog, type SyncState } from '../../crdt/intent-log.js'
import { readEnvelope, replaceChanges } from '../../crdt/sync-envelope.js'
import { appendAs, acceptAll, actorOf, syncPair, Writer } from './record-fixtures.js'

function seeded (records = 24): IntentLog {
  const w = new Writer('alice')
  const log = IntentLog.create(actorOf('alice'))
  for (let i = 0; i < records; i += 4) appendAs(log, [0, 1, 2, 3].map((k) => w.write(`r${i + k}`)), i * 1000)
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
    const [sent, message] = sender.generateSyncMessage(sa)
    const got = fresh.receiveSyncMessage(sb, message as Uint8Array, acceptAll, 0)
    expect(got.added.sort()).toEqual(sender.ids().sort())
    // Reference: Automerge's backend applying its own message to a genesis document.
    const refState = sb.clone()
    A.getBackend(genesisDoc(actorOf('twin'))).receiveSyncMessage(refState, own.message)
    expect(exportSyncState(got.state)).toEqual(exportSyncState(refState))
    // Stored as received: the base is the document's bytes, not re-saved.
    expect(fresh.receivedDocument()).toEqual(onlyDocument(message as Uint8Array))
    expect(A.getHeads(A.load(fresh.save(), { actor: actorOf('z') }))).toEqual(A.getHeads(A.load(sender.save(), { actor: actorOf('w') })))
    // Nothing is sent twice: the document is in flight, and once the fresh peer answers, the
    // sender has nothing more to say.
    expect(sender.generateSyncMessage(sent)[1]).toBeNull()
    const [, answer] = fresh.generateSyncMessage(got.state)
    const settled = sender.receiveSyncMessage(sent, answer as Uint8Array, acceptAll, 0).state
    expect(Object.keys(exportSyncState(settled).sentHashes)).toEqual([])
    expect(sender.generateSyncMessage(settled)[1]).toBeNull()
  })

  it('is saved once per heads: a second fresh peer gets the same bytes, a new record makes a new document', () => {
    const sender = seeded()
    const backend = A.getBackend((sender as unknown as { doc: A.Doc<unknown> }).doc)
    const saves = vi.spyOn(backend, 'saveNoCompress')
    // The sender's own writer: a record of another signer would go in a change of its own actor.
    const w = new Writer('alice')
    const docOf = (): Uint8Array => {
      const { sa } = firstRound(sender, IntentLog.create(actorOf('f' + Math.random().toString(16).slice(2, 8))))
      return onlyDocument(sender.generateSyncMessage(sa)[1] as Uint8Array)
    }
    const first = docOf()
    const second = docOf()
    expect(second).toEqual(first)
    expect(saves).toHaveBeenCalledTimes(1)
    const extra = w.write('late')
    appendAs(sender, [extra], 99_000)
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

  it('is never sent to a peer that holds more than genesis: it gets the changes it lacks (Automerge would send the whole document, DEFLATE\'d)', () => {
    const sender = seeded()
    const other = IntentLog.create(actorOf('other'))
    appendAs(other, [new Writer('carol').write('own')], 0)
    const { sa, sb } = firstRound(sender, other)
    // Automerge's own choice here: the whole document (the peer lacks more than a third of ours).
    const own = automergeOwn(sender, sa)
    const types = (m: Uint8Array | null): number[] | undefined =>
      readEnvelope(m as Uint8Array)?.changes.flatMap((e) => splitChunks(e).map((c) => c.type))
    expect(types(own.message)).toEqual([DOCUMENT_CHUNK])
    const [state, message] = sender.generateSyncMessage(sa)
    const env = readEnvelope(message as Uint8Array)
    if (env === null) throw new Error('envelope')
    expect(env.changes.flatMap((e) => splitChunks(e).map((c) => c.type)).every((t) => t !== DOCUMENT_CHUNK)).toBe(true)
    expect(env.changes.length).toBe(6)
    // The peer still reads v2 (only the probe said v1; Automerge's import keeps no other
    // capability, and the peer's next message says them all again), and it takes every record.
    expect(exportSyncState(sa).theirCapabilities).toContain('message-v2')
    expect(exportSyncState(state).theirCapabilities).toContain('message-v2')
    const got = other.receiveSyncMessage(sb, message as Uint8Array, acceptAll, 0)
    expect(got.added.length).toBe(24)
    expect(other.ids().sort()).toEqual(sender.ids().sort())
    // Asked to, the log sends what Automerge sends.
    sender.sendWholeDocuments(true)
    expect(sender.generateSyncMessage(sa)[1]).toEqual(own.message)
  })

  it('sends a peer that lacks many changes a slice at a time, each once, in order, and the peer ends with all of them', () => {
    const sender = seeded(400)
    sender.limitMessageBytes(8 * 1024)
    const other = IntentLog.create(actorOf('other'))
    appendAs(other, [new Writer('carol').write('own')], 0)
    let sa = sender.initSyncState()
    let sb = other.initSyncState()
    const sizes: number[] = []
    for (let round = 0; round < 100; round++) {
      let m1: Uint8Array | null
      let m2: Uint8Array | null
      ;[sa, m1] = sender.generateSyncMessage(sa)
      if (m1 !== null) {
        const env = readEnvelope(m1)
        if (env === null) throw new Error('envelope')
        sizes.push(env.changes.length)
        expect(env.changesEnd - env.changesAt).toBeLessThanOrEqual(8 * 1024 + 2048)
        sb = other.receiveSyncMessage(sb, m1, acceptAll, 0).state
      }
      ;[sb, m2] = other.generateSyncMessage(sb)
      if (m2 !== null) sa = sender.receiveSyncMessage(sa, m2, acceptAll, 0).state
      if (m1 === null && m2 === null) break
    }
    expect(other.size).toBe(401)
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThan(3)
    // 100 changes of 4 records, each sent once.
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(100)
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
    const msgs = [
      automergeOwn(sender, sa).message,
      sender.generateSyncMessage(sa.clone())[1] as Uint8Array,
      sender.generateSyncMessage(sender.initSyncState())[1] as Uint8Array
    ]
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

// A validly signed record put under another value type code: the change is rewritten and its
// checksum made good, as a member could. Unknown codes (10-15) read back as bytes from every
// Automerge API but getWithType.
function forgedLog (typeCode: number): IntentLog {
  const uleb = (n: number): number[] => {
    const o: number[] = []
    do {
      let b = n & 0x7f
      n = Math.floor(n / 128)
      if (n > 0) b |= 0x80
      o.push(b)
    } while (n > 0)
    return o
  }
  const w = new Writer('mallory')
  const r = w.write('poison')
  // Signed as mallory's log signs its changes: the signature covers ids, not value types.
  const actor = writerActor(w.signer, actorOf('mallory'))
  const backend = A.getBackend(genesisDoc(actor))
  backend.put(RECORDS_OBJ, r.id, r.bytes, 'bytes')
  backend.commit(signChange({ actor, seq: 1, startOp: 2, time: 0, deps: [GENESIS_HASH] }, [r.id], w.key), 0)
  const change = Uint8Array.from(backend.getLastLocalChange() as Uint8Array)
  const meta = [0x7f, ...uleb(r.bytes.length * 16 + BYTES_TYPE)]
  const at = change.findIndex((_, i) => meta.every((b, j) => change[i + j] === b))
  expect(at).toBeGreaterThan(0)
  change.set(uleb(r.bytes.length * 16 + typeCode), at + 1)
  change.set(createHash('sha256').update(change.subarray(8)).digest().subarray(0, 4), 4)
  const doc = genesisDoc(actorOf('mallory2'))
  A.getBackend(doc).applyChanges([change])
  expect(A.getBackend(doc).getWithType(RECORDS_OBJ, r.id)?.[0]).toBe(`unknown${typeCode}`)
  const log = IntentLog.load(A.getBackend(doc).saveNoCompress(), actorOf('mallory3'))
  expect(log.size).toBe(1)
  return log
}

function codeOf (f: () => unknown): string | undefined {
  try { f(); return undefined } catch (err) { return (err as { code?: string }).code ?? 'no code' }
}

describe('a whole document with a value not of the bytes type', () => {
  for (const typeCode of [10, 13, 15]) {
    it(`(type code ${typeCode}) is refused by a fresh peer, and by one that holds records, whichever way it is saved`, () => {
      const fresh = IntentLog.create(actorOf('fresh'))
      expect(codeOf(() => syncPair(forgedLog(typeCode), fresh))).toBe('E_MALFORMED')
      expect(fresh.size).toBe(0)
      // A peer holding a record of its own is sent Automerge's compressed document.
      const holder = IntentLog.create(actorOf('holder'))
      appendAs(holder, [new Writer('olga').write('own')], 0)
      expect(codeOf(() => syncPair(forgedLog(typeCode), holder))).toBe('E_MALFORMED')
      expect(holder.size).toBe(1)
      // And the uncompressed one, as a fresh peer gets it, pushed to that peer.
      const mal = forgedLog(typeCode)
      const { sa } = firstRound(mal, IntentLog.create(actorOf('f2')))
      const message = mal.generateSyncMessage(sa)[1] as Uint8Array
      expect(codeOf(() => holder.receiveSyncMessage(holder.initSyncState(), message, acceptAll, 0))).toBe('E_MALFORMED')
      expect(holder.size).toBe(1)
    })
  }
})

describe('documentOps', () => {
  it('reads the ops of an uncompressed document as Automerge holds them, and gives up on a compressed one', () => {
    const log = seeded(40)
    const chunk = log.save()
    const ops = documentOps(chunk)
    if (ops === undefined) throw new Error('not read')
    const backend = A.getBackend(A.load(chunk, { actor: actorOf('r') }))
    expect(ops.filter((o) => o.type === 0).map((o) => o.key)).toEqual(['records'])
    const puts = ops.filter((o) => o.type === BYTES_TYPE)
    expect(puts.length).toBe(40)
    for (const op of puts) expect(backend.getWithType(RECORDS_OBJ, op.key as string)).toEqual(['bytes', op.bytes])
    expect(documentOps(A.getBackend(A.load(chunk)).save())).toBeUndefined()
  })

  it('never throws on damaged chunks, and documentPuts never takes one whose values are not all of the bytes type', () => {
    const chunk = seeded(12).save()
    let state = 11
    const next = (n: number): number => { state = (state * 1103515245 + 12345) % 2147483648; return state % n }
    for (let k = 0; k < 400; k++) {
      const bad = k % 4 === 0 ? chunk.subarray(0, next(chunk.length)) : chunk.slice()
      if (k % 4 !== 0) for (let f = 0; f <= k % 3; f++) bad[next(bad.length)] ^= 1 << next(8)
      expect(() => documentOps(bad)).not.toThrow()
      let doc: A.Doc<{ records: Record<string, Uint8Array> }>
      try { doc = A.load(bad) } catch { continue }
      const backend = A.getBackend(doc)
      const puts = documentPuts(backend, backend.getChangesMeta([]), { chunk: bad, values: doc.records ?? {} })
      if (puts !== undefined) for (const p of puts) expect(backend.getWithType(RECORDS_OBJ, p.id)?.[0]).toBe('bytes')
    }
  })
})
