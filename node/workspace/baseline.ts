/**
 * The last recorded state moves forward in two ways: `log-intent` records everything that
 * changed (the new state is the scan it diffed), and applying or rewinding records only some
 * units. `advanceState` takes a state forward by a delta's entries alone, so units changed
 * locally but not yet recorded still show up in the next intent.
 *
 * @example
 * baseline = advanceState(baseline, [...result.applied, ...result.already])
 */
import type { DeltaEntry } from './delta.js'
import type { FileState, WorkspaceState } from './scan.js'
import type { UnitSummary } from './units.js'

function without (f: FileState | undefined, name: string): FileState | undefined {
  if (f === undefined) return undefined
  return { fileHash: '', units: f.units.filter((u) => u.name !== name) }
}

function withUnit (f: FileState | undefined, e: DeltaEntry): FileState {
  const u: UnitSummary = {
    name: e.name,
    kind: e.kind,
    parent: e.parent,
    hash: e.afterHash as string,
    bodyHash: e.bodyHash ?? (e.afterHash as string)
  }
  const units = (f?.units ?? []).filter((x) => x.name !== e.name).map(
    (x) => ({ name: x.name, kind: x.kind, parent: x.parent, hash: x.hash, bodyHash: x.bodyHash })
  )
  const anchor = e.after === null ? -1 : units.findIndex((x) => x.name === e.after)
  const at = e.parent === null
    ? 0
    : anchor >= 0 ? anchor + 1 : e.after === null ? units.findIndex((x) => x.parent === e.parent) : -1
  if (at < 0) units.push(u)
  else units.splice(at, 0, u)
  // The file's bytes are no longer known: the next scan must parse it again.
  return { fileHash: '', units }
}

/** The state after the given entries, leaving every other unit as it was. */
export function advanceState (state: WorkspaceState, entries: DeltaEntry[]): WorkspaceState {
  const files: Record<string, FileState> = { ...state.files }
  const put = (path: string, f: FileState | undefined): void => {
    if (f === undefined || f.units.length === 0) delete files[path]
    else files[path] = f
  }
  for (const e of entries) {
    if (e.fromPath !== null && e.fromName !== null) put(e.fromPath, without(files[e.fromPath], e.fromName))
    if (e.change === 'deleted') put(e.path, without(files[e.path], e.name))
    else put(e.path, withUnit(files[e.path], e))
  }
  return { v: 1, files }
}
