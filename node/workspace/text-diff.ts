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
    for (let j = m - 1; j >= 0; j--) {
      dp[i][j] = a[i] === b[j]
        ? dp[i + 1][j + 1] + 1
        : Math.max(dp[i + 1][j], dp[i][j + 1])
    }
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
  return windowed(path, before, after) ?? hunk(path, lines(before), lines(after), 0)
}

/**
 * The hunk of two line arrays: common leading and trailing lines trimmed, the middle aligned.
 * `skipped` lines equal in both were left out before `a` and `b` begin (line numbers count them).
 */
function hunk (path: string, a: string[], b: string[], skipped: number): string {
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
  const header = `--- a/${path}\n+++ b/${path}\n@@ -${range(skipped + from + 1, oldCount)} +${range(skipped + from + 1, newCount)} @@\n`
  return header + ops.map((o) => o.t + o.line).join('\n') + '\n'
}

// Equal stretches are compared a block at a time (one native string comparison each).
const BLOCK = 2048

/** How many leading and trailing characters two texts share (not overlapping). */
export function commonEnds (a: string, b: string): { head: number, tail: number } {
  const n = Math.min(a.length, b.length)
  let head = 0
  while (head + BLOCK <= n && a.slice(head, head + BLOCK) === b.slice(head, head + BLOCK)) head += BLOCK
  while (head < n && a.charCodeAt(head) === b.charCodeAt(head)) head++
  const room = n - head
  let tail = 0
  while (tail + BLOCK <= room && a.slice(
    a.length - tail - BLOCK,
    a.length - tail
  ) === b.slice(b.length - tail - BLOCK, b.length - tail)) tail += BLOCK
  while (tail < room && a.charCodeAt(a.length - 1 - tail) === b.charCodeAt(b.length - 1 - tail)) tail++
  return { head, tail }
}

/**
 * The same hunk as `hunk(path, lines(before), lines(after), 0)` without splitting the whole
 * texts: whole lines inside the common head and tail (found a block of characters at a time)
 * are left out but for the context lines next to the change. Null when the changed lines of
 * one side are a prefix of the other's, where the line-by-line trim could run into the tail.
 */
function windowed (path: string, before: string, after: string): string | null {
  const { head, tail } = commonEnds(before, after)
  // Whole lines within the common head: up to and including its last newline.
  const headEnd = head === 0 ? 0 : before.lastIndexOf('\n', head - 1) + 1
  // Whole lines within the common tail: those after its first newline (the newline included).
  const nl = before.indexOf('\n', before.length - tail)
  const tailStart = nl < 0 ? before.length : nl + 1
  const shift = after.length - before.length
  let skipped = 0
  for (let i = before.indexOf('\n'); i >= 0 && i < headEnd; i = before.indexOf('\n', i + 1)) skipped++
  // Up to CONTEXT lines of the head and of the tail stay, as context.
  let ctxStart = headEnd
  for (let k = 0; k < CONTEXT && ctxStart > 0; k++) ctxStart = ctxStart < 2 ? 0 : before.lastIndexOf('\n', ctxStart - 2) + 1
  let ctxEnd = tailStart
  for (let k = 0; k < CONTEXT && ctxEnd < before.length; k++) {
    const i = before.indexOf('\n', ctxEnd)
    ctxEnd = i < 0 ? before.length : i + 1
  }
  const headLines = ctxStart === headEnd ? [] : lines(before.slice(ctxStart, headEnd))
  const tailLines = tailStart === before.length ? [] : lines(before.slice(tailStart, ctxEnd))
  const middle = (
    text: string,
    end: number
  ): string[] => headEnd === end && text.length > 0 ? [] : lines(text.slice(headEnd, end))
  const a = middle(before, tailStart)
  const b = middle(after, tailStart + shift)
  let pre = 0
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++
  if (pre === Math.min(a.length, b.length)) return null
  return hunk(path, [...headLines, ...a, ...tailLines], [...headLines, ...b, ...tailLines], skipped - headLines.length)
}
