/**
 * The peer core's admission at connect (node/peer/admission.ts): the rule the daemon's libp2p
 * gater and the simulator's dials both ask, driven here with a hand-moved clock.
 */
import { describe, expect, it } from 'vitest'
import { TELL_INTERVAL_MS } from '../../node/peer/index.js'
import { peerHarness } from './harness.js'

describe('peer core: admission at connect', () => {
  it('admits a member and refuses nobody while the node has no team', () => {
    const h = peerHarness(['alice'])
    expect(h.peer.gate(h.id('alice'), 'inbound')).toBeNull()
    expect(h.peer.admitted(h.id('alice'))).toBe(true)
    const fresh = peerHarness(['alice'], { noTeam: true })
    for (let i = 0; i < 3; i++) expect(fresh.peer.gate(fresh.id('stranger'), 'inbound')).toBeNull()
    expect(fresh.peer.admitted(fresh.id('alice'))).toBe(false)
  })

  it('lets a revoked key through once per 30 s to be told why, and refuses it otherwise', () => {
    const h = peerHarness(['alice', 'mallory'])
    h.revoke('mallory')
    const mallory = h.id('mallory')
    expect(h.peer.gate(mallory, 'inbound')).toBeNull()
    expect(h.peer.gate(mallory, 'inbound')?.code).toBe('E_REVOKED')
    expect(h.peer.gate(mallory, 'outbound')?.code).toBe('E_REVOKED')
    h.clock.now += TELL_INTERVAL_MS
    expect(h.peer.gate(mallory, 'inbound')?.code).toBe('E_REVOKED')
    h.clock.now += 1
    expect(h.peer.gate(mallory, 'inbound')).toBeNull()
    expect(h.peer.gate(mallory, 'inbound')?.code).toBe('E_REVOKED')
    // The allowance is only for telling: relaying and address records stay strict.
    expect(h.peer.admitted(mallory)).toBe(false)
  })

  it('refuses a key the chain never admitted, except on the Mothership (it may come to join)', () => {
    const peer = peerHarness(['alice'])
    const stranger = peer.id('stranger')
    expect(peer.peer.gate(stranger, 'inbound')).toBeNull()
    expect(peer.peer.gate(stranger, 'inbound')?.code).toBe('E_NOT_ADMITTED')
    const ms = peerHarness(['alice', 'mallory'], { isMothership: true })
    for (let i = 0; i < 3; i++) expect(ms.peer.gate(ms.id('stranger'), 'inbound')).toBeNull()
    expect(ms.peer.admitted(ms.id('stranger'))).toBe(false)
    ms.revoke('mallory')
    ms.peer.gate(ms.id('mallory'), 'inbound')
    expect(ms.peer.gate(ms.id('mallory'), 'inbound')?.code).toBe('E_REVOKED')
  })

  it('keeps one allowance per key', () => {
    const h = peerHarness(['alice', 'mallory', 'trudy'])
    h.revoke('mallory')
    h.revoke('trudy')
    expect(h.peer.gate(h.id('mallory'), 'inbound')).toBeNull()
    expect(h.peer.gate(h.id('trudy'), 'inbound')).toBeNull()
    expect(h.peer.gate(h.id('mallory'), 'inbound')?.code).toBe('E_REVOKED')
  })
})
