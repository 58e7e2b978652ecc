import { describe, expect, it } from 'vitest'
import { AuraError } from '../../crdt/errors.js'
import { toHex } from '../../crdt/canonical.js'
import { checkMaxFrameBytes, DEFAULT_MAX_FRAME_BYTES, encodeFrame, encodeLength, FrameDecoder, MAX_FRAME_LIMIT } from '../../node/sync/frame.js'

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

function codeOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(AuraError)
    return (err as AuraError).code
  }
  return 'no error'
}

describe('frame encoding (golden: changing these is a wire-format decision)', () => {
  it('writes minimal unsigned LEB128 length prefixes', () => {
    expect(toHex(encodeLength(0))).toBe('00')
    expect(toHex(encodeLength(127))).toBe('7f')
    expect(toHex(encodeLength(128))).toBe('8001')
    expect(toHex(encodeLength(300))).toBe('ac02')
    expect(toHex(encodeLength(DEFAULT_MAX_FRAME_BYTES))).toBe('80808002')
    expect(toHex(encodeLength(MAX_FRAME_LIMIT))).toBe('8080808004')
  })

  it('frames a body as prefix then bytes', () => {
    expect(toHex(encodeFrame(new TextEncoder().encode('aura')))).toBe('0461757261')
    expect(toHex(encodeFrame(new Uint8Array(0)))).toBe('00')
  })

  it('refuses to encode a body over the limit', () => {
    expect(codeOf(() => encodeFrame(new Uint8Array(11), 10))).toBe('E_FRAME_TOO_LARGE')
    expect(encodeFrame(new Uint8Array(10), 10).length).toBe(11)
  })

  it('accepts limits from 1 to 2^30 only', () => {
    expect(checkMaxFrameBytes(1)).toBe(1)
    expect(checkMaxFrameBytes(MAX_FRAME_LIMIT)).toBe(MAX_FRAME_LIMIT)
    for (const bad of [0, -1, 1.5, MAX_FRAME_LIMIT + 1, Number.NaN]) {
      expect(codeOf(() => checkMaxFrameBytes(bad))).toBe('E_CONFIG')
    }
  })
})

describe('FrameDecoder', () => {
  it('decodes frames split at every possible point', () => {
    const frames = [bytes(1, 2, 3), new Uint8Array(0), new Uint8Array(200).fill(7), bytes(9)]
    const wire = Buffer.concat(frames.map((f) => encodeFrame(f)))
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new FrameDecoder()
      const out = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))]
      expect(out).toEqual(frames)
      expect(d.buffered).toBe(0)
    }
  })

  it('decodes byte by byte and holds partial frames between chunks', () => {
    const d = new FrameDecoder()
    const wire = encodeFrame(bytes(5, 6, 7))
    expect(d.push(wire.subarray(0, 2))).toEqual([])
    expect(d.buffered).toBe(2)
    expect(d.push(wire.subarray(2, 3))).toEqual([])
    expect(d.push(wire.subarray(3))).toEqual([bytes(5, 6, 7)])
  })

  it('returns copies that do not alias the input chunk', () => {
    const wire = encodeFrame(bytes(1, 2))
    const [frame] = new FrameDecoder().push(wire)
    wire[1] = 99
    expect(frame).toEqual(bytes(1, 2))
  })

  it('accepts a frame of exactly the limit', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1000 })
    expect(d.push(encodeFrame(new Uint8Array(1000), 1000))[0].length).toBe(1000)
  })

  it('fails on the length prefix alone, before any body byte arrives', () => {
    const d = new FrameDecoder({ maxFrameBytes: 1000 })
    expect(codeOf(() => d.push(encodeLength(1001)))).toBe('E_FRAME_TOO_LARGE')
    expect(d.buffered).toBeLessThanOrEqual(2)
  })

  it('fails mid-prefix once the continuation bit alone proves the length too large', () => {
    // 0x80 promises at least 128 more: over a limit of 100 before the prefix ends.
    expect(codeOf(() => new FrameDecoder({ maxFrameBytes: 100 }).push(bytes(0x80)))).toBe('E_FRAME_TOO_LARGE')
    // Four bytes of a 5-byte prefix already promise more than 4 MiB.
    const d = new FrameDecoder()
    expect(d.push(bytes(0xff, 0xff, 0xff))).toEqual([])
    expect(codeOf(() => d.push(bytes(0xff)))).toBe('E_FRAME_TOO_LARGE')
  })

  it('holds only the bytes that arrived, never the length a prefix declared', () => {
    // Fifty frames that each declare 16 MiB and send 10 bytes: ~500 bytes held, not 800 MiB.
    const decoders = Array.from({ length: 50 }, () => new FrameDecoder({ maxFrameBytes: 16 * 1024 * 1024 }))
    const before = process.memoryUsage().arrayBuffers
    for (const d of decoders) {
      expect(d.push(encodeLength(16 * 1024 * 1024))).toEqual([])
      expect(d.push(new Uint8Array(10).fill(1))).toEqual([])
    }
    const grown = process.memoryUsage().arrayBuffers - before
    expect(grown).toBeLessThan(1024 * 1024)
    expect(decoders.reduce((n, d) => n + d.buffered, 0)).toBe(50 * (4 + 10))
  })

  it('joins a body split over many chunks into one fresh copy', () => {
    const body = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    const wire = encodeFrame(body)
    const d = new FrameDecoder()
    const out: Uint8Array[] = []
    for (let at = 0; at < wire.length; at += 7) out.push(...d.push(wire.subarray(at, at + 7)))
    wire.fill(0)
    expect(out).toEqual([body])
  })

  it('refuses a prefix that is not minimally encoded', () => {
    expect(codeOf(() => new FrameDecoder().push(bytes(0x80, 0x00)))).toBe('E_MALFORMED')
    expect(codeOf(() => new FrameDecoder().push(bytes(0x85, 0x80, 0x00)))).toBe('E_MALFORMED')
  })

  it('yields the frames before a bad prefix, then throws, then stays failed', () => {
    const d = new FrameDecoder({ maxFrameBytes: 10 })
    const seen: Uint8Array[] = []
    const chunk = Buffer.concat([encodeFrame(bytes(1)), encodeFrame(bytes(2)), encodeLength(11), new Uint8Array(11)])
    expect(codeOf(() => { for (const f of d.decode(chunk)) seen.push(f) })).toBe('E_FRAME_TOO_LARGE')
    expect(seen).toEqual([bytes(1), bytes(2)])
    expect(codeOf(() => d.push(encodeFrame(bytes(3))))).toBe('E_FRAME_TOO_LARGE')
  })
})
