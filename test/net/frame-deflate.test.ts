import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import { deflateRawSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DEFLATE_WINDOW, FrameDeflater, FrameInflater } from '../../node/net/frame-deflate.js'

const MAX = 1024 * 1024

// Sends every payload through one direction; returns what arrived and the bytes sent.
function roundTrip (payloads: Uint8Array[], max = MAX): { out: Uint8Array[], sent: number, deflated: number } {
  const d = new FrameDeflater()
  const i = new FrameInflater(max)
  const out: Uint8Array[] = []
  let sent = 0
  let deflated = 0
  for (const p of payloads) {
    const f = d.encode(p)
    sent += f.bytes.length
    if (f.deflated) deflated++
    out.push(f.deflated ? i.inflate(f.bytes) : i.plain(f.bytes))
  }
  return { out, sent, deflated }
}

const text = (n: number): Uint8Array => new TextEncoder().encode(`{"actor":"alice","kind":"intent","signer":"${'ab'.repeat(32)}","text":"record ${n}: move the token check ahead of session creation"}`)

describe('frame DEFLATE with a per-direction history', () => {
  it('gives back every payload, and what repeats from earlier frames costs little', () => {
    const payloads = Array.from({ length: 50 }, (_, n) => text(n))
    const { out, sent, deflated } = roundTrip(payloads)
    expect(out).toEqual(payloads)
    expect(deflated).toBe(50)
    const plain = payloads.reduce((s, p) => s + p.length, 0)
    // Each frame repeats the one before but for its number: far less than a third of it.
    expect(sent).toBeLessThan(plain / 3)
  })

  it('sends tiny, incompressible and large payloads as they are, and stays in step after them', () => {
    const payloads = [
      Uint8Array.of(1, 2, 3),
      randomBytes(500),
      new Uint8Array(200 * 1024).fill(7),
      text(1),
      randomBytes(DEFLATE_WINDOW * 2),
      text(2)
    ]
    const d = new FrameDeflater()
    const kinds = payloads.map((p) => d.encode(p).deflated)
    expect(kinds).toEqual([false, false, false, true, false, true])
    expect(roundTrip(payloads).out).toEqual(payloads)
  })

  it('stops trying large frames for a while after one that did not shrink, and stays in step', () => {
    const big = (n: number): Uint8Array => new TextEncoder().encode(`{"n":${n}}`.repeat(3000))
    const payloads = [
      randomBytes(40 * 1024),
      big(1),
      text(1),
      ...Array.from({ length: 32 }, (_, n) => big(n + 2)),
      big(99)
    ]
    const d = new FrameDeflater()
    const kinds = payloads.map((p) => d.encode(p).deflated)
    expect(kinds[0]).toBe(false)
    expect(kinds[1]).toBe(false)
    expect(kinds[2]).toBe(true)
    expect(kinds.slice(3, 34).every((k) => !k)).toBe(true)
    expect(kinds[34]).toBe(true)
    expect(roundTrip(payloads).out).toEqual(payloads)
  })

  it('round-trips any sequence of payloads (property)', () => {
    fc.assert(fc.property(fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 3000 }),
        fc.string({ maxLength: 2000 }).map((s) => new TextEncoder().encode(s.repeat(3)))
      ),
      { maxLength: 30 }
    ), (payloads) => {
      expect(roundTrip(payloads).out).toEqual(payloads)
    }), { numRuns: 200 })
  })

  it('on random or mutated compressed frames throws only E_MALFORMED / E_FRAME_TOO_LARGE, never more than the limit (fuzz)', () => {
    const d = new FrameDeflater()
    const good = d.encode(text(1)).bytes
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
        const m = good.slice()
        m[at] ^= x
        return m
      })
    ), (bytes) => {
      const i = new FrameInflater(4096)
      try {
        expect(i.inflate(bytes).length).toBeLessThanOrEqual(4096)
      } catch (err) {
        expect(['E_MALFORMED', 'E_FRAME_TOO_LARGE']).toContain((err as { code?: string }).code)
      }
    }), { numRuns: 500 })
  })

  it('refuses a frame that does not inflate with E_MALFORMED', () => {
    const i = new FrameInflater(MAX)
    expect(() => i.inflate(Uint8Array.of(0xff, 0xff, 0xff, 0x00))).toThrowError(expect.objectContaining({ code: 'E_MALFORMED' }) as Error)
  })

  it('refuses a frame that inflates past the frame limit with E_FRAME_TOO_LARGE, without inflating it all', () => {
    const bomb = deflateRawSync(new Uint8Array(64 * MAX), { windowBits: 13 })
    expect(bomb.length).toBeLessThan(MAX / 8)
    const i = new FrameInflater(MAX)
    expect(() => i.inflate(bomb)).toThrowError(expect.objectContaining({ code: 'E_FRAME_TOO_LARGE' }) as Error)
  })

  it('cannot be read without the history before it', () => {
    const d = new FrameDeflater()
    d.encode(text(1))
    const f = d.encode(text(2))
    expect(f.deflated).toBe(true)
    // A receiver that missed frame 1 either fails or reads something else: never frame 2.
    let got: Uint8Array | undefined
    try { got = new FrameInflater(MAX).inflate(f.bytes) } catch { got = undefined }
    expect(got).not.toEqual(text(2))
  })
})
