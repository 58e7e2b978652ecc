/**
 * Code deltas: what changed between two workspace states, unit by unit. A `CodeDelta` is the
 * `delta` field of a signed record (`intent`, `rewind`): canonical-JSON safe (no undefined,
 * only null), with every unit's new text inline up to 16 KiB and larger texts replaced by the
 * SHA-256 of a blob the caller stores and replicates with the log.
 *
 * @example
 * const { delta, blobs } = diffStates(baseline, (await scanWorkspace(root, { baseline })).state)
 * for (const [hash, bytes] of blobs) await blobStore.put(bytes) // hash === sha256(bytes)
 */
import { z } from 'zod'
import { canonicalBytes } from '../../crdt/canonical.js'
import { MalformedError, WorkspaceError } from '../../crdt/errors.js'
import { checkRelativePath } from './paths.js'
import { sha256Hex } from './blob-store.js'
import type { FileState, WorkspaceState } from './scan.js'
import type { Unit, UnitKind, UnitSummary } from './units.js'

/** How a unit changed. A move changes its path (and maybe name); a rename only its name. */
export type ChangeKind = 'added' | 'modified' | 'deleted' | 'moved' | 'renamed'

/** One unit's change. Hashes are the normalised unit hashes (hex SHA-256). */
export interface DeltaEntry {
  path: string
  name: string
  kind: UnitKind
  change: ChangeKind
  /** Hash before the change (null when added). */
  beforeHash: string | null
  /** Hash after the change (null when deleted). */
  afterHash: string | null
  /** Body hash after the change (null when deleted), so receivers can track renames. */
  bodyHash: string | null
  /** The unit's new text (a skeleton for modules and classes); null when deleted or in a blob. */
  text: string | null
  /** Hex SHA-256 of the new text's UTF-8 bytes when it is too large to carry inline. */
  blob: string | null
  /** Leading whitespace of the line the new text started on (null when deleted). */
  indent: string | null
  /** The enclosing composite after the change (null for modules and whole files). */
  parent: string | null
  /** The member just before this one in its parent after the change; null if first. */
  after: string | null
  /** For moves and renames: where the unit was. */
  fromPath: string | null
  fromName: string | null
}

/** The `delta` field of an intent or rewind record. */
export interface CodeDelta {
  v: 1
  entries: DeltaEntry[]
}

/** A computed delta, with the blobs its entries refer to and a measure of its size. */
export interface DiffResult {
  delta: CodeDelta
  /** Blob hash → bytes, for every entry whose text went to a blob. */
  blobs: Map<string, Uint8Array>
  /** Distinct files touched, and lines of new unit text. */
  stats: { files: number, lines: number }
}

/** Options for diffing. */
export interface DiffInit {
  /** Texts above this many UTF-8 bytes become blobs (default 16 KiB). */
  maxInlineBytes?: number
  /** Only compare files at or under these paths (for partial scans). */
  paths?: string[]
}

/** The default largest unit text carried inline in a record. */
export const MAX_INLINE_TEXT_BYTES = 16 * 1024

const enc = new TextEncoder()

function hasText (u: UnitSummary | Unit): u is Unit {
  return typeof (u as Unit).text === 'string'
}

function inScope (path: string, paths: string[] | undefined): boolean {
  return paths === undefined || paths.some((p) => p === '' || p === '.' || path === p || path.startsWith(p.replace(/\/+$/, '') + '/'))
}

/** The member just before `index` in the same parent, or null. */
function anchorOf (units: Array<UnitSummary | Unit>, index: number): string | null {
  const parent = units[index].parent
  for (let i = index - 1; i >= 0; i--) if (units[i].parent === parent) return units[i].name
  return null
}

interface Side { path: string, unit: UnitSummary | Unit, index: number, file: FileState }

class DeltaBuilder {
  readonly entries: Array<{ entry: DeltaEntry, order: number }> = []
  readonly blobs = new Map<string, Uint8Array>()
  lines = 0

  constructor (readonly maxInline: number) {}

  push (order: number, e: Omit<DeltaEntry, 'text' | 'blob' | 'indent' | 'bodyHash' | 'parent' | 'after'>, after: Side | null): void {
    let text: string | null = null
    let blob: string | null = null
    if (after !== null) {
      const u = after.unit
      if (!hasText(u)) throw new WorkspaceError(`state lacks the text of changed unit ${after.path}:${u.name}; scan it again`, { path: after.path, name: u.name })
      const bytes = enc.encode(u.text)
      this.lines += u.text.split('\n').length
      if (bytes.length > this.maxInline) {
        blob = sha256Hex(bytes)
        this.blobs.set(blob, bytes)
      } else {
        text = u.text
      }
    }
    const u = after?.unit as Unit | undefined
    this.entries.push({
      order,
      entry: {
        ...e,
        text,
        blob,
        indent: u?.indent ?? null,
        bodyHash: u?.bodyHash ?? null,
        parent: u?.parent ?? null,
        after: after === null ? null : anchorOf(after.file.units, after.index)
      }
    })
  }
}

