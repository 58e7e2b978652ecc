/**
 * Surgical rewind: put one unit back as it was at an intent or a snapshot, in the file as it is
 * now. Only that unit's bytes change — neighbours edited after the bad change survive byte for
 * byte — and a composite (class, module) keeps the members it has now. The result must parse,
 * or nothing is written and the ParseError says where. Before writing, the file is saved as a
 * snapshot; the returned delta goes into a signed `rewind` record so the rewind replicates.
 *
 * @example
 * const target = await versionFromHistory(history, goodId, 'src/auth/verify.py', 'verify_token', blobs)
 * const r = await rewindUnit({ root, blobs }, { path: 'src/auth/verify.py', name: 'verify_token', target: target ?? null, author, ts })
 * // r.delta → record.delta, r.snapshot → a `snapshot` record, r.diff for people
 */
import { readFile } from 'node:fs/promises'
import { NotFoundError, ParseError } from '../../crdt/errors.js'
import type { BlobStore } from './blob-store.js'
import { MAX_INLINE_TEXT_BYTES, type CodeDelta, type DeltaEntry } from './delta.js'
import { deleteUnit, insertUnit, replaceUnit } from './edit.js'
import { parse, pointAt, type Tree } from './languages.js'
import { resolveInside, writeAtomic } from './paths.js'
import { sha256Hex } from './blob-store.js'
import { snapshotContents, type Snapshot } from './snapshots.js'
import { unifiedDiff } from './text-diff.js'
import { extractUnits, type FileUnits, type Unit } from './units.js'
import type { UnitVersion } from './versions.js'

/** What a rewind needs from its node. */
export interface RewindComponents { root: string, blobs: BlobStore }

/** One rewind: which unit, back to which version (null: it did not exist then). */
export interface RewindInit {
  path: string
  /** The unit's qualified name as it is now (or as it was, if it is gone now). */
  name: string
  target: UnitVersion | null
  /** Compute and return the result without writing or snapshotting. */
  dryRun?: boolean
  /** For the automatic snapshot: who is rewinding, and when (ms). */
  author: string
  ts: number
}

/** What a rewind did (or would do, under dry run). */
export interface RewindResult {
  path: string
  name: string
  dryRun: boolean
  /** False when the unit already is as it was: nothing written, empty delta. */
  changed: boolean
  before: string
  after: string
  /** Unified diff of the file. */
  diff: string
  /** For the `rewind` record. */
  delta: CodeDelta
  /** Blobs the delta refers to (texts over 16 KiB), for the caller to store. */
  blobs: Map<string, Uint8Array>
  /** The snapshot of the file taken before writing; null under dry run or when unchanged. */
  snapshot: Snapshot | null
}

/** Where two texts differ: one edit, as offsets into each. */
function editSpan (before: string, after: string): { start: number, oldEnd: number, newEnd: number } {
  let start = 0
  while (start < before.length && start < after.length && before.charCodeAt(start) === after.charCodeAt(start)) start++
  let tail = 0
  while (tail < before.length - start && tail < after.length - start && before.charCodeAt(before.length - 1 - tail) === after.charCodeAt(after.length - 1 - tail)) tail++
  return { start, oldEnd: before.length - tail, newEnd: after.length - tail }
}

/** Re-parses after a single edit, incrementally when an old tree is at hand. */
function reparse (fu: FileUnits, before: string, after: string, span: ReturnType<typeof editSpan>): Tree | undefined {
  if (fu.tree === null || fu.language === null) return undefined
  fu.tree.edit({
    startIndex: span.start,
    oldEndIndex: span.oldEnd,
    newEndIndex: span.newEnd,
    startPosition: pointAt(before, span.start),
    oldEndPosition: pointAt(before, span.oldEnd),
    newEndPosition: pointAt(after, span.newEnd)
  })
  return parse(fu.language, after, fu.tree)
}

function anchorOf (units: Unit[], u: Unit): string | null {
  const i = units.indexOf(u)
  for (let j = i - 1; j >= 0; j--) if (units[j].parent === u.parent) return units[j].name
  return null
}

