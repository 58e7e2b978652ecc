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
import { readFile, stat } from 'node:fs/promises'
import { NotFoundError, ParseError } from '../../crdt/errors.js'
import type { BlobStore } from './blob-store.js'
import { MAX_INLINE_TEXT_BYTES, type CodeDelta, type DeltaEntry } from './delta.js'
import { deleteUnit, insertUnit, replaceUnit } from './edit.js'
import { parse, pointAt, type Tree } from './languages.js'
import { resolveInside, writeAtomic } from './paths.js'
import { sha256Hex } from './blob-store.js'
import { snapshotContents, type Snapshot } from './snapshots.js'
import { commonEnds, unifiedDiff } from './text-diff.js'
import { extractUnits, reextractUnit, syntaxErrorOf, type FileUnits, type Unit } from './units.js'
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
  /** The bytes that snapshot stored, by blob hash (for replicating them without a re-read). */
  snapshotBlobs: Map<string, Uint8Array>
}

/** Where two texts differ: one edit, as offsets into each. */
function editSpan (before: string, after: string): { start: number, oldEnd: number, newEnd: number } {
  const { head, tail } = commonEnds(before, after)
  return { start: head, oldEnd: before.length - tail, newEnd: after.length - tail }
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

/** The file's bytes, its text, and its mode (read alongside, for the atomic write). */
async function readSource (abs: string, path: string): Promise<{ bytes: Buffer, text: string, mode: number | undefined }> {
  const mode = stat(abs).then((st) => st.mode & 0o777, () => undefined)
  let bytes: Buffer
  try { bytes = await readFile(abs) } catch { throw new NotFoundError(`no file ${path} in the workspace`, { path }) }
  return { bytes, text: bytes.toString('utf8'), mode: await mode }
}

/** Rewinds one unit of one file; see the module comment. */
export async function rewindUnit (c: RewindComponents, init: RewindInit): Promise<RewindResult> {
  const { path, name, target } = init
  const abs = await resolveInside(c.root, path)
  const file = await readSource(abs, path)
  const before = file.text
  // Only the unit, its members and the units before it are needed, unless it is not there.
  const fu = extractUnits(path, before, { hashOnly: name, until: name })
  if (fu.error !== null) {
    throw new ParseError(`${path} does not parse now (line ${fu.error.line}, column ${fu.error.column}); fix it before rewinding a unit in it`, { path, line: fu.error.line, column: fu.error.column })
  }
  const cur = fu.units.find((u) => u.name === name)
  const dryRun = init.dryRun === true
  const unchanged = (): RewindResult => ({ path, name, dryRun, changed: false, before, after: before, diff: '', delta: { v: 1, entries: [] }, blobs: new Map(), snapshot: null, snapshotBlobs: new Map() })

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
  const { error, nextUnit, units } = afterEdit(path, fu, cur, target, before, after, span)
  if (error !== null) {
    throw new ParseError(`rewinding ${path}:${name} would leave ${path} unparsable at line ${error.line}, column ${error.column}; nothing was written`, { path, name, line: error.line, column: error.column })
  }
  const blobs = new Map<string, Uint8Array>()
  const delta: CodeDelta = { v: 1, entries: [entryFor(cur, nextUnit, units, path, blobs)] }
  const diff = unifiedDiff(path, before, after)
  if (dryRun) return { path, name, dryRun, changed: true, before, after, diff, delta, blobs, snapshot: null, snapshotBlobs: new Map() }
  // The bytes as read, not the text re-encoded: the snapshot is the file as it was.
  const snapshot = await snapshotContents(c.blobs, { [path]: file.bytes }, { author: init.author, ts: init.ts, reason: 'pre-rewind' })
  await writeAtomic(abs, after, { mode: file.mode })
  return { path, name, dryRun, changed: true, before, after, diff, delta, blobs, snapshot, snapshotBlobs: new Map([[snapshot.manifest.files[path], file.bytes]]) }
}

/**
 * The edited file: its first syntax error, the unit as it is after the edit, and a unit list
 * in which that unit's previous sibling can be found (entryFor's anchor). A function or method
 * replaced in place is read back on its own (units.ts reextractUnit): the rest of the file is
 * the text it was, so the units before it are those found before the edit. A deletion needs no
 * units at all. Anything else extracts the whole file again.
 */
function afterEdit (path: string, fu: FileUnits, cur: Unit | undefined, target: UnitVersion | null, before: string, after: string, span: ReturnType<typeof editSpan>): { error: FileUnits['error'], nextUnit: Unit | undefined, units: Unit[] } {
  const tree = reparse(fu, before, after, span)
  // Only the edited stretch can have gained an empty block; the rest was checked above.
  const checkRange = { start: span.start, end: span.newEnd }
  if (tree !== undefined && fu.language !== null) {
    if (target === null) return { error: syntaxErrorOf(after, tree, fu.language, checkRange), nextUnit: undefined, units: [] }
    if (cur !== undefined && cur.name === target.name) {
      const error = syntaxErrorOf(after, tree, fu.language, checkRange)
      if (error !== null) return { error, nextUnit: undefined, units: [] }
      const unit = reextractUnit(path, after, tree, fu.units, cur, cur.start, cur.end + after.length - before.length)
      if (unit !== null) return { error, nextUnit: unit, units: fu.units.map((u) => u === cur ? unit : u) }
    }
  }
  const next = extractUnits(path, after, { tree, hashOnly: target?.name, checkRange })
  return { error: next.error, nextUnit: target === null ? undefined : next.units.find((u) => u.name === target.name), units: next.units }
}
