// The local write gate on a real node (level store, real runtime): what `aura` refuses to sign is
// exactly what peers would quarantine. A reader agent cannot write an intent (E_CAPABILITY), an
// expired credential cannot either, a member past its quota is refused before signing (E_QUOTA),
// and the records the gate lets through are all effective in the node's own view.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { effectiveView } from '../../crdt/effective-view.js'
import { issueAgent, loadAgentKey, enforceAgentWrite } from '../../node/agents/agents.js'
import { initHome } from '../../node/home.js'
import { mothershipInit } from '../../node/mothership/mothership.js'
import { NodeRuntime } from '../../node/runtime.js'

const homes: string[] = []
const runtimes: NodeRuntime[] = []
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.close()
  for (const h of homes.splice(0)) await rm(h, { recursive: true, force: true })
})

async function team (flags: Record<string, unknown> = {}, clock?: () => number): Promise<NodeRuntime> {
  const home = await mkdtemp(join(tmpdir(), 'aura-gate-'))
  homes.push(home)
  await initHome(home)
  const rt = await NodeRuntime.open(home, { flags, clock })
  runtimes.push(rt)
  await mothershipInit(rt, { team: 'acme', user: 'ops' })
  return rt
}

describe('the local write gate', () => {
  it('a reader agent may not sign an intent; an agent-role one may', async () => {
    const rt = await team()
    await issueAgent(rt, { name: 'watcher', role: 'reader' })
    await issueAgent(rt, { name: 'claude', role: 'agent' })
    const watcher = rt.requireChain().agents().find((a) => a.name === 'watcher')!
    const claude = rt.requireChain().agents().find((a) => a.name === 'claude')!
    await expect(enforceAgentWrite(rt, watcher, 'intent')).rejects.toMatchObject({ code: 'E_CAPABILITY' })
    await expect(rt.appendRecord({ kind: 'intent', text: 'x' }, await loadAgentKey(rt, watcher))).rejects.toMatchObject({ code: 'E_CAPABILITY' })
    await expect(enforceAgentWrite(rt, claude, 'rewind')).rejects.toMatchObject({ code: 'E_CAPABILITY' })
    const ok = await rt.appendRecord({ kind: 'intent', text: 'fine' }, await loadAgentKey(rt, claude))
    expect(effectiveView(rt.store.intent.log.records(), rt.requireChain()).effective.has(ok.id)).toBe(true)
  })

  it('an expired credential signs nothing', async () => {
    let now = Date.now()
    const rt = await team({}, () => now)
    await issueAgent(rt, { name: 'claude', role: 'agent', ttl: '60' })
    const claude = rt.requireChain().agents().find((a) => a.name === 'claude')!
    const key = await loadAgentKey(rt, claude)
    await rt.appendRecord({ kind: 'intent', text: 'in time' }, key)
    now += 61_000
    await expect(rt.appendRecord({ kind: 'intent', text: 'too late' }, key)).rejects.toMatchObject({ code: 'E_CAPABILITY' })
  })

  it('past the quota the writer refuses with E_QUOTA before signing; what it signed is all effective', async () => {
    const rt = await team({ 'quotas.records_per_hour': 5, 'quotas.max_record_bytes': 65536 })
    expect(rt.requireChain().quotas.records_per_hour).toBe(5)
    const before = rt.store.intent.log.size
    let refused = 0
    for (let i = 0; i < 7; i++) await rt.appendRecord({ kind: 'intent', text: `${i}` }).catch((err) => { expect(err.code).toBe('E_QUOTA'); refused++ })
    await expect(rt.appendRecord({ kind: 'intent', text: 'y'.repeat(70_000) })).rejects.toMatchObject({ code: 'E_QUOTA' })
    expect(refused).toBe(7 - 5)
    expect(rt.store.intent.log.size - before).toBe(5)
    const view = effectiveView(rt.store.intent.log.records(), rt.requireChain())
    expect(view.quarantined.size).toBe(0)
  })

  it('an agent credential\'s max_commits_per_hour narrows the team quota', async () => {
    const rt = await team()
    await issueAgent(rt, { name: 'claude', role: 'agent', maxCommitsPerHour: 2 })
    const claude = rt.requireChain().agents().find((a) => a.name === 'claude')!
    const key = await loadAgentKey(rt, claude)
    await rt.appendRecord({ kind: 'intent', text: '1' }, key)
    await rt.appendRecord({ kind: 'intent', text: '2' }, key)
    await expect(enforceAgentWrite(rt, claude, 'intent')).rejects.toMatchObject({ code: 'E_QUOTA' })
    await expect(rt.appendRecord({ kind: 'intent', text: '3' }, key)).rejects.toMatchObject({ code: 'E_QUOTA' })
  })

  it('a clock that steps back does not make the node\'s own records backdated', async () => {
    let now = Date.now()
    const rt = await team({}, () => now)
    await rt.appendRecord({ kind: 'intent', text: 'now' })
    now -= 60_000
    await rt.appendRecord({ kind: 'intent', text: 'after the clock stepped back' })
    const view = effectiveView(rt.store.intent.log.records(), rt.requireChain())
    expect(view.quarantined.size).toBe(0)
  })
})
