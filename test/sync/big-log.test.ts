// A log whose sync message is larger than a frame still reaches a fresh peer: the message goes
// as pieces (`amp` frames, then `am`), bounded as a whole by the receiver's max_message_bytes.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { AM_PIECE_BYTES, automergeFrames } from '../../node/sync/messages.js'
import { settle, TestTeam } from './engine-fixture.js'

// ~300 bytes that DEFLATE cannot fold into the records before them.
const text = (i: number): string => Array.from({ length: 5 }, (_, k) => createHash('sha256').update(`${i}/${k}`).digest('hex')).join(' ')

describe('SyncEngine: a log larger than one frame', () => {
  it('reaches a fresh peer in pieces, every frame within a 64 KiB limit', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob')
    const written = Array.from({ length: 600 }, (_, i) => alice.write(text(i), false))
    const w = team.connect(alice, bob, { maxFrameBytes: 64 * 1024 })
    await settle()
    expect(w.closedA).toBeNull()
    expect(bob.holds(...written)).toBe(true)
    expect(w.aToB.filter((m) => m.t === 'amp').length).toBeGreaterThan(1)
    expect(Math.max(...w.rawAToB.map((f) => f.length))).toBeLessThanOrEqual(AM_PIECE_BYTES + 1)
    // And back: what bob writes now reaches alice as usual.
    const b1 = bob.write('after the bulk')
    await settle()
    expect(alice.holds(b1)).toBe(true)
  })

  it('refuses a message whose pieces pass max_message_bytes with E_FRAME_TOO_LARGE, and adds nothing', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice')
    const bob = team.node('bob', { maxMessageBytes: 128 * 1024 })
    Array.from({ length: 600 }, (_, i) => alice.write(text(i), false))
    const w = team.connect(alice, bob)
    await settle()
    expect(w.closedB?.code).toBe('E_FRAME_TOO_LARGE')
    expect(w.closedA?.code).toBe('E_FRAME_TOO_LARGE')
    expect(bob.audits('dropped').map((e) => e.code)).toEqual(['E_FRAME_TOO_LARGE'])
    expect(bob.log.size).toBe(0)
  })

  it('holds at most max_buffered_message_bytes of pieces across sessions: the message past it is refused E_BUSY and offered again later', async () => {
    const team = new TestTeam(['alice', 'carol', 'bob'])
    const alice = team.node('alice')
    const carol = team.node('carol')
    const cap = 700 * 1024
    const bob = team.node('bob', { maxBufferedMessageBytes: cap })
    const fromAlice = Array.from({ length: 600 }, (_, i) => alice.write(text(i), false))
    const fromCarol = Array.from({ length: 600 }, (_, i) => carol.write(text(10_000 + i), false))
    // Both whole logs (480 KiB each) arrive at once, their frames interleaved.
    const queues: Array<Array<() => void>> = [[], []]
    let pumping = false
    const pump = (): void => {
      pumping = false
      while (queues.some((q) => q.length > 0)) for (const q of queues) q.shift()?.()
    }
    const schedule = (q: Array<() => void>) => (task: () => void): void => {
      q.push(task)
      if (!pumping) { pumping = true; queueMicrotask(pump) }
    }
    // Watch what bob holds after every frame it takes in.
    let peak = 0
    const wa = team.connect(alice, bob, { schedule: schedule(queues[0]) })
    const wc = team.connect(carol, bob, { schedule: schedule(queues[1]) })
    for (const link of [wa.b, wc.b]) {
      const handler = link.onFrame
      link.onFrame = (f) => { handler?.(f); peak = Math.max(peak, bob.engine.bufferedMessageBytes) }
    }
    await settle(20)
    expect(peak).toBeGreaterThan(0)
    expect(peak).toBeLessThanOrEqual(cap)
    const busy = [...wa.bToA, ...wc.bToA].filter((m) => m.t === 'refused' && m.code === 'E_BUSY')
    expect(busy.length).toBe(1)
    expect(bob.audits('refused').map((e) => e.code)).toContain('E_BUSY')
    // Nobody was dropped, and the next anti-entropy round brings the refused message again.
    expect([wa.closedA, wa.closedB, wc.closedA, wc.closedB]).toEqual([null, null, null, null])
    for (let round = 0; round < 3 && !bob.holds(...fromAlice, ...fromCarol); round++) {
      team.clock.now += 10_000
      for (const n of [alice, carol, bob]) n.engine.tick()
      await settle(20)
    }
    expect(bob.holds(...fromAlice, ...fromCarol)).toBe(true)
    expect(bob.engine.bufferedMessageBytes).toBe(0)
  })

  it('sends heads to a session it has been quiet on for keepaliveMs, so the remote\'s idle timeout spares it', async () => {
    const team = new TestTeam(['alice', 'bob'])
    const alice = team.node('alice', { keepaliveMs: 30_000 })
    const bob = team.node('bob')
    const w = team.connect(alice, bob)
    await settle()
    const heads = (): number => w.aToB.filter((m) => m.t === 'heads').length
    const before = heads()
    team.clock.now += 10_000
    alice.engine.keepAlive()
    expect(heads()).toBe(before)
    team.clock.now += 20_000
    alice.engine.keepAlive()
    expect(heads()).toBe(before + 1)
    alice.engine.keepAlive()
    expect(heads()).toBe(before + 1)
  })

  it('splits only what is larger than a piece', () => {
    expect(automergeFrames(new Uint8Array(10)).map((m) => m.t)).toEqual(['am'])
    expect(automergeFrames(new Uint8Array(AM_PIECE_BYTES)).map((m) => m.t)).toEqual(['am'])
    const parts = automergeFrames(new Uint8Array(2 * AM_PIECE_BYTES + 5))
    expect(parts.map((m) => [m.t, m.data.length])).toEqual([['amp', AM_PIECE_BYTES], ['amp', AM_PIECE_BYTES], ['am', 5]])
  })
})
