/**
 * Splits a source file into units: functions, methods (`Class.method`), classes, and the rest
 * of the module (`<module>`). A file no grammar understands is one `<file>` unit. Each unit
 * carries a normalised hash (formatting and comments do not count) and a body hash without its
 * own name, which is how a rename with an identical body is recognised.
 *
 * @example
 * const { units } = extractUnits('src/auth/verify.py', source)
 * units.find((u) => u.name === 'verify_token')?.hash
 */
import { UsageError } from '../../crdt/errors.js'
import { firstSyntaxError, languageOf, parse, pointAt, type Language, type SyntaxNode, type Tree } from './languages.js'
import { hashNodes, hashPlainText, type Span } from './normalise.js'
import { skeletonText } from './skeleton.js'
import { finderFor, type FoundUnit, type UnitFinder } from './unit-finders.js'

/** What a unit is. Methods are functions directly inside a class. */
export type UnitKind = 'function' | 'method' | 'class' | 'module' | 'file'

/** The name of the unit holding everything in a parsed file that no other unit claims. */
export const MODULE_UNIT = '<module>'
/** The name of the one unit of a file no grammar understands. */
export const FILE_UNIT = '<file>'

/** A unit's identity and hashes: what a workspace state keeps. */
export interface UnitSummary {
  /** Qualified name: `verify_token`, `Auth.check`, `Outer.Inner.m`, `<module>`, `<file>`. */
  name: string
  kind: UnitKind
  /** The enclosing composite (`<module>` or a class), null for modules and files. */
  parent: string | null
  hash: string
  bodyHash: string
}

/** A unit as found in a source text. */
export interface Unit extends UnitSummary {
  /** Workspace-relative POSIX path. */
  path: string
  /** UTF-16 offsets into the source string (tree-sitter's startIndex/endIndex), half-open. */
  start: number
  end: number
  /** Leading whitespace of the line the unit starts on. */
  indent: string
  /** The unit's source; for modules and classes, a skeleton with members as placeholders. */
  text: string
}

/** The units of one file, and whether its syntax tree has errors. */
export interface FileUnits {
  path: string
  language: Language | null
  units: Unit[]
  /** The first syntax error, when the grammar could not parse the file cleanly. */
  error: { line: number, column: number } | null
  /** The syntax tree (null for files without a grammar); kept for incremental re-parsing. */
  tree: Tree | null
  /** Set when the list is not every unit of the file (`until` cut it short, see UnitsInit). */
  partial?: true
}

/**
 * Splits `PATH:NAME` (as in `aura rewind --function src/auth/verify.py:verify_token`) at its
 * last colon: unit names never contain one, paths may.
 */
export function parseUnitRef (ref: string): { path: string, name: string } {
  const i = ref.lastIndexOf(':')
  if (i <= 0 || i === ref.length - 1) throw new UsageError(`'${ref}' is not PATH:NAME (for example src/auth/verify.py:verify_token or src/a.ts:Auth.check)`, { ref })
  return { path: ref.slice(0, i), name: ref.slice(i + 1) }
}

/** Leading whitespace of the line containing offset `at`. */
export function indentAt (source: string, at: number): string {
  const lineStart = source.lastIndexOf('\n', at - 1) + 1
  return /^[ \t]*/.exec(source.slice(lineStart, at + 1))?.[0] ?? ''
}

/** Options for extracting units. */
export interface UnitsInit {
  /** A tree of exactly this source, already parsed (saves parsing again). */
  tree?: Tree
  /**
   * Hash only the unit with this qualified name; every other unit gets empty hashes. Locating
   * units is cheap, hashing a whole large file is not: a rewind needs one unit's hashes.
   */
  hashOnly?: string
  /** Check Python's empty blocks only in this range (UTF-16 offsets): where an edit was. */
  checkRange?: { start: number, end: number }
  /**
   * Stop once the unit with this qualified name and its members are found: the units after
   * them are left out, and the module unit (always first) then has no text and no hashes
   * (`partial` says so). A rewind needs the unit, its members and what precedes it. When no
   * such unit is found (or it is `<module>`), the list is complete.
   */
  until?: string
}

