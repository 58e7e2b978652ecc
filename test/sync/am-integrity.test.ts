// Chunk checksums of incoming Automerge sync data: whole documents and single changes pass as
// sent and fail with E_MALFORMED after any one flipped bit.
import * as A from '@automerge/automerge'
import { describe, expect, it } from 'vitest'
import { checkChunks, checkSyncMessageIntegrity, syncMessageChanges } from '../../node/sync/am-integrity.js'
import { readEnvelope } from '../../crdt/sync-envelope.js'

function docWithTwoChanges (): A.Doc<{ records: Record<string, Uint8Array> }> {
  let d = A.from<{ records: Record<string, Uint8Array> }>({ records: {} }, { actor: 'aa'.repeat(16) })
  d = A.change(d, { time: 1 }, (x) => { x.records.a = new Uint8Array(300).fill(7) })
  return d
}

function codeOf (f: () => void): string | null {
  try { f(); return null } catch (err) { return (err as { code?: string }).code ?? 'no code' }
}

describe('checkChunks', () => {
  it('accepts change and document chunks as written, and concatenations of them', () => {
    const d = docWithTwoChanges()
    const changes = A.getAllChanges(d)
    for (const c of changes) expect(codeOf(() => checkChunks(c))).toBeNull()
    const doc = A.save(d)
    expect(codeOf(() => checkChunks(doc))).toBeNull()
    const both = new Uint8Array(doc.length + changes[1].length)
    both.set(doc); both.set(changes[1], doc.length)
    expect(codeOf(() => checkChunks(both))).toBeNull()
  })

  it('refuses a change chunk with any single flipped bit past its magic bytes', () => {
    const chunk = A.getAllChanges(docWithTwoChanges())[1]
    for (let at = 4; at < chunk.length; at++) {
      const bad = chunk.slice()
      bad[at] ^= 1 << (at % 8)
      // A type byte flipped from change (1) to document (0) makes a document chunk, left to
      // Automerge's load like any other (the checksum covers the type byte).
      if (at === 8 && bad[at] === 0) expect(() => A.load(bad)).toThrow()
      else expect(codeOf(() => checkChunks(bad))).toBe('E_MALFORMED')
    }
  })

  it('leaves document chunks to Automerge, whose load refuses one with any single flipped bit', () => {
    const d = docWithTwoChanges()
    for (const doc of [A.save(d), A.getBackend(d).saveNoCompress()]) {
      for (let at = 0; at < doc.length; at++) {
        const bad = doc.slice()
        bad[at] ^= 1 << (at % 8)
        expect(() => A.load(bad)).toThrow()
      }
    }
  })

  it('refuses what is not a chunk, a truncated chunk and an unknown chunk type', () => {
    const c = A.getAllChanges(docWithTwoChanges())[1]
    expect(codeOf(() => checkChunks(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)))).toBe('E_MALFORMED')
    expect(codeOf(() => checkChunks(c.subarray(0, c.length - 1)))).toBe('E_MALFORMED')
    const unknown = c.slice(); unknown[8] = 9
    expect(codeOf(() => checkChunks(unknown))).toBe('E_MALFORMED')
  })
})

describe('checkSyncMessageIntegrity', () => {
  it('passes sync messages Automerge generates and refuses bytes that are not one', () => {
    let d = docWithTwoChanges()
    let ours = A.initSyncState()
    let theirs = A.initSyncState()
    let other = A.init<{ records: Record<string, Uint8Array> }>()
    for (let i = 0; i < 6; i++) {
      const [s1, m1] = A.generateSyncMessage(d, ours); ours = s1
      if (m1 !== null) {
        expect(codeOf(() => checkSyncMessageIntegrity(m1))).toBeNull()
        ;[other, theirs] = A.receiveSyncMessage(other, theirs, m1)
      }
      const [s2, m2] = A.generateSyncMessage(other, theirs); theirs = s2
      if (m2 !== null) {
        expect(codeOf(() => checkSyncMessageIntegrity(m2))).toBeNull()
        ;[d, ours] = A.receiveSyncMessage(d, ours, m2)
      }
    }
    expect(A.getHeads(other)).toEqual(A.getHeads(d))
    expect(codeOf(() => checkSyncMessageIntegrity(Uint8Array.of(0x42, 0xff)))).toBe('E_MALFORMED')
  })
})

describe('readEnvelope', () => {
  // Messages of a real exchange: heads, need, have with bloom filters, changes, document chunks.
  function exchange (): Uint8Array[] {
    let a = docWithTwoChanges()
    let b = A.init<{ records: Record<string, Uint8Array> }>({ actor: 'bb'.repeat(16) })
    b = A.change(b, { time: 2 }, (x) => { x.records = {} })
    let sa = A.initSyncState()
    let sb = A.initSyncState()
    const out: Uint8Array[] = []
    for (let round = 0; round < 8; round++) {
      if (round === 3) a = A.change(a, { time: 3 }, (x) => { x.records.c = new Uint8Array(40).fill(1) })
      if (round === 4) b = A.change(b, { time: 4 }, (x) => { x.records.d = new Uint8Array(40).fill(2) })
      const [s1, m1] = A.generateSyncMessage(a, sa); sa = s1
      if (m1 !== null) { out.push(m1); [b, sb] = A.receiveSyncMessage(b, sb, m1) }
      const [s2, m2] = A.generateSyncMessage(b, sb); sb = s2
      if (m2 !== null) { out.push(m2); [a, sa] = A.receiveSyncMessage(a, sa, m2) }
    }
    out.push(A.encodeSyncMessage({ heads: A.getHeads(a), need: A.getHeads(b), have: [], changes: A.getAllChanges(a) }))
    return out
  }

  it('reads the same change entries as Automerge\'s decoder', () => {
    const msgs = exchange()
    expect(msgs.length).toBeGreaterThan(4)
    expect(msgs.some((m) => A.decodeSyncMessage(m).changes.length > 1)).toBe(true)
    for (const m of msgs) expect(readEnvelope(m)?.changes).toEqual(A.decodeSyncMessage(m).changes)
  })

  it('on damaged messages: agrees with Automerge whenever both read them, and never throws anything but E_MALFORMED', () => {
    let state = 7
    const next = (n: number): number => { state = (state * 1103515245 + 12345) % 2147483648; return state % n }
    for (const m of exchange()) {
      for (let k = 0; k < 60; k++) {
        const bad = k % 3 === 0 ? m.subarray(0, next(m.length)) : m.slice()
        if (k % 3 !== 0) bad[next(bad.length)] ^= 1 << next(8)
        let ref: Uint8Array[] | null = null
        try { ref = A.decodeSyncMessage(bad).changes } catch { ref = null }
        const env = readEnvelope(bad)?.changes ?? null
        if (env !== null && ref !== null) expect(env).toEqual(ref)
        try { syncMessageChanges(bad) } catch (err) { expect((err as { code?: string }).code).toBe('E_MALFORMED') }
      }
    }
  })
})
