// A key that is no member learns nothing of the team from a sync session: no hello (no head,
// no beacon, no team name) until its own hello shows a longer chain, and a refusal that names
// no team.
import { describe, expect, it } from 'vitest'
import { keyNamed, settle, TestTeam } from './engine-fixture.js'

describe('SyncEngine: a stranger', () => {
  it('hears nothing of the team before its hello, then only E_NOT_ADMITTED without the team name', async () => {
    const team = new TestTeam(['alice'])
    const alice = team.node('alice')
    team.ms.beacon()
    const mallory = team.node('mallory')
    const w = team.connect(alice, mallory)
    await settle()
    // mallory holds the same chain, so alice is a member to her and her hello went out at once.
    expect(w.bToA.map((m) => m.t)).toContain('hello')
    expect(w.aToB).toEqual([])
    expect(w.closedA?.code ?? w.closedB?.code).toBe('E_NOT_ADMITTED')
    expect(w.closedB?.message).not.toContain('acme')
  })

  it('still answers a key whose hello shows a longer chain (its own admission may be there)', async () => {
    const team = new TestTeam(['alice'])
    const alice = team.node('alice')
    team.ms.admit('carol', keyNamed('carol'))
    const carol = team.node('carol')
    const w = team.connect(alice, carol)
    await settle()
    expect(w.aToB.map((m) => m.t)).toContain('hello')
    expect([w.closedA, w.closedB]).toEqual([null, null])
    expect(alice.chain.member(carol.id)).toBeDefined()
    const c1 = carol.write('hello from carol')
    await settle()
    expect(alice.holds(c1)).toBe(true)
  })
})
