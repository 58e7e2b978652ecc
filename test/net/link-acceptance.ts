/**
 * The Link acceptance suite: one contract (node/sync/link-base.ts), checked against every
 * implementation. test/net/memory-link.test.ts runs it on the in-memory pair, and
 * test/net/link.test.ts on real libp2p hosts over 127.0.0.1.
 *
 * @example
 * describeLinkSuite('memory', async (opts) => {
 *   const [a, b] = memoryLinkPair(k1, k2, opts)
 *   return { a, b, cleanup: async () => {} }
 * })
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type AuraError, BadSignatureError, RevokedError, TimeoutError } from '../../crdt/errors.js'
import type { Link } from '../../node/sync/link.js'

/** What the suite asks of a pair: the largest frame each end accepts. */
export interface PairOptions {
  maxFrameBytes: readonly [number, number]
}

/** Two connected Links and how to tear them (and whatever carries them) down. */
export interface LinkPair {
  a: Link
  b: Link
  cleanup: () => Promise<void>
}

const MiB = 1024 * 1024
const DEFAULTS: PairOptions = { maxFrameBytes: [4 * MiB, 4 * MiB] }

interface Watched {
  frames: Uint8Array[]
  closed: Promise<AuraError | undefined>
  closeCalls: () => number
}

// Records what a link delivers; `closed` settles with the onClose reason.
function watch (link: Link): Watched {
  const frames: Uint8Array[] = []
  let calls = 0
  link.onFrame = (f) => { frames.push(f) }
  const closed = new Promise<AuraError | undefined>((resolve) => {
    link.onClose = (reason) => { calls++; resolve(reason) }
  })
  return { frames, closed, closeCalls: () => calls }
}

