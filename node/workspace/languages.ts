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

/** The first ERROR or MISSING node of a tree, as a 1-based line and column, or null if clean. */
export function firstSyntaxError (tree: Tree): { line: number, column: number, kind: 'error' | 'missing' } | null {
  if (!tree.rootNode.hasError) return null
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
