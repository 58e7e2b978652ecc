// The attacker island, on real processes: mallory is revoked while she and two victims (bob,
// carol) are cut off from the Mothership and dave. On the island nobody knows, so her new
// records count there, except those claiming to be days old (quarantined as `backdated` at once). After the heal, none
// of her records past the cut counts on any peer, and each one is still there as quarantined evidence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nextRecordFields, signRecord, type EncodedRecord } from '../../crdt/record.js'
import { NodeRuntime } from '../../node/runtime.js'
import { Team } from './helpers.js'

const DAY = 86_400_000

describe('attacker island', () => {
  let team: Team

  beforeAll(async () => {
    team = await Team.create({
      peers: ['mallory', 'bob', 'carol', 'dave'],
      links: [['mallory', 'bob'], ['mallory', 'carol'], ['bob', 'carol']],
      // The island is drawn by these links: no peer may learn its way across ([node] discover).
      env: { AURA_NODE_DISCOVER: 'false' }
    })
  }, 240_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('quarantines everything a revoked key wrote past its cut, whatever time it claims', async () => {
    const mallory = team.m('mallory')
    await team.ok('mallory', 'aura log-intent "legitimate work before the theft"')
    await team.until('every peer holds mallory\'s first intent', async () => {
      for (const name of ['mothership', 'bob', 'carol', 'dave']) {
        const rows = await team.json<any[]>(name, `aura trace --actor ${mallory.id} --since 30d`)
        if (!rows.some((r) => r.text === 'legitimate work before the theft')) return false
      }
      return true
    })

    // The partition: the Mothership goes away, so dave (linked only to it) is alone and
    // mallory, bob and carol form an island. The operator revokes mallory on the Mothership.
    await team.stop('mothership')
    const revoke = await team.sh('mothership', `aura mothership revoke-peer ${mallory.id} --reason "laptop theft"`)
    expect(revoke.code).toBe(0)

    // Mallory keeps writing on the island: now, and backdated to before the revocation.
    const fresh = ['exfiltrate signing config', 'disable token expiry check', 'add telemetry endpoint']
    for (const text of fresh) await team.ok('mallory', `aura log-intent "${text}"`)
    await team.stop('mallory')
    const forged = ['backdated: approve own change', 'backdated: rotate deploy key']
    // Signed by her key directly (a thief does not go through her node's write gate, which never
    // lets a record's time go back along its signer's chain).
    const rt = await NodeRuntime.open(mallory.home)
    try {
      const key = rt.identity.keyPair
      const headRef = await rt.store.intent.head(rt.key)
      let head: EncodedRecord | { id: string, record: any } | undefined = headRef === undefined
        ? undefined
        : { id: headRef.id, record: rt.store.intent.log.record(headRef.id)! }
      const recs: EncodedRecord[] = []
      for (const text of forged) {
        const r = signRecord({ ...nextRecordFields(head as any), kind: 'intent', actor: 'mallory', host: 'mallory-laptop', ts: Date.now() - 3 * DAY, auth: rt.authRef(), text }, key)
        recs.push(r)
        head = r
      }
      rt.store.intent.log.append(recs, Date.now(), key)
      await rt.writer.ingest(recs.map((r) => r.id))
    } finally {
      await rt.close()
    }
    await team.start('mallory')
    await team.ok('bob', 'aura log-intent "bob works on the island"')

    // On the island the victims do not know: her new records count there; the backdated ones
    // do not even there (a signer's record times never go back along its chain: `backdated`).
    for (const name of ['bob', 'carol']) {
      await team.until(`${name} holds mallory's island records`, async () => {
        const rows = await team.json<any[]>(name, `aura trace --actor ${mallory.id} --since 30d`)
        return fresh.every((t) => rows.some((r) => r.text === t && r.status === 'effective')) &&
          forged.every((t) => rows.some((r) => r.text === t && r.status === 'quarantined' && r.reason === 'backdated'))
      })
    }
    const dave = await team.json<any[]>('dave', `aura trace --actor ${mallory.id} --since 30d`)
    expect(dave.map((r) => r.text)).toEqual(['legitimate work before the theft'])
    expect((await team.status('dave')).stale.stale).toBe(false)

    // The heal: the Mothership returns on its address; everyone reconnects by itself.
    await team.start('mothership')
    const post = [...fresh, ...forged]
    for (const name of ['mothership', 'bob', 'carol', 'dave']) {
      const rows = await team.until(`${name} holds every island record of mallory, quarantined`, async () => {
        const r = await team.json<any[]>(name, `aura trace --actor ${mallory.id} --since 30d`)
        return post.every((t) => r.some((x) => x.text === t && x.status === 'quarantined')) ? r : undefined
      }, 90_000, 500)
      for (const r of rows) {
        if (post.includes(r.text)) expect(r).toMatchObject({ status: 'quarantined', reason: 'beyond_cut' })
        else expect(r).toMatchObject({ text: 'legitimate work before the theft', status: 'effective' })
      }
      const backdated = rows.filter((r) => forged.includes(r.text))
      for (const r of backdated) expect(Date.parse(r.ts)).toBeLessThan(Date.now() - 2 * DAY)
      const text = await team.ok(name, `aura trace --actor ${mallory.id} --since 30d --jsonl`)
      expect(text.split('\n').filter((l) => l.includes('"beyond_cut"'))).toHaveLength(post.length)
      // The honest island work counts.
      const bobs = await team.until(`${name} holds bob's island work`, async () => {
        const r = await team.json<any[]>(name, 'aura trace --actor bob --since 1h')
        return r.find((x) => x.text === 'bob works on the island')
      })
      expect(bobs.status).toBe('effective')
      // The export carries them too, with signature, verification and status.
      const lines = (await team.ok(name, `aura audit export --actor ${mallory.id} --since 30d --format jsonl`)).trim().split('\n').map((l) => JSON.parse(l))
      const exported = lines.filter((l) => l.type === 'record' && post.includes(l.record.text))
      expect(exported).toHaveLength(post.length)
      for (const l of exported) expect(l).toMatchObject({ status: 'quarantined', reason: 'beyond_cut', verified: true, record: { sig: expect.any(String) } })
    }

    // Mallory is refused everywhere and is told so.
    await team.until('mallory learns she is revoked', async () => {
      const s = await team.control('mallory', 'status')
      return s.problems.some((p: any) => p.code === 'E_REVOKED') && s.connected.length === 0
    }, 60_000, 500)
    for (const name of ['mothership', 'bob', 'carol', 'dave']) {
      expect((await team.control(name, 'status')).connected).not.toContain(mallory.id)
    }
  }, 300_000)
})
