// Token lifetime from aura.toml, as Playbook 2 step 4 sets it: `[crypto] join_token_ttl` and
// `[mothership] join_token_ttl` are one setting; when both are set and differ, the shorter
// wins and every command warns. `--ttl` overrides both for one token.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Team } from './helpers.js'

describe('join token TTL', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({ peers: [] })
    await team.stop('mothership')
  }, 120_000)

  afterAll(async () => { await team?.close() }, 60_000)

  async function issue (): Promise<{ ttl: number, stderr: string }> {
    const r = await team.sh('mothership', 'aura mothership issue-peer alice --role contributor --json')
    expect(r.code).toBe(0)
    const res = JSON.parse(r.stdout)
    const tokens = await team.json<any[]>('mothership', 'aura mothership list-tokens')
    const t = tokens.find((x) => x.jti === res.jti)
    return { ttl: (Date.parse(t.expiresAt) - Date.parse(t.issuedAt)) / 1000, stderr: r.stderr }
  }

  it('defaults to an hour, takes [crypto] join_token_ttl, and the shorter of both with a warning', async () => {
    expect((await issue()).ttl).toBe(3600)

    const toml = path.join(team.m('mothership').home, 'aura.toml')
    const set = async (section: string, line: string): Promise<void> => {
      await writeFile(toml, (await readFile(toml, 'utf8')).replace(`\n[${section}]\n`, `\n[${section}]\n${line}\n`))
    }
    await set('crypto', 'join_token_ttl = 600 # 10 minutes')
    const crypto = await issue()
    expect(crypto.ttl).toBe(600)
    expect(crypto.stderr).not.toContain('differ')

    await set('mothership', 'join_token_ttl = 900')
    const both = await issue()
    expect(both.ttl).toBe(600)
    expect(both.stderr).toMatch(/\[mothership\] join_token_ttl = 900 \(aura\.toml:\d+\) and \[crypto\] join_token_ttl = 600 \(aura\.toml:\d+\) differ; the shorter, 600 s, is used/)

    const flag = await team.sh('mothership', 'aura mothership issue-peer alice --role contributor --ttl 2m --json')
    const res = JSON.parse(flag.stdout)
    expect(Date.parse(res.expiresAt) - Date.now()).toBeLessThanOrEqual(120_000)
    expect(Date.parse(res.expiresAt) - Date.now()).toBeGreaterThan(100_000)
  }, 120_000)
})
