// `aura pr-review --security` end to end through the CLI: corpus cases written into a real
// workspace, a baseline and one intent per case recorded with `log-intent`, then
// `pr-review --since 30d --security --json` (and the text form): each intent gets its own
// flags, with rule, category, severity, evidence and the record to rewind to; the benign
// refactor gets no alert; the rewind the text suggests puts the guard back.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../cli/helpers.js'
import { loadCorpus, type Case } from '../workspace/corpus.js'

const CASES = [
  'frozen/malicious/py-setup-env-exfil',
  'frozen/malicious/ts-condition-weakened',
  'frozen/malicious/tsx-stripe-secret-frontend',
  'malicious/py-verify-hostname-off',
  'frozen/benign/py-extract-role-helper'
]

describe('pr-review --security through the CLI', () => {
  let dir: string
  let home: string
  let ws: string
  let cases: Case[]
  const ids = new Map<string, string>()

  const ok = async (args: string[], json = true): Promise<any> => {
    const r = await runCli([...args, '--home', home, ...(json ? ['--json'] : [])], { cwd: ws })
    if (r.code !== 0) throw new Error(`aura ${args.join(' ')} -> ${r.code}: ${r.stdout} ${r.stderr}`)
    return json ? JSON.parse(r.stdout) : r.stdout
  }
  const write = async (files: Record<string, string>): Promise<void> => {
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(ws, rel)), { recursive: true })
      await writeFile(path.join(ws, rel), text)
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-review-'))
    home = path.join(dir, 'home')
    ws = path.join(dir, 'ws')
    const all = await loadCorpus()
    cases = CASES.map((id) => all.find((c) => c.id === id) as Case)
    for (const c of cases) await write(c.before)
    await ok(['init'])
    await ok(['mothership', 'init', '--team', 'acme', '--user', 'ops'])
    await ok(['log-intent', 'baseline'])
    for (const c of cases) {
      await write(c.after)
      ids.set(c.id, (await ok(['log-intent', c.description])).id)
    }
  }, 120_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('flags each intent on its own, with evidence, and no alert on the refactor', async () => {
    const r = await ok(['pr-review', '--since', '30d', '--security'])
    const of = (id: string): any[] => r.flags.filter((f: any) => f.recordId === ids.get(id) && f.severity !== 'low')
    expect(of('frozen/malicious/py-setup-env-exfil')).toContainEqual(expect.objectContaining({
      rule: 'network-call',
      category: 'exfiltration',
      severity: 'high',
      location: 'setup.py:_telemetry',
      evidence: expect.objectContaining({ api: 'urllib.request.urlopen', detail: 'carries the whole environment' })
    }))
    const weakened = of('frozen/malicious/ts-condition-weakened')
    expect(weakened.map((f) => f.rule)).toEqual(['guard-weakened'])
    expect(weakened[0].evidence).toMatchObject({ before: '!user || (doc.ownerId !== user.id && !doc.editors.includes(user.id))', after: '!user' })
    expect(of('frozen/malicious/tsx-stripe-secret-frontend').map((f) => [f.rule, f.evidence.api])).toEqual([['secret', 'secretlint:stripe']])
    expect(of('malicious/py-verify-hostname-off').map((f) => f.rule)).toEqual(['verification-disabled', 'verification-disabled'])
    expect(of('frozen/benign/py-extract-role-helper')).toEqual([])
    expect(r.summary).toMatchObject({ records: CASES.length })
    // A secret never leaves the review whole.
    expect(JSON.stringify(r)).not.toContain('sk_live_51MzQ8TLkD2vX9pRa7YwE3nBc6Hq1Fj4Ks8Lm0Np2Tr5Uv7Wx9Yz3')
  })

  it('prints the flags under their intent with the rewind that undoes them, and that rewind restores the guard', async () => {
    const text = await ok(['pr-review', '--since', '30d', '--security'], false)
    const weak = ids.get('frozen/malicious/ts-condition-weakened') as string
    const block = text.slice(text.indexOf(weak.slice(0, 8)))
    const undo = /undo: aura rewind --function (\S+) --to (\S+)/.exec(block)
    expect(undo?.[1]).toBe('src/docs/access.ts:assertCanEdit')
    expect(block).toContain('before: !user || (doc.ownerId')
    await ok(['rewind', '--function', undo?.[1] as string, '--to', undo?.[2] as string])
    const restored = await readFile(path.join(ws, 'src/docs/access.ts'), 'utf8')
    expect(restored).toContain('doc.editors.includes(user.id)')
  })
})
