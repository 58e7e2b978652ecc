/**
 * Skeletons: the text of a composite unit (a module or a class) with each member unit replaced
 * by a placeholder `⟪Qualified.name⟫`. A skeleton is what a delta carries for a composite, so
 * changing an import or a class field never carries (or overwrites) the methods around it.
 *
 * @example
 * skeletonText('class A {\n  m() {}\n}', 0, 20, [{ name: 'A.m', start: 12, end: 18 }])
 * // 'class A {\n  ⟪A.m⟫\n}'
 */

/** A member's qualified name and where it sits in the source. */
export interface MemberSpan { name: string, start: number, end: number }

/** One piece of a skeleton: literal text, or a placeholder naming a member unit. */
export type SkeletonPart = { text: string } | { member: string }

const OPEN = '\u27ea'
const CLOSE = '\u27eb'
const PLACEHOLDER = /\u27ea([^\u27eb\n]+)\u27eb/g

/** The placeholder standing for a member unit. */
export function placeholder (name: string): string {
  return OPEN + name + CLOSE
}

/** The skeleton of source[start, end) with the given members (sorted, disjoint) replaced. */
export function skeletonText (source: string, start: number, end: number, members: MemberSpan[]): string {
  let out = ''
  let pos = start
  for (const m of members) {
    out += source.slice(pos, m.start) + placeholder(m.name)
    pos = m.end
  }
  return out + source.slice(pos, end)
}

/** Splits a skeleton into literal text and placeholders. */
export function skeletonParts (text: string): SkeletonPart[] {
  const parts: SkeletonPart[] = []
  let pos = 0
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > pos) parts.push({ text: text.slice(pos, m.index) })
    parts.push({ member: m[1] })
    pos = m.index + m[0].length
  }
  if (pos < text.length) parts.push({ text: text.slice(pos) })
  return parts
}

/** The members a skeleton names, in order. */
export function skeletonMembers (text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1])
}
