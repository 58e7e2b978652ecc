/**
 * docs/storage.md "A damaged store", followed as written on a real team: alice's store is damaged
 * (its manifest overwritten); every command names it with E_STORE_CORRUPT (exit 62) and the
 * recovery, not E_INTERNAL. She moves it aside and redeems the token that admitted her again: the
 * Mothership answers with the chain, sync brings her records back, and her next record takes a
 * seq above all of them (the seq mark lives outside the store).
 */
import { readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Team } from '../containment/helpers.js'
import { convergedWithin } from './convergence.js'

interface Row { id: string, signerKey: string, seq: number, status: string }

describe('a damaged store, rebuilt from peers', () => {
  let team: Team | undefined
  afterAll(async () => { await team?.close() })

  it('E_STORE_CORRUPT names the store; moved aside and re-joined, the node gets its records back and never reuses a seq', async () => {
    team = await Team.create({ peers: [] })
    const token = (await team.ok('mothership', 'aura mothership issue-peer alice --role contributor')).trim()
    const alice = await team.joinWith('alice', token)
    await team.identify('alice')
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await team.control<{ id: string }>('alice', 'log-intent', { text: `before ${i}` })).id)
    const mine = async (name: string): Promise<Row[]> => (await team!.control<Row[]>(name, 'trace', {})).filter((r) => r.signerKey === alice.key)
    await team.until('the Mothership holds alice\'s records', async () => (await mine('mothership')).filter((r) => ids.includes(r.id)).length === 20, 60_000)
    const highest = Math.max(...(await mine('mothership')).map((r) => r.seq))
    await team.stop('alice')

    const store = join(alice.home, 'store')
    const manifest = (await readdir(store)).find((f) => f.startsWith('MANIFEST-'))!
    await writeFile(join(store, manifest), Buffer.alloc((await stat(join(store, manifest))).size, 0x5a))
    const broken = await team.sh('alice', 'aura status --json')
    expect(broken.code).toBe(62)
    const err = JSON.parse(broken.stdout).error
    expect(err).toMatchObject({ code: 'E_STORE_CORRUPT', path: store })
    expect(err.hint).toContain('docs/storage.md')

    // The steps of docs/storage.md, as an operator types them.
    await team.ok('alice', 'mv "$AURA_HOME/store" "$AURA_HOME/store.damaged"')
    await team.ok('alice', `aura join ${token} --no-start`)
    await team.start('alice')
    await team.until('alice holds her records again', async () => (await mine('alice')).filter((r) => ids.includes(r.id)).length === 20, 60_000)
    const next = await team.control<{ seq: number }>('alice', 'log-intent', { text: 'after the rebuild' })
    expect(next.seq).toBeGreaterThan(highest)
    await convergedWithin(team, ['mothership', 'alice'], 10_000)
    for (const name of ['mothership', 'alice']) {
      const rows = await mine(name)
      expect(new Set(rows.map((r) => r.seq)).size, `${name}: one record per seq of alice`).toBe(rows.length)
      expect(rows.every((r) => r.status === 'effective'), `${name}: alice's records all effective`).toBe(true)
    }
  }, 400_000)
})
