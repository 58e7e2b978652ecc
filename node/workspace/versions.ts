/**
 * What a unit looked like at a point in the past: from the deltas of the records up to an
 * intent, or from a snapshot. This is the `--to ID` half of a rewind. Renames and moves after
 * the point are followed back, so `verify_token` finds its text even if it was `verifyToken`.
 *
 * @example
 * const v = await versionFromHistory(records, '3f9a…', 'src/auth/verify.py', 'verify_token', blobs)
 * if (v === undefined) // the log never recorded this unit up to that point: use a snapshot
 */
import { NotFoundError, WorkspaceError } from '../../crdt/errors.js'
import { getBlobText, type BlobStore } from './blob-store.js'
import type { CodeDelta, DeltaEntry } from './delta.js'
import { loadSnapshot, snapshotFileText, type Snapshot } from './snapshots.js'
import { languageOf, parse, type Language, type Tree } from './languages.js'
import { extractUnits, findTopLevelFunction, type UnitKind } from './units.js'

/** A unit as it was: its text (a skeleton for composites) and where it sat. */
export interface UnitVersion {
  path: string
  name: string
  kind: UnitKind
  text: string
  indent: string
  parent: string | null
  /** The member before it in its parent; null if first. */
  after: string | null
  hash: string
}

/** One record of the log, as far as code is concerned, oldest first. */
export interface HistoryItem { id: string, delta: CodeDelta | null }

async function entryVersion (e: DeltaEntry, blobs: BlobStore): Promise<UnitVersion> {
  let text = e.text
  if (text === null && e.blob !== null) {
    text = await getBlobText(blobs, e.blob)
    if (text === null) throw new NotFoundError(`the text of ${e.path}:${e.name} is in blob ${e.blob}, which this node does not hold`, { path: e.path, name: e.name, blob: e.blob })
  }
  if (text === null || e.afterHash === null) throw new WorkspaceError(`delta entry for ${e.path}:${e.name} carries no text`, { path: e.path, name: e.name })
  return { path: e.path, name: e.name, kind: e.kind, text, indent: e.indent ?? '', parent: e.parent, after: e.after, hash: e.afterHash }
}

/**
 * The unit (by its current path and name) as it was just after record `targetId`: a version,
 * null when it did not exist then, or undefined when the records up to then cannot say (the
 * unit's file predates the recorded history: use a snapshot).
 */
export async function versionFromHistory (
  history: HistoryItem[],
  targetId: string,
  path: string,
  name: string,
  blobs: BlobStore
): Promise<UnitVersion | null | undefined> {
  const at = history.findIndex((h) => h.id === targetId)
  if (at < 0) throw new NotFoundError(`record ${targetId} is not in the history given`, { record: targetId })
  let p = path
  let n = name
  for (let i = history.length - 1; i > at; i--) {
    const entries = history[i].delta?.entries ?? []
    for (let k = entries.length - 1; k >= 0; k--) {
      const e = entries[k]
      if (e.path === p && e.name === n && e.fromPath !== null && e.fromName !== null) { p = e.fromPath; n = e.fromName }
    }
  }
  // Once a file's creation is on record, every unit it ever had is too.
  let fileCreated = false
  for (let i = at; i >= 0; i--) {
    const entries = history[i].delta?.entries ?? []
    for (let k = entries.length - 1; k >= 0; k--) {
      const e = entries[k]
      if (e.path === p && e.name === n) return e.change === 'deleted' ? null : await entryVersion(e, blobs)
      if (e.fromPath === p && e.fromName === n) return null
      if (e.path === p && (e.kind === 'module' || e.kind === 'file') && (e.change === 'added' || e.change === 'moved')) fileCreated = true
    }
  }
  return fileCreated ? null : undefined
}

// Syntax trees of snapshot files, by language and blob hash (the content never changes under a
// hash, so a cached tree is always the right one): rewinding several units to one snapshot (a
// session rewind, or unit after unit in an incident) parses each file once. A few trees only.
const TREES_KEPT = 4
const snapshotTrees = new Map<string, Tree>()

function snapshotTree (language: Language, blob: string, source: string): Tree {
  const key = `${language}:${blob}`
  const hit = snapshotTrees.get(key)
  if (hit !== undefined) {
    snapshotTrees.delete(key)
    snapshotTrees.set(key, hit)
    return hit
  }
  const tree = parse(language, source)
  snapshotTrees.set(key, tree)
  if (snapshotTrees.size > TREES_KEPT) snapshotTrees.delete(snapshotTrees.keys().next().value as string)
  return tree
}

/** The unit as it was in a snapshot (by id or loaded): a version, or null if it was not there. */
export async function versionFromSnapshot (
  blobs: BlobStore,
  snapshot: string | Snapshot,
  path: string,
  name: string
): Promise<UnitVersion | null> {
  const snap = typeof snapshot === 'string' ? await loadSnapshot(blobs, snapshot) : snapshot
  const source = await snapshotFileText(blobs, snap, path)
  // One unit is wanted: a top-level function is read without walking the file; anything else
  // is extracted up to the unit, hashing only it (a 5,000-line file is not hashed whole).
  const language = languageOf(path)
  const tree = language === null ? undefined : snapshotTree(language, snap.manifest.files[path], source)
  const fast = tree === undefined ? null : findTopLevelFunction(path, source, tree, name)
  if (fast !== null) {
    const u = fast.unit
    return {
      path,
      name,
      kind: u.kind,
      text: u.text,
      indent: u.indent,
      parent: u.parent,
      after: fast.previous,
      hash: u.hash
    }
  }
  const { units } = extractUnits(path, source, { tree, hashOnly: name, until: name })
  const i = units.findIndex((u) => u.name === name)
  if (i < 0) return null
  const u = units[i]
  let after: string | null = null
  for (let j = i - 1; j >= 0; j--) if (units[j].parent === u.parent) { after = units[j].name; break }
  return { path, name, kind: u.kind, text: u.text, indent: u.indent, parent: u.parent, after, hash: u.hash }
}
