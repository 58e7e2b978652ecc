/**
 * Applies a received code delta to this node's workspace, unit by unit. An entry is applied
 * only when the unit here still has the entry's before-hash (it is what the sender changed);
 * when the unit already has the after-hash it counts as applied; anything else is a conflict,
 * reported and never overwritten. Paths are checked (no escape, no `.git`, nothing ignored
 * here) and every edit must leave the file parsable. Files are written atomically at the end.
 *
 * @example
 * const r = await applyDelta({ root, blobs }, { recordId, delta: parseCodeDelta(record.delta) })
 * for (const c of r.conflicts) console.log(`${c.path}:${c.name} ${c.reason}`)
 */
import { readFile } from 'node:fs/promises'
import { AuraError } from '../../crdt/errors.js'
import { getBlobText, type BlobStore } from './blob-store.js'
import { parseCodeDelta, type ChangeKind, type CodeDelta, type DeltaEntry } from './delta.js'
import { deleteUnit, fillSkeleton, insertUnit, replaceUnit, type AddedMembers, type PlacedText } from './edit.js'
import { IgnoreRules } from './ignore-rules.js'
import { removeFile, resolveInside, writeAtomic } from './paths.js'
import { unifiedDiff } from './text-diff.js'
import { extractUnits, MODULE_UNIT, type FileUnits, type Unit } from './units.js'

/** Why an entry was not applied. */
export type ConflictReason =
  | 'changed-locally' | 'missing' | 'exists' | 'no-parent' | 'unparsable'
  | 'local-syntax-error' | 'blob-missing' | 'unsafe-path' | 'ignored-path'

/** An entry this node did not apply: what the sender expected here, and what is here. */
export interface Conflict {
  recordId: string
  path: string
  name: string
  change: ChangeKind
  /** The hash the sender's change started from. */
  expected: string | null
  /** The unit's hash here (null when it is not here). */
  actual: string | null
  reason: ConflictReason
  message: string
}

/** One file the delta changed (or would change, under dry run). */
export interface FileChange { path: string, before: string | null, after: string | null, diff: string }

/** What a delta did here. */
export interface ApplyResult {
  recordId: string
  dryRun: boolean
  applied: DeltaEntry[]
  /** Entries whose result was already here. */
  already: DeltaEntry[]
  conflicts: Conflict[]
  files: FileChange[]
}

/** What applying needs from its node. */
export interface ApplyComponents { root: string, blobs: BlobStore }

/** One delta to apply, from one record (validated again here: E_MALFORMED if it is not a delta). */
export interface ApplyInit { recordId: string, delta: CodeDelta, dryRun?: boolean }

type Status = 'applied' | 'already' | Conflict
type Outcome = { text: string | null, used?: Set<string> } | 'already' | Conflict

class WorkingFile {
  text: string | null
  private parsed: FileUnits | null = null

  constructor (readonly path: string, readonly abs: string, readonly original: string | null) {
    this.text = original
  }

  units (): FileUnits | null {
    if (this.text === null) return null
    this.parsed ??= extractUnits(this.path, this.text)
    return this.parsed
  }

  unit (name: string): Unit | undefined {
    return this.units()?.units.find((u) => u.name === name)
  }

  set (text: string | null, parsed: FileUnits | null): void {
    this.text = text
    this.parsed = parsed
  }
}

const COMPOSITE = new Set(['module', 'class', 'file'])

class Applier {
  readonly status = new Map<DeltaEntry, Status>()
  readonly insertDone = new Set<DeltaEntry>()
  private readonly files = new Map<string, WorkingFile | Conflict>()
  private readonly texts = new Map<DeltaEntry, string>()
  private readonly rules: IgnoreRules

  constructor (readonly c: ApplyComponents, readonly recordId: string, readonly entries: DeltaEntry[]) {
    this.rules = new IgnoreRules(c.root)
  }

  conflict (
    e: DeltaEntry,
    reason: ConflictReason,
    message: string,
    actual: string | null = null,
    path = e.path,
    name = e.name
  ): Conflict {
    return { recordId: this.recordId, path, name, change: e.change, expected: e.beforeHash, actual, reason, message }
  }

  async loadTexts (): Promise<void> {
    for (const e of this.entries) {
      if (e.text !== null) { this.texts.set(e, e.text); continue }
      if (e.blob === null) continue
      const t = await getBlobText(this.c.blobs, e.blob)
      if (t === null) this.status.set(e, this.conflict(e, 'blob-missing', `the text of ${e.path}:${e.name} is in blob ${e.blob}, not held here yet`))
      else this.texts.set(e, t)
    }
  }

  placed (e: DeltaEntry): PlacedText {
    return { text: this.texts.get(e) as string, indent: e.indent ?? '' }
  }