async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not happen within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function until (cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) throw new TimeoutError(`${what} did not happen within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

const settle = async (ms = 50): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

// A frame whose first four bytes are its index, the rest a pattern derived from it.
function numbered (i: number, size: number): Uint8Array {
  const f = new Uint8Array(size)
  new DataView(f.buffer).setUint32(0, i)
  for (let j = 4; j < size; j += 997) f[j] = (i + j) & 0xff
  return f
}

function indexOf (f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0)
}

/** Runs the Link contract against pairs made by `makePair`. */
export function describeLinkSuite (name: string, makePair: (opts: PairOptions) => Promise<LinkPair>): void {
  describe(`Link contract: ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = []
    const pair = async (opts: PairOptions = DEFAULTS): Promise<LinkPair> => {
      const p = await makePair(opts)
      cleanups.push(p.cleanup)
      return p
    }

    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map(async (c) => { await c() }))
    })

    it('connects the two keys to each other', async () => {
      const { a, b } = await pair()
      expect(a.remote).toBe(b.local)
      expect(b.remote).toBe(a.local)
      expect(a.closed || b.closed).toBe(false)
    })

    it('delivers many frames in order, both ways at once, never from inside send', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      let sending = false
      const previous = b.onFrame
      b.onFrame = (f) => { expect(sending).toBe(false); previous?.(f) }
      const n = 1000
      for (let i = 0; i < n; i++) {
        sending = true
        a.send(numbered(i, 8 + (i % 50)))
        b.send(numbered(n - i, 8))
        sending = false
      }
      await until(() => atB.frames.length === n && atA.frames.length === n, 10_000, 'delivery of 1000 frames')
      expect(atB.frames.map(indexOf)).toEqual(Array.from({ length: n }, (_, i) => i))
      expect(atA.frames.map(indexOf)).toEqual(Array.from({ length: n }, (_, i) => n - i))
      expect(atB.frames[7]).toEqual(numbered(7, 15))
    })

    it('carries empty frames and frames of exactly the maximum size', async () => {
      const { a, b } = await pair()
      const atB = watch(b)
      const big = numbered(1, 4 * MiB)
      a.send(new Uint8Array(0))
      a.send(big)
      a.send(numbered(2, MiB + 1))
      await until(() => atB.frames.length === 3, 10_000, 'three large frames')
      expect(atB.frames[0].length).toBe(0)
      expect(Buffer.from(atB.frames[1]).equals(big)).toBe(true)
      expect(atB.frames[2].length).toBe(MiB + 1)
    })

    it('copies on send: changing a buffer after sending it changes nothing', async () => {
      const { a, b } = await pair()
      const atB = watch(b)
      const f = Uint8Array.of(1, 2, 3)
      a.send(f)
      f[0] = 9
      await until(() => atB.frames.length === 1, 5000, 'one frame')
      expect(atB.frames[0]).toEqual(Uint8Array.of(1, 2, 3))
    })

    it('refuses to send a frame over its own maximum, and stays open', async () => {
      const { a, b } = await pair({ maxFrameBytes: [MiB, MiB] })
      const atB = watch(b)
      expect(() => a.send(new Uint8Array(MiB + 1))).toThrowError(expect.objectContaining({ code: 'E_FRAME_TOO_LARGE' }) as Error)
      a.send(Uint8Array.of(5))
      await until(() => atB.frames.length === 1, 5000, 'the next frame')
      expect(a.closed).toBe(false)
    })

    it('closes with E_FRAME_TOO_LARGE when a frame exceeds the receiver maximum, and the sender learns it', async () => {
      const { a, b } = await pair({ maxFrameBytes: [2 * MiB, MiB] })
      const atA = watch(a)
      const atB = watch(b)
      a.send(Uint8Array.of(1))
      a.send(new Uint8Array(MiB + MiB / 2))
      a.send(Uint8Array.of(3))
      const [reasonB, reasonA] = await within(Promise.all([atB.closed, atA.closed]), 10_000, 'both ends closing')
      expect(reasonB?.code).toBe('E_FRAME_TOO_LARGE')
      expect(reasonA?.code).toBe('E_FRAME_TOO_LARGE')
      expect(reasonA?.context.remote).toBe(true)
      expect(atB.frames).toEqual([Uint8Array.of(1)])
      expect(a.closed && b.closed).toBe(true)
    })

    it('enforces a receiver maximum smaller than an error frame', async () => {
      const { a, b } = await pair({ maxFrameBytes: [4096, 100] })
      const atA = watch(a)
      const atB = watch(b)
      a.send(new Uint8Array(100))
      a.send(new Uint8Array(101))
      const [reasonB, reasonA] = await within(Promise.all([atB.closed, atA.closed]), 10_000, 'both ends closing')
      expect(reasonB?.code).toBe('E_FRAME_TOO_LARGE')
      expect(reasonA?.code).toBe('E_FRAME_TOO_LARGE')
      expect(atB.frames.map((f) => f.length)).toEqual([100])
    })

    it('propagates the reason of a close, after the frames sent before it', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      a.send(Uint8Array.of(1))
      a.send(Uint8Array.of(2))
      const reason = new RevokedError('peer-5f3a is revoked', { peer: 'peer-5f3a' })
      a.close(reason)
      expect(a.closed).toBe(true)
      const got = await within(atB.closed, 5000, 'the remote close')
      expect(got?.code).toBe('E_REVOKED')
      expect(got?.message).toBe('peer-5f3a is revoked')
      expect(got?.context).toEqual({ remote: true })
      expect(atB.frames).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
      expect(await atA.closed).toBe(reason)
      expect(b.closed).toBe(true)
    })

    it('closes cleanly without a reason', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      a.close()
      expect(await within(atB.closed, 5000, 'the remote close')).toBeUndefined()
      expect(await atA.closed).toBeUndefined()
    })

    it('makes send after close a no-op on both ends, and reports the close exactly once', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      a.close(new RevokedError('gone'))
      a.close()
      expect(() => a.send(Uint8Array.of(1))).not.toThrow()
      await within(atB.closed, 5000, 'the remote close')
      expect(() => b.send(Uint8Array.of(2))).not.toThrow()
      b.close(new BadSignatureError('late'))
      await settle()
      expect(atA.frames).toEqual([])
      expect(atB.frames).toEqual([])
      expect(atA.closeCalls()).toBe(1)
      expect(atB.closeCalls()).toBe(1)
      expect((await atA.closed)?.code).toBe('E_REVOKED')
    })

    it('reports each end its own reason when both close at once', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      a.close(new RevokedError('a says'))
      b.close(new BadSignatureError('b says'))
      const [ra, rb] = await within(Promise.all([atA.closed, atB.closed]), 5000, 'both closes')
      expect(ra?.code).toBe('E_REVOKED')
      expect(rb?.code).toBe('E_BAD_SIGNATURE')
      await settle()
      expect(atA.closeCalls() + atB.closeCalls()).toBe(2)
    })

    it('holds frames that arrive before onFrame is set, and delivers them in order', async () => {
      const { a, b } = await pair()
      for (let i = 0; i < 3; i++) a.send(numbered(i, 4))
      a.close()
      await settle()
      const atB = watch(b)
      expect(await within(atB.closed, 5000, 'the held close')).toBeUndefined()
      expect(atB.frames.map(indexOf)).toEqual([0, 1, 2])
    })

    it('closes with the error a frame handler throws, and tells the peer its code', async () => {
      const { a, b } = await pair()
      const atA = watch(a)
      const atB = watch(b)
      b.onFrame = () => { throw new BadSignatureError('record 3 has a bad signature') }
      a.send(Uint8Array.of(1))
      a.send(Uint8Array.of(2))
      expect((await within(atB.closed, 5000, 'the local close'))?.code).toBe('E_BAD_SIGNATURE')
      expect((await within(atA.closed, 5000, 'the remote close'))?.code).toBe('E_BAD_SIGNATURE')
    })

    it('moves 2,000 frames of 64 KiB complete and in order (backpressure)', async () => {
      const { a, b } = await pair()
      const atB = watch(b)
      const n = 2000
      const size = 64 * 1024
      for (let i = 0; i < n; i++) a.send(numbered(i, size))
      await until(() => atB.frames.length === n, 60_000, `${n} frames of 64 KiB`)
      for (let i = 0; i < n; i++) {
        expect(indexOf(atB.frames[i])).toBe(i)
        expect(atB.frames[i].length).toBe(size)
      }
      expect(Buffer.from(atB.frames[n - 1]).equals(numbered(n - 1, size))).toBe(true)
      expect(a.closed || b.closed).toBe(false)
    }, 90_000)
  })
}
