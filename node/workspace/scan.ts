/**
 * Walks a workspace and records what it holds at the level of units: for every file, the
 * SHA-256 of its bytes and its units. Ignored files (`.gitignore`, `.auraignore`, and always
 * `.git`, `.aura`, `node_modules`) are skipped, as are binary and oversized files. Given the
 * last recorded state, files whose bytes did not change are not parsed again.
 *
 * @example
 * const { state } = await scanWorkspace(root, { baseline })
 * const { delta } = diffStates(baseline, state)
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { WorkspaceError } from '../../crdt/errors.js'
import { sha256Hex } from './blob-store.js'
import { IgnoreRules } from './ignore-rules.js'
import { checkRelativePath } from './paths.js'
import { extractUnits, type Unit, type UnitSummary } from './units.js'
import { keepTree } from './languages.js'

/** One file in a workspace state. Freshly parsed files carry full units (with text). */
export interface FileState {
  /** Hex SHA-256 of the file's bytes. */
  fileHash: string
  units: Array<UnitSummary | Unit>
}

/** What a workspace held at one moment: path → file. Stored between intents, as JSON. */
export interface WorkspaceState {
  v: 1
  files: Record<string, FileState>
}

/** Options for a scan. */
export interface ScanInit {
  /** The last recorded state: files with unchanged bytes reuse its units unparsed. */
  baseline?: WorkspaceState
  /** Only these workspace-relative files or directories (default: everything). */
  paths?: string[]
  /** Larger files are skipped (default 2 MiB). */
  maxFileBytes?: number
}

/** A file the scan left out, and why. */
export interface SkippedFile { path: string, reason: 'binary' | 'too-large' | 'not-utf8' }

/** The result of a scan. */
export interface ScanResult {
  state: WorkspaceState
  skipped: SkippedFile[]
  /** Files whose syntax trees have errors (their units are still recorded, best effort). */
  syntaxErrors: Array<{ path: string, line: number, column: number }>
}

/** The default largest file a scan parses. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes a file as UTF-8 text, or says why it is not text. */
export function decodeText (bytes: Uint8Array): string | 'binary' | 'not-utf8' {
  const head = bytes.subarray(0, 8192)
  if (head.includes(0)) return 'binary'
  try { return utf8.decode(bytes) } catch { return 'not-utf8' }
}

/** Lists the workspace-relative paths of the files a scan would look at, sorted. */
export async function listFiles (root: string, paths?: string[]): Promise<string[]> {
  const rules = new IgnoreRules(root)
  const out: string[] = []
  const walk = async (dir: string): Promise<void> => {
    await rules.enter(dir)
    const entries = await readdir(join(root, dir), { withFileTypes: true })
    for (const e of entries) {
      const rel = dir === '' ? e.name : `${dir}/${e.name}`
      if (e.isDirectory()) {
        if (!rules.ignored(rel, true)) await walk(rel)
      } else if (e.isFile() && !rules.ignored(rel, false)) {
        out.push(rel)
      }
    }
  }
  for (const p of paths ?? ['']) {
    if (p === '' || p === '.') { await walk(''); continue }
    const rel = checkRelativePath(p.replace(/\/+$/, ''))
    await rules.enterAncestors(rel)
    let st
    try { st = await lstat(join(root, rel)) } catch { throw new WorkspaceError(`no such file or directory in the workspace: ${rel}`, { path: rel }) }
    if (st.isDirectory()) {
      if (!rules.ignored(rel, true)) await walk(rel)
    } else if (st.isFile() && !rules.ignored(rel, false)) {
      out.push(rel)
    }
  }
  return [...new Set(out)].sort()
}

/** Scans the workspace (or some paths of it) into a state. */
export async function scanWorkspace (root: string, init: ScanInit = {}): Promise<ScanResult> {
  const max = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const files: Record<string, FileState> = {}
  const skipped: SkippedFile[] = []
  const syntaxErrors: ScanResult['syntaxErrors'] = []
  for (const path of await listFiles(root, init.paths)) {
    const bytes = await readFile(join(root, ...path.split('/')))
    if (bytes.length > max) { skipped.push({ path, reason: 'too-large' }); continue }
    const fileHash = sha256Hex(bytes)
    const known = init.baseline?.files[path]
    if (known !== undefined && known.fileHash === fileHash) { files[path] = known; continue }
    const text = decodeText(bytes)
    if (text === 'binary' || text === 'not-utf8') { skipped.push({ path, reason: text }); continue }
    const r = extractUnits(path, text)
    if (r.error !== null) syntaxErrors.push({ path, ...r.error })
    files[path] = { fileHash, units: r.units }
    if (r.tree !== null) keepTree(path, text, r.tree)
  }
  return { state: { v: 1, files }, skipped, syntaxErrors }
}

/** The state without unit texts and offsets: what is stored between intents. */
export function summariseState (state: WorkspaceState): WorkspaceState {
  const files: Record<string, FileState> = {}
  for (const [path, f] of Object.entries(state.files)) {
    files[path] = {
      fileHash: f.fileHash,
      units: f.units.map((u) => ({ name: u.name, kind: u.kind, parent: u.parent, hash: u.hash, bodyHash: u.bodyHash }))
    }
  }
  return { v: 1, files }
}

/** An empty state: what a workspace is compared against before its first recorded intent. */
export function emptyState (): WorkspaceState {
  return { v: 1, files: {} }
}
