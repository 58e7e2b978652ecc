import { afterEach, describe, expect, it } from 'vitest'
import { listFiles, scanWorkspace, summariseState } from '../../node/workspace/scan.js'
import { makeWorkspace, type TestWorkspace } from './helpers.js'

let ws: TestWorkspace | null = null
afterEach(async () => { await ws?.cleanup(); ws = null })

describe('scanWorkspace', () => {
  it('honours .gitignore and .auraignore, nested, and always skips .git, .aura, node_modules', async () => {
    ws = await makeWorkspace({
      '.gitignore': 'dist/\n*.log\n',
      '.auraignore': 'secrets.env\n',
      'src/a.ts': 'export const a = 1\n',
      'src/.gitignore': 'generated.ts\n!keep.log\n',
      'src/generated.ts': 'x',
      'src/keep.log': 'kept',
      'dist/out.js': 'x',
      'debug.log': 'x',
      'secrets.env': 'TOKEN=1',
      'node_modules/m/index.js': 'x',
      '.git/HEAD': 'ref',
      '.aura/aura.toml': 'x',
      'README.md': '# hi\n'
    })
    expect(await listFiles(ws.root)).toEqual(['.auraignore', '.gitignore', 'README.md', 'src/.gitignore', 'src/a.ts', 'src/keep.log'])
    expect(await listFiles(ws.root, ['src'])).toEqual(['src/.gitignore', 'src/a.ts', 'src/keep.log'])
  })

  it('records file hashes and units, and skips binary files', async () => {
    ws = await makeWorkspace({ 'a.py': 'def f():\n    return 1\n', 'logo.png': new Uint8Array([0x89, 0x50, 0, 1, 2]) })
    const r = await scanWorkspace(ws.root)
    expect(Object.keys(r.state.files)).toEqual(['a.py'])
    expect(r.state.files['a.py'].fileHash).toMatch(/^[0-9a-f]{64}$/)
    expect(r.state.files['a.py'].units.map((u) => u.name)).toEqual(['<module>', 'f'])
    expect(r.skipped).toEqual([{ path: 'logo.png', reason: 'binary' }])
  })

  it('reuses the baseline for files whose bytes did not change, and reports syntax errors', async () => {
    ws = await makeWorkspace({ 'a.py': 'def f():\n    return 1\n', 'b.py': 'def g():\n    return 2\n' })
    const baseline = summariseState((await scanWorkspace(ws.root)).state)
    await ws.write('b.py', 'def g(:\n')
    const r = await scanWorkspace(ws.root, { baseline })
    expect(r.state.files['a.py']).toBe(baseline.files['a.py'])
    expect(r.syntaxErrors).toEqual([{ path: 'b.py', line: 1, column: expect.any(Number) }])
  })

  it('stores a summary without texts or offsets', async () => {
    ws = await makeWorkspace({ 'a.ts': 'export function f () { return 1 }\n' })
    const s = summariseState((await scanWorkspace(ws.root)).state)
    expect(Object.keys(s.files['a.ts'].units[1]).sort()).toEqual(['bodyHash', 'hash', 'kind', 'name', 'parent'])
  })
})
