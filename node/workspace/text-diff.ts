/**
 * A small unified line diff, for showing what a rewind or an apply would change (`--dry-run`).
 * Common leading and trailing lines are trimmed first, so a one-function change in a large
 * file costs only that function's lines; the middle is aligned by longest common subsequence
 * (up to 2,000 lines each side, beyond which it is shown as one replacement).
 *
 * @example
 * unifiedDiff('a.py', 'x = 1\n', 'x = 2\n') // '--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n'
 */

const CONTEXT = 3
const MAX_LCS_LINES = 2000

type Op = { t: ' ' | '-' | '+', line: string }

function lcsOps (a: string[], b: string[]): Op[] {
  if (a.length > MAX_LCS_LINES || b.length > MAX_LCS_LINES) {
    return [...a.map((line): Op => ({ t: '-', line })), ...b.map((line): Op => ({ t: '+', line }))]
  }
  const n = a.length
  const m = b.length
  const dp = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1])
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) { ops.push({ t: ' ', line: a[i] }); i++; j++ } else if (dp[i + 1][j] >= dp[i][j + 1]) ops.push({ t: '-', line: a[i++] })
    else ops.push({ t: '+', line: b[j++] })
  }
  while (i < n) ops.push({ t: '-', line: a[i++] })
  while (j < m) ops.push({ t: '+', line: b[j++] })
  return ops
}

function lines (text: string): string[] {
  const l = text.split('\n')
  if (text.endsWith('\n')) l.pop()
  return l
}

function range (start: number, count: number): string {
  return count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`
}

/** A unified diff of two texts (empty string when they are equal). */
export function unifiedDiff (path: string, before: string, after: string): string {
  if (before === after) return ''
  const a = lines(before)
  const b = lines(after)
  let pre = 0
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++
  let post = 0
  while (post < a.length - pre && post < b.length - pre && a[a.length - 1 - post] === b[b.length - 1 - post]) post++
  const from = Math.max(0, pre - CONTEXT)
  const ops: Op[] = [
    ...a.slice(from, pre).map((line): Op => ({ t: ' ', line })),
    ...lcsOps(a.slice(pre, a.length - post), b.slice(pre, b.length - post)),
    ...a.slice(a.length - post, Math.min(a.length, a.length - post + CONTEXT)).map((line): Op => ({ t: ' ', line }))
  ]
  const oldCount = ops.filter((o) => o.t !== '+').length
  const newCount = ops.filter((o) => o.t !== '-').length
  const header = `--- a/${path}\n+++ b/${path}\n@@ -${range(from + 1, oldCount)} +${range(from + 1, newCount)} @@\n`
  return header + ops.map((o) => o.t + o.line).join('\n') + '\n'
}