function sides (state: WorkspaceState, paths: string[] | undefined, skip: Set<string>): Map<string, Side> {
  const out = new Map<string, Side>()
  for (const [path, file] of Object.entries(state.files)) {
    if (!inScope(path, paths) || skip.has(path)) continue
    file.units.forEach((unit, index) => out.set(`${path}\0${unit.name}`, { path, unit, index, file }))
  }
  return out
}

/** The delta that takes a workspace from `before` to `after`, unit by unit. */
export function diffStates (before: WorkspaceState, after: WorkspaceState, init: DiffInit = {}): DiffResult {
  const unchanged = new Set<string>()
  for (const [path, f] of Object.entries(after.files)) {
    if (before.files[path]?.fileHash === f.fileHash) unchanged.add(path)
  }
  const b = sides(before, init.paths, unchanged)
  const a = sides(after, init.paths, unchanged)
  const out = new DeltaBuilder(init.maxInlineBytes ?? MAX_INLINE_TEXT_BYTES)
  const added: Side[] = []
  const deleted: Side[] = []
  const pathOrder = new Map(
    [...new Set([...Object.keys(before.files), ...Object.keys(after.files)])].sort().map((p, i) => [p, i])
  )
  const order = (
    path: string,
    index: number,
    isDeleted: boolean
  ): number => (pathOrder.get(path) ?? 0) * 2e6 + (isDeleted ? 1e6 : 0) + index

  for (const [key, s] of a) {
    const old = b.get(key)
    if (old === undefined) { added.push(s); continue }
    if (old.unit.hash === s.unit.hash && old.unit.kind === s.unit.kind) continue
    out.push(order(s.path, s.index, false), { path: s.path, name: s.unit.name, kind: s.unit.kind, change: 'modified', beforeHash: old.unit.hash, afterHash: s.unit.hash, fromPath: null, fromName: null }, s)
  }
  for (const [key, s] of b) if (!a.has(key)) deleted.push(s)

  // A unit that disappeared and one that appeared with the same kind and body is one unit
  // that moved or was renamed: prefer a partner in the same file, then one with the same name.
  // The members of a class that moved or was renamed follow it, changed or not.
  const taken = new Set<Side>()
  const followed = new Map<string, Side>()
  for (const d of deleted) {
    const parent = d.unit.parent === null ? undefined : followed.get(`${d.path}\0${d.unit.parent}`)
    const oldParent = d.unit.parent ?? ''
    const heir = parent === undefined
      ? undefined
      : added.find(
        (x) => !taken.has(x) &&
          x.path === parent.path &&
          x.unit.kind === d.unit.kind &&
          x.unit.name === parent.unit.name + d.unit.name.slice(oldParent.length)
      )
    const candidates = added.filter(
      (x) => !taken.has(x) && x.unit.kind === d.unit.kind && x.unit.bodyHash === d.unit.bodyHash
    )
    const m = heir ??
      candidates.find((x) => x.path === d.path) ??
      candidates.find((x) => x.unit.name === d.unit.name) ??
      candidates[0]
    if (m !== undefined && d.unit.kind === 'class') followed.set(`${d.path}\0${d.unit.name}`, m)
    if (m === undefined) {
      out.push(order(d.path, d.index, true), { path: d.path, name: d.unit.name, kind: d.unit.kind, change: 'deleted', beforeHash: d.unit.hash, afterHash: null, fromPath: null, fromName: null }, null)
      continue
    }
    taken.add(m)
    out.push(order(m.path, m.index, false), {
      path: m.path,
      name: m.unit.name,
      kind: m.unit.kind,
      change: m.path === d.path ? 'renamed' : 'moved',
      beforeHash: d.unit.hash,
      afterHash: m.unit.hash,
      fromPath: d.path,
      fromName: d.unit.name
    }, m)
  }
  for (const s of added) {
    if (taken.has(s)) continue
    out.push(order(s.path, s.index, false), { path: s.path, name: s.unit.name, kind: s.unit.kind, change: 'added', beforeHash: null, afterHash: s.unit.hash, fromPath: null, fromName: null }, s)
  }

  const entries = out.entries.sort((x, y) => x.order - y.order).map((x) => x.entry)
  const files = new Set(entries.flatMap((e) => e.fromPath === null ? [e.path] : [e.path, e.fromPath]))
  return { delta: { v: 1, entries }, blobs: out.blobs, stats: { files: files.size, lines: out.lines } }
}

