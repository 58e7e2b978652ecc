/**
 * The Mothership's join desk in one process, with a real level store and in-memory links: a
 * refused joiner learns the code and a fixed sentence and nothing about members or reasons;
 * attempts are rate-limited per source and per token (E_RATE_LIMITED); the join audit stores a
 * bounded number of attempts and counts the rest, and `audit-token` shows both.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed } from '../../crdt/crypto.js'
import type { AuraError } from '../../crdt/errors.js'
import { keyIdOf, shortId, type Jti } from '../../crdt/ids.js'
import { JoinAudit } from '../../node/mothership/join-audit.js'
import { JoinDesk, type JoinDeskInit } from '../../node/mothership/join.js'
import { auditToken, issuePeer, lockdown, mothershipInit, revokeToken } from '../../node/mothership/mothership.js'
import { NodeRuntime } from '../../node/runtime.js'
import { memoryLinkPair } from '../../node/sync/memory-link.js'
import { runCli, tempDir } from '../cli/helpers.js'

const PREFIX = 'aurajoin1.'
let seedN = 100

/** One join attempt by a fresh key from `source`: the answer's `t`, or the refusal. */
async function attempt (desk: JoinDesk, rt: NodeRuntime, token: string, source = '127.0.0.7:4100', seed?: Uint8Array): Promise<{ joined?: any, refused?: AuraError, key: string }> {
  const key = keyPairFromSeed(seed ?? new Uint8Array(32).fill(seedN++ % 256))
  const joinerKey = keyIdOf(key.publicKey)
  const [deskSide, joiner] = memoryLinkPair(rt.key, joinerKey)
  // The desk's end: local is the Mothership, remote the joiner.
  const result = new Promise<{ joined?: any, refused?: AuraError }>((resolve) => {
    joiner.onFrame = (f) => resolve({ joined: parseCanonical(f) })
    joiner.onClose = (r) => resolve({ refused: r })
  })
  desk.serve(deskSide.remote === joinerKey ? deskSide : joiner, { source, publicKey: key.publicKey }, () => [])
  joiner.send(canonicalBytes({ t: 'join', token }))
  return { ...await result, key: joinerKey }
}

