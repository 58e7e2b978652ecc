/**
 * Parsing unit texts on their own, for review: a method's text is not a program, so it is
 * wrapped in a class first; placeholders of skeletons become harmless filler. Offsets in a
 * fragment refer to the wrapped text; `excerptAt` maps them back to a line of the unit.
 *
 * @example
 * const f = parseFragment('src/api.ts', 'method', 'send() { return fetch(u) }')
 * f?.tree.rootNode.descendantsOfType('call_expression')
 */
import { languageOf, parse, type Language, type SyntaxNode, type Tree } from './languages.js'
import type { UnitKind } from './units.js'

/** A unit text parsed in its file's grammar. */
export interface Fragment { lang: Language, tree: Tree, source: string, offset: number }

const WRAP_OPEN = 'class __AuraReview__ {\n'
const PLACEHOLDER = /\u27ea[^\u27eb\n]+\u27eb/g

/** Parses a unit text in its file's grammar; null when the file has no grammar. */
export function parseFragment (path: string, kind: UnitKind, text: string): Fragment | null {
  const lang = languageOf(path)
  if (lang === null) return null
  const body = text.replace(PLACEHOLDER, lang === 'python' ? 'pass' : '')
  // A method is not a statement: give it the class it came from (Python accepts it bare).
  if (kind === 'method' && lang !== 'python') {
    const source = WRAP_OPEN + body + '\n}\n'
    return { lang, tree: parse(lang, source), source, offset: WRAP_OPEN.length }
  }
  return { lang, tree: parse(lang, body), source: body, offset: 0 }
}

/** The trimmed line of a text around an offset, at most 160 characters. */
export function excerptAt (source: string, index: number): string {
  const start = source.lastIndexOf('\n', index - 1) + 1
  const endAt = source.indexOf('\n', index)
  const line = source.slice(start, endAt < 0 ? source.length : endAt).trim()
  return line.length > 160 ? line.slice(0, 157) + '...' : line
}

const INDEX = new WeakMap<Fragment, Map<string, SyntaxNode[]>>()
/** The node types the review asks for; only these are indexed (making a node object costs). */
const INDEXED = new Set(['assert_statement', 'assignment_expression', 'call', 'call_expression', 'new_expression', 'class_definition', 'decorator',
  'if_statement', 'import_statement', 'import_from_statement', 'return_statement', 'variable_declarator', 'assignment', 'public_field_definition',
  'field_definition', 'jsx_self_closing_element', 'jsx_opening_element', 'pair', 'keyword_argument', 'attribute', 'member_expression',
  'throw_statement', 'raise_statement', 'augmented_assignment', 'augmented_assignment_expression', 'for_statement', 'for_in_statement', 'as_pattern',
  'string', 'template_string', 'comparison_operator', 'boolean_operator', 'binary_expression', 'function_declaration',
  'generator_function_declaration', 'function_definition', 'method_definition', 'arrow_function', 'function_expression', 'function'])

/**
 * Nodes of the given types in a fragment (or within one of its nodes), in document order. One
 * walk per fragment builds an index by type: the review asks for many types many times, and
 * each `descendantsOfType` would walk (and marshal) the whole tree again.
 */
export function nodesOf (f: Fragment, types: string | string[], within?: SyntaxNode): SyntaxNode[] {
  let index = INDEX.get(f)
  if (index === undefined) {
    index = new Map()
    const c = f.tree.walk()
    for (let more = true; more;) {
      if (c.nodeIsNamed && INDEXED.has(c.nodeType)) {
        const list = index.get(c.nodeType)
        if (list === undefined) index.set(c.nodeType, [c.currentNode])
        else list.push(c.currentNode)
      }
      if (c.gotoFirstChild()) continue
      while (!c.gotoNextSibling()) {
        if (!c.gotoParent()) { more = false; break }
      }
    }
    INDEX.set(f, index)
  }
  const wanted = typeof types === 'string' ? [types] : types
  if (wanted.some((t) => !INDEXED.has(t))) {
    return (within ?? f.tree.rootNode).descendantsOfType(wanted).filter((n) => n.id !== within?.id)
  }
  let out = wanted.length === 1
    ? index.get(wanted[0]) ?? []
    : wanted.flatMap((t) => index?.get(t) ?? []).sort((a, b) => a.startIndex - b.startIndex)
  if (within !== undefined) {
    out = out.filter(
      (n) => n.startIndex >= within.startIndex && n.endIndex <= within.endIndex && n.id !== within.id
    )
  }
  return out
}

/** The line (1-based) of an offset within the unit's own text. */
export function lineAt (f: Fragment, index: number): number {
  return f.source.slice(f.offset, Math.max(f.offset, index)).split('\n').length
}

/** The text of a string literal node without its quotes (template substitutions kept). */
export function literalValue (node: SyntaxNode): string {
  const t = node.text
  const m = /^[rRbBuUfF]{0,2}("""|'''|"|'|`)/.exec(t)
  if (m === null) return t
  const q = m[1]
  return t.slice(m[0].length, t.endsWith(q) && t.length >= m[0].length + q.length ? t.length - q.length : t.length)
}

/** All string literal nodes of a fragment. */
export function stringLiterals (f: Fragment): SyntaxNode[] {
  return nodesOf(f, f.lang === 'python' ? ['string'] : ['string', 'template_string'])
}
