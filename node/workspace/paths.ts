/**
 * Workspace paths: the one place a relative path from a user or a peer becomes a file on disk.
 * Paths are POSIX, relative, without `..`, and never inside `.git`, `.aura` or `node_modules`;
 * a received delta cannot write outside the workspace, through a symlink, or into git hooks.
 * Writes are atomic (temporary file, then rename).
 *
 * @example
 * const abs = await resolveInside(root, 'src/auth/verify.py')
 * await writeAtomic(abs, newSource)
 */
import { lstat, mkdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises'
import { basename, dirname, join, sep } from 'node:path'
import { WorkspaceError } from '../../crdt/errors.js'

/** Directories never walked and never written, whatever the ignore files say. */
export const ALWAYS_SKIPPED = new Set(['.git', '.aura', 'node_modules'])

/** Checks a workspace-relative path and returns it unchanged; throws E_WORKSPACE otherwise. */
export function checkRelativePath (path: string): string {
  const bad = (why: string): never => { throw new WorkspaceError(`invalid workspace path '${path}': ${why}`, { path }) }
  if (path === '' || path.length > 4096) bad('empty or too long')
  if (path.includes('\0') || path.includes('\\')) bad('contains NUL or backslash')
  if (path.startsWith('/')) bad('absolute')
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') bad('empty, . or .. segment')
    if (ALWAYS_SKIPPED.has(seg)) bad(`inside ${seg}/`)
  }
  return path
}

async function exists (p: string): Promise<boolean> {
  try { await lstat(p); return true } catch { return false }
}

/**
 * The absolute path of a workspace-relative path, after checking that its nearest existing
 * ancestor really lies inside the workspace (so no symlink leads out) and that the file itself,
 * if present, is not a symlink.
 */
export async function resolveInside (root: string, path: string): Promise<string> {
  checkRelativePath(path)
  const realRoot = await realpath(root)
  const abs = join(realRoot, ...path.split('/'))
  let probe = dirname(abs)
  while (!(await exists(probe))) probe = dirname(probe)
  const realProbe = await realpath(probe)
  if (realProbe !== realRoot && !realProbe.startsWith(realRoot + sep)) {
    throw new WorkspaceError(`'${path}' leads outside the workspace`, { path })
  }
  try {
    if ((await lstat(abs)).isSymbolicLink()) throw new WorkspaceError(`'${path}' is a symlink; the workspace does not write through links`, { path })
  } catch (err) {
    if (err instanceof WorkspaceError) throw err
  }
  return abs
}

let tmpCounter = 0

/** How writeAtomic treats the file's mode and missing directories. */
export interface WriteAtomicInit {
  /**
   * The mode to give the file: a number; null for the default (a file known not to exist yet);
   * undefined (the default) to keep the mode the file has now, if it exists.
   */
  mode?: number | null
  /** The mode of directories it has to create. */
  dirMode?: number
}

function isMissing (err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT'
}

/** Writes a file atomically, keeping the old file's mode; creates missing directories. */
export async function writeAtomic (
  abs: string,
  content: string | Uint8Array,
  init: WriteAtomicInit = {}
): Promise<void> {
  const dir = dirname(abs)
  let mode = init.mode ?? undefined
  if (init.mode === undefined) {
    try { mode = (await stat(abs)).mode & 0o777 } catch { mode = undefined }
  }
  const tmp = join(dir, `.${basename(abs)}.aura-tmp-${process.pid}-${++tmpCounter}`)
  try {
    const opts = mode === undefined ? {} : { mode }
    try {
      await writeFile(tmp, content, opts)
    } catch (err) {
      // The directory is usually there: create it only when the write says it is not.
      if (!isMissing(err)) throw err
      await mkdir(dir, { recursive: true, mode: init.dirMode })
      await writeFile(tmp, content, opts)
    }
    await rename(tmp, abs)
  } catch (err) {
    await rm(tmp, { force: true })
    throw new WorkspaceError(`could not write ${abs}: ${(err as Error).message}`, { file: abs })
  }
}

/** Removes a file (a unit delta that deletes a whole module). */
export async function removeFile (abs: string): Promise<void> {
  await rm(abs, { force: true })
}
