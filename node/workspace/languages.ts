/**
 * The grammars the workspace understands, and one cached tree-sitter parser per grammar. The
 * native bindings are CommonJS, so they load through createRequire.
 *
 * @example
 * const tree = parse('python', 'def f():\n    return 1\n')
 * tree.rootNode.hasError // false
 */
import { createRequire } from 'node:module'
import type ParserType from 'tree-sitter'

const require = createRequire(import.meta.url)
const Parser = require('tree-sitter') as typeof ParserType

/** A grammar the workspace parses; any other file is one whole-file unit. */
export type Language = 'typescript' | 'tsx' | 'javascript' | 'python'

/** A parsed syntax tree (tree-sitter). */
export type Tree = ParserType.Tree
/** A node of a syntax tree (tree-sitter). */
export type SyntaxNode = ParserType.SyntaxNode

const EXTENSIONS: Record<string, Language> = {
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.py': 'python',
  '.pyi': 'python'
}

/** The grammar for a path, by extension (`.d.ts` is TypeScript), or null when none applies. */
export function languageOf (path: string): Language | null {
  const slash = path.lastIndexOf('/')
  const dot = path.lastIndexOf('.')
  if (dot <= slash + 1) return null
  return EXTENSIONS[path.slice(dot).toLowerCase()] ?? null
}

function grammar (lang: Language): unknown {
  switch (lang) {
    case 'typescript': return require('tree-sitter-typescript').typescript
    case 'tsx': return require('tree-sitter-typescript').tsx
    case 'javascript': return require('tree-sitter-javascript')
    case 'python': return require('tree-sitter-python')
  }
}

const parsers = new Map<Language, ParserType>()

function parserFor (lang: Language): ParserType {
  let p = parsers.get(lang)
  if (p === undefined) {
    p = new Parser()
    p.setLanguage(grammar(lang) as ParserType.Language)
    parsers.set(lang, p)
  }
  return p
}

/** Parses source text; an older tree of the same text after `tree.edit` makes it incremental. */
export function parse (lang: Language, source: string, oldTree?: Tree): Tree {
  return parserFor(lang).parse(source, oldTree ?? null)
}

/**
 * Trees of files a capture has just parsed whole, each handed over once to the next whole parse
 * of exactly that text of that path: the rewind an operator runs right after an agent's intent
 * then does not parse the file again (a 5,000-line file: ~25 ms). Taken, not shared, since the
 * taker may edit the tree. At most 16 files and 1 Mi characters of source (a tree costs several
 * times its text in native memory); the oldest go first.
 */
const kept = new Map<string, { source: string, tree: Tree }>()
let keptChars = 0
const KEPT_TREES = 16
const KEPT_CHARS = 1024 * 1024

/** Keeps `tree`, just parsed from `source` and no longer used by the caller, for `takeTree`. */
export function keepTree (path: string, source: string, tree: Tree): void {
  dropKept(path)
  if (source.length > KEPT_CHARS) return
  kept.set(path, { source, tree })
  keptChars += source.length
  for (const [oldest] of kept) {
    if (kept.size <= KEPT_TREES && keptChars <= KEPT_CHARS) break
    dropKept(oldest)
  }
}

/** The tree `keepTree` kept for exactly `source` at `path`, once; undefined otherwise. */
export function takeTree (path: string, source: string): Tree | undefined {
  const k = kept.get(path)
  if (k === undefined) return undefined
  dropKept(path)
  return k.source === source ? k.tree : undefined
}

function dropKept (path: string): void {
  const k = kept.get(path)
  if (k === undefined) return
  kept.delete(path)
  keptChars -= k.source.length
}

/** A syntax error: 1-based line and column, and what kind. */
export interface SyntaxProblem { line: number, column: number, kind: 'error' | 'missing' | 'empty-block' }

/** A row/column position in a source (tree-sitter's Point: UTF-16 columns, 0-based). */
export interface Point { row: number, column: number }

/** The Point of a UTF-16 offset in a source. */
export function pointAt (source: string, index: number): Point {
  let row = 0
  let lineStart = 0
  for (let i = source.indexOf('\n'); i >= 0 && i < index; i = source.indexOf('\n', i + 1)) { row++; lineStart = i + 1 }
  return { row, column: index - lineStart }
}

/**
 * The first syntax error of a tree: an ERROR or MISSING node, or — in Python, whose grammar
 * accepts it but the language does not — a block without a statement (`class A:` alone; the
 * grammar gives such a block no width). `range` limits the block check to where an edit was.
 */
export function firstSyntaxError (
  tree: Tree,
  lang: Language,
  range?: { start: Point, end: Point }
): SyntaxProblem | null {
  if (tree.rootNode.hasError) return firstErrorNode(tree)
  if (lang !== 'python') return null
  const blocks = range === undefined ? tree.rootNode.descendantsOfType('block') : tree.rootNode.descendantsOfType('block', range.start, range.end)
  for (const b of blocks) {
    if (b.startIndex === b.endIndex) return { line: b.startPosition.row + 1, column: b.startPosition.column + 1, kind: 'empty-block' }
  }
  return null
}

function firstErrorNode (tree: Tree): SyntaxProblem {
  const cursor = tree.walk()
  // Descend only into subtrees that contain an error: the walk stays short in large files.
  for (;;) {
    const node = cursor.currentNode
    if (node.type === 'ERROR' || node.isMissing) {
      return { line: node.startPosition.row + 1, column: node.startPosition.column + 1, kind: node.isMissing ? 'missing' : 'error' }
    }
    if (node.hasError && cursor.gotoFirstChild()) continue
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return { line: 1, column: 1, kind: 'error' }
    }
  }
}
