/**
 * Which directory an operation works on. In order: `--workspace DIR` (params.workspace, made
 * absolute by the CLI), `[workspace] path` (absolute once the config is loaded), else from the
 * directory the command ran in (params.cwd), as git finds a checkout from a subdirectory: the
 * workspace this node last recorded if cwd is in it, else the nearest enclosing directory with
 * a `.git`, else cwd itself when it looks like a checkout (a source file a grammar understands
 * within a few levels). The user's home and `/` are never taken implicitly. A node home inside
 * the workspace must be ignored there (.gitignore/.auraignore), or its keys would be recorded.
 *
 * @example
 * const root = await workspaceRoot(rt, { workspace: undefined, cwd: '/home/alice/src/app' })
 * if (root === null) // no workspace: log-intent records no delta
 */
import { readdir, realpath, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { WorkspaceError } from '../../crdt/errors.js'
import type { NodeRuntime } from '../runtime.js'
import { ALWAYS_SKIPPED, IgnoreRules, languageOf } from '../workspace/index.js'
import { workspaceOf } from './workspace-node.js'

/** The parameters that name a workspace. */
export interface RootParams { workspace?: unknown, cwd?: unknown }

const PROBE_DEPTH = 3
const PROBE_ENTRIES = 2000

/** The workspace an operation works on, or null when there is none. */
export async function workspaceRoot (rt: NodeRuntime, p: RootParams): Promise<string | null> {
  const cwd = typeof p.cwd === 'string' ? p.cwd : undefined
  const explicit = typeof p.workspace === 'string' ? path.resolve(cwd ?? process.cwd(), p.workspace) : rt.config.workspace.path
  let root: string | null = null
  if (explicit !== null) {
    const st = await stat(explicit).catch(() => null)
    if (st?.isDirectory() !== true) throw new WorkspaceError(`the workspace ${explicit} is not a directory`, { workspace: explicit, hint: 'check --workspace or [workspace] path' })
    root = await realpath(explicit)
  } else if (cwd !== undefined) {
    root = await enclosingCheckout(
      await realpath(cwd).catch(() => path.resolve(cwd)),
      await workspaceOf(rt).state.recordedRoot()
    )
  }
  if (root !== null) await checkHomeOutside(root, rt.home)
  return root
}

/** Like workspaceRoot, but E_WORKSPACE with a hint when there is none. */
export async function requireWorkspace (rt: NodeRuntime, p: RootParams): Promise<string> {
  const root = await workspaceRoot(rt, p)
  if (root === null) {
    throw new WorkspaceError('no workspace: this directory holds no source files and [workspace] path is not set', {
      hint: 'run the command in your checkout, pass --workspace DIR, or set [workspace] path in aura.toml'
    })
  }
  return root
}

function isInside (dir: string, root: string): boolean {
  const rel = path.relative(root, dir)
  return !rel.startsWith('..') && !path.isAbsolute(rel)
}

function neverImplicit (dir: string): boolean {
  return dir === path.parse(dir).root || dir === path.resolve(os.homedir())
}

/** The checkout a directory is in: the recorded workspace, a `.git` ancestor, or itself. */
async function enclosingCheckout (cwd: string, recorded: string | null): Promise<string | null> {
  if (recorded !== null && isInside(cwd, recorded)) return recorded
  for (let dir = cwd; !neverImplicit(dir); dir = path.dirname(dir)) {
    if (await stat(path.join(dir, '.git')).then(() => true, () => false)) return dir
  }
  return await looksLikeCheckout(cwd) ? cwd : null
}

/** Whether a directory (not ~ or /) holds a file some grammar parses, within a few levels. */
export async function looksLikeCheckout (dir: string): Promise<boolean> {
  const abs = path.resolve(dir)
  if (neverImplicit(abs)) return false
  let seen = 0
  let level = [abs]
  for (let depth = 0; depth <= PROBE_DEPTH && level.length > 0; depth++) {
    const next: string[] = []
    for (const d of level) {
      const entries = await readdir(d, { withFileTypes: true }).catch(() => [])
      for (const e of entries) {
        if (++seen > PROBE_ENTRIES) return false
        if (e.isFile() && languageOf(e.name) !== null) return true
        if (e.isDirectory() && !ALWAYS_SKIPPED.has(e.name) && !e.name.startsWith('.')) next.push(path.join(d, e.name))
      }
    }
    level = next
  }
  return false
}

async function checkHomeOutside (root: string, home: string): Promise<void> {
  const realHome = await realpath(home).catch(() => path.resolve(home))
  const rel = path.relative(root, realHome)
  if (rel.startsWith('..') || path.isAbsolute(rel)) return
  const segs = rel === '' ? [] : rel.split(path.sep)
  const rules = new IgnoreRules(root)
  for (let i = 1; i <= segs.length; i++) {
    const p = segs.slice(0, i).join('/')
    await rules.enterAncestors(p)
    if (rules.ignored(p, true)) return
  }
  throw new WorkspaceError(`the node home ${realHome} is inside the workspace ${root}: its keys would be recorded`, {
    home: realHome,
    workspace: root,
    hint: `add ${segs.length === 0 ? 'the home' : segs.join('/') + '/'} to ${path.join(root, '.auraignore')}, or use a home outside the workspace`
  })
}
