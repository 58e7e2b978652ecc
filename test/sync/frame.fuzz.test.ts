import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuraError } from '../../crdt/errors.js'
import { encodeFrame, FrameDecoder } from '../../node/sync/frame.js'

interface Outcome { frames: Uint8Array[], error: string | null }

// Feeds `wire` in the pieces the cut points make, collecting frames until the first error.
function decodeInPieces (wire: Uint8Array, cuts: number[], maxFrameBytes: number): Outcome {
  const d = new FrameDecoder({ maxFrameBytes })
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y)
  const frames: Uint8Array[] = []
  let from = 0
  try {
    for (const to of [...points, wire.length]) {
      for (const f of d.decode(wire.subarray(from, to))) frames.push(f)
      from = to
    }
  } catch (err) {
    // Anything but an AuraError is a bug in the decoder.
    if (!(err instanceof AuraError)) throw err
    return { frames, error: err.code }
  }
  return { frames, error: null }
}

const cuts = fc.array(fc.nat(), { maxLength: 20 })
const limit = fc.integer({ min: 1, max: 2000 })

describe('FrameDecoder properties', () => {
  it('round-trips any frames however the stream is split', () => {
    const frame = fc.oneof(
      { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 16_000, maxLength: 70_000 }) }
    )
    fc.assert(fc.property(fc.array(frame, { maxLength: 12 }), cuts, (frames, cutPoints) => {
      const max = 70_000
      const wire = Buffer.concat(frames.map((f) => encodeFrame(f, max)))
      const out = decodeInPieces(wire, cutPoints, max)
      expect(out.error).toBeNull()
      expect(out.frames.length).toBe(frames.length)
      // Buffer.equals: deep-equality on 70 kB arrays would dominate the run time.
      out.frames.forEach((f, i) => expect(Buffer.from(f).equals(frames[i])).toBe(true))
    }), { numRuns: 300 })
  })

  it('on random bytes throws only AuraErrors, never yields a frame over the limit, and ignores chunking', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3000, size: 'large' }), cuts, limit, (wire, cutPoints, max) => {
      const whole = decodeInPieces(wire, [], max)
      const pieces = decodeInPieces(wire, cutPoints, max)
      for (const f of pieces.frames) expect(f.length).toBeLessThanOrEqual(max)
      expect(pieces).toEqual(whole)
      if (whole.error !== null) expect(['E_FRAME_TOO_LARGE', 'E_MALFORMED']).toContain(whole.error)
    }), { numRuns: 2000 })
  })

  it('on mutated valid streams behaves the same', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) })
    )
    const frames = fc.array(fc.uint8Array({ maxLength: 400 }), { minLength: 1, maxLength: 8 })
    fc.assert(fc.property(frames, fc.array(
      mutation,
      { minLength: 1, maxLength: 4 }
    ), cuts, limit, (fs, muts, cutPoints, max) => {
      const bytes = [...Buffer.concat(fs.map((f) => encodeFrame(f, 400)))]
      for (const m of muts) {
        const at = m.at % (bytes.length + 1)
        if (m.op === 'flip' && at < bytes.length) bytes[at] = m.value
        if (m.op === 'insert') bytes.splice(at, 0, m.value)
        if (m.op === 'delete' && at < bytes.length) bytes.splice(at, 1)
      }
      const wire = Uint8Array.from(bytes)
      const pieces = decodeInPieces(wire, cutPoints, max)
      for (const f of pieces.frames) expect(f.length).toBeLessThanOrEqual(max)
      expect(pieces).toEqual(decodeInPieces(wire, [], max))
    }), { numRuns: 2000 })
  })
})
