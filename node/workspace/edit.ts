/**
 * Unit-level edits on a source text: replace one unit, insert one, delete one, or refill a
 * composite's skeleton around the members that are there now. Every byte outside the edited
 * unit stays as it is. These are pure string operations; callers re-parse the result and
 * refuse it when it does not parse (rewind.ts, apply.ts).
 *
 * @example
 * const { source: next } = replaceUnit(source, units, current, current.name, { text: oldText, indent: '' }, 'python')
 */
import type { Language } from './languages.js'
import { skeletonParts } from './skeleton.js'
import type { Unit } from './units.js'

/** A unit text to put somewhere, and the indentation of the line it was written on. */
export interface PlacedText { text: string, indent: string }

/** Members added by the same change, by qualified name; their texts may be skeletons. */
export type AddedMembers = Map<string, PlacedText>

/** Moves text written on a line indented `from` to a line indented `to` (lines 2..n). */
export function reindent (text: string, from: string, to: string): string {
  if (from === to || !text.includes('\n')) return text
  return text.split('\n').map((line, i) => i > 0 && line.startsWith(from) ? to + line.slice(from.length) : line).join('\n')
}

function currentLineIndent (text: string): string {
  return /[ \t]*$/.exec(text.slice(text.lastIndexOf('\n') + 1))?.[0] ?? ''
}

function isComposite (u: Unit): boolean {
  return u.kind === 'module' || u.kind === 'class'
}

/** The direct members of a composite unit, in source order. */
export function membersOf (units: Unit[], parent: string): Unit[] {
  return units.filter((u) => u.parent === parent)
}

/**
 * Appends pre-indented blocks at the end of a composite's text: before the closing brace of a
 * JavaScript class, or after the last line of a Python class or of a module.
 */
function appendAtEnd (text: string, lang: Language | null, isModule: boolean, blocks: string[]): string {
  if (blocks.length === 0) return text
  const block = blocks.join('\n\n')
  if (!isModule && lang !== 'python') {
    const brace = text.lastIndexOf('}')
    if (brace >= 0) {
      const head = text.slice(0, brace).replace(/\s*$/, '')
      return `${head}\n\n${block}\n${currentLineIndent(text.slice(0, brace))}${text.slice(brace)}`
    }
  }
  const trailing = /\s*$/.exec(text)?.[0] ?? ''
  const head = text.slice(0, text.length - trailing.length)
  const end = isModule ? (trailing.includes('\n') ? trailing : '\n') : trailing
  return `${head}${head === '' ? '' : '\n\n'}${block}${end}`
}

/** Where the members come from when a composite's skeleton is filled. */
export interface FillSources {
  /** The source the current members live in. */
  source: string
  /** The composite's current direct members (empty when the composite is new). */
  current: Unit[]
  /** Members added by the same change. */
  added: AddedMembers
  lang: Language | null
  /** When the composite is being renamed: its current name, so its members are recognised. */
  renamedFrom?: string
  /** The composite's name in the skeleton. */
  name: string
}

/**
 * Fills a composite's skeleton (written at `from` indentation) for a place indented `to`.
 * Placeholders become the members there now, byte for byte, or members added alongside; a
 * placeholder for a member that is neither is dropped with its line. Members there now that the
 * skeleton does not name keep their place after their previous sibling. Returns the text and
 * the added members it used.
 */
export function fillSkeleton (
  skeleton: string,
  from: string,
  to: string,
  isModule: boolean,
  s: FillSources
): { text: string, used: Set<string> } {
  const used = new Set<string>()
  const parts = skeletonParts(reindent(skeleton, from, to))
  const named = new Set(parts.flatMap((p) => 'member' in p ? [p.member] : []))
  const rename = (n: string): string => s.renamedFrom !== undefined && n.startsWith(s.renamedFrom + '.') ? s.name + n.slice(s.renamedFrom.length) : n
  const byName = new Map(s.current.map((u) => [rename(u.name), u]))
  const followers = new Map<string | null, Unit[]>()
  let prev: string | null = null
  for (const u of s.current) {
    if (named.has(rename(u.name))) { prev = rename(u.name); continue }
    followers.set(prev, [...(followers.get(prev) ?? []), u])
  }
  const place = (u: Unit, indent: string): string => reindent(s.source.slice(u.start, u.end), u.indent, indent)

  let out = ''
  let anyPlaced = false
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]
    if ('text' in part) { out += part.text; continue }
    const indent = currentLineIndent(out)
    const now = byName.get(part.member)
    const add = s.added.get(part.member)
    if (now === undefined && add === undefined) {
      const lineStart = out.lastIndexOf('\n') + 1
      const next = parts[i + 1]
      const rest = next !== undefined && 'text' in next ? /^[ \t]*(\r?\n|$)/.exec(next.text) : null
      if (out.slice(lineStart).trim() === '' && (next === undefined || rest !== null)) {
        out = out.slice(0, lineStart)
        if (rest !== null && next !== undefined && 'text' in next) parts[i + 1] = { text: next.text.slice(rest[0].length) }
      }
      continue
    }
    if (!anyPlaced) {
      anyPlaced = true
      for (const f of followers.get(null) ?? []) out += place(f, indent) + '\n\n' + indent
    }
    if (now !== undefined) {
      out += place(now, indent)
    } else if (add !== undefined) {
      used.add(part.member)
      const inner = fillSkeleton(
        add.text,
        add.indent,
        indent,
        false,
        { source: s.source, current: [], added: s.added, lang: s.lang, name: part.member }
      )
      for (const u of inner.used) used.add(u)
      out += inner.text
    }
    for (const f of followers.get(part.member) ?? []) out += '\n\n' + indent + place(f, indent)
  }
  if (!anyPlaced) {
    out = appendAtEnd(
      out,
      s.lang,
      isModule,
      (followers.get(null) ?? []).map((f) => f.indent + s.source.slice(f.start, f.end))
    )
  }
  return { text: out, used }
}

