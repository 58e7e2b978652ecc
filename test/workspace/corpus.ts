/**
 * The labelled security-review corpus (test/workspace/corpus/{malicious,benign}/*.case). A case
 * file has `key: value` header lines (`description`, and for malicious cases the rule family it
 * must trigger: `expect: network | secret | security-function | large-diff`), then files:
 * `=== before: PATH`, `=== after: PATH` or `=== both: PATH`, each followed by its content.
 *
 * @example
 * const cases = await loadCorpus() // [{ id: 'malicious/py-hollow-verify-token', label: 'malicious', ... }]
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ReviewRule } from '../../node/workspace/review.js'

/** The four rule families of the review. */
export type Family = 'network' | 'secret' | 'security-function' | 'large-diff'

/** One labelled change. */
export interface Case {
  id: string
  label: 'malicious' | 'benign'
  description: string
  expect: Family | null
  before: Record<string, string>
  after: Record<string, string>
}

/** The family a rule belongs to (null for findings outside the four families). */
export function familyOf (rule: ReviewRule): Family | null {
  switch (rule) {
    case 'network-call': return 'network'
    case 'secret': return 'secret'
    case 'security-function-deleted':
    case 'security-function-hollowed':
    case 'security-check-removed': return 'security-function'
    case 'large-diff': return 'large-diff'
    default: return null
  }
}

/** Parses one case file. */
export function parseCase (id: string, label: Case['label'], text: string): Case {
  const c: Case = { id, label, description: '', expect: null, before: {}, after: {} }
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

/** Loads every case of the corpus, sorted by id. */
export async function loadCorpus (dir = new URL('./corpus/', import.meta.url).pathname): Promise<Case[]> {
  const out: Case[] = []
  for (const label of ['malicious', 'benign'] as const) {
    for (const f of (await readdir(join(dir, label))).filter((x) => x.endsWith('.case')).sort()) {
      out.push(parseCase(`${label}/${f.slice(0, -5)}`, label, await readFile(join(dir, label, f), 'utf8')))
    }
  }
  return out
}
