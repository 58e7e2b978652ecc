/**
 * The acceptance suite of the KV seam: every implementation (LevelKV, MemoryKV) must pass it.
 *
 * @example
 * kvAcceptance('MemoryKV', async () => ({ kv: new MemoryKV(), cleanup: async () => {} }))
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KV, KVRange } from '../../node/store/kv.js'

/** What a factory gives the suite: a fresh empty store, how to reopen it (if durable), how to clean up. */
export interface KVHarness {
  kv: KV
  /** Closes and reopens the same store; absent for stores that do not persist. */
  reopen?: () => Promise<KV>
  cleanup: () => Promise<void>
}

const enc = new TextEncoder()
const b = (s: string): Uint8Array => enc.encode(s)
const text = (v: Uint8Array | undefined): string | undefined => v === undefined
  ? undefined
  : new TextDecoder().decode(v)

async function collect (kv: KV, range?: KVRange): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  for await (const [k, v] of kv.iterator(range)) out.push([k, new TextDecoder().decode(v)])
  return out
}

async function keys (kv: KV, range?: KVRange): Promise<string[]> {
  return (await collect(kv, range)).map(([k]) => k)
}

/** Runs the whole contract against one implementation. */
export function kvAcceptance (name: string, make: () => Promise<KVHarness>): void {
  describe(`KV acceptance: ${name}`, () => {
    let h: KVHarness
    let kv: KV
    beforeEach(async () => { h = await make(); kv = h.kv })
    afterEach(async () => { await h.cleanup() })

    it('returns undefined for a missing key', async () => {
      expect(await kv.get('nope')).toBeUndefined()
    })

    it('round-trips every byte value, and the empty value', async () => {
      const all = new Uint8Array(256).map((_, i) => i)
      await kv.put('bin', all)
      await kv.put('empty', new Uint8Array(0))
      expect(Array.from(await kv.get('bin') ?? [])).toEqual(Array.from(all))
      const empty = await kv.get('empty')
      expect(empty).toBeInstanceOf(Uint8Array)
      expect(empty?.length).toBe(0)
    })

    it('overwrites and deletes; deleting a missing key is fine', async () => {
      await kv.put('k', b('1'))
      await kv.put('k', b('2'))
      expect(text(await kv.get('k'))).toBe('2')
      await kv.del('k')
      expect(await kv.get('k')).toBeUndefined()
      await kv.del('never-there')
    })

    it('does not share buffers with callers', async () => {
      const v = b('abc')
      await kv.put('k', v)
      v[0] = 0x7a
      const got = await kv.get('k')
      expect(text(got)).toBe('abc')
      got![1] = 0x7a
      expect(text(await kv.get('k'))).toBe('abc')
      for await (const [, value] of kv.iterator()) value[2] = 0x7a
      expect(text(await kv.get('k'))).toBe('abc')
    })

    it('applies a batch in order', async () => {
      await kv.put('gone', b('x'))
      await kv.batch([
        { type: 'put', key: 'a', value: b('1') },
        { type: 'del', key: 'a' },
        { type: 'del', key: 'b' },
        { type: 'put', key: 'b', value: b('2') },
        { type: 'put', key: 'c', value: b('3') },
        { type: 'put', key: 'c', value: b('4') },
        { type: 'del', key: 'gone' }
      ])
      expect(await collect(kv)).toEqual([['b', '2'], ['c', '4']])
      await kv.batch([])
      expect(await keys(kv)).toEqual(['b', 'c'])
    })

    it('rejects a batch with a bad key and applies none of it', async () => {
      await expect(kv.batch([
        { type: 'put', key: 'ok', value: b('1') },
        { type: 'put', key: '', value: b('2') }
      ])).rejects.toMatchObject({ code: 'E_MALFORMED' })
      expect(await kv.get('ok')).toBeUndefined()
    })

    it('orders keys by UTF-8 bytes, not UTF-16 units', async () => {
      const ks = ['~', 'a', 'a/', 'a/b', 'ab', 'B', '\u00e9', '\uff01', '\u{1f600}', '0']
      for (const k of ks) await kv.put(k, b(k))
      const byBytes = [...ks].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))
      expect(await keys(kv)).toEqual(byBytes)
      // The two orders really differ on these keys, so the check above means something.
      expect([...ks].sort()).not.toEqual(byBytes)
    })

    describe('ranges', () => {
      beforeEach(async () => {
        await kv.batch(['rec/a', 'rec/a/1', 'rec/a/2', 'rec/ab', 'rec/b/1', 'rec0', 'reb', 'x'].map((key) => ({ type: 'put' as const, key, value: b(key) })))
      })

      it('selects a prefix exactly', async () => {
        expect(await keys(kv, { prefix: 'rec/a/' })).toEqual(['rec/a/1', 'rec/a/2'])
        expect(await keys(kv, { prefix: 'rec/' })).toEqual(['rec/a', 'rec/a/1', 'rec/a/2', 'rec/ab', 'rec/b/1'])
        expect(await keys(kv, { prefix: 'zzz' })).toEqual([])
      })

      it('honours inclusive and exclusive bounds', async () => {
        expect(await keys(kv, { gte: 'rec/a/1', lte: 'rec/ab' })).toEqual(['rec/a/1', 'rec/a/2', 'rec/ab'])
        expect(await keys(kv, { gt: 'rec/a/1', lt: 'rec/ab' })).toEqual(['rec/a/2'])
        expect(await keys(kv, { gt: 'rec0' })).toEqual(['x'])
        expect(await keys(kv, { lt: 'rec/' })).toEqual(['reb'])
        expect(await keys(kv, { gt: 'x', lt: 'a' })).toEqual([])
        expect(await keys(kv, { gt: 'rec/a', lt: 'rec/a' })).toEqual([])
      })

      it('intersects a prefix with bounds', async () => {
        expect(await keys(kv, { prefix: 'rec/', gt: 'rec/a/1', lt: 'rec/b' })).toEqual(['rec/a/2', 'rec/ab'])
        expect(await keys(kv, { prefix: 'rec/', gte: 'a', lte: 'z' })).toEqual(['rec/a', 'rec/a/1', 'rec/a/2', 'rec/ab', 'rec/b/1'])
      })

      it('walks in reverse and honours limit', async () => {
        expect(await keys(kv, { prefix: 'rec/a', reverse: true })).toEqual(['rec/ab', 'rec/a/2', 'rec/a/1', 'rec/a'])
        expect(await keys(kv, { prefix: 'rec/', reverse: true, limit: 1 })).toEqual(['rec/b/1'])
        expect(await keys(kv, { prefix: 'rec/', limit: 2 })).toEqual(['rec/a', 'rec/a/1'])
        expect(await keys(kv, { limit: 0 })).toEqual([])
      })
    })

    it('iterates a snapshot taken when the iterator was created', async () => {
      await kv.put('k1', b('old'))
      await kv.put('k3', b('3'))
      const it = kv.iterator()
      await kv.put('k1', b('new'))
      await kv.put('k2', b('2'))
      await kv.del('k3')
      const seen: Array<[string, string]> = []
      for await (const [k, v] of it) seen.push([k, text(v)!])
      expect(seen).toEqual([['k1', 'old'], ['k3', '3']])
    })

    it('iterates many entries and survives an early break', async () => {
      const n = 1000
      await kv.batch(Array.from({ length: n }, (_, i) => ({ type: 'put' as const, key: `n/${String(i).padStart(4, '0')}`, value: b(String(i)) })))
      let count = 0
      for await (const [k] of kv.iterator({ prefix: 'n/' })) {
        expect(k).toBe(`n/${String(count).padStart(4, '0')}`)
        count++
      }
      expect(count).toBe(n)
      for await (const [k] of kv.iterator({ prefix: 'n/' })) { expect(k).toBe('n/0000'); break }
      expect(text(await kv.get('n/0999'))).toBe('999')
    })

    it('lands every one of many concurrent batches', async () => {
      await Promise.all(Array.from({ length: 50 }, async (_, i) => await kv.batch([
        { type: 'put', key: `c/${String(i).padStart(2, '0')}/a`, value: b('a') },
        { type: 'put', key: `c/${String(i).padStart(2, '0')}/b`, value: b('b') }
      ])))
      expect((await keys(kv, { prefix: 'c/' })).length).toBe(100)
    })

    it('rejects use after close, and close is idempotent', async () => {
      await kv.put('k', b('v'))
      await kv.close()
      await kv.close()
      await expect(kv.get('k')).rejects.toMatchObject({ code: 'E_INTERNAL' })
      await expect(kv.put('k', b('v'))).rejects.toMatchObject({ code: 'E_INTERNAL' })
      await expect(kv.batch([])).rejects.toMatchObject({ code: 'E_INTERNAL' })
      await expect((async () => { for await (const _ of kv.iterator()) break })()).rejects.toMatchObject({ code: 'E_INTERNAL' })
    })

    it('keeps its data across close and reopen (durable stores)', async () => {
      if (h.reopen === undefined) {
        expect(name).toMatch(/memory/i)
        return
      }
      await kv.batch([{ type: 'put', key: 'p/1', value: b('one') }, { type: 'put', key: 'p/2', value: b('two') }])
      await kv.del('p/1')
      kv = await h.reopen()
      expect(await collect(kv)).toEqual([['p/2', 'two']])
    })
  })
}
