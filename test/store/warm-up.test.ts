// A daemon's background warm-up on a real node (level store, real runtime): after a restart,
// `warmUp` hands every record read back from the store to the signature batches, keeps their
// answers (the effective view then judges by them, and checks nothing twice), and stops when the
// runtime closes.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { SignatureBatch, SignatureCheck } from '../../crdt/record.js'
import { initHome } from '../../node/home.js'
import { mothershipInit } from '../../node/mothership/mothership.js'
import { NodeRuntime } from '../../node/runtime.js'

const homes: string[] = []
const runtimes: NodeRuntime[] = []
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.close()
  for (const h of homes.splice(0)) await rm(h, { recursive: true, force: true })
})

/** A home with a team and `n` intents, closed and opened again (its records come from disk). */
async function reopened (n: number): Promise<NodeRuntime> {
  const home = await mkdtemp(join(tmpdir(), 'aura-warm-'))
  homes.push(home)
  await initHome(home)
  const first = await NodeRuntime.open(home)
  await mothershipInit(first, { team: 'acme', user: 'ops' })
  for (let i = 0; i < n; i++) await first.appendRecord({ kind: 'intent', text: `intent ${i}` })
  await first.close()
  const rt = await NodeRuntime.open(home)
  runtimes.push(rt)
  return rt
}

/** Batches that answer `answer` and count what they were handed. */
function counting (answer: boolean): { make: () => SignatureBatch, checks: SignatureCheck[], batches: number } {
  const checks: SignatureCheck[] = []
  const out = {
    checks,
    batches: 0,
    make: (): SignatureBatch => {
      const mine: SignatureCheck[] = []
      out.batches++
      return { add: (c) => { mine.push(c); checks.push(c) }, finish: () => mine.map(() => answer) }
    }
  }
  return out
}

describe('the warm-up after a start', () => {
  it('checks every record read from disk once, in chunks, and the view keeps the answers', async () => {
    const rt = await reopened(25)
    const held = rt.store.intent.log.size
    const batches = counting(false)
    expect(await rt.warmUp(batches.make, 10)).toBe(true)
    expect(batches.checks.length).toBe(held)
    expect(batches.batches).toBe(Math.ceil(held / 10))
    // The batches said no: the view judges by their answers, so every record is bad_signature.
    const view = rt.effectiveView()!
    expect(view.effective.size).toBe(0)
    expect(new Set([...view.quarantined.values()].map((q) => q.reason))).toEqual(new Set(['bad_signature']))
    const again = counting(true)
    await rt.warmUp(again.make, 10)
    expect(again.checks.length).toBe(0)
  })

  it('with honest answers the view is what it was before the restart', async () => {
    const rt = await reopened(5)
    await rt.warmUp(counting(true).make)
    expect(rt.effectiveView()!.effective.size).toBe(rt.store.intent.log.size)
  })

  it('a query can wait for it: warmedUp resolves when it is done, at once when none runs', async () => {
    const rt = await reopened(30)
    let done = false
    await rt.warmedUp()
    const warming = rt.warmUp(counting(true).make, 10)
    void rt.warmedUp().then(() => { done = true })
    await new Promise((resolve) => setImmediate(resolve))
    expect(done).toBe(false)
    await warming
    await new Promise((resolve) => setImmediate(resolve))
    expect(done).toBe(true)
  })

  it('stops when the runtime closes', async () => {
    const rt = await reopened(30)
    const batches = counting(true)
    const warming = rt.warmUp(batches.make, 10)
    await rt.close()
    runtimes.splice(runtimes.indexOf(rt), 1)
    expect(await warming).toBe(false)
    expect(batches.checks.length).toBeLessThan(30)
  })
})
