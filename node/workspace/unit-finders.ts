/**
 * Where units live in each grammar's syntax tree: top-level functions and classes, and the
 * members of a class. JavaScript, TypeScript and TSX share one finder; Python has its own.
 * Everything a finder does not claim stays in the enclosing module or class unit.
 *
 * @example
 * finderFor('python').topLevel(tree.rootNode.namedChildren) // [{ name: 'verify_token', kind: 'function', ... }]
 */
import type { Language, SyntaxNode } from './languages.js'

/** A declaration a finder recognised as a unit. */
export interface FoundUnit {
  /** The local (unqualified) name. */
  name: string
  kind: 'function' | 'class'
  /** The sibling nodes the unit spans: decorators, `export`, the declaration itself. */
  nodes: SyntaxNode[]
  /** The node naming the unit, left out of its body hash; null for anonymous defaults. */
  nameNode: SyntaxNode | null
  /** For classes, the node whose children are searched for members. */
  body: SyntaxNode | null
}

/**
 * The two questions a grammar must answer to split a file into units. Each takes a run of
 * consecutive named children (of the root, of a class body): all of them when splitting a
 * file, or the few an edit touched (rewind.ts re-reads one edited unit this way).
 */
export interface UnitFinder {
  topLevel: (children: SyntaxNode[]) => FoundUnit[]
  members: (children: SyntaxNode[]) => FoundUnit[]
}

const JS_FUNCTIONS = new Set(['function_expression', 'arrow_function', 'generator_function', 'function'])
const JS_CLASSES = new Set(['class', 'class_declaration', 'abstract_class_declaration'])

function compact (text: string): string {
  return text.replace(/\s+/g, '')
}

function jsValueUnit (
  value: SyntaxNode,
  name: string,
  nodes: SyntaxNode[],
  nameNode: SyntaxNode | null
): FoundUnit | null {
  if (JS_FUNCTIONS.has(value.type)) return { name, kind: 'function', nodes, nameNode, body: null }
  if (JS_CLASSES.has(value.type)) return { name, kind: 'class', nodes, nameNode, body: value.childForFieldName('body') }
  return null
}

function jsStatement (stmt: SyntaxNode, nodes: SyntaxNode[]): FoundUnit[] {
  switch (stmt.type) {
    case 'function_declaration':
    case 'generator_function_declaration': {
      const n = stmt.childForFieldName('name')
      return n === null ? [] : [{ name: n.text, kind: 'function', nodes, nameNode: n, body: null }]
    }
    case 'class_declaration':
    case 'abstract_class_declaration': {
      const n = stmt.childForFieldName('name')
      return n === null ? [] : [{ name: n.text, kind: 'class', nodes, nameNode: n, body: stmt.childForFieldName('body') }]
    }
    case 'export_statement': {
      const decl = stmt.childForFieldName('declaration')
      if (decl !== null) return jsStatement(decl, nodes)
      const value = stmt.childForFieldName('value')
      if (value === null) return []
      const own = value.childForFieldName('name')
      const found = jsValueUnit(value, own?.text ?? 'default', nodes, own)
      return found === null ? [] : [found]
    }
    case 'lexical_declaration':
    case 'variable_declaration': {
      const declarators = stmt.namedChildren.filter((c) => c.type === 'variable_declarator')
      const out: FoundUnit[] = []
      for (const d of declarators) {
        const n = d.childForFieldName('name')
        const v = d.childForFieldName('value')
        if (n === null || v === null || n.type !== 'identifier') continue
        // A lone declarator owns its whole statement (`const`, `export`, `;`); several share it.
        const found = jsValueUnit(v, n.text, declarators.length === 1 ? nodes : [d], n)
        if (found !== null) out.push(found)
      }
      return out
    }
    case 'expression_statement': {
      const a = stmt.namedChild(0)
      if (a?.type !== 'assignment_expression') return []
      const left = a.childForFieldName('left')
      const right = a.childForFieldName('right')
      if (left === null || right === null || (left.type !== 'member_expression' && left.type !== 'identifier')) return []
      const found = jsValueUnit(right, compact(left.text), nodes, left)
      return found === null ? [] : [found]
    }
    default:
      return []
  }
}

const jsFinder: UnitFinder = {
  topLevel (children) {
    return children.flatMap((c) => jsStatement(c, [c]))
  },
  members (children) {
    const out: FoundUnit[] = []
    let decorators: SyntaxNode[] = []
    for (const m of children) {
      if (m.type === 'decorator') { decorators.push(m); continue }
      if (m.type === 'comment') continue
      const nodes = [...decorators, m]
      decorators = []
      if (m.type === 'method_definition') {
        const n = m.childForFieldName('name')
        if (n !== null) out.push({ name: compact(n.text), kind: 'function', nodes, nameNode: n, body: null })
      } else if (m.type === 'field_definition' || m.type === 'public_field_definition') {
        const n = m.childForFieldName('name') ?? m.childForFieldName('property')
        const v = m.childForFieldName('value')
        if (n !== null && v !== null && JS_FUNCTIONS.has(v.type)) out.push({ name: compact(n.text), kind: 'function', nodes, nameNode: n, body: null })
      }
    }
    return out
  }
}

function pyDefinition (node: SyntaxNode): FoundUnit | null {
  const def = node.type === 'decorated_definition' ? node.childForFieldName('definition') : node
  if (def === null) return null
  const n = def.childForFieldName('name')
  if (n === null) return null
  if (def.type === 'function_definition') return { name: n.text, kind: 'function', nodes: [node], nameNode: n, body: null }
  if (def.type === 'class_definition') return { name: n.text, kind: 'class', nodes: [node], nameNode: n, body: def.childForFieldName('body') }
  return null
}

const pyFinder: UnitFinder = {
  topLevel (children) {
    return children.map(pyDefinition).filter((f): f is FoundUnit => f !== null)
  },
  members (children) {
    return children.map(pyDefinition).filter((f): f is FoundUnit => f !== null)
  }
}

/** The unit finder for a grammar. */
export function finderFor (lang: Language): UnitFinder {
  return lang === 'python' ? pyFinder : jsFinder
}