const HEX = /^[0-9a-f]{64}$/
const hash = z.string().regex(HEX)
const relPath = z.string().max(4096).refine((p) => { try { checkRelativePath(p); return true } catch { return false } }, 'not a safe workspace path')
const unitName = z.string().min(1).max(1024).refine((n) => !n.includes('\n'), 'unit names are one line')

const entrySchema = z.object({
  path: relPath,
  name: unitName,
  kind: z.enum(['function', 'method', 'class', 'module', 'file']),
  change: z.enum(['added', 'modified', 'deleted', 'moved', 'renamed']),
  beforeHash: hash.nullable(),
  afterHash: hash.nullable(),
  bodyHash: hash.nullable(),
  text: z.string().nullable(),
  blob: hash.nullable(),
  indent: z.string().max(1024).regex(/^[ \t]*$/).nullable(),
  parent: unitName.nullable(),
  after: unitName.nullable(),
  fromPath: relPath.nullable(),
  fromName: unitName.nullable()
}).strict().superRefine((e, ctx) => {
  const issue = (message: string): void => { ctx.addIssue({ code: 'custom', message }) }
  const gone = e.change === 'deleted'
  if (gone !== (e.afterHash === null)) issue('afterHash must be null exactly when deleted')
  if ((e.change === 'added') !== (e.beforeHash === null)) issue('beforeHash must be null exactly when added')
  if (!gone && (e.text === null) === (e.blob === null)) issue('a live entry has text or a blob, not both')
  if (gone && (e.text !== null || e.blob !== null)) issue('a deleted entry has no text')
  if (e.text !== null && enc.encode(e.text).length > MAX_INLINE_TEXT_BYTES) issue('inline text over 16 KiB')
  const moved = e.change === 'moved' || e.change === 'renamed'
  if (moved !== (e.fromPath !== null && e.fromName !== null)) issue('fromPath/fromName exactly for moves and renames')
})

const deltaSchema = z.object({ v: z.literal(1), entries: z.array(entrySchema).max(100_000) }).strict()

/** Validates a delta received from a peer; throws E_MALFORMED naming the first problem. */
export function parseCodeDelta (value: unknown): CodeDelta {
  const r = deltaSchema.safeParse(value)
  if (!r.success) {
    const first = r.error.issues[0]
    throw new MalformedError(`malformed code delta at ${first.path.join('.') || '$'}: ${first.message}`, { at: first.path.join('.') })
  }
  return r.data as CodeDelta
}

/** A budget for one record's delta, under crdt/record.ts's 4 MiB record limit. */
export const DEFAULT_DELTA_BUDGET_BYTES = 3 * 1024 * 1024

/**
 * Splits a delta into parts of at most `budget` canonical bytes, keeping each file's entries
 * (and both ends of a move) in one part, so each part can go into its own record. A first
 * intent over a large checkout is the usual case.
 */
export function splitDelta (delta: CodeDelta, budget = DEFAULT_DELTA_BUDGET_BYTES): CodeDelta[] {
  // Paths joined by a move share a part: union-find over paths, then entries by their root.
  const parent = new Map<string, string>()
  const root = (p: string): string => {
    let r = p
    while (parent.has(r) && parent.get(r) !== r) r = parent.get(r) as string
    parent.set(p, r)
    return r
  }
  for (const e of delta.entries) {
    if (!parent.has(e.path)) parent.set(e.path, e.path)
    if (e.fromPath !== null) {
      if (!parent.has(e.fromPath)) parent.set(e.fromPath, e.fromPath)
      parent.set(root(e.fromPath), root(e.path))
    }
  }
  const groups = new Map<string, DeltaEntry[]>()
  for (const e of delta.entries) {
    const r = root(e.path)
    const g = groups.get(r)
    if (g === undefined) groups.set(r, [e])
    else g.push(e)
  }
  const parts: CodeDelta[] = []
  let current: DeltaEntry[] = []
  let size = 0
  for (const g of groups.values()) {
    const bytes = canonicalBytes(g).length
    if (current.length > 0 && size + bytes > budget) { parts.push({ v: 1, entries: current }); current = []; size = 0 }
    current.push(...g)
    size += bytes
  }
  if (current.length > 0 || parts.length === 0) parts.push({ v: 1, entries: current })
  return parts
}

/** The paths a delta touches (including where moved units came from). */
export function deltaPaths (delta: CodeDelta): string[] {
  return [...new Set(delta.entries.flatMap((e) => e.fromPath === null ? [e.path] : [e.path, e.fromPath]))].sort()
}