  async file (e: DeltaEntry, path: string): Promise<WorkingFile | Conflict> {
    const known = this.files.get(path)
    if (known !== undefined) return known
    let wf: WorkingFile | Conflict
    try {
      const abs = await resolveInside(this.c.root, path)
      await this.rules.enterAncestors(path)
      if (this.rules.ignored(path, false)) {
        wf = this.conflict(e, 'ignored-path', `${path} is ignored here (.gitignore/.auraignore); not writing it`, null, path)
      } else {
        let original: string | null = null
        try { original = await readFile(abs, 'utf8') } catch { original = null }
        wf = new WorkingFile(path, abs, original)
        const err = wf.units()?.error ?? null
        if (err !== null) wf = this.conflict(e, 'local-syntax-error', `${path} does not parse here (line ${err.line}); not changing it`, null, path)
      }
    } catch (err) {
      wf = this.conflict(e, 'unsafe-path', err instanceof AuraError ? err.message : String(err), null, path)
    }
    this.files.set(path, wf)
    return wf
  }

  /** Members added (or moved in) by this delta into a file, for filling skeletons. */
  addedInto (path: string): AddedMembers {
    const m: AddedMembers = new Map()
    for (const e of this.entries) {
      if (e.path === path && (e.change === 'added' || e.change === 'moved') && this.texts.has(e) && !this.status.has(e)) m.set(e.name, this.placed(e))
    }
    return m
  }

  markUsed (path: string, used: Set<string> | undefined): void {
    for (const e of this.entries) {
      if (used?.has(e.name) === true && e.path === path && (e.change === 'added' || e.change === 'moved') && !this.status.has(e)) {
        if (e.change === 'moved') this.insertDone.add(e)
        else this.status.set(e, 'applied')
      }
    }
  }

  /** Runs one edit on a file; an edit that leaves the file unparsable becomes a conflict. */
  async run (e: DeltaEntry, path: string, edit: (wf: WorkingFile) => Outcome, half: 'whole' | 'insert' | 'remove' = 'whole'): Promise<void> {
    if (this.status.has(e)) return
    const wf = await this.file(e, path)
    let out: Outcome = wf instanceof WorkingFile
      ? edit(wf)
      : { ...wf, name: e.name, change: e.change, expected: e.beforeHash }
    if (typeof out === 'object' && 'text' in out && wf instanceof WorkingFile) {
      const parsed = out.text === null ? null : extractUnits(path, out.text)
      if (parsed?.error != null) {
        out = this.conflict(e, 'unparsable', `applying ${e.change} of ${path}:${e.name} here would leave ${path} unparsable at line ${parsed.error.line}; not applied`, null, path)
      } else {
        wf.set(out.text, parsed)
        this.markUsed(path, out.used)
      }
    }
    if (half === 'insert') {
      if (typeof out === 'object' && 'reason' in out) this.status.set(e, out)
      else this.insertDone.add(e)
      return
    }
    this.status.set(e, out === 'already' ? 'already' : typeof out === 'object' && 'reason' in out ? out : 'applied')
  }

  /** Puts a unit that is not here into a file: a new file, or a place in its parent. */
  insert (e: DeltaEntry, wf: WorkingFile): Outcome {
    const here = wf.unit(e.name)
    if (here !== undefined) return here.hash === e.afterHash ? 'already' : this.conflict(e, 'exists', `${e.path}:${e.name} already exists here with different content`, here.hash)
    const v = this.placed(e)
    if (e.kind === 'file') return wf.text === null ? { text: v.text } : this.conflict(e, 'exists', `${e.path} already exists here`)
    if (e.kind === 'module') {
      if (wf.text !== null) return this.conflict(e, 'exists', `${e.path} already exists here`)
      const filled = fillSkeleton(v.text, v.indent, '', true, { source: '', current: [], added: this.addedInto(e.path), lang: null, name: MODULE_UNIT })
      return { text: filled.text, used: filled.used }
    }
    const fu = wf.units()
    if (fu === null || e.parent === null) return this.conflict(e, 'no-parent', `${e.path} is not here to put ${e.name} into`)
    const r = insertUnit(
      wf.text as string,
      fu.units,
      { parent: e.parent, after: e.after, kind: e.kind, name: e.name },
      v,
      fu.language,
      this.addedInto(e.path)
    )
    return r === null ? this.conflict(e, 'no-parent', `${e.parent} (the parent of ${e.name}) is not in ${e.path} here`) : { text: r.source, used: r.used }
  }

  /** Replaces the unit `from` (the same name unless renamed) that still has the before-hash. */
  replace (e: DeltaEntry, wf: WorkingFile, from: string): Outcome {
    // A member of a renamed class already carries its new name once the class is renamed.
    const cur = wf.unit(from) ??
      (from !== e.name && wf.unit(e.name)?.hash === e.beforeHash ? wf.unit(e.name) : undefined)
    if (cur === undefined) {
      const there = wf.unit(e.name)
      return there?.hash === e.afterHash ? 'already' : this.conflict(e, 'missing', `${e.path}:${from} is not here`, there?.hash ?? null)
    }
    if (cur.hash === e.afterHash && cur.name === e.name) return 'already'
    if (cur.hash !== e.beforeHash) return this.conflict(e, 'changed-locally', `${e.path}:${from} was changed here; keeping the local version`, cur.hash, e.path, from)
    if (cur.kind === 'file') return { text: this.placed(e).text }
    const fu = wf.units() as FileUnits
    const r = replaceUnit(wf.text as string, fu.units, cur, e.name, this.placed(e), fu.language, this.addedInto(e.path))
    return { text: r.source, used: r.used }
  }

