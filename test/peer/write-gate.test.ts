/**
 * The local write gate's first rule (node/peer/write-gate.ts), as the write path both the
 * daemon and the simulator run asks it (node/peer/writer.ts): a revoked key signs nothing, a
 * lockdown lets only receipts.
 */
import { describe, expect, it } from 'vitest'
import { writeRefusal } from '../../node/peer/index.js'
import { peerHarness } from './harness.js'

describe('peer core: the local write gate', () => {
  it('lets a member write before it belongs to a team and while it is admitted', () => {
    const solo = peerHarness(['self'], { noTeam: true })
    expect(writeRefusal(null, solo.id('self'), 'intent')).toBeNull()
    const h = peerHarness(['self'])
    expect(writeRefusal(h.chain, h.id('self'), 'intent')).toBeNull()
  })

  it('refuses every kind once this node is revoked, and says why', () => {
    const h = peerHarness(['self'])
    h.revoke('self', 'laptop theft')
    for (const kind of ['intent', 'receipt', 'zone'] as const) {
      const err = writeRefusal(h.chain, h.id('self'), kind)
      expect(err?.code).toBe('E_REVOKED')
      expect(err?.message).toContain('laptop theft')
    }
  })

  it('refuses all but receipts during a lockdown; a revoked key not even receipts', () => {
    const h = peerHarness(['self', 'alice'], { isMothership: true })
    h.appendLocally()
    expect(writeRefusal(h.chain, h.id('self'), 'intent')?.code).toBe('E_LOCKDOWN')
    expect(writeRefusal(h.chain, h.id('self'), 'receipt')).toBeNull()
    h.revoke('alice')
    expect(writeRefusal(h.chain, h.id('alice'), 'receipt')?.code).toBe('E_REVOKED')
  })
})
