/**
 * The peer core applying a revocation (node/peer/revocation.ts): once the engine closed the
 * sessions (test/sync), every connection with the key is hung up with E_REVOKED and the reason,
 * then its addresses are forgotten; when each took effect is kept.
 */
import { describe, expect, it } from 'vitest'
import { peerHarness } from './harness.js'

describe('peer core: applying a revocation', () => {
  it('hangs up, then forgets the key', () => {
    const h = peerHarness(['alice', 'mallory'])
    h.revoke('mallory', 'laptop theft')
    h.peer.revoked([h.id('mallory')])
    expect(h.calls).toEqual(['hangUp mallory E_REVOKED', 'forget mallory'])
  })

  it('tells the revoked key the reason', () => {
    const h = peerHarness(['alice', 'mallory'])
    h.revoke('mallory', 'laptop theft')
    h.peer.revoked([h.id('mallory')])
    expect(h.hungUp.map((e) => [e.message, e.context.reason])).toEqual([[expect.stringContaining('are revoked: laptop theft'), 'laptop theft']])
  })

  it('records when it took effect and when the connections were closed', async () => {
    const h = peerHarness(['alice', 'mallory'])
    h.revoke('mallory')
    const at = h.clock.now
    h.peer.revoked([h.id('mallory')])
    expect(h.peer.revocations()).toEqual([{ key: h.id('mallory'), appliedAt: at, closedAt: null }])
    h.clock.now += 40
    h.finishHangUps()
    await new Promise((resolve) => setImmediate(resolve))
    expect(h.peer.revocations()[0].closedAt).toBe(at + 40)
  })

  it('the gate refuses the key from then on', () => {
    const h = peerHarness(['alice', 'mallory'])
    h.peer.gate(h.id('mallory'), 'inbound')
    h.revoke('mallory')
    h.peer.revoked([h.id('mallory')])
    h.peer.gate(h.id('mallory'), 'inbound')
    expect(h.peer.gate(h.id('mallory'), 'inbound')?.code).toBe('E_REVOKED')
  })
})
