/**
 * The `aura rewind` line that undoes a pr-review flag: one wording for the CLI's text output and
 * the incident page. Kept apart from review-op.ts so the CLI can load it without tree-sitter.
 *
 * @example
 * rewindCommand(flag)   // 'aura rewind --function src/auth.ts:canEdit --to 3f9a12c0d1e2'
 */
import type { Flag } from '../workspace/review.js'

/** The line, or null when there is no unit or earlier version to go back to (notes, whole-record findings). */
export function rewindCommand (f: Pick<Flag, 'severity' | 'name' | 'location' | 'evidence'>): string | null {
  if (f.severity === 'low' || f.name === '' || f.name.startsWith('<') || f.evidence.rewindTo === null || f.evidence.rewindTo === undefined) return null
  return `aura rewind --function ${f.location} --to ${f.evidence.rewindTo.slice(0, 12)}`
}
