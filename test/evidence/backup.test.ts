/**
 * Signed backups on real homes (in-process CLI, real level stores): create, verify, import
 * through the network's merge (a revoked key's records beyond its cut quarantined exactly as
 * sync would leave them, lockdown refusing records but not the chain), and every kind of bad
 * file refused with its code while the node stays exactly as it was: damaged (every single byte
 * of a small backup), truncated, foreign team, forged.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalBytes, parseCanonical, sha256Hex, toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed, sign } from '../../crdt/crypto.js'
import { AuraError } from '../../crdt/errors.js'
import { keyIdOf } from '../../crdt/ids.js'
import { decodeBackup } from '../../node/evidence/backup-format.js'
import { runOperation } from '../../node/operations.js'
import { NodeRuntime } from '../../node/runtime.js'
import { runCli } from '../cli/helpers.js'

describe('aura backup', () => {
  let dir: string
  const aura = async (home: string, args: string[]): Promise<{ code: number, out: any }> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd: dir })
    return { code: r.code, out: r.stdout.trim() === '' ? null : JSON.parse(r.stdout) }
  }
  const ok = async (home: string, args: string[]): Promise<any> => {
    const r = await aura(home, args)
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${JSON.stringify(r.out)}`)
    return r.out
  }
  const refused = async (home: string, args: string[], code: string): Promise<any> => {
    const r = await aura(home, args)
    expect(r.code, `aura ${args.join(' ')}`).not.toBe(0)
    expect(r.out.error.code, JSON.stringify(r.out)).toBe(code)
    return r.out.error
  }
  // What a node holds, to show a refused import changed nothing (read from disk afresh).
  const state = async (home: string): Promise<string> => {
    // `status` exits with its first problem's code (a lockdown is one): read what it printed.
    const s = (await aura(home, ['status'])).out
    const rows = await ok(home, ['trace', '--receipts'])
    return JSON.stringify(
      { authority: s.authority, records: s.records, rows: rows.map((r: any) => [r.id, r.status, r.reason]) }
    )
  }
  let alice: string // the Mothership's home
  let bob: string // a copy of alice's home taken before the revocation (the same team)

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-backup-'))
    alice = path.join(dir, 'alice')
    bob = path.join(dir, 'bob')
    await ok(alice, ['init'])
    await ok(alice, ['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    await ok(alice, ['agent', 'issue', 'claude', '--role', 'agent'])
    await ok(alice, ['log-intent', 'first'])
    await ok(alice, ['log-intent', 'before the agent', '--agent', 'claude'])
    await cp(alice, bob, { recursive: true })
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates and verifies a backup, never overwriting one', async () => {
    const file = path.join(dir, 'full.aurabak')
    const made = await ok(alice, ['backup', 'create', file])
    expect(made).toMatchObject({ records: 2, chainHead: 2, team: 'acme' })
    const v = await ok(alice, ['backup', 'verify', file])
    expect(v).toMatchObject({ format: 'aura-backup', version: 1, team: 'acme', since: null, chain: { head: 2, revocations: 0 }, records: { total: 2, effective: 2, quarantined: 0, kinds: { intent: 2 } } })
    expect(v.creator).toMatch(/^peer-/)
    // The header is the first line, readable with `head -1`.
    const header = JSON.parse((await readFile(file, 'utf8')).split('\n')[0])
    expect(header).toMatchObject({ format: 'aura-backup', v: 1, team: 'acme', creator: v.creatorKey })
    await refused(alice, ['backup', 'create', file], 'E_EXISTS')
    await refused(alice, ['backup', 'verify', path.join(dir, 'missing.aurabak')], 'E_NOT_FOUND')
  })

  it('import: a revoked key\'s records beyond its cut are quarantined as over the wire; lockdown refuses records, not the chain', async () => {
    // bob does not know of the revocation, and takes claude's record past the cut.
    await ok(alice, ['agent', 'revoke', 'claude', '--reason', 'prompt injection'])
    // alice's node writes past what bob (a copy of her home, same key) holds.
    const aliceSecond = await ok(alice, ['log-intent', 'second'])
    expect(aliceSecond.seq).toBe(2)
    const late = await ok(bob, ['log-intent', 'after the cut', '--agent', 'claude'])
    const slice = path.join(dir, 'bob-slice.aurabak')
    await ok(bob, ['backup', 'create', slice, '--since', '1h'])

    // alice is locked: the records are refused as a sync message would be, nothing changes.
    await ok(alice, ['mothership', 'lockdown', '--reason', 'incident'])
    const before = await state(alice)
    await refused(alice, ['backup', 'import', slice], 'E_LOCKDOWN')
    expect(await state(alice)).toBe(before)
    await ok(alice, ['mothership', 'unlock'])

    const imported = await ok(alice, ['backup', 'import', slice])
    expect(imported).toMatchObject({ recordsAdded: 1, recordsHeld: 2, quarantined: 1, reasons: { beyond_cut: 1 } })
    const row = (await ok(alice, ['trace', '--actor', 'claude'])).find((r: any) => r.id === late.id)
    expect(row).toMatchObject({ status: 'quarantined', reason: 'beyond_cut' })
    // Again: nothing new, never an error.
    expect(await ok(alice, ['backup', 'import', slice])).toMatchObject({ recordsAdded: 0, chainAdded: 0 })

    // The other way: alice's backup brings bob the revocation (and the lockdown/unlock) first.
    const full = path.join(dir, 'alice-after.aurabak')
    await ok(alice, ['backup', 'create', full])
    // In one open node, as a daemon would run it: the import, then a write of its own.
    const rt = await NodeRuntime.open(bob)
    let third: { seq: number }
    try {
      const back = await runOperation('backup-import', { file: full }, { rt }) as any
      expect(back.chainAdded).toBe(3)
      // Its own key's records came back in the file: the next one continues after them, never
      // reusing a seq (which would be an equivocation).
      third = await rt.appendRecord({ kind: 'intent', text: 'third' })
    } finally {
      await rt.close()
    }
    expect(third.seq).toBe(3)
    expect((await ok(bob, ['trace', '--actor', 'claude'])).find((r: any) => r.id === late.id)).toMatchObject({ status: 'quarantined', reason: 'beyond_cut' })
    expect((await ok(bob, ['trace'])).filter((r: any) => r.status !== 'effective' && r.reason !== 'beyond_cut')).toEqual([])
    // Both nodes compute the same view of what they both hold.
    const slice2 = path.join(dir, 'bob-after.aurabak')
    await ok(bob, ['backup', 'create', slice2])
    expect((await ok(alice, ['backup', 'import', slice2])).recordsAdded).toBe(1)
    expect(await state(bob)).toBe(await state(alice))
  })

  it('refuses foreign, truncated, damaged and forged files, changing nothing', async () => {
    const file = path.join(dir, 'small.aurabak')
    await ok(alice, ['backup', 'create', file, '--since', '1m'])
    const good = new Uint8Array(await readFile(file))
    const before = await state(bob)

    // A team of the same name but another genesis.
    const other = path.join(dir, 'other')
    await ok(other, ['init'])
    await ok(other, ['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    const err = await refused(other, ['backup', 'import', file], 'E_WRONG_TEAM')
    expect(err.message).toContain("team 'acme'")

    const bad = path.join(dir, 'bad.aurabak')
    const tryFile = async (bytes: Uint8Array, code: string): Promise<void> => {
      await writeFile(bad, bytes)
      await refused(bob, ['backup', 'import', bad], code)
    }
    await tryFile(good.subarray(0, good.length - 1), 'E_BACKUP_CORRUPT')
    await tryFile(good.subarray(0, good.indexOf(0x0a)), 'E_BACKUP_CORRUPT')
    await tryFile(new Uint8Array(0), 'E_BACKUP_CORRUPT')
    await tryFile(new Uint8Array([...good, 0x0a]), 'E_BACKUP_CORRUPT')

    // Forged: a header re-signed by someone else under the creator's name; a record changed
    // and the file re-signed by a key of the team (the record's own signature fails); a whole
    // valid file signed by a key that is not a member.
    const text = new TextDecoder().decode(good)
    const nl = text.indexOf('\n')
    const header = parseCanonical(new TextEncoder().encode(text.slice(0, nl))) as Record<string, any>
    const body = parseCanonical(new TextEncoder().encode(text.slice(nl + 1))) as Record<string, any>
    const mallory = keyPairFromSeed(new Uint8Array(32).fill(7))
    const assemble = (
      h: Record<string, any>,
      b: Record<string, any>,
      key = mallory,
      pub = key.publicKey
    ): Uint8Array => {
      const bodyBytes = canonicalBytes(b)
      const { sig: _sig, ...unsigned } = {
        ...h,
        pub: toB64u(pub),
        creator: keyIdOf(pub),
        body: { bytes: bodyBytes.length, sha256: sha256Hex(bodyBytes) }
      }
      const headerBytes = canonicalBytes({ ...unsigned, sig: toB64u(sign('backup', canonicalBytes(unsigned), key)) })
      return new Uint8Array([...headerBytes, 0x0a, ...bodyBytes])
    }
    await tryFile(assemble({ ...header, records: header.records }, body, mallory, Buffer.from(header.pub, 'base64url')), 'E_BAD_SIGNATURE')
    await tryFile(assemble(header, body), 'E_NOT_ADMITTED')
    const rec = JSON.parse(Buffer.from(body.records[0], 'base64url').toString())
    const changed = canonicalBytes({ ...rec, text: `${String(rec.text)} (edited)` })
    const teamKey = keyPairFromSeed(Buffer.from(JSON.parse(await readFile(path.join(alice, 'identity.key'), 'utf8')).seed, 'base64url'))
    await tryFile(assemble(header, { ...body, records: [toB64u(changed), ...body.records.slice(1)] }, teamKey), 'E_BAD_SIGNATURE')
    expect(await state(bob)).toBe(before)
  })

  it('every single-byte change of a small backup is refused', () => {
    return (async () => {
      const file = path.join(dir, 'tiny.aurabak')
      await ok(alice, ['backup', 'create', file, '--since', '1m'])
      const good = new Uint8Array(await readFile(file))
      const original = decodeBackup(good)
      let refusedCount = 0
      const codes = new Set<string>()
      for (let i = 0; i < good.length; i++) {
        for (const flip of [0x01, 0x20, 0x80]) {
          const damaged = good.slice()
          damaged[i] ^= flip
          try {
            const b = decodeBackup(damaged)
            // Provably harmless would mean the same content; none is expected.
            expect(canonicalBytes(b.header)).toEqual(canonicalBytes(original.header))
          } catch (err) {
            expect(err).toBeInstanceOf(AuraError)
            codes.add((err as AuraError).code)
            refusedCount++
          }
        }
      }
      expect(refusedCount).toBe(good.length * 3)
      expect([...codes].sort()).toEqual(['E_BACKUP_CORRUPT', 'E_BAD_SIGNATURE'])
    })()
  }, 120_000)
})