  /** Removes a unit that still has the before-hash; a module or file goes with its file. */
  remove (e: DeltaEntry, wf: WorkingFile, name: string): Outcome {
    const cur = wf.unit(name)
    if (cur === undefined) return 'already'
    if (cur.hash !== e.beforeHash) return this.conflict(e, 'changed-locally', `${wf.path}:${name} was changed here; not deleting it`, cur.hash, wf.path, name)
    if (cur.kind === 'file') return { text: null }
    // A composite goes only once its members have gone: members left are local work.
    const rest = (wf.units() as FileUnits).units.filter((u) => u.parent === cur.name)
    if (rest.length > 0) return this.conflict(e, 'changed-locally', `${wf.path}:${name} still holds ${rest.map((u) => u.name).join(', ')} here; not deleting it`, cur.hash, wf.path, name)
    return cur.kind === 'module' ? { text: null } : { text: deleteUnit(wf.text as string, cur) }
  }

  async apply (): Promise<void> {
    await this.loadTexts()
    const live = this.entries.filter((e) => e.change !== 'deleted')
    const isComposite = (e: DeltaEntry): boolean => COMPOSITE.has(e.kind)
    for (const e of live.filter(isComposite)) {
      if (e.change === 'modified') await this.run(e, e.path, (wf) => this.replace(e, wf, e.name))
      else if (e.change === 'renamed') await this.run(e, e.path, (wf) => this.replace(e, wf, e.fromName as string))
      else await this.run(e, e.path, (wf) => this.insert(e, wf), e.change === 'moved' ? 'insert' : 'whole')
    }
    for (const e of live.filter((x) => !isComposite(x))) {
      if (e.change === 'modified') await this.run(e, e.path, (wf) => this.replace(e, wf, e.name))
      else if (e.change === 'renamed') await this.run(e, e.path, (wf) => this.replace(e, wf, e.fromName as string))
    }
    for (const e of live.filter((x) => !isComposite(x))) {
      if (e.change === 'added') await this.run(e, e.path, (wf) => this.insert(e, wf))
      else if (e.change === 'moved' && !this.insertDone.has(e)) await this.run(e, e.path, (wf) => this.insert(e, wf), 'insert')
    }
    // Removals last, members before their classes and modules: a move removes its source only
    // once its destination holds it.
    const removals = [...this.entries].reverse().filter((e) => e.change === 'deleted' || (e.change === 'moved' && this.insertDone.has(e)))
    for (const e of [...removals.filter((x) => x.kind !== 'module'), ...removals.filter((x) => x.kind === 'module')]) {
      const path = e.change === 'moved' ? e.fromPath as string : e.path
      const name = e.change === 'moved' ? e.fromName as string : e.name
      await this.run(e, path, (wf) => this.remove(e, wf, name))
    }
  }

  changes (): FileChange[] {
    const out: FileChange[] = []
    for (const wf of this.files.values()) {
      if (!(wf instanceof WorkingFile) || wf.text === wf.original) continue
      out.push({ path: wf.path, before: wf.original, after: wf.text, diff: unifiedDiff(wf.path, wf.original ?? '', wf.text ?? '') })
    }
    return out.sort((a, b) => a.path < b.path ? -1 : 1)
  }

  async write (): Promise<void> {
    for (const wf of this.files.values()) {
      if (!(wf instanceof WorkingFile) || wf.text === wf.original) continue
      if (wf.text === null) await removeFile(wf.abs)
      else await writeAtomic(wf.abs, wf.text)
    }
  }
}

/** Applies a code delta here; see the module comment. */
export async function applyDelta (c: ApplyComponents, init: ApplyInit): Promise<ApplyResult> {
  // Deltas come from peers: check their shape and paths before anything touches the disk.
  const a = new Applier(c, init.recordId, parseCodeDelta(init.delta).entries)
  await a.apply()
  const dryRun = init.dryRun === true
  if (!dryRun) await a.write()
  const applied: DeltaEntry[] = []
  const already: DeltaEntry[] = []
  const conflicts: Conflict[] = []
  for (const e of a.entries) {
    const s = a.status.get(e) ?? (a.insertDone.has(e) ? 'applied' : 'already')
    if (s === 'applied') applied.push(e)
    else if (s === 'already') already.push(e)
    else conflicts.push(s)
  }
  return { recordId: init.recordId, dryRun, applied, already, conflicts, files: a.changes() }
}
