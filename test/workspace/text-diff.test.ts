import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { unifiedDiff } from '../../node/workspace/text-diff.js'

/** The diff as it was computed before it skipped equal lines a block at a time: the reference. */
function referenceDiff (path: string, before: string, after: string): string {
  if (before === after) return ''
  const lines = (text: string): string[] => { const l = text.split('\n'); if (text.endsWith('\n')) l.pop(); return l }
  const range = (start: number, count: number): string => count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`
  type Op = { t: ' ' | '-' | '+', line: string }
  const lcsOps = (a: string[], b: string[]): Op[] => {
    if (a.length > 2000 || b.length > 2000) return [...a.map((line): Op => ({ t: '-', line })), ...b.map((line): Op => ({ t: '+', line }))]
    const dp = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1))
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        dp[i][j] = a[i] === b[j]
          ? dp[i + 1][j + 1] + 1
          : Math.max(dp[i + 1][j], dp[i][j + 1])
      }
    }
    const ops: Op[] = []
    let i = 0
    let j = 0
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) { ops.push({ t: ' ', line: a[i] }); i++; j++ } else if (dp[i + 1][j] >= dp[i][j + 1]) ops.push({ t: '-', line: a[i++] })
      else ops.push({ t: '+', line: b[j++] })
    }
    while (i < a.length) ops.push({ t: '-', line: a[i++] })
    while (j < b.length) ops.push({ t: '+', line: b[j++] })
    return ops
  }
  const a = lines(before)
  const b = lines(after)
  let pre = 0
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++
  let post = 0
  while (post < a.length - pre && post < b.length - pre && a[a.length - 1 - post] === b[b.length - 1 - post]) post++
  const from = Math.max(0, pre - 3)
  const ops: Op[] = [
    ...a.slice(from, pre).map((line): Op => ({ t: ' ', line })),
    ...lcsOps(a.slice(pre, a.length - post), b.slice(pre, b.length - post)),
    ...a.slice(a.length - post, Math.min(a.length, a.length - post + 3)).map((line): Op => ({ t: ' ', line }))
  ]
  const oldCount = ops.filter((o) => o.t !== '+').length
  const newCount = ops.filter((o) => o.t !== '-').length
  return `--- a/${path}\n+++ b/${path}\n@@ -${range(from + 1, oldCount)} +${range(from + 1, newCount)} @@\n` + ops.map((o) => o.t + o.line).join('\n') + '\n'
}

// Few distinct lines, so equal lines and near-misses ('ab' / 'a') are common.
const line = fc.constantFrom('', 'a', 'ab', 'b', ' a', 'x'.repeat(700))
const text = fc.tuple(fc.array(line, { maxLength: 40 }), fc.boolean()).map(([ls, nl]) => ls.join('\n') + (nl && ls.length > 0 ? '\n' : ''))
// A text and an edit of it: a stretch replaced, and the trailing newline perhaps toggled.
const edited = fc.tuple(text, fc.nat(), fc.nat(), text, fc.boolean()).map(([t, i, j, ins, toggle]) => {
  const s = Math.min(i, j) % (t.length + 1)
  const e = Math.max(i, j) % (t.length + 1)
  let u = t.slice(0, Math.min(s, e)) + ins + t.slice(Math.max(s, e))
  if (toggle) u = u.endsWith('\n') ? u.slice(0, -1) : u + '\n'
  return [t, u] as const
})

describe('unifiedDiff', () => {
  it('is the reference diff, for any two texts and any edit of a text', () => {
    fc.assert(fc.property(fc.oneof(fc.tuple(text, text), edited), ([a, b]) => {
      expect(unifiedDiff('f.txt', a, b)).toBe(referenceDiff('f.txt', a, b))
    }), { numRuns: 3000 })
  })

  it('shows one changed function of a large file with its context and line numbers', () => {
    const big = (v: string): string => Array.from({ length: 3000 }, (_, i) => i === 1500 ? `line ${i}${v}` : `line ${i}`).join('\n') + '\n'
    const d = unifiedDiff('a.ts', big(''), big(' changed'))
    expect(d).toBe('--- a/a.ts\n+++ b/a.ts\n@@ -1498,7 +1498,7 @@\n line 1497\n line 1498\n line 1499\n-line 1500\n+line 1500 changed\n line 1501\n line 1502\n line 1503\n')
    expect(d).toBe(referenceDiff('a.ts', big(''), big(' changed')))
  })
})
