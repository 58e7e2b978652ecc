import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { skeletonParts } from '../../node/workspace/skeleton.js'
import { UsageError } from '../../crdt/errors.js'
import { extractUnits, parseUnitRef, type Unit } from '../../node/workspace/units.js'

const byName = (units: Unit[]): Record<string, Unit> => Object.fromEntries(units.map((u) => [u.name, u]))

/** Rebuilds a file from its module skeleton and members: must give back the source exactly. */
function rebuild (source: string, units: Unit[]): string {
  const fill = (u: Unit): string => skeletonParts(u.text).map((p) => 'text' in p ? p.text : fill(units.find((x) => x.name === p.member) as Unit)).join('')
  return fill(units[0])
}

const TS = `import { createHash } from 'node:crypto'

/** Checks tokens. */
export class Auth {
  private secret = 'x'

  @logged()
  verify (token: string): boolean {
    return token === this.secret
  }

  static make (): Auth { return new Auth() }
}

export function hashToken (t: string): string {
  return createHash('sha256').update(t).digest('hex')
}

export const isAdmin = (user: { role: string }) => user.role === 'admin'
`

const TSX = `import React from 'react'

export function Badge ({ label }: { label: string }) {
  return <span className="badge">{label}</span>
}

export const List = ({ items }: { items: string[] }) => (
  <ul>
    {items.map((i) => <li key={i}>{i}</li>)}
  </ul>
)
`

const JS = `const http = require('http')

function handler (req, res) {
  res.end('ok')
}

module.exports.start = function start (port) {
  return http.createServer(handler).listen(port)
}

class Queue {
  constructor () { this.items = [] }
  push (x) { this.items.push(x) }
}
`

const PY = `import hmac

@dataclass
class Session:
    user: str

    def is_valid(self, now):
        return self.expires > now

    @staticmethod
    def new(user):
        return Session(user)


def verify_token(token, secret):
    """Constant-time check."""
    return hmac.compare_digest(token, secret)
`