const NO_HASHES = { hash: '', bodyHash: '' }

class Builder {
  readonly units: Unit[] = []
  private readonly seen = new Map<string, number>()

  /** Whether the `until` unit has been added. */
  private reached = false

  constructor (
    readonly path: string,
    readonly source: string,
    readonly finder: UnitFinder,
    readonly hashOnly: string | undefined,
    readonly until: string | undefined
  ) {}

  private hashes (
    name: string,
    nodes: SyntaxNode[],
    skip: Span[],
    nameNode: SyntaxNode | null
  ): { hash: string, bodyHash: string } {
    if (this.hashOnly !== undefined && this.hashOnly !== name) return NO_HASHES
    return hashNodes(nodes, this.source, skip, nameNode)
  }

  private qualify (raw: string): string {
    // `PATH:NAME` splits at the last colon, so names never hold one.
    const local = raw.replaceAll(':', '_')
    const n = (this.seen.get(local) ?? 0) + 1
    this.seen.set(local, n)
    return n === 1 ? local : `${local}#${n}`
  }

  /** Adds a unit and its members; returns its span and name for the enclosing skeleton. */
  add (found: FoundUnit, parent: string, inClass: boolean): { name: string, start: number, end: number } {
    const name = this.qualify(inClass ? `${parent}.${found.name}` : found.name)
    if (name === this.until) this.reached = true
    const start = found.nodes[0].startIndex
    const end = found.nodes[found.nodes.length - 1].endIndex
    // Reserve the unit's place before its members: a composite always precedes them.
    const slot = this.units.length
    this.units.push(undefined as unknown as Unit)
    const members = found.body === null
      ? []
      : this.finder.members(found.body.namedChildren).map((m) => this.add(m, name, true))
    const { hash, bodyHash } = this.hashes(name, found.nodes, members, found.nameNode)
    this.units[slot] = {
      path: this.path,
      name,
      kind: found.kind === 'class' ? 'class' : inClass ? 'method' : 'function',
      parent,
      start,
      end,
      indent: indentAt(this.source, start),
      text: skeletonText(this.source, start, end, members),
      hash,
      bodyHash
    }
    return { name, start, end }
  }

  /** Adds the module unit and everything in it (up to `until`); false when cut short. */
  module (root: SyntaxNode): boolean {
    this.units.push(undefined as unknown as Unit)
    const members: Array<{ name: string, start: number, end: number }> = []
    const unit = { path: this.path, name: MODULE_UNIT, kind: 'module' as const, parent: null, start: 0, end: this.source.length, indent: '' }
    for (const child of root.namedChildren) {
      for (const f of this.finder.topLevel([child])) {
        members.push(this.add(f, MODULE_UNIT, false))
        if (this.reached) {
          this.units[0] = { ...unit, text: '', ...NO_HASHES }
          return false
        }
      }
    }
    const { hash, bodyHash } = this.hashes(MODULE_UNIT, [root], members, null)
    this.units[0] = { ...unit, text: skeletonText(this.source, 0, this.source.length, members), hash, bodyHash }
    return true
  }
}

/** The whole-file unit of a file no grammar understands. */
export function fileUnit (path: string, source: string): Unit {
  const { hash, bodyHash } = hashPlainText(source)
  return { path, name: FILE_UNIT, kind: 'file', parent: null, start: 0, end: source.length, indent: '', text: source, hash, bodyHash }
}

/** Splits a file into units, in source order with each composite before its members. */
export function extractUnits (path: string, source: string, init: UnitsInit = {}): FileUnits {
  const language = languageOf(path)
  if (language === null) return { path, language, units: [fileUnit(path, source)], error: null, tree: null }
  const tree = init.tree ?? parse(language, source)
  const b = new Builder(path, source, finderFor(language), init.hashOnly, init.until)
  const complete = b.module(tree.rootNode)
  const fu: FileUnits = {
    path,
    language,
    units: b.units,
    error: syntaxErrorOf(source, tree, language, init.checkRange),
    tree
  }
  if (!complete) fu.partial = true
  return fu
}

