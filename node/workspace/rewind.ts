/**
 * Surgical rewind: put one unit back as it was at an intent or a snapshot, in the file as it is
 * now. Only that unit's bytes change — neighbours edited after the bad change survive byte for
 * byte — and a composite (class, module) keeps the members it has now. The result must parse,
 * or nothing is written and the ParseError says where. Before writing, the file is saved as a
 * snapshot; the returned delta goes into a signed `rewind` record so the rewind replicates.
 *
 * @example
 * const target = await versionFromHistory(history, goodId, 'src/auth/verify.py', 'verify_token', blobs)
 * const unit = { path: 'src/auth/verify.py', name: 'verify_token', target: target ?? null, author, ts }
 * const r = await rewindUnit({ root, blobs }, unit)
 * // r.delta → record.delta, r.snapshot → a `snapshot` record, r.diff for people
 */
import { readFile, stat } from 'node:fs/promises'
import { NotFoundError, ParseError, type AuraError } from '../../crdt/errors.js'
import type { BlobStore } from './blob-store.js'
import { MAX_INLINE_TEXT_BYTES, type CodeDelta, type DeltaEntry } from './delta.js'
import { deleteUnit, insertUnit, replaceUnit } from './edit.js'
import { languageOf, parse, pointAt, takeTree, type Tree } from './languages.js'
import { resolveInside, writeAtomic } from './paths.js'
import { sha256Hex } from './blob-store.js'
import { snapshotContents, type Snapshot } from './snapshots.js'
import { commonEnds, unifiedDiff } from './text-diff.js'
import { extractUnits, findTopLevelFunction, reextractUnit, syntaxErrorOf, type FileUnits, type Unit } from './units.js'
import type { UnitVersion } from './versions.js'
import { closest, nearest } from '../config/suggest.js'

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
  /**
   * Whether the log ever recorded this unit. When it is neither in the file now nor at the
   * target, only a unit the log knows can truly be "already as it was"; any other name is a
   * typo and gets E_NOT_FOUND with the units the file holds.
   */
  recorded?: boolean
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

/** The delta entry; `anchor`: the name of the unit before `next` in its parent (its `after`). */
function entryFor (
  cur: Unit | undefined,
  next: Unit | undefined,
  anchor: string | null,
  path: string,
  blobs: Map<string, Uint8Array>
): DeltaEntry {
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
    after: next === undefined ? null : anchor,
    fromPath: renamed ? path : null,
    fromName: renamed ? (cur as Unit).name : null
  }
}

/** The file's bytes, its text, and its mode (read alongside, for the atomic write). */
async function readSource (
  abs: string,
  path: string
): Promise<{ bytes: Buffer, text: string, mode: number | undefined }> {
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
  const { fu, cur, previous } = locate(path, before, name)
  if (fu.error !== null) {
    throw new ParseError(`${path} does not parse now (line ${fu.error.line}, column ${fu.error.column}); fix it before rewinding a unit in it`, { path, line: fu.error.line, column: fu.error.column })
  }
  const dryRun = init.dryRun === true
  const unchanged = (): RewindResult => ({ path, name, dryRun, changed: false, before, after: before, diff: '', delta: { v: 1, entries: [] }, blobs: new Map(), snapshot: null, snapshotBlobs: new Map() })

  let after: string
  if (target === null) {
    if (cur === undefined && init.recorded !== true) throw unitNotFound(path, name, fu.units)
    if (cur === undefined) return unchanged()
    after = deleteUnit(before, cur)
  } else if (cur !== undefined) {
    after = replaceUnit(before, fu.units, cur, target.name, target, fu.language).source
  } else {
    if (target.parent === null) throw new NotFoundError(`${path}:${name} is not in the file now and has no parent to go back into`, { path, name })
    const placed = insertUnit(
      before,
      fu.units,
      { parent: target.parent, after: target.after, kind: target.kind, name: target.name },
      target,
      fu.language
    )
    if (placed === null) throw new NotFoundError(`cannot put ${path}:${name} back: its parent ${target.parent} is not in the file now`, { path, name, parent: target.parent })
    after = placed.source
  }
  if (after === before) return unchanged()

  const span = editSpan(before, after)
  const { error, nextUnit, anchor } = afterEdit(path, fu, cur, previous, target, before, after, span)
  if (error !== null) {
    throw new ParseError(`rewinding ${path}:${name} would leave ${path} unparsable at line ${error.line}, column ${error.column}; nothing was written`, { path, name, line: error.line, column: error.column })
  }
  const blobs = new Map<string, Uint8Array>()
  const delta: CodeDelta = { v: 1, entries: [entryFor(cur, nextUnit, anchor, path, blobs)] }
  const diff = unifiedDiff(path, before, after)
  const result = { path, name, dryRun, changed: true as const, before, after, diff, delta, blobs }
  if (dryRun) return { ...result, snapshot: null, snapshotBlobs: new Map() }
  // The bytes as read, not the text re-encoded: the snapshot is the file as it was.
  const snapshot = await snapshotContents(c.blobs, { [path]: file.bytes }, { author: init.author, ts: init.ts, reason: 'pre-rewind' })
  await writeAtomic(abs, after, { mode: file.mode })
  return { ...result, snapshot, snapshotBlobs: new Map([[snapshot.manifest.files[path], file.bytes]]) }
}

