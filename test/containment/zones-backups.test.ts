// Zones and signed backups across real daemons. Zones: a person's block zone refuses another
// peer's change (named, with its owner); an agent can neither claim over a person's zone nor
// change code in it; lockdown refuses a claim; a revoked peer's zone claims are in its exposure
// (trace, audit export) and its claims beyond the cut stop counting. Backups: a peer that never
// touches the network again reconciles by importing files, with the revoked key's post-cut
// records quarantined exactly as the networked peers' view has them; a backup verified,
// damaged (refused), restored into a new home that then syncs.
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, Team } from './helpers.js'

describe('zones and backups on a team of daemons', () => {
  let team: Team
  const write = async (name: string, file: string, body: string): Promise<void> => {
    const full = path.join(team.m(name).cwd, file)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, body)
  }
  const zonesOn = async (name: string): Promise<any[]> => await team.json<any[]>(name, 'aura zone list --all')

  beforeAll(async () => {
    // Generous: the build lock (test/build-dist.ts) is shared with every worktree on the machine.
    team = await Team.create({ peers: ['alice', 'bob', 'carol', 'dave'] })
  }, 600_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('zones: block, agents and people, lockdown', async () => {
    const zone = await team.json('alice', "aura zone claim 'src/auth/**' --mode block --ttl 2h")
    expect(zone).toMatchObject({ mode: 'block', owner: team.id('alice'), status: 'active' })

    // bob works in auth: his change is refused once alice's claim has reached him.
    await write('bob', 'src/auth/verify.py', 'def verify_token(t):\n    return t == 1\n')
    await team.ok('bob', 'aura log-intent "baseline"')
    await team.until('bob holds alice\'s zone', async () => (await zonesOn('bob')).some((z) => z.id === zone.id))
    await write('bob', 'src/auth/verify.py', 'def verify_token(t):\n    return True\n')
    const refused = await team.sh('bob', 'aura log-intent "accept every token" --json')
    expect(refused.code).not.toBe(0)
    const err = JSON.parse(refused.stdout).error
    expect(err).toMatchObject({ code: 'E_ZONE', zone: zone.id, owner: team.id('alice'), unit: 'src/auth/verify.py:verify_token' })

    // An agent (credential at the Mothership) can neither claim over it nor change code in it.
    await team.ok('mothership', 'aura agent issue claude --role agent')
    await team.until('the Mothership holds alice\'s zone', async () => (await zonesOn('mothership')).some((z) => z.id === zone.id))
    const claim = await team.sh('mothership', 'aura zone claim src/auth/login.py --agent claude')
    expect(claim.code).not.toBe(0)
    expect(claim.stderr).toContain('E_ZONE')
    expect(claim.stderr).toContain(team.id('alice'))
    await write('mothership', 'src/auth/verify.py', 'def verify_token(t):\n    return t == 1\n')
    await team.ok('mothership', 'aura log-intent "baseline"')
    await write('mothership', 'src/auth/verify.py', 'def verify_token(t):\n    return t is not None\n')
    const agentEdit = await team.sh('mothership', 'aura log-intent "relax the check" --agent claude')
    expect(agentEdit.code).not.toBe(0)
    expect(agentEdit.stderr).toContain('E_ZONE')
    // An agent's claim elsewhere is fine, and replicates.
    const own = await team.json('mothership', "aura zone claim 'src/agent-work/**' --agent claude --mode warn")
    expect(own.ownerKind).toBe('agent')
    await team.until('alice holds claude\'s zone', async () => (await zonesOn('alice')).some((z) => z.id === own.id && z.owner.startsWith('claude-')))

    // Lockdown refuses new claims anywhere.
    await team.ok('mothership', 'aura mothership lockdown --reason "ongoing incident investigation"')
    await team.until('alice is locked', async () => (await team.control('alice', 'status')).lockdown.locked === true)
    const locked = await team.sh('alice', "aura zone claim 'src/billing/**'")
    expect(locked.code).not.toBe(0)
    expect(locked.stderr).toContain('E_LOCKDOWN')
    await team.ok('mothership', 'aura mothership unlock')
    await team.until('alice is unlocked', async () => (await team.control('alice', 'status')).lockdown.locked === false)
  }, 300_000)

  it('a revoked peer\'s zones: in its exposure, beyond the cut quarantined, also on an air-gapped peer fed by files', async () => {
    // dave leaves the network for good: from now on it only reads files.
    await team.stop('dave')
    const carol = team.m('carol')
    const legit = await team.json('carol', "aura zone claim 'src/payments/**' --mode warn")
    await team.until('the Mothership holds carol\'s claim', async () => (await zonesOn('mothership')).some((z) => z.id === legit.id))
    // carol's laptop is stolen; the thief claims everything while it is offline.
    await team.stop('carol')
    const stolen = await team.json('carol', "aura zone claim 'src/**' --mode block")
    await team.ok('mothership', `aura mothership revoke-peer ${carol.id} --reason "laptop theft"`)

    // Exposure at the Mothership: the claim is there, with the revocation named.
    await team.ok('mothership', `aura trace --actor ${carol.id} --since 30d > exposure.jsonl`)
    await team.ok('mothership', `aura audit export --signer ${carol.id} --since 30d > exposure-audit.jsonl`)
    const cwd = team.m('mothership').cwd
    const trace = jsonLines(await readFile(path.join(cwd, 'exposure.jsonl'), 'utf8'))
    expect(trace.find((r) => r.id === legit.id)).toMatchObject({ kind: 'zone', status: 'effective', revoked: expect.objectContaining({ reason: 'laptop theft' }) })
    const audit = jsonLines(await readFile(path.join(cwd, 'exposure-audit.jsonl'), 'utf8'))
    expect(audit.find((l) => l.type === 'record' && l.id === legit.id)).toMatchObject({ status: 'effective', verified: true, record: { kind: 'zone', data: { op: 'claim', patterns: ['src/payments/**'] } } })

    // carol's slice (thief's claim included) reaches dave on a USB stick first...
    const carolSlice = path.join(team.dir, 'carol-slice.aurabak')
    await team.ok('carol', `aura backup create ${carolSlice} --since 1h`)
    const first = await team.json('dave', `aura backup import ${carolSlice}`)
    expect(first.recordsAdded).toBeGreaterThan(0)
    expect((await zonesOn('dave')).find((z) => z.id === stolen.id)?.status).toBe('active')
    // ...then the Mothership's, which carries the revocation: the thief's claim stops counting.
    const msSlice = path.join(team.dir, 'mothership-slice.aurabak')
    await team.ok('mothership', `aura backup create ${msSlice} --since 1h`)
    const verified = await team.json('dave', `aura backup verify ${msSlice}`)
    expect(verified.chain.revocations).toBe(1)
    const second = await team.json('dave', `aura backup import ${msSlice}`)
    expect(second.chainAdded).toBeGreaterThan(0)
    const daveZones = await zonesOn('dave')
    expect(daveZones.some((z) => z.id === stolen.id)).toBe(false)
    // Within the cut, carol's claim still counts as hers, but binds nobody: she is revoked.
    expect(daveZones.find((z) => z.id === legit.id)?.status).toBe('revoked')
    const rows = await team.json<any[]>('dave', `aura trace --actor ${carol.id} --since 30d`)
    expect(rows.find((r) => r.id === stolen.id)).toMatchObject({ status: 'quarantined', reason: 'beyond_cut' })
    expect(rows.find((r) => r.id === legit.id)).toMatchObject({ status: 'effective' })
    // Exactly as over the wire: every record the networked bob also holds has the same status.
    const onBob = new Map((await team.json<any[]>('bob', 'aura trace --since 30d --receipts')).map((r) => [r.id, [r.status, r.reason]]))
    const onDave = await team.json<any[]>('dave', 'aura trace --since 30d --receipts')
    const shared = onDave.filter((r) => onBob.has(r.id))
    expect(shared.length).toBeGreaterThan(5)
    for (const r of shared) expect([r.status, r.reason], r.id).toEqual(onBob.get(r.id))
  }, 300_000)

  it('a backup verified, damaged, restored into a new home that then syncs', async () => {
    const full = path.join(team.dir, 'full.aurabak')
    await team.ok('mothership', `aura backup create ${full}`)
    const v = await team.json('mothership', `aura backup verify ${full}`)
    const damaged = path.join(team.dir, 'damaged.aurabak')
    const bytes = await readFile(full)
    bytes[Math.floor(bytes.length / 2)] ^= 0x04
    await writeFile(damaged, bytes)
    const bad = await team.sh('mothership', `aura backup verify ${damaged}`)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/E_BACKUP_CORRUPT|E_BAD_SIGNATURE/)

    // A new machine: a fresh identity admitted with a token, then the backup, then the network.
    const token = (await team.ok('mothership', 'aura mothership issue-peer erin --role contributor')).trim()
    await team.add('erin')
    await team.ok('erin', 'aura init')
    await team.identify('erin')
    await team.ok('erin', `aura join ${token} --no-start`)
    const restored = await team.json('erin', `aura backup restore ${full}`)
    expect(restored.records).toBe(v.records.total)
    const badRestore = await team.sh('erin', `aura backup restore ${full}`)
    expect(badRestore.stderr).toContain('E_EXISTS')
    const s = await team.status('erin')
    expect(s.records.quarantined).toBe(v.records.quarantined)
    await team.start('erin')
    // (alice writes: bob's working tree still holds the change her zone refused.)
    const news = await team.json('alice', 'aura log-intent "after the restore"')
    await team.until('erin receives alice\'s new record', async () => (await team.json<any[]>('erin', 'aura trace --since 1h')).some((r) => r.id === news.id && r.status === 'effective'), 60_000)
    const mine = await team.json('erin', 'aura log-intent "erin is back"')
    await team.until('bob receives erin\'s record', async () => (await team.json<any[]>('bob', 'aura trace --since 1h')).some((r) => r.id === mine.id && r.status === 'effective'), 60_000)
  }, 300_000)
})