/** The text a version of a unit becomes at a place indented `to`, composites filled in. */
function materialise (source: string, units: Unit[], lang: Language | null, name: string, v: PlacedText, kind: Unit['kind'], to: string, added: AddedMembers, current: Unit | null): { text: string, used: Set<string> } {
  if (kind !== 'module' && kind !== 'class') return { text: reindent(v.text, v.indent, to), used: new Set() }
  return fillSkeleton(v.text, v.indent, to, kind === 'module', {
    source,
    current: current === null ? [] : membersOf(units, current.name),
    added,
    lang,
    name,
    renamedFrom: current !== null && current.name !== name ? current.name : undefined
  })
}

/** Replaces a unit with another version of it (a composite keeps the members there now). */
export function replaceUnit (
  source: string,
  units: Unit[],
  current: Unit,
  name: string,
  v: PlacedText,
  lang: Language | null,
  added: AddedMembers = new Map()
): { source: string, used: Set<string> } {
  const m = materialise(
    source,
    units,
    lang,
    name,
    v,
    current.kind,
    current.indent,
    added,
    isComposite(current) ? current : null
  )
  return { source: source.slice(0, current.start) + m.text + source.slice(current.end), used: m.used }
}

/** Where a unit that is not there now goes: its parent and the sibling before it. */
export interface Placement { parent: string, after: string | null, kind: Unit['kind'], name: string }

/**
 * Inserts a unit after its previous sibling (or first, or at the end of its parent when the
 * sibling is gone). Returns null when the parent itself is not there.
 */
export function insertUnit (
  source: string,
  units: Unit[],
  at: Placement,
  v: PlacedText,
  lang: Language | null,
  added: AddedMembers = new Map()
): { source: string, used: Set<string> } | null {
  const parent = units.find((u) => u.name === at.parent)
  if (parent === undefined) return null
  const siblings = membersOf(units, parent.name)
  const anchor = at.after === null ? undefined : siblings.find((u) => u.name === at.after)
  const first = at.after === null ? siblings[0] : undefined
  if (anchor !== undefined || first !== undefined || siblings.length > 0) {
    const ref = anchor ?? first ?? siblings[siblings.length - 1]
    const m = materialise(source, units, lang, at.name, v, at.kind, ref.indent, added, null)
    if (first !== undefined) return { source: source.slice(0, ref.start) + m.text + '\n\n' + ref.indent + source.slice(ref.start), used: m.used }
    return { source: source.slice(0, ref.end) + '\n\n' + ref.indent + m.text + source.slice(ref.end), used: m.used }
  }
  const isModule = parent.kind === 'module'
  const step = lang === 'python' ? '    ' : '  '
  const indent = isModule ? '' : v.indent !== '' && v.indent.length > parent.indent.length ? v.indent : parent.indent + step
  const m = materialise(source, units, lang, at.name, v, at.kind, indent, added, null)
  const raw = source.slice(parent.start, parent.end)
  return {
    source: source.slice(0, parent.start) +
      appendAtEnd(raw, lang, isModule, [indent + m.text]) +
      source.slice(parent.end),
    used: m.used
  }
}

/** Deletes a unit; when it stood on lines of its own, the lines go too. */
export function deleteUnit (source: string, u: Unit): string {
  let start = u.start
  let end = u.end
  const lineStart = source.lastIndexOf('\n', start - 1) + 1
  const lineEndAt = source.indexOf('\n', end)
  const lineEnd = lineEndAt < 0 ? source.length : lineEndAt + 1
  if (source.slice(lineStart, start).trim() === '' && source.slice(end, lineEnd).trim() === '') {
    start = lineStart
    end = lineEnd
    const before = source.slice(0, start)
    if (source.slice(end).trim() === '') {
      // The last unit of its file: the blank lines that separated it go too.
      start = before.replace(/(\n[ \t]*)+$/, '\n').length
      if (before.trim() === '') start = 0
      end = source.length
    } else {
      // Blank lines on both sides of the unit become the blank lines before it.
      const after = /^([ \t]*\r?\n)+/.exec(source.slice(end))
      if (after !== null && /(^|\n)[ \t]*\r?\n$/.test(before)) end += after[0].length
    }
  }
  return source.slice(0, start) + source.slice(end)
}
