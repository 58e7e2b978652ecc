/**
 * The labelled security-review corpus. Tuning cases are in test/workspace/corpus/{malicious,benign}/,
 * the frozen test split (written before the rules, never edited to pass) in
 * test/workspace/corpus/frozen/{malicious,benign}/. A case file has `key: value` header lines
 * (`description`, and for malicious cases the family it must trigger: `expect: network | secret |
 * security-function | dynamic-code | large-diff | test-weakening`), then files: `=== before: PATH`,
 * `=== after: PATH` or `=== both: PATH`, each followed by its content.
 *
 * @example
 * const cases = await loadCorpus() // [{ id: 'malicious/py-hollow-verify-token', split: 'tune', ... }]
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ReviewRule } from '../../node/workspace/review.js'

/** The rule families of the review, as cases name them. */
export type Family = 'network' | 'secret' | 'security-function' | 'dynamic-code' | 'large-diff' | 'test-weakening'

/** Every family a malicious case may expect. */
export const FAMILIES: Family[] = ['network', 'secret', 'security-function', 'dynamic-code', 'large-diff', 'test-weakening']

/** One labelled change. */
export interface Case {
  id: string
  label: 'malicious' | 'benign'
  /** `test`: the frozen split the goals are measured on; `tune`: the rest. */
  split: 'test' | 'tune'
  description: string
  expect: Family | null
  before: Record<string, string>
  after: Record<string, string>
}

/** The family a rule belongs to (null for findings outside the families). */
export function familyOf (rule: ReviewRule): Family | null {
  switch (rule) {
    case 'network-call':
    case 'outside-write':
    case 'install-hook': return 'network'
    case 'secret': return 'secret'
    case 'dynamic-code': return 'dynamic-code'
    case 'security-function-deleted':
    case 'security-function-hollowed':
    case 'security-check-removed':
    case 'guard-weakened':
    case 'guard-bypass':
    case 'guard-removed':
    case 'verification-disabled':
    case 'tautology':
    case 'protection-removed': return 'security-function'
    case 'large-diff': return 'large-diff'
    case 'tests-weakened': return 'test-weakening'
    default: return null
  }
}

/** Parses one case file. */
export function parseCase (id: string, label: Case['label'], text: string, split: Case['split'] = 'tune'): Case {
  const c: Case = { id, label, split, description: '', expect: null, before: {}, after: {} }
  const blocks = text.split(/^=== /m)
  for (const line of blocks[0].split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line)
    if (m?.[1] === 'description') c.description = m[2]
    if (m?.[1] === 'expect') c.expect = m[2] as Family
  }
  for (const block of blocks.slice(1)) {
    const nl = block.indexOf('\n')
    const m = /^(before|after|both): (.+)$/.exec(block.slice(0, nl))
    if (m === null) throw new Error(`${id}: bad file header '${block.slice(0, nl)}'`)
    const content = block.slice(nl + 1)
    if (m[1] !== 'after') c.before[m[2]] = content
    if (m[1] !== 'before') c.after[m[2]] = content
  }
  return c
}

/** Loads every case of the corpus (both splits), sorted by id within each. */
export async function loadCorpus (dir = new URL('./corpus/', import.meta.url).pathname): Promise<Case[]> {
  const out: Case[] = []
  for (const [sub, split] of [['', 'tune'], ['frozen', 'test']] as const) {
    for (const label of ['malicious', 'benign'] as const) {
      const at = join(dir, sub, label)
      for (const f of (await readdir(at)).filter((x) => x.endsWith('.case')).sort()) {
        out.push(parseCase(`${sub === '' ? '' : `${sub}/`}${label}/${f.slice(0, -5)}`, label, await readFile(join(at, f), 'utf8'), split))
      }
    }
  }
  return out
}
