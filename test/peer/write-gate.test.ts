/**
 * The local write gate's first rule (node/peer/write-gate.ts), as the daemon's runtime and the
 * simulator's writers both ask it: a revoked key signs nothing, a lockdown lets only receipts.
 */
import { describe, expect, it } from 'vitest'
import { writeRefusal } from '../../node/peer/index.js'
import { peerHarness } from './harness.js'

describe('peer core: the local write gate', () => {
  it('lets a member write before it belongs to a team and while it is admitted', () => {
    expect(peerHarness(['self'], { noTeam: true }).peer.writeRefusal('intent')).toBeNull()
    expect(peerHarness(['self']).peer.writeRefusal('intent')).toBeNull()
  })

  it('refuses every kind once this node is revoked, and says why', () => {
    const h = peerHarness(['self'])
    h.revoke('self', 'laptop theft')
    for (const kind of ['intent', 'receipt', 'zone'] as const) {
      const err = h.peer.writeRefusal(kind)
      expect(err?.code).toBe('E_REVOKED')
      expect(err?.message).toContain('laptop theft')
    }
  })

  it('refuses all but receipts during a lockdown; a revoked key not even receipts', () => {
    const h = peerHarness(['self', 'alice'], { isMothership: true })
    h.appendLocally()
    expect(h.peer.writeRefusal('intent')?.code).toBe('E_LOCKDOWN')
    expect(h.peer.writeRefusal('receipt')).toBeNull()
    h.revoke('alice')
    expect(writeRefusal(h.chain, h.id('alice'), 'receipt')?.code).toBe('E_REVOKED')
  })
})