describe('JoinDesk', () => {
  let dir: { dir: string, cleanup: () => Promise<void> }
  let rt: NodeRuntime

  beforeEach(async () => {
    dir = await tempDir('aura-join-desk-')
    expect((await runCli(['init'], { env: { AURA_HOME: dir.dir } })).code).toBe(0)
    rt = await NodeRuntime.open(dir.dir)
    await mothershipInit(rt, { team: 'acme', user: 'ops' })
  })
  afterEach(async () => {
    await rt.close()
    await dir.cleanup()
  })

  const desk = (init: Partial<JoinDeskInit> = {}): JoinDesk => new JoinDesk(
    rt,
    { perSource: 1000, perToken: 1000, auditPerToken: 1000, auditUnissued: 1000, ...init }
  )

  it('tells a refused joiner the code and a fixed sentence, never who redeemed, why revoked, or the lockdown reason', async () => {
    const d = desk()
    const used = await issuePeer(rt, { user: 'frank', role: 'contributor' })
    const frankSeed = new Uint8Array(32).fill(7)
    const frank = await attempt(d, rt, used.token, undefined, frankSeed)
    expect(frank.joined?.t).toBe('joined')
    const secrets = [shortId(frank.key as any), frank.key, 'frank', 'ops', 'acme', 'laptop stolen from alice', 'incident 42']
    const refusals: AuraError[] = []
    const again = await attempt(d, rt, used.token)
    refusals.push(again.refused as AuraError)
    expect(again.refused?.code).toBe('E_TOKEN_USED')
    // The Mothership's own audit keeps the whole reason.
    const stored = await rt.store.joins.list(used.jti as Jti)
    expect(stored.find((a) => a.outcome === 'refused')?.reason).toContain(shortId(frank.key as any))

    const revoked = await issuePeer(rt, { user: 'gina', role: 'contributor' })
    await revokeToken(rt, { jti: revoked.jti, reason: 'laptop stolen from alice' })
    refusals.push((await attempt(d, rt, revoked.token)).refused as AuraError)

    const tampered = PREFIX + toB64u(canonicalBytes({ ...parseCanonical(fromB64u(revoked.token.slice(PREFIX.length))) as object, user: 'mallory' }))
    refusals.push((await attempt(d, rt, tampered)).refused as AuraError)
    refusals.push((await attempt(d, rt, 'aurajoin1.garbage')).refused as AuraError)

    const fresh = await issuePeer(rt, { user: 'hana', role: 'contributor' })
    // The same key joining again with another token: E_EXISTS, without the member's name.
    refusals.push((await attempt(d, rt, fresh.token, undefined, frankSeed)).refused as AuraError)
    await lockdown(rt, { reason: 'incident 42' })
    refusals.push((await attempt(d, rt, fresh.token)).refused as AuraError)

    expect(refusals.map((e) => e?.code)).toEqual(['E_TOKEN_USED', 'E_REVOKED', 'E_BAD_SIGNATURE', 'E_MALFORMED', 'E_EXISTS', 'E_LOCKDOWN'])
    for (const e of refusals) {
      for (const s of secrets) expect(e.message, `${e.code}: ${e.message}`).not.toContain(s)
    }
  })

  it('limits attempts per source address (E_RATE_LIMITED), while another address still gets through', async () => {
    const d = desk({ perSource: 3 })
    const t = await issuePeer(rt, { user: 'ivan', role: 'contributor', reusable: true })
    const codes: Array<string | undefined> = []
    for (let i = 0; i < 5; i++) codes.push((await attempt(d, rt, t.token, `127.0.0.9:${5000 + i}`)).refused?.code)
    expect(codes).toEqual([undefined, undefined, undefined, 'E_RATE_LIMITED', 'E_RATE_LIMITED'])
    expect((await attempt(d, rt, t.token, '127.0.0.10:5000')).joined?.t).toBe('joined')
  })

  it('limits attempts per token from any address (E_RATE_LIMITED)', async () => {
    const d = desk({ perToken: 2 })
    const t = await issuePeer(rt, { user: 'jon', role: 'contributor', reusable: true })
    const codes: Array<string | undefined> = []
    for (let i = 0; i < 4; i++) codes.push((await attempt(d, rt, t.token, `127.0.1.${i}:5000`)).refused?.code)
    expect(codes).toEqual([undefined, undefined, 'E_RATE_LIMITED', 'E_RATE_LIMITED'])
  })

  it('stores a bounded number of attempts per token and counts the rest; audit-token shows both', async () => {
    const d = desk({ perSource: 5, auditPerToken: 4 })
    const t = await issuePeer(rt, { user: 'kim', role: 'contributor' })
    for (let i = 0; i < 30; i++) await attempt(d, rt, t.token, `127.0.2.${i % 3}:6000`)
    expect((await rt.store.joins.list(t.jti as Jti)).length).toBe(4)
    const report = await auditToken(rt, { jti: t.jti })
    expect(report.attempts.length).toBe(4)
    expect(report.summarised?.count).toBe(26)
    expect(report.attempts.length + (report.summarised?.count ?? 0)).toBe(30)
    expect(report.summarised?.outcomes).toEqual({ E_TOKEN_USED: 11, E_RATE_LIMITED: 15 })
    expect(report.summarised?.sources).toEqual({ '127.0.2.0': 8, '127.0.2.1': 9, '127.0.2.2': 9 })
  })

  it('stores a bounded number of attempts with tokens it never issued, all together, and counts the rest', async () => {
    const d = desk({ auditUnissued: 3 })
    const t = await issuePeer(rt, { user: 'lee', role: 'contributor' })
    const claims = parseCanonical(fromB64u(t.token.slice(PREFIX.length))) as Record<string, unknown>
    for (let i = 0; i < 10; i++) {
      // Invented jtis: each a token this Mothership never issued (and a bad signature).
      const jti = `tk_01JAAAAAAAAAAAAAAAAAAAAA${String(i).padStart(2, '0').replace(/\d/g, (c) => 'ABCDEFGHJK'[Number(c)])}`
      expect((await attempt(d, rt, PREFIX + toB64u(canonicalBytes({ ...claims, jti })))).refused?.code).toBe('E_BAD_SIGNATURE')
    }
    expect((await rt.store.joins.list()).length).toBe(3)
    expect((await JoinAudit.summary(rt.store.kv, null))?.count).toBe(7)
  })
})
