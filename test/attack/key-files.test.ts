/**
 * Key files on real daemons, as ssh treats `~/.ssh`: a daemon (and any command that opens keys)
 * refuses an identity key other users can read (E_PERMISSIONS, exit 60) and prints the exact
 * `chmod` that fixes it — which, run as printed, lets it start; the Mothership's daemon refuses
 * a mothership.key that is damaged or is not the chain's current Mothership key (E_KEY_MISMATCH,
 * exit 61) before it signs anything, and starts again once the right file is back.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import { keyIdOf } from '../../crdt/ids.js'
import { controlSocketPath } from '../../node/control/protocol.js'
import { Team } from '../containment/helpers.js'

const START = 'aura node start --foreground --listen /ip4/127.0.0.1/tcp/0'

let team: Team
beforeAll(async () => { team = await Team.create({ peers: ['alice'] }) }, 180_000)
afterAll(async () => { await team?.close() })

describe('key files at start', () => {
  it('an identity key readable by others: refused with the chmod that fixes it, which works as printed', async () => {
    const alice = team.m('alice')
    await team.stop('alice')
    const key = join(alice.home, 'identity.key')
    await chmod(key, 0o644)
    const refused = await team.sh('alice', START)
    expect(refused.code).toBe(60)
    expect(refused.stderr).toContain('E_PERMISSIONS')
    expect(refused.stderr).toContain(`hint: chmod 600 ${key}`)
    expect(existsSync(controlSocketPath(alice.home))).toBe(false)
    const id = await team.sh('alice', 'aura id --json')
    expect(id.code).toBe(60)
    expect(JSON.parse(id.stdout).error).toMatchObject({ code: 'E_PERMISSIONS', path: key, hint: `chmod 600 ${key}` })
    const fix = /hint: (chmod [^\n]+)/.exec(refused.stderr)![1]
    await team.ok('alice', fix)
    await team.start('alice')
    expect((await team.status('alice')).peer).toBe(alice.id)
  }, 180_000)

  it('a swapped or damaged mothership.key: refused with E_KEY_MISMATCH before signing anything', async () => {
    const ms = team.m('mothership')
    await team.stop('mothership')
    const file = join(ms.home, 'mothership.key')
    const original = await readFile(file, 'utf8')
    const chainHeadBefore = (await team.json('mothership', 'aura status')).authority
    const other = keyPairFromSeed(new Uint8Array(32).fill(5))
    await writeFile(file, JSON.stringify({ seed: toB64u(other.seed), pub: toB64u(other.publicKey), keyId: keyIdOf(other.publicKey) }) + '\n', { mode: 0o600 })
    const swapped = await team.sh('mothership', START)
    expect(swapped.code).toBe(61)
    expect(swapped.stderr).toContain('E_KEY_MISMATCH')
    expect(swapped.stderr).toContain('current Mothership key')
    const json = JSON.parse(original) as { seed: string }
    const damagedSeed = (json.seed[0] === 'A' ? 'B' : 'A') + json.seed.slice(1)
    await writeFile(file, JSON.stringify({ ...json, seed: damagedSeed }) + '\n', { mode: 0o600 })
    const damaged = await team.sh('mothership', 'aura mothership issue-peer carol --role admin')
    expect(damaged.code).toBe(61)
    expect(damaged.stderr).toContain('E_KEY_MISMATCH')
    expect(damaged.stdout).toBe('')
    await writeFile(file, original, { mode: 0o600 })
    await team.start('mothership')
    expect((await team.status('mothership')).authority).toEqual(chainHeadBefore)
    expect((await team.ok('mothership', 'aura mothership issue-peer carol --role contributor')).trim()).not.toBe('')
  }, 180_000)
})
