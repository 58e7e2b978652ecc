/**
 * Every runtime dependency in package.json is imported by the shipped code (bin/, cli/, crdt/,
 * node/, sim/), so nothing is installed on users' machines for nothing; a package used only by
 * tests or benchmarks belongs in devDependencies.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { importsOf } from './imports.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SHIPPED = ['bin', 'cli', 'crdt', 'node', 'sim']

function sources (dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name)
    if (e.isDirectory()) return sources(rel)
    return /\.(ts|js|cjs|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [rel] : []
  })
}

/** The package an import specifier names (`@scope/pkg/sub` -> `@scope/pkg`), or null for a path or built-in. */
export function packageOf (spec: string): string | null {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return null
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

export function unusedDependencies (deps: string[], specs: string[]): string[] {
  const used = new Set(specs.map(packageOf).filter((p) => p !== null))
  return deps.filter((d) => !used.has(d))
}

describe('dependencies', () => {
  it('every runtime dependency is imported by shipped code', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
    const specs = SHIPPED.flatMap((d) => sources(d)).flatMap((f) => importsOf(readFileSync(path.join(ROOT, f), 'utf8')))
    expect(unusedDependencies(Object.keys(pkg.dependencies), specs)).toEqual([])
  })

  it('the check names a dependency nothing imports', () => {
    expect(unusedDependencies(['level', 'ulid', '@libp2p/tcp'], ["import { Level } from 'level'", "await import('@libp2p/tcp/sub')"].flatMap(importsOf))).toEqual(['ulid'])
  })
})