/**
 * The first syntax error of a parsed file, as extractUnits reports it; `checkRange` limits
 * Python's empty-block check to where an edit was.
 */
export function syntaxErrorOf (source: string, tree: Tree, language: Language, checkRange?: { start: number, end: number }): FileUnits['error'] {
  // A block emptied by an edit ends on the line before the edit: look one line either side.
  const range = checkRange === undefined
    ? undefined
    : {
        start: { row: Math.max(0, pointAt(source, checkRange.start).row - 1), column: 0 },
        end: { row: pointAt(source, checkRange.end).row + 2, column: 0 }
      }
  const err = firstSyntaxError(tree, language, range)
  return err === null ? null : { line: err.line, column: err.column }
}

/** Whether `name` is what Builder.qualify makes of the local name `local` (`f`, `f#2`, ...). */
function qualifiedFrom (name: string, local: string): boolean {
  return name === local || (name.startsWith(local + '#') && /^[0-9]+$/.test(name.slice(local.length + 1)))
}

/**
 * One function or method after an edit that replaced exactly its text, read from the new tree
 * without walking the rest of the file: what `extractUnits(path, source, { tree, hashOnly:
 * old.name })` would give for it, or null when that cannot be told locally (the caller then
 * extracts the whole file). `units` are the file's units before the edit, `old` the unit
 * replaced, and [start, end) where its new text now is in `source` (`start` = `old.start`).
 *
 * Everything outside [start, end) is the text it was, so the units there are the ones in
 * `units` (shifted), provided the new text parses as one unit of the same local name spanning
 * exactly [start, end) among the children of the same parent: a text that merged with or
 * split off from a neighbour would not. Top-level functions and methods of top-level classes;
 * anything else (composites, nested classes, renames) returns null.
 */
export function reextractUnit (
  path: string,
  source: string,
  tree: Tree,
  units: Unit[],
  old: Unit,
  start: number,
  end: number
): Unit | null {
  const language = languageOf(path)
  if (language === null || (old.kind !== 'function' && old.kind !== 'method') || start !== old.start || end <= start) return null
  const finder = finderFor(language)
  const root = tree.rootNode
  let container: SyntaxNode = root
  const inClass = old.parent !== MODULE_UNIT
  if (inClass) {
    const cls = units.find((u) => u.name === old.parent)
    if (cls === undefined || cls.kind !== 'class' || cls.parent !== MODULE_UNIT || cls.end <= old.start) return null
    const stmt = root.firstNamedChildForIndex(cls.start)
    if (stmt === null || stmt.startIndex !== cls.start) return null
    const found = finder.topLevel([stmt])
    if (found.length !== 1 || found[0].kind !== 'class' || found[0].body === null || found[0].name.replaceAll(':', '_') !== cls.name) return null
    container = found[0].body
  }
  const first = container.firstNamedChildForIndex(start)
  if (first === null || first.startIndex !== start) return null
  const touched: SyntaxNode[] = []
  for (let c: SyntaxNode | null = first; c !== null && c.startIndex < end; c = c.nextNamedSibling) touched.push(c)
  if (inClass && language !== 'python') {
    // Decorators before the run would belong to its first member (comments may sit between).
    let p = first.previousNamedSibling
    while (p !== null && p.type === 'comment') p = p.previousNamedSibling
    if (p !== null && p.type === 'decorator') return null
  }
  const found = inClass ? finder.members(touched) : finder.topLevel(touched)
  if (found.length !== 1) return null
  const f = found[0]
  if (f.kind !== 'function' || f.body !== null || f.nodes[0].startIndex !== start || f.nodes[f.nodes.length - 1].endIndex !== end) return null
  if (!qualifiedFrom(old.name, (inClass ? `${old.parent}.${f.name}` : f.name).replaceAll(':', '_'))) return null
  const { hash, bodyHash } = hashNodes(f.nodes, source, [], f.nameNode)
  return {
    path,
    name: old.name,
    kind: old.kind,
    parent: old.parent,
    start,
    end,
    indent: indentAt(source, start),
    text: skeletonText(source, start, end, []),
    hash,
    bodyHash
  }
}

