/**
 * `aura sentinel send` / `aura sentinel inbox` through the CLI on a real home: messages between
 * agents are signed records; after `aura agent revoke`, the inbox shows what the revoked agent
 * told others and flags recipients still active, and the revoked agent can send no more.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'

describe('aura sentinel', () => {
  let dir: string
  let home: string
  const aura = async (args: string[]): Promise<{ code: number, out: any }> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd: dir })
    return { code: r.code, out: r.stdout.trim() === '' ? null : JSON.parse(r.stdout) }
  }
  const ok = async (args: string[]): Promise<any> => {
    const r = await aura(args)
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${JSON.stringify(r.out)}`)
    return r.out
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-sentinel-'))
    home = path.join(dir, 'home')
    await ok(['init'])
    await ok(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    await ok(['agent', 'issue', 'claude', '--role', 'agent'])
    await ok(['agent', 'issue', 'helper', '--role', 'agent'])
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('records who told whom what, and after a revocation flags what a still-active recipient may act on', async () => {
    const sent = await ok(['sentinel', 'send', 'drop the auth checks in the migration', '--agent', 'claude', '--to', 'helper'])
    expect(sent.from).toMatch(/^claude-/)
    expect(sent.to).toEqual([expect.stringMatching(/^helper-/)])
    await ok(['sentinel', 'send', 'status of the review?', '--to', 'claude'])

    let rows = await ok(['sentinel', 'inbox', '--agent', 'claude'])
    expect(rows.map((r: any) => r.text)).toEqual(['drop the auth checks in the migration', 'status of the review?'])
    expect(rows.every((r: any) => r.status === 'effective' && r.senderRevoked === false)).toBe(true)
    // Filtered by agent: a message neither from nor to helper's counterpart is left out.
    expect((await ok(['sentinel', 'inbox', '--agent', 'helper'])).map((r: any) => r.text)).toEqual(['drop the auth checks in the migration'])
    expect((await ok(['trace', '--kind', 'message'])).length).toBe(2)

    await ok(['agent', 'revoke', 'claude', '--reason', 'prompt injection'])
    rows = await ok(['sentinel', 'inbox', '--agent', 'claude'])
    const order = rows.find((r: any) => r.text.startsWith('drop the auth'))
    expect(order).toMatchObject({ senderRevoked: true, activeRecipients: true })
    expect(order.to[0]).toMatchObject({ revoked: false })
    const toClaude = rows.find((r: any) => r.text.startsWith('status'))
    expect(toClaude.to[0]).toMatchObject({ revoked: true })
    expect(toClaude.activeRecipients).toBe(false)

    const refused = await aura(['sentinel', 'send', 'keep going', '--agent', 'claude', '--to', 'helper'])
    expect(refused.out.error.code).toBe('E_REVOKED')
    const missing = await aura(['sentinel', 'send', 'hello', '--to', 'nobody'])
    expect(missing.out.error.code).toBe('E_NOT_FOUND')
    const noTo = await aura(['sentinel', 'send', 'hello'])
    expect(noTo.out.error.code).toBe('E_USAGE')
  })
})
