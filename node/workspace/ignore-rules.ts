/**
 * `.gitignore` and `.auraignore` rules, per directory as git applies them: a file's rules are
 * relative to the directory holding it, and deeper files can re-include (`!pattern`).
 *
 * @example
 * const rules = new IgnoreRules(root)
 * await rules.enter('')                  // loads the root's ignore files
 * rules.ignored('dist/app.js', false)    // true when `dist/` is ignored
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { ALWAYS_SKIPPED } from './paths.js'

/** The ignore files honoured in every directory, in the order they are applied. */
export const IGNORE_FILES = ['.gitignore', '.auraignore']

interface Level { dir: string, ig: Ignore | null }

/** The ignore rules of a directory and its ancestors, loaded as a walk descends. */
export class IgnoreRules {
  private readonly levels = new Map<string, Level>()

  constructor (readonly root: string) {}

  /** Loads the ignore files of a workspace-relative directory ('' for the root). */
  async enter (dir: string): Promise<void> {
    if (this.levels.has(dir)) return
    let ig: Ignore | null = null
    for (const name of IGNORE_FILES) {
      let text: string
      try { text = await readFile(join(this.root, dir, name), 'utf8') } catch { continue }
      ig ??= ignore()
      ig.add(text)
    }
    this.levels.set(dir, { dir, ig })
  }

  /** Loads the rules of every ancestor of a path (for checking one path without a walk). */
  async enterAncestors (path: string): Promise<void> {
    const segs = path.split('/')
    for (let i = 0; i < segs.length; i++) await this.enter(segs.slice(0, i).join('/'))
  }

  /** Whether a workspace-relative path is ignored by the rules loaded for its ancestors. */
  ignored (path: string, isDir: boolean): boolean {
    const segs = path.split('/')
    if (segs.some((s) => ALWAYS_SKIPPED.has(s))) return true
    let ignoredNow = false
    for (let i = 0; i < segs.length; i++) {
      const level = this.levels.get(segs.slice(0, i).join('/'))
      if (level?.ig == null) continue
      const rel = segs.slice(i).join('/') + (isDir ? '/' : '')
      const r = level.ig.test(rel)
      if (r.ignored) ignoredNow = true
      else if (r.unignored) ignoredNow = false
    }
    return ignoredNow
  }
}