const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * The top-level units named `key`, in order, found in the root's named children that contain
 * `key` in their text at an offset below `limit`; the first `want` of them at most. A unit
 * whose local name is a plain identifier takes it from the text of a name node inside its
 * statement, so these are all the units of that local name.
 */
function unitsNamed (
  source: string,
  root: SyntaxNode,
  finder: UnitFinder,
  key: string,
  limit: number,
  want = Infinity
): FoundUnit[] {
  const out: FoundUnit[] = []
  for (let p = source.indexOf(key); p >= 0 && p < limit && out.length < want;) {
    const child = root.firstNamedChildForIndex(p)
    if (child === null) break
    const end = child.endIndex
    if (child.startIndex <= p) {
      for (const f of finder.topLevel([child])) if (f.name === key) out.push(f)
    }
    // The next occurrence after this statement (or after p, when p lay between statements).
    p = source.indexOf(key, child.startIndex <= p ? end : p + 1)
  }
  return out
}

/**
 * A top-level function found without walking the whole file: the unit, with its hashes, as
 * `extractUnits(path, source, { tree, hashOnly: name })` lists it, and the qualified name of
 * the unit before it in the module (a delta entry's `after`). Only the statements that
 * contain the name in their text (a unit's local name is the text of a name node inside its
 * statement) and the statements just before it are read. Null when that cannot be told this
 * way: the name is not a plain identifier (`f`, `f#2`), the unit is not there or is not a
 * function, or its previous sibling's name is not a plain identifier either; the caller then
 * extracts the file's units.
 */
export function findTopLevelFunction (
  path: string,
  source: string,
  tree: Tree,
  name: string
): { unit: Unit, previous: string | null } | null {
  const language = languageOf(path)
  if (language === null) return null
  const hash = name.indexOf('#')
  const key = hash < 0 ? name : name.slice(0, hash)
  const nth = hash < 0 ? 1 : Number(name.slice(hash + 1))
  if (!PLAIN_NAME.test(key) ||
    !Number.isInteger(nth) ||
    nth < 1 ||
    (hash >= 0 && (nth < 2 || name.slice(hash + 1) !== String(nth)))) return null
  const root = tree.rootNode
  const finder = finderFor(language)
  const f = unitsNamed(source, root, finder, key, source.length, nth)[nth - 1]
  if (f === undefined || f.kind !== 'function' || f.body !== null) return null
  const start = f.nodes[0].startIndex
  const end = f.nodes[f.nodes.length - 1].endIndex
  // The previous sibling: an earlier unit of the same statement, else the last unit of the
  // nearest statement before it that has one.
  let stmt: SyntaxNode | null = root.firstNamedChildForIndex(start)
  if (stmt === null) return null
  let prev: FoundUnit | undefined
  const same = finder.topLevel([stmt])
  const at = same.findIndex((u) => u.nodes[0].startIndex === start)
  if (at < 0) return null
  if (at > 0) prev = same[at - 1]
  while (prev === undefined && (stmt = stmt.previousNamedSibling) !== null) {
    const found = finder.topLevel([stmt])
    prev = found[found.length - 1]
  }
  let previous: string | null = null
  if (prev !== undefined) {
    if (!PLAIN_NAME.test(prev.name)) return null
    const p = prev
    const n = unitsNamed(source, root, finder, p.name, p.nodes[p.nodes.length - 1].endIndex).findIndex(
      (u) => u.nodes[0].startIndex === p.nodes[0].startIndex
    ) + 1
    if (n < 1) return null
    previous = n === 1 ? p.name : `${p.name}#${n}`
  }
  const { hash: h, bodyHash } = hashNodes(f.nodes, source, [], f.nameNode)
  return {
    unit: { path, name, kind: 'function', parent: MODULE_UNIT, start, end, indent: indentAt(source, start), text: skeletonText(source, start, end, []), hash: h, bodyHash },
    previous
  }
}
