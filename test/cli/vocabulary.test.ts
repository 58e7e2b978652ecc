/**
 * One vocabulary across `--json` outputs (docs/cli.md, "JSON vocabulary"), checked on what the
 * commands really print on a real home: every time is an ISO 8601 string under a key that says
 * it is a time (`ts`, `...At`, `last...`), never epoch milliseconds; an identity is `peer` (short
 * id) and `key` (full key id), never `shortId` / `keyId`; a row's condition is `status`, never
 * `state`. The checker is a plain function, shown failing on planted violations.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers.js'
import { documentedShapes, fieldsOf, vocabularyBreaches } from './vocabulary.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

describe('one JSON vocabulary', () => {
  let dir: string
  let home: string
  let work: string
  const json = async (...args: string[]): Promise<unknown> => {
    const r = await runCli([...args, '--home', home, '--json'], { cwd: work })
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${r.stdout} ${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  const outputs = new Map<string, unknown>()

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-vocab-'))
    home = path.join(dir, 'home')
    work = path.join(dir, 'work')
    await mkdir(path.join(work, '.git'), { recursive: true })
    await writeFile(path.join(work, 'a.py'), 'def f(x):\n    return x\n')
    const record = async (args: string[]): Promise<any> => { const v = await json(...args); outputs.set(args.join(' '), v); return v }
    await record(['init'])
    const other = JSON.parse((await runCli(['init', '--home', path.join(dir, 'other'), '--json'], { cwd: dir })).stdout) as { peerId: string }
    await record(['peer', 'add', `/ip4/127.0.0.1/tcp/4001/p2p/${other.peerId}`])
    await record(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    const token = await record(['mothership', 'issue-peer', 'bob', '--role', 'contributor'])
    await record(['agent', 'issue', 'claude', '--role', 'agent'])
    await record(['log-intent', 'tighten the check'])
    await record(['zone', 'claim', 'a.py'])
    await record(['sentinel', 'send', 'hold off a.py', '--to', 'claude'])
    await record(['mothership', 'revoke-token', token.jti, '--reason', 'pasted in chat'])
    for (const args of [['id'], ['status'], ['trace'], ['trace', '--receipts'], ['audit', 'export'], ['mothership', 'list-peers'], ['mothership', 'list-tokens'],
      ['mothership', 'audit-token', token.jti], ['agent', 'list', '--filter', 'kind=all'], ['zone', 'list', '--all'], ['sync', 'status'], ['peer', 'list'],
      ['sentinel', 'inbox'], ['snapshot-list'], ['conflicts'], ['pr-review', '--since', '1d']]) {
      const r = await runCli([...args, '--home', home, '--json'], { cwd: work })
      if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${r.stdout} ${r.stderr}`)
      // audit export is JSON Lines: each line is one value.
      outputs.set(args.join(' '), args[0] === 'audit' ? r.stdout.trim().split('\n').map((l) => JSON.parse(l)) : JSON.parse(r.stdout))
    }
  }, 120_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('holds in what every listed command prints', () => {
    expect(outputs.size).toBeGreaterThan(20)
    const breaches = [...outputs].flatMap(([cmd, v]) => vocabularyBreaches(v).map((b) => `aura ${cmd} --json: ${b}`))
    expect(breaches).toEqual([])
  })

  it('prints exactly the fields docs/cli.md lists for each command', async () => {
    const shapes = documentedShapes(await readFile(path.join(ROOT, 'docs/cli.md'), 'utf8'))
    expect(shapes.length).toBeGreaterThan(20)
    const wordsOf = (cmd: string): string | undefined => shapes.map((d) => d.words).sort((a, b) => b.length - a.length).find((w) => cmd === w || cmd.startsWith(`${w} `))
    const bad: string[] = []
    for (const [cmd, v] of outputs) {
      const words = wordsOf(cmd)
      if (words === undefined) { bad.push(`aura ${cmd}: no row in docs/cli.md's JSON shapes`); continue }
      if (Array.isArray(v) && v.length === 0) continue
      const want = shapes.find((d) => d.words === words)!.fields.slice().sort()
      const got = fieldsOf(v)
      if (JSON.stringify(got) !== JSON.stringify(want)) bad.push(`aura ${cmd}: prints ${got.join(', ')}; documented ${want.join(', ')}`)
    }
    expect(bad).toEqual([])
  })

  it('the shape checker sees an undocumented field', () => {
    const [row] = documentedShapes('### JSON shapes\n| `aura peer list --json` | an array of rows | `peer, key, addrs, lastSeen` |\n')
    expect(row).toEqual({ words: 'peer list', fields: ['peer', 'key', 'addrs', 'lastSeen'] })
    expect(fieldsOf([{ peer: 'p', key: 'k', addrs: [], lastSeen: null, seen: null }])).not.toEqual(row.fields.slice().sort())
  })

  it('the checker names each kind of breach', () => {
    expect(vocabularyBreaches({ shortId: 'peer-5f3a', rows: [{ lastReceiptAt: 1796627325439, state: 'active', seen: '2026-12-07T07:08:22.618Z' }] })).toEqual([
      "$.shortId: say 'peer'",
      '$.rows[0].lastReceiptAt: a time must be an ISO 8601 string, got 1796627325439',
      "$.rows[0].state: say 'status'",
      '$.rows[0].seen: a time under a key that does not say so'
    ])
    expect(vocabularyBreaches({ peer: 'peer-5f3a', key: 'ab', expiresAt: null, ts: '2026-12-07T07:08:22.618Z', lastSeen: '2026-12-07T07:08:22.618Z' })).toEqual([])
  })
})