/** E_NOT_FOUND for a unit that is nowhere: the units the file holds, the closest first. */
function unitNotFound (path: string, name: string, units: Unit[]): AuraError {
  const names = units.map((u) => u.name)
  const near = nearest(name, names, 8)
  const guess = closest(name, names)
  const holds = names.length === 0 ? `${path} holds no functions or classes` : `${path} holds ${near.join(', ')}${names.length > near.length ? ` and ${names.length - near.length} more` : ''}`
  return new NotFoundError(`no unit '${name}' in ${path}, now or at the target; ${holds}${guess === undefined ? '' : `; did you mean ${path}:${guess}?`}`, {
    path, name, candidates: near, hint: 'name it as PATH:NAME, with Class.method for a method'
  })
}

/**
 * The file before the rewind: its tree and syntax error, the unit (if there), the name of the
 * unit before it in its parent, and as many of its units as the edit needs. A top-level
 * function is found from the statements that name it (units.ts findTopLevelFunction), and
 * `fu.units` then holds only that function; otherwise the units are extracted up to the unit
 * and its members, or all of them when the unit is not there (an insertion needs its parent
 * and siblings).
 */
function locate (
  path: string,
  source: string,
  name: string
): { fu: FileUnits, cur: Unit | undefined, previous: string | null } {
  const language = languageOf(path)
  // A file an intent just captured as it is now comes parsed (languages.ts keepTree).
  const tree = language === null ? undefined : takeTree(path, source) ?? parse(language, source)
  if (language !== null && tree !== undefined) {
    const quick = findTopLevelFunction(path, source, tree, name)
    if (quick !== null) {
      const fu: FileUnits = {
        path,
        language,
        units: [quick.unit],
        error: syntaxErrorOf(source, tree, language),
        tree,
        partial: true
      }
      return { fu, cur: quick.unit, previous: quick.previous }
    }
  }
  const fu = extractUnits(path, source, { tree, hashOnly: name, until: name })
  const cur = fu.units.find((u) => u.name === name)
  return { fu, cur, previous: cur === undefined ? null : anchorOf(fu.units, cur) }
}

/**
 * The edited file: its first syntax error, the unit as it is after the edit, and the name of
 * the unit before it in its parent (entryFor's anchor). A function or method replaced in
 * place is read back on its own (units.ts reextractUnit): the rest of the file is the text it
 * was, so the unit before it is the one before the edit (`previous`). A deletion needs no
 * units at all. Anything else extracts the whole file again.
 */
function afterEdit (path: string, fu: FileUnits, cur: Unit | undefined, previous: string | null, target: UnitVersion | null, before: string, after: string, span: ReturnType<typeof editSpan>): { error: FileUnits['error'], nextUnit: Unit | undefined, anchor: string | null } {
  const tree = reparse(fu, before, after, span)
  // Only the edited stretch can have gained an empty block; the rest was checked above.
  const checkRange = { start: span.start, end: span.newEnd }
  if (tree !== undefined && fu.language !== null) {
    if (target === null) {
      return {
        error: syntaxErrorOf(after, tree, fu.language, checkRange),
        nextUnit: undefined,
        anchor: null
      }
    }
    if (cur !== undefined && cur.name === target.name) {
      const error = syntaxErrorOf(after, tree, fu.language, checkRange)
      if (error !== null) return { error, nextUnit: undefined, anchor: null }
      const unit = reextractUnit(path, after, tree, fu.units, cur, cur.start, cur.end + after.length - before.length)
      if (unit !== null) return { error, nextUnit: unit, anchor: previous }
    }
  }
  const next = extractUnits(path, after, { tree, hashOnly: target?.name, checkRange })
  const nextUnit = target === null ? undefined : next.units.find((u) => u.name === target.name)
  return { error: next.error, nextUnit, anchor: nextUnit === undefined ? null : anchorOf(next.units, nextUnit) }
}
