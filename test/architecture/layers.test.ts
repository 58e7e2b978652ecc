/**
 * The two structural rules the design rests on, checked on the sources: imports run one way
 * (`cli -> sim -> node -> crdt`, never upward), and the pure layers (`crdt/`, `node/sync/`, `node/peer/`) never
 * read a clock or a random source and never import a module that does I/O. The checks are
 * plain functions so the tests below can show them failing on a planted violation.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { importsOf } from './imports.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const LAYERS = ['crdt', 'node', 'sim', 'cli'] as const
const PURE = ['crdt', 'node/sync', 'node/peer']
/** Node built-ins a pure module may use: hashing and module resolution only. */
const PURE_BUILTINS = new Set(['node:crypto', 'node:module', 'node:path', 'node:zlib'])
const IMPURE_CALLS: Array<[RegExp, string]> = [
  [/\bDate\.now\s*\(/, 'Date.now()'],
  [/\bnew Date\s*\(\s*\)/, 'new Date()'],
  [/\bMath\.random\s*\(/, 'Math.random()'],
  [/\bperformance\.now\s*\(/, 'performance.now()'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
  [/\b(randomBytes|randomUUID|getRandomValues|randomInt)\s*\(/, 'a random source'],
  [/\b(setTimeout|setInterval|setImmediate)\s*\(/, 'a timer']
]

function sources (dir: string): string[] {
  const out: string[] = []
  for (const e of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...sources(rel))
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel)
  }
  return out
}

function layerOf (file: string): number {
  return LAYERS.indexOf(file.split(path.sep)[0] as typeof LAYERS[number])
}

/** Upward imports of one file (`file` relative to the root, e.g. `node/x.ts`). */
export function upwardImports (file: string, text: string): string[] {
  const from = layerOf(file)
  return importsOf(text).filter((spec) => {
    if (!spec.startsWith('.')) return false
    const target = path.normalize(path.join(path.dirname(file), spec))
    const to = layerOf(target)
    return to > from
  })
}

/** Clock, random or I/O uses in a pure module. */
export function impurities (text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
  const found = IMPURE_CALLS.filter(([re]) => re.test(code)).map(([, what]) => what)
  for (const spec of importsOf(code)) {
    if (spec.startsWith('node:') ? !PURE_BUILTINS.has(spec) : ['fs', 'net', 'os', 'child_process', 'level', 'libp2p'].includes(spec)) found.push(`import ${spec}`)
  }
  return found
}

describe('layers', () => {
  it('imports run cli -> sim -> node -> crdt, never upward', () => {
    const bad = LAYERS.flatMap((l) => sources(l)).flatMap((f) => upwardImports(f, readFileSync(path.join(ROOT, f), 'utf8')).map((s) => `${f} imports ${s}`))
    expect(bad).toEqual([])
  })

  it('crdt/, node/sync/ and node/peer/ read no clock, random source or disk', () => {
    const bad = PURE.flatMap((d) => sources(d)).flatMap((f) => impurities(readFileSync(path.join(ROOT, f), 'utf8')).map((w) => `${f}: ${w}`))
    expect(bad).toEqual([])
  })

  it('the checks see a planted violation', () => {
    expect(upwardImports('crdt/x.ts', "import { a } from '../node/runtime.js'\n")).toEqual(['../node/runtime.js'])
    expect(upwardImports('node/x.ts', "const m = await import('../cli/main.js')\n")).toEqual(['../cli/main.js'])
    expect(upwardImports('node/sync/x.ts', "export { b } from '../../sim/run.js'\n")).toEqual(['../../sim/run.js'])
    expect(upwardImports('cli/x.ts', "import { a } from '../node/runtime.js'\n")).toEqual([])
    expect(impurities('const t = Date.now()\n')).toEqual(['Date.now()'])
    expect(impurities("import { readFile } from 'node:fs/promises'\n")).toEqual(['import node:fs/promises'])
    expect(impurities('const r = Math.random() // pick\n')).toEqual(['Math.random()'])
    expect(impurities('// Date.now() is never read here\nconst x = 1\n')).toEqual([])
    expect(impurities('setTimeout(() => {}, 5)\n')).toEqual(['a timer'])
  })
})
