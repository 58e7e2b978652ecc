/**
 * Builds a mutated copy of the sources: crdt/, node/ and sim/ copied under `.mutants/<id>/` in the
 * repository (so packages resolve from its node_modules), one textual patch applied, and the
 * runner put at the copy's root; then runs a plan there with tsx in a child process. Production
 * code carries no mutant switch.
 *
 * @example
 * const dir = makeCopy(mutant)                 // .mutants/no-chain-relay
 * const runs = await runPlan(dir, mutant.runs) // one line per run, stopping at the first catch
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Mutant } from './mutants.js'
import type { PlanRun } from './runner.js'

const ROOT = resolve(import.meta.dirname, '../..')

/** A mutant that no longer matches the sources (the code moved on: update the mutant). */
export class StaleMutantError extends Error {
  readonly code = 'E_STALE_MUTANT'
}

/** The source of `file` with the mutant's patch applied; throws unless `find` occurs exactly once. */
export function applyMutant (source: string, m: Pick<Mutant, 'id' | 'file' | 'find' | 'replace'>): string {
  const first = source.indexOf(m.find)
  if (first < 0 || source.indexOf(m.find, first + 1) >= 0) {
    throw new StaleMutantError(`mutant ${m.id}: the text it patches occurs ${first < 0 ? 'nowhere' : 'more than once'} in ${m.file}`)
  }
  return source.slice(0, first) + m.replace + source.slice(first + m.find.length)
}

/** Copies the sources to `.mutants/<id>/` and applies the mutant (null: an unmutated copy). */
export function makeCopy (id: string, m: Mutant | null): string {
  const dir = join(ROOT, '.mutants', id)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (const d of ['crdt', 'node', 'sim']) cpSync(join(ROOT, d), join(dir, d), { recursive: true })
  cpSync(join(ROOT, 'test/mutation/runner.ts'), join(dir, 'runner.ts'))
  if (m !== null) writeFileSync(join(dir, m.file), applyMutant(readFileSync(join(ROOT, m.file), 'utf8'), m))
  return dir
}

/** Removes a copy. */
export function removeCopy (dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** One run's outcome. */
export interface RunOutcome { run: PlanRun, violations: string[], count: number }

/** Runs `runs` in the copy at `dir` (stopping at the first that fails, unless `all`). */
export async function runPlan (dir: string, runs: PlanRun[], all = false): Promise<RunOutcome[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(dir, 'runner.ts'), JSON.stringify({ runs, all })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (b: Buffer) => { out += b.toString() })
  child.stderr.on('data', (b: Buffer) => { err += b.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  const lines = out.split('\n').filter((l) => l.startsWith('{'))
  if (code !== 0) throw new Error(`runner in ${dir} exited ${code}: ${err.slice(-2000)}`)
  return lines.map((l) => JSON.parse(l) as RunOutcome)
}
