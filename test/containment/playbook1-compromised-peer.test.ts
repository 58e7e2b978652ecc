// Playbook 1 (compromised peer) steps 1, 2, 5 and 6 on real processes: a Mothership and four
// peers on 127.0.0.1, with peer-to-peer links besides the links to the Mothership. The peer is
// revoked while it is online and writing; exports taken before and after revocation give the
// same evidence for its key; it is refused everywhere; a new identity is issued; the incident
// intent reaches every peer, which `aura sync status` confirms.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLines, sleep, Team } from './helpers.js'

describe('Playbook 1: compromised peer machine', () => {
  let team: Team
  const honest = ['mothership', 'bob', 'carol', 'dave']

  beforeAll(async () => {
    team = await Team.create({ peers: ['alice', 'bob', 'carol', 'dave'], links: [['alice', 'bob'], ['bob', 'carol'], ['carol', 'dave']] })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('contains a peer revoked while online and writing, without losing any evidence', async () => {
    const alice = team.m('alice')
    for (const text of ['refactor session store', 'bump token expiry']) await team.ok('alice', `aura log-intent "${text}"`)
    await team.until('the Mothership holds alice\'s intents', async () =>
      (await team.json<any[]>('mothership', `aura trace --actor ${alice.id} --since 30d`)).length === 2)

    // Step 2 first, as the playbook advises: export, then revoke.
    await team.ok('mothership', `aura trace --actor ${alice.id} --since 30d > exposure.jsonl`)
    await team.ok('mothership', `aura audit export --signer ${alice.id} --since 30d > exposure-audit.jsonl`)
    const before = await readEvidence(team, 'exposure.jsonl', 'exposure-audit.jsonl')
    expect(before.trace.map((r) => r.text).sort()).toEqual(['bump token expiry', 'refactor session store'])
    expect(before.records.length).toBeGreaterThanOrEqual(2)
    for (const line of before.records) expect(line).toMatchObject({ verified: true, status: 'effective' })

    // Alice keeps writing; Step 1 lands in the middle of it.
    const writing = team.sh('alice', 'for i in $(seq 1 60); do aura log-intent "alice busy $i" || exit 0; sleep 0.05; done; exit 3')
    await team.until('alice is writing', async () =>
      (await team.json<any[]>('mothership', `aura trace --actor ${alice.id} --since 30d`)).length >= 4, 30_000, 100)
    const step1 = await team.sh('mothership', `aura mothership revoke-peer ${alice.id} --reason "laptop theft 2026-04-21"`)
    expect(step1.code).toBe(0)
    expect(step1.stdout).toContain(`revoked ${alice.id} (alice): laptop theft 2026-04-21`)
    const writer = await writing
    expect(writer.code).toBe(0)
    expect(writer.stderr).toContain('E_REVOKED')

    // Refused everywhere within moments: every daemon applied it and closed alice's connections.
    const started = Date.now()
    for (const name of honest) {
      await team.until(`${name} refuses alice`, async () => {
        const revs = await team.control<any[]>(name, 'revocations')
        const s = await team.control(name, 'status')
        return revs.some((r) => r.key === alice.key && r.closedAt !== null) && !s.connected.includes(alice.id)
      }, 5_000, 50)
    }
    expect(Date.now() - started).toBeLessThan(5_000)
    const as = await team.status('alice')
    expect(as.revoked).toMatchObject({ reason: 'laptop theft 2026-04-21' })
    expect(as.problems).toContainEqual({ code: 'E_REVOKED', message: 'this node is revoked: laptop theft 2026-04-21' })
    expect((await team.sh('alice', 'aura status')).stdout).toContain('E_REVOKED')
    // It keeps trying to reconnect and is refused; it stays cut off.
    await sleep(2_500)
    expect((await team.control('alice', 'status')).connected).toEqual([])
    for (const name of honest) expect((await team.control(name, 'status')).connected).not.toContain(alice.id)

    // Step 2 after revocation: nothing was deleted; the same evidence for the revoked key.
    await team.ok('mothership', `aura trace --actor ${alice.id} --since 30d > exposure-after.jsonl`)
    await team.ok('mothership', `aura audit export --signer ${alice.id} --since 30d > exposure-audit-after.jsonl`)
    const after = await readEvidence(team, 'exposure-after.jsonl', 'exposure-audit-after.jsonl')
    for (const line of before.records) expect(after.records).toContainEqual(line)
    // The same rows, now also naming the revocation.
    for (const row of before.trace) expect(after.trace).toContainEqual({ ...row, revoked: expect.objectContaining({ reason: 'laptop theft 2026-04-21' }) })
    const cutEvent = after.audit.find((l) => l.event.type === 'revoke-peer')
    expect(cutEvent?.event).toMatchObject({ peer: alice.key, reason: 'laptop theft 2026-04-21' })
    const cutSeq: number = cutEvent.event.cutSeq
    for (const line of after.records) {
      expect(line.verified).toBe(true)
      expect(line.status).toBe(line.record.seq <= cutSeq ? 'effective' : 'quarantined')
    }
    for (const line of after.audit) expect(line).toMatchObject({ signer: team.m('mothership').key, sig: expect.any(String) })

    // Every peer agrees on alice's records: within the cut effective, beyond it quarantined.
    const truth = new Map(after.records.map((l) => [l.id, l.status]))
    for (const name of ['bob', 'carol', 'dave']) {
      const lines = await team.until(`${name} holds every record of alice the Mothership holds`, async () => {
        const got = jsonLines(await team.ok(name, `aura audit export --signer ${alice.id} --since 30d --format jsonl`)).filter((l) => l.type === 'record')
        const ids = new Set(got.map((l) => l.id))
        return [...truth.keys()].every((id) => ids.has(id)) ? got : undefined
      })
      for (const l of lines) if (truth.has(l.id)) expect(l.status).toBe(truth.get(l.id))
      const rows = await team.json<any[]>(name, `aura trace --actor ${alice.id} --since 30d`)
      for (const r of rows) {
        expect(r.revoked).toMatchObject({ reason: 'laptop theft 2026-04-21', cutSeq })
        if (r.status === 'quarantined') expect(r.reason).toBe('beyond_cut')
      }
    }

    // Step 5: a new identity for alice; the old key stays revoked.
    const issued = await team.sh('mothership', 'aura mothership issue-peer alice --role contributor')
    expect(issued.code).toBe(0)
    const fresh = await team.joinWith('alice-laptop2', issued.stdout.trim())
    expect(fresh.key).not.toBe(alice.key)
    const peers = await team.json<any[]>('mothership', 'aura mothership list-peers')
    expect(peers.filter((p) => p.user === 'alice').map((p) => [p.peer, p.status])).toEqual([[alice.id, 'revoked'], [fresh.id, 'active']])
    // Issuing for a user who still has an active peer says the old key must be revoked separately.
    const again = await team.sh('mothership', 'aura mothership issue-peer bob --role contributor')
    expect(again.code).toBe(0)
    expect(again.stderr).toContain(`bob already has ${team.id('bob')}`)
    expect(again.stderr).toContain('revoke the old key separately')

    // Step 6: the incident intent, in band, reaches every peer.
    const text = `INCIDENT: ${alice.id} revoked due to laptop theft. New identity ${fresh.id} issued for alice@example.com. See exposure-audit.jsonl in secops store.`
    const logged = await team.json('mothership', `aura log-intent "${text}"`)
    expect(logged.kind).toBe('incident')
    for (const name of [...honest, 'alice-laptop2']) {
      await team.until(`${name} holds the incident intent`, async () =>
        (await team.json<any[]>(name, 'aura trace --kind incident --since 1h')).some((r) => r.id === logged.id && r.status === 'effective'))
    }
    const status = await team.until('sync status confirms every peer has it', async () => {
      const r = await team.json('mothership', `aura sync status --intent ${logged.id}`)
      return r.missing.length === 0 ? r : undefined
    }, 30_000, 500)
    expect(status.verdict).toMatch(/^all \d+ admitted peers have received/)
    const text2 = await team.sh('mothership', 'aura sync status')
    expect(text2.code).toBe(0)
    expect(text2.stdout).toContain(alice.id)
    expect(text2.stdout).toContain('revoked')
  }, 300_000)
})

async function readEvidence (
  team: Team,
  traceFile: string,
  auditFile: string
): Promise<{ trace: any[], records: any[], audit: any[] }> {
  const cwd = team.m('mothership').cwd
  const trace = jsonLines(await readFile(path.join(cwd, traceFile), 'utf8'))
  const lines = jsonLines(await readFile(path.join(cwd, auditFile), 'utf8'))
  return { trace, records: lines.filter((l) => l.type === 'record'), audit: lines.filter((l) => l.type === 'audit') }
}
