/**
 * "Did you mean" for misspelt config keys: the closest candidate within a small edit distance.
 *
 * @example
 * closest('max_stalenes', ['max_staleness', 'receipt_interval']) // 'max_staleness'
 * closest('revoke', ['revoke-peer', 'lockdown'])                   // 'revoke-peer'
 * oneOfValues('--role', 'agnet', ['reader', 'agent'])              // E_USAGE: ...did you mean 'agent'?
 */
import { UsageError, type ErrorContext } from '../../crdt/errors.js'

function failUsage (message: string, context: ErrorContext): never {
  throw new UsageError(message, context)
}

/** The only candidate `word` abbreviates, else the nearest by edit distance if close enough to be a typo. */
export function closest (word: string, candidates: readonly string[]): string | undefined {
  const extending = candidates.filter((c) => word.length >= 3 && c.startsWith(word))
  if (extending.length === 1) return extending[0]
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 4)) + 1
  for (const c of candidates) {
    const d = editDistance(word, c)
    if (d < bestDistance) { best = c; bestDistance = d }
  }
  return best
}

/**
 * Up to `n` candidates nearest to `word`, nearest first: those `word` starts or is part of,
 * then by edit distance. For "did you mean" lists that must never be empty when candidates exist.
 */
export function nearest (word: string, candidates: readonly string[], n = 5): string[] {
  const w = word.toLowerCase()
  const rank = (c: string): number => {
    const l = c.toLowerCase()
    if (l.startsWith(w) || w.startsWith(l)) return -2
    if (l.includes(w) || w.includes(l)) return -1
    return editDistance(w, l)
  }
  return [...new Set(candidates)].map((c) => ({ c, r: rank(c) })).sort(
    (a, b) => a.r - b.r || a.c.localeCompare(b.c)
  ).slice(0, n).map((x) => x.c)
}

function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length]
}

/**
 * `input` if it is one of `allowed` (compared without case), else E_USAGE naming them and the
 * closest: unknown values are refused, never taken as data.
 */
export function oneOfValues<T extends string> (what: string, input: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a.toLowerCase() === input.trim().toLowerCase())
  if (found !== undefined) return found
  const guess = closest(input.trim().toLowerCase(), allowed)
  return failUsage(`unknown ${what} '${input}': one of ${allowed.join(', ')}${guess === undefined ? '' : `; did you mean '${guess}'?`}`, { input, allowed: [...allowed] })
}
