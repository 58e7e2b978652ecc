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
  return f.tree.rootNode.descendantsOfType(f.lang === 'python' ? ['string'] : ['string', 'template_string'])
}
