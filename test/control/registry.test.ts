// The operation registry at a real daemon's control socket (node/operation.ts): a parameter of
// the wrong type, a missing one, or an unknown key is E_USAGE naming it and changes nothing; an
// unknown operation is E_USAGE with the nearest name. Without a daemon, the same checks run, and
// an operation that needs the daemon says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runOperation } from '../../node/operations.js'
import type { NodeRuntime } from '../../node/runtime.js'
import { Team } from '../containment/helpers.js'

describe('the operation registry at a running daemon\'s control socket', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({ peers: [] })
  }, 420_000)

  afterAll(async () => { await team?.close() }, 60_000)

  const refused = async (method: string, params: Record<string, unknown>): Promise<any> => {
    const err = await team.control('mothership', method, params).then(() => null, (e) => e)
    expect(err?.code, `${method} ${JSON.stringify(params)} was not refused`).toBe('E_USAGE')
    return err
  }
  // What a refused call must not have changed: the chain, the records, the lockdown.
  const state = async (): Promise<unknown> => {
    const s = await team.control('mothership', 'status')
    return { authority: s.authority, records: s.records.total, lockdown: s.lockdown }
  }

  it('a parameter of the wrong type is E_USAGE naming it, and changes nothing', async () => {
    const before = await state()
    const lock = await refused('lockdown', { reason: 42 })
    expect(lock.message).toContain('\'reason\'')
    expect(lock.context).toMatchObject({ operation: 'lockdown', param: 'reason' })
    expect((await refused('log-intent', { text: ['drop', 'tables'] })).context.param).toBe('text')
    expect((await refused('issue-peer', { user: 'mallory', role: 'contributor', reusable: 'yes' })).context.param).toBe('reusable')
    expect((await refused('lockdown', {})).message).toContain('missing parameter \'reason\'')
    expect(await state()).toEqual(before)
  })

  it('an unknown key is refused with the nearest one, never ignored', async () => {
    const before = await state()
    const err = await refused('log-intent', { text: 'fine', txt: 'typo' })
    expect(err.message).toContain('unknown parameter \'txt\' (did you mean \'text\'?)')
    expect(err.context.param).toBe('txt')
    await refused('lockdown', { reason: 'drill', force: true })
    expect(await state()).toEqual(before)
  })

  it('an unknown operation is E_USAGE with the nearest name', async () => {
    const err = await refused('lockdwn', { reason: 'drill' })
    expect(err.message).toContain('did you mean \'lockdown\'')
    expect(await state()).toMatchObject({ lockdown: { locked: false } })
  })

  it('a good call still goes through, and the daemon-only operations answer', async () => {
    const before = await state() as { records: number }
    await team.control('mothership', 'log-intent', { text: 'registry check' })
    expect(await state()).toMatchObject({ records: before.records + 1 })
    expect(await team.control('mothership', 'ping')).toMatchObject({ ok: true })
    expect(await team.control('mothership', 'revocations')).toEqual([])
    await refused('revocations', { all: true })
  })
})

describe('the operation registry without a daemon', () => {
  // Nothing is read from the node before the name and the parameters are checked.
  const rt = {} as unknown as NodeRuntime
  const code = async (name: string, params: unknown): Promise<string> => await runOperation(name, params, { rt }).then(() => 'ok', (e) => e.code)

  it('checks the same way, and an operation that needs the daemon says so', async () => {
    expect(await code('lockdown', { reason: 42 })).toBe('E_USAGE')
    expect(await code('lockdown', null)).toBe('E_USAGE')
    expect(await code('log-intent', { text: 'x', txt: 'y' })).toBe('E_USAGE')
    expect(await runOperation('trac', {}, { rt }).catch((e) => e.message)).toContain('did you mean \'trace\'')
    expect(await code('revocations', {})).toBe('E_DAEMON_UNREACHABLE')
    expect(await code('stop', {})).toBe('E_DAEMON_UNREACHABLE')
  })
})