describe('extractUnits', () => {
  it('splits TypeScript into module, class, methods and functions', () => {
    const r = extractUnits('src/auth.ts', TS)
    expect(r.language).toBe('typescript')
    expect(r.error).toBeNull()
    expect(r.units.map((u) => `${u.kind}:${u.name}`)).toEqual([
      'module:<module>', 'class:Auth', 'method:Auth.verify', 'method:Auth.make', 'function:hashToken', 'function:isAdmin'
    ])
    const u = byName(r.units)
    expect(u['Auth.verify'].text.startsWith('@logged()')).toBe(true)
    expect(u['Auth.verify'].parent).toBe('Auth')
    expect(u['Auth.verify'].indent).toBe('  ')
    expect(u.Auth.text).toContain('\u27eaAuth.verify\u27eb')
    expect(u.Auth.text).toContain("private secret = 'x'")
    expect(u.hashToken.text.startsWith('export function hashToken')).toBe(true)
    expect(rebuild(TS, r.units)).toBe(TS)
  })

  it('splits TSX components', () => {
    const r = extractUnits('src/ui.tsx', TSX)
    expect(r.language).toBe('tsx')
    expect(r.error).toBeNull()
    expect(r.units.map((u) => u.name)).toEqual(['<module>', 'Badge', 'List'])
    expect(rebuild(TSX, r.units)).toBe(TSX)
  })

  it('splits JavaScript, including CommonJS exports', () => {
    const r = extractUnits('lib/server.js', JS)
    expect(r.units.map((u) => `${u.kind}:${u.name}`)).toEqual([
      'module:<module>', 'function:handler', 'function:module.exports.start', 'class:Queue', 'method:Queue.constructor', 'method:Queue.push'
    ])
    expect(rebuild(JS, r.units)).toBe(JS)
  })

  it('splits Python, decorators included', () => {
    const r = extractUnits('src/auth/verify.py', PY)
    expect(r.units.map((u) => `${u.kind}:${u.name}`)).toEqual([
      'module:<module>', 'class:Session', 'method:Session.is_valid', 'method:Session.new', 'function:verify_token'
    ])
    const u = byName(r.units)
    expect(u.Session.text.startsWith('@dataclass')).toBe(true)
    expect(u['Session.new'].text.startsWith('@staticmethod')).toBe(true)
    expect(rebuild(PY, r.units)).toBe(PY)
  })

  it('makes a file without a grammar one whole-file unit', () => {
    const r = extractUnits('config/app.yaml', 'a: 1\n')
    expect(r.units).toHaveLength(1)
    expect(r.units[0]).toMatchObject({ name: '<file>', kind: 'file', text: 'a: 1\n' })
  })

  it('reports a syntax error with its line', () => {
    const r = extractUnits('a.py', 'def f():\n    return 1\n\ndef g(:\n    pass\n')
    expect(r.error).not.toBeNull()
    expect(r.error?.line).toBe(4)
  })

  it('parses PATH:NAME references; names never hold a colon', () => {
    expect(parseUnitRef('src/auth/verify.py:verify_token')).toEqual({ path: 'src/auth/verify.py', name: 'verify_token' })
    expect(parseUnitRef('a:b/c.ts:Auth.check')).toEqual({ path: 'a:b/c.ts', name: 'Auth.check' })
    expect(() => parseUnitRef('src/a.ts')).toThrow(UsageError)
    expect(extractUnits('a.js', "class A {\n  'x:y' () {}\n}\n").units.map((u) => u.name)).toEqual(['<module>', 'A', "A.'x_y'"])
  })

  it('qualifies nested classes and numbers duplicate names', () => {
    const r = extractUnits('a.ts', 'class A {\n  get v () { return 1 }\n  set v (x) {}\n}\n')
    expect(r.units.map((u) => u.name)).toEqual(['<module>', 'A', 'A.v', 'A.v#2'])
    const p = extractUnits('a.py', 'class A:\n    class B:\n        def m(self):\n            pass\n')
    expect(p.units.map((u) => u.name)).toEqual(['<module>', 'A', 'A.B', 'A.B.m'])
  })

  it('stops after the unit asked for and its members, with the units before it as a whole extraction finds them', () => {
    const src = 'def f():\n    pass\n\n\nclass A:\n    def m(self):\n        pass\n\n    def n(self):\n        pass\n\n\ndef f():\n    pass\n'
    const whole = extractUnits('a.py', src).units
    const cut = extractUnits('a.py', src, { until: 'A.m' })
    expect(cut.partial).toBe(true)
    expect(cut.units.slice(1)).toEqual(whole.slice(1, 5))
    expect(cut.units[0]).toMatchObject({ name: '<module>', text: '', hash: '' })
    expect(extractUnits('a.py', src, { until: 'f#2' }).units.slice(1)).toEqual(whole.slice(1))
    for (const until of ['<module>', 'nowhere']) {
      const all = extractUnits('a.py', src, { until })
      expect(all.partial).toBeUndefined()
      expect(all.units).toEqual(whole)
    }
  })
})

const hashes = (
  path: string,
  src: string
): Record<string, string> => Object.fromEntries(extractUnits(path, src).units.map((u) => [u.name, u.hash]))

