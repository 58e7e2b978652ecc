import { describe, expect, it } from 'vitest'
import { type AuraError, RevokedError } from '../../crdt/errors.js'
import { type KeyId, keyIdOf } from '../../crdt/ids.js'
import { memoryLinkPair } from '../../node/sync/memory-link.js'
import type { Link } from '../../node/sync/link.js'
import { describeLinkSuite } from './link-acceptance.js'

const alice = keyIdOf(Uint8Array.of(1)) as KeyId
const bob = keyIdOf(Uint8Array.of(2)) as KeyId

describeLinkSuite('memory pair', async ({ maxFrameBytes }) => {
  const [a, b] = memoryLinkPair(alice, bob, { maxFrameBytes })
  return { a, b, cleanup: async () => { a.close(); b.close() } }
})

// A scheduler the test drives by hand: nothing moves until flush().
function manual (order: 'fifo' | 'lifo' = 'fifo') {
  const tasks: Array<() => void> = []
  return {
    schedule: (t: () => void) => { tasks.push(t) },
    pending: () => tasks.length,
    flush: () => {
      for (let guard = 0; tasks.length > 0 && guard < 100_000; guard++) {
        const t = order === 'fifo' ? tasks.shift() : tasks.pop()
        t?.()
      }
    }
  }
}

describe('memory link pair specifics', () => {
  it('moves nothing until the scheduler runs, so a simulator controls time', () => {
    const s = manual()
    const [a, b] = memoryLinkPair(alice, bob, { schedule: s.schedule })
    const got: Uint8Array[] = []
    b.onFrame = (f) => { got.push(f) }
    a.send(Uint8Array.of(1))
    a.send(Uint8Array.of(2))
    expect(got).toEqual([])
    expect(s.pending()).toBe(2)
    s.flush()
    expect(got).toEqual([Uint8Array.of(1), Uint8Array.of(2)])
  })

  it('keeps order even when the scheduler runs tasks newest first', () => {
    const s = manual('lifo')
    const [a, b] = memoryLinkPair(alice, bob, { schedule: s.schedule })
    const got: number[] = []
    let reason: AuraError | undefined
    b.onFrame = (f) => { got.push(f[0]) }
    b.onClose = (r) => { reason = r }
    for (let i = 0; i < 50; i++) a.send(Uint8Array.of(i))
    a.close(new RevokedError('revoked'))
    s.flush()
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(reason?.code).toBe('E_REVOKED')
  })

  it('tells onProtocolError which end refused an oversized frame', () => {
    const s = manual()
    const seen: Array<[string, Link]> = []
    const [a, b] = memoryLinkPair(
      alice,
      bob,
      {
        schedule: s.schedule,
        maxFrameBytes: [100, 10],
        onProtocolError: (err, link) => { seen.push([err.code, link]) }
      }
    )
    a.send(new Uint8Array(11))
    s.flush()
    expect(seen).toEqual([['E_FRAME_TOO_LARGE', b]])
    expect(a.closed && b.closed).toBe(true)
  })

  it('is deterministic: the same script gives the same trace', () => {
    const run = (): string[] => {
      const s = manual()
      const trace: string[] = []
      const [a, b] = memoryLinkPair(alice, bob, { schedule: s.schedule })
      a.onFrame = (f) => { trace.push(`a<${f[0]}`); if (f[0] < 5) a.send(Uint8Array.of(f[0] + 1)) }
      b.onFrame = (f) => { trace.push(`b<${f[0]}`); b.send(Uint8Array.of(f[0] + 1)) }
      a.onClose = (r) => { trace.push(`a closed ${r?.code}`) }
      b.onClose = (r) => { trace.push(`b closed ${r?.code}`) }
      a.send(Uint8Array.of(0))
      s.flush()
      a.close(new RevokedError('done'))
      s.flush()
      return trace
    }
    const first = run()
    expect(first).toEqual(['b<0', 'a<1', 'b<2', 'a<3', 'b<4', 'a<5', 'a closed E_REVOKED', 'b closed E_REVOKED'])
    expect(run()).toEqual(first)
  })
})