function entryFor (cur: Unit | undefined, next: Unit | undefined, units: Unit[], path: string, blobs: Map<string, Uint8Array>): DeltaEntry {
  let text: string | null = null
  let blob: string | null = null
  if (next !== undefined) {
    const bytes = new TextEncoder().encode(next.text)
    if (bytes.length > MAX_INLINE_TEXT_BYTES) { blob = sha256Hex(bytes); blobs.set(blob, bytes) } else text = next.text
  }
  const renamed = cur !== undefined && next !== undefined && cur.name !== next.name
  const change = cur === undefined ? 'added' : next === undefined ? 'deleted' : renamed ? 'renamed' : 'modified'
  const u = (next ?? cur) as Unit
  return {
    path,
    name: u.name,
    kind: u.kind,
    change,
    beforeHash: cur?.hash ?? null,
    afterHash: next?.hash ?? null,
    bodyHash: next?.bodyHash ?? null,
    text,
    blob,
    indent: next?.indent ?? null,
    parent: next?.parent ?? null,
    after: next === undefined ? null : anchorOf(units, next),
    fromPath: renamed ? path : null,
    fromName: renamed ? (cur as Unit).name : null
  }
}

/** Rewinds one unit of one file; see the module comment. */
export async function rewindUnit (c: RewindComponents, init: RewindInit): Promise<RewindResult> {
  const { path, name, target } = init
  const abs = await resolveInside(c.root, path)
  let before: string
  try { before = await readFile(abs, 'utf8') } catch { throw new NotFoundError(`no file ${path} in the workspace`, { path }) }
  const fu = extractUnits(path, before, { hashOnly: name })
  if (fu.error !== null) {
    throw new ParseError(`${path} does not parse now (line ${fu.error.line}, column ${fu.error.column}); fix it before rewinding a unit in it`, { path, line: fu.error.line, column: fu.error.column })
  }
  const cur = fu.units.find((u) => u.name === name)
  const dryRun = init.dryRun === true
  const unchanged = (): RewindResult => ({ path, name, dryRun, changed: false, before, after: before, diff: '', delta: { v: 1, entries: [] }, blobs: new Map(), snapshot: null })

  let after: string
  if (target === null) {
    if (cur === undefined) return unchanged()
    after = deleteUnit(before, cur)
  } else if (cur !== undefined) {
    after = replaceUnit(before, fu.units, cur, target.name, target, fu.language).source
  } else {
    if (target.parent === null) throw new NotFoundError(`${path}:${name} is not in the file now and has no parent to go back into`, { path, name })
    const placed = insertUnit(before, fu.units, { parent: target.parent, after: target.after, kind: target.kind, name: target.name }, target, fu.language)
    if (placed === null) throw new NotFoundError(`cannot put ${path}:${name} back: its parent ${target.parent} is not in the file now`, { path, name, parent: target.parent })
    after = placed.source
  }
  if (after === before) return unchanged()

  const span = editSpan(before, after)
  // Only the edited stretch can have gained an empty block; the rest was checked above.
  const next = extractUnits(path, after, { tree: reparse(fu, before, after, span), hashOnly: target?.name, checkRange: { start: span.start, end: span.newEnd } })
  if (next.error !== null) {
    throw new ParseError(`rewinding ${path}:${name} would leave ${path} unparsable at line ${next.error.line}, column ${next.error.column}; nothing was written`, { path, name, line: next.error.line, column: next.error.column })
  }
  const nextUnit = target === null ? undefined : next.units.find((u) => u.name === target.name)
  const blobs = new Map<string, Uint8Array>()
  const delta: CodeDelta = { v: 1, entries: [entryFor(cur, nextUnit, next.units, path, blobs)] }
  const diff = unifiedDiff(path, before, after)
  if (dryRun) return { path, name, dryRun, changed: true, before, after, diff, delta, blobs, snapshot: null }
  const snapshot = await snapshotContents(c.blobs, { [path]: before }, { author: init.author, ts: init.ts, reason: 'pre-rewind' })
  await writeAtomic(abs, after)
  return { path, name, dryRun, changed: true, before, after, diff, delta, blobs, snapshot }
}
