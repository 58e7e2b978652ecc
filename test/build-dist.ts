/**
 * The one place tests that run the real `aura` processes make sure dist/ is current. It builds
 * (tsc) when dist/ is missing or older than the sources. Test files run in parallel workers, so
 * one lock directory makes one build while the others wait: no daemon ever starts from a
 * half-written dist/. tsc emits despite type errors elsewhere, so the output is what counts.
 *
 * @example
 * beforeAll(() => ensureBuilt())
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const MAIN = path.join(ROOT, 'dist/cli/main.js')
const LOCK = path.join(os.tmpdir(), 'aura-test-build.lock')

function newestTs (dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(p))
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
  }
  return newest
}

/** Builds dist/ when it is stale; waits for a build another worker is running. */
export function ensureBuilt (): void {
  const deadline = Date.now() + 240_000
  const stale = (): boolean => !existsSync(MAIN) || statSync(MAIN).mtimeMs < Math.max(...['cli', 'node', 'crdt', 'sim'].map((d) => newestTs(path.join(ROOT, d))))
  while (stale()) {
    try {
      mkdirSync(LOCK)
    } catch {
      // Another worker is building (or a crashed build left the lock: give up on it after 4 min).
      if (Date.now() > deadline) rmSync(LOCK, { recursive: true, force: true })
      spawnSync('sleep', ['0.5'])
      continue
    }
    try {
      spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, timeout: 240_000 })
      if (!existsSync(MAIN)) throw new Error('the build did not produce dist/cli/main.js')
      return
    } finally {
      rmSync(LOCK, { recursive: true, force: true })
    }
  }
}