describe('normalised hashes', () => {
  const cases: Array<[string, string, string]> = [
    ['ts', 'src/a.ts', TS],
    ['tsx', 'src/a.tsx', TSX],
    ['js', 'src/a.js', JS],
    ['py', 'src/a.py', PY]
  ]

  it.each(cases)('%s: comments and blank lines change no hash', (_l, path, src) => {
    const marker = path.endsWith('.py') ? '# note' : '// note'
    const reformatted = src.split('\n').map((l) => l.trim() === '' ? '\n' : l).join('\n')
      .replace(/\n(\s*)return /g, `\n$1${marker}\n$1return `)
    expect(reformatted).not.toBe(src)
    expect(hashes(path, reformatted)).toEqual(hashes(path, src))
  })

  it('property: any spacing between tokens and any blank lines keep every hash', () => {
    const PY_PLAIN = 'import hmac\n\nclass Session:\n    def ok(self, now):\n        return self.expires > now and hmac.compare_digest(self.a, self.b)\n\ndef f(x, y=2):\n    return [x, y]\n'
    for (const [path, src] of [['a.ts', TS], ['a.js', JS], ['a.py', PY_PLAIN]] as const) {
      const want = hashes(path, src)
      fc.assert(fc.property(fc.array(fc.constantFrom(' ', '  ', '\t', ' \t '), { minLength: 200, maxLength: 200 }), fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }), (spaces, blanks) => {
        let i = 0
        // Spacing inside lines (never indentation, never inside the samples' strings).
        const spaced = src.split('\n').map((line) => line.replace(/^(\s*)(.*)$/, (_m, lead: string, rest: string) => lead + rest.replace(/[ \t]+/g, () => spaces[i++ % spaces.length])))
        const out = spaced.flatMap((line, k) => blanks[k % blanks.length] ? [line, ''] : [line]).join('\n')
        expect(hashes(path, out)).toEqual(want)
      }), { numRuns: 40 })
    }
  })

  it('TypeScript: reindenting, semicolons, trailing commas, quotes and parentheses change no hash', () => {
    const a = "export function f (a: number, b: string) {\n  const x = [1, 2, 3]\n  return (a + x.length) * 2 + 'y'\n}\n"
    const b = 'export function f(\n    a: number,\n    b: string,\n) {\n    const x = [1, 2, 3,];\n    return ((a + x.length) * 2) + "y";\n}\n'
    expect(hashes('a.ts', b)).toEqual(hashes('a.ts', a))
  })

  it('Python: reformatting keeps the hash but indentation that changes blocks does not', () => {
    const a = 'def f(a, b):\n    if a:\n        x = [1, 2]\n    return b\n'
    const b = 'def f(a,b):\n  if a:\n    x = [1,\n         2,]\n  return (b)\n'
    const c = 'def f(a, b):\n    if a:\n        x = [1, 2]\n        return b\n'
    expect(hashes('a.py', b)).toEqual(hashes('a.py', a))
    expect(hashes('a.py', c).f).not.toBe(hashes('a.py', a).f)
  })

  it.each(cases)('%s: changing logic changes that unit\'s hash only', (_l, path, src) => {
    const changed = src.replace(/return /, 'return 1 + ')
    const before = hashes(path, src)
    const after = hashes(path, changed)
    const differing = Object.keys(before).filter((k) => before[k] !== after[k])
    expect(differing).toHaveLength(1)
  })

  it('string contents, operators and names count', () => {
    const base = hashes('a.js', 'function f () { return "a b" }\n').f
    expect(hashes('a.js', 'function f () { return "a  b" }\n').f).not.toBe(base)
    expect(hashes('a.js', 'function f () { return "a b" + 1 }\n').f).not.toBe(base)
    expect(hashes('a.js', 'function g () { return "a b" }\n').g).not.toBe(base)
  })

  it('a member change leaves its class and module hashes alone', () => {
    const a = hashes('a.py', PY)
    const b = hashes('a.py', PY.replace('self.expires > now', 'self.expires >= now'))
    expect(b['Session.is_valid']).not.toBe(a['Session.is_valid'])
    expect(b.Session).toBe(a.Session)
    expect(b['<module>']).toBe(a['<module>'])
  })

  it('body hashes ignore the unit\'s own name', () => {
    const a = extractUnits('a.ts', 'function check (t: string) { return t.length > 2 }\n').units[1]
    const b = extractUnits('a.ts', 'function verify (t: string) { return t.length > 2 }\n').units[1]
    expect(a.hash).not.toBe(b.hash)
    expect(a.bodyHash).toBe(b.bodyHash)
  })

  it('whole-file units ignore only trailing whitespace and line endings', () => {
    const h = (t: string): string => extractUnits('Makefile', t).units[0].hash
    expect(h('all:\n\tbuild  \r\n\n')).toBe(h('all:\n\tbuild'))
    expect(h('all:\n  build')).not.toBe(h('all:\n\tbuild'))
  })
})
