/**
 * Normalised unit hashes, computed from the syntax tree: a serialisation of node types, nesting
 * and leaf texts with comments, whitespace, statement-ending semicolons, commas, redundant
 * parentheses and quote style left out. Reformatting a unit keeps its hash; changing its logic
 * changes it. The nesting is part of the serialisation, so Python indentation still counts.
 *
 * @example
 * const { hash, bodyHash } = hashNodes([fnNode], source, [], nameNode)
 */
import { createHash } from 'node:crypto'
import type { SyntaxNode } from './languages.js'

/** A half-open range of UTF-16 offsets into a source string. */
export interface Span { start: number, end: number }

/** The two hashes of a unit: with its name, and without (for rename detection). */
export interface UnitHashes { hash: string, bodyHash: string }

type Cursor = ReturnType<SyntaxNode['walk']>

const DROPPED_LEAVES = new Set([';', ','])
const QUOTES = new Set(['"', "'"])
const ATOMIC = new Set(['string_content', 'regex_pattern'])
const STATEMENT_LISTS = new Set(['program', 'statement_block', 'class_body', 'block', 'module'])
const PARENS = new Set(['parenthesized_expression'])
// Skip spans are always near the top of a unit (names, members, decorators); looking no
// deeper keeps the per-node cost of the walk to two native calls.
const SKIP_DEPTH = 5

class Walk {
  readonly tokens: string[] = []
  nameFrom = -1
  nameTo = -1

  constructor (readonly source: string, readonly skip: Span[], readonly name: Span | null) {}

  node (c: Cursor, depth: number, parentType: string): void {
    const type = c.nodeType
    if (type === 'comment' || type === 'html_comment') return
    if (depth > 0 && depth <= SKIP_DEPTH && (this.skip.length > 0 || this.name !== null)) {
      const start = c.startIndex
      const end = c.endIndex
      for (const s of this.skip) if (start >= s.start && end <= s.end && end > start) return
      if (this.name !== null && this.nameFrom < 0 && start === this.name.start && end === this.name.end) {
        this.nameFrom = this.tokens.length
        this.inner(c, type, depth, parentType)
        this.nameTo = this.tokens.length
        return
      }
    }
    this.inner(c, type, depth, parentType)
  }

  private inner (c: Cursor, type: string, depth: number, parentType: string): void {
    if (type === 'empty_statement' && STATEMENT_LISTS.has(parentType)) return
    if (ATOMIC.has(type)) { this.tokens.push(type + '\u0001' + c.nodeText); return }
    if (c.gotoFirstChild()) {
      const paren = PARENS.has(type)
      if (!paren) this.tokens.push('(' + type)
      do {
        const t = c.nodeType
        if (paren && (t === '(' || t === ')')) continue
        this.node(c, depth + 1, type)
      } while (c.gotoNextSibling())
      c.gotoParent()
      if (!paren) this.tokens.push(')')
      return
    }
    // A root whose members were all skipped and an empty root must hash alike.
    if (depth === 0) { this.tokens.push('(' + type, ')'); return }
    this.leaf(type, c.nodeText)
  }

  private leaf (type: string, text: string): void {
    if (DROPPED_LEAVES.has(type)) return
    if (QUOTES.has(type)) { this.tokens.push('"'); return }
    if (type === 'string_start' || type === 'string_end') { this.tokens.push(type + '\u0001' + text.replaceAll("'", '"')); return }
    if (type === 'jsx_text') {
      const t = text.replace(/\s+/g, ' ').trim()
      if (t !== '') this.tokens.push('jsx_text\u0001' + t)
      return
    }
    this.tokens.push(text === type ? type : type + '\u0001' + text)
  }
}

function sha256Hex (s: string): string {
  return createHash('sha256').update(s).digest('hex')
}

/**
 * Hashes a run of sibling nodes as one unit. Nodes inside `skip` (member units of a class or
 * module) are left out; the `name` node is left out of `bodyHash` only.
 */
export function hashNodes (nodes: SyntaxNode[], source: string, skip: Span[], name: SyntaxNode | null): UnitHashes {
  const w = new Walk(source, skip, name === null ? null : { start: name.startIndex, end: name.endIndex })
  for (const n of nodes) {
    const c = n.walk()
    w.node(c, 0, n.parent?.type ?? '')
  }
  const all = w.tokens.join('\u0000')
  if (w.nameFrom < 0) return { hash: sha256Hex(all), bodyHash: sha256Hex(all) }
  const body = [...w.tokens.slice(0, w.nameFrom), '\u0002name', ...w.tokens.slice(w.nameTo)].join('\u0000')
  return { hash: sha256Hex(all), bodyHash: sha256Hex(body) }
}

/**
 * Hash of a file no grammar understands. Without a grammar only the whitespace that never
 * carries meaning is dropped (line endings, trailing spaces, trailing blank lines): YAML and
 * Makefiles depend on indentation.
 */
export function hashPlainText (text: string): UnitHashes {
  const h = sha256Hex('\u0003file\u0000' + text.replace(/[ \t]+(?=\r?\n|$)/g, '').replace(/\r\n/g, '\n').replace(/\n+$/, ''))
  return { hash: h, bodyHash: h }
}
