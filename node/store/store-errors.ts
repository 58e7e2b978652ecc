/**
 * The one error for a damaged store (E_STORE_CORRUPT): it names the path and says how to
 * recover, the steps docs/storage.md ("A damaged store") spells out. LevelDB reports damage as
 * `LEVEL_CORRUPTION` (possibly wrapped by abstract-level); everything that reads the store on
 * disk turns that into this error instead of E_INTERNAL.
 *
 * @example
 * if (isCorruption(err)) throw storeCorrupt(dir, err)
 */
import { StoreCorruptError, toAuraError, type AuraError } from '../../crdt/errors.js'

/** What to do about a damaged store, in one line (docs/storage.md has the steps). */
export function recoveryHint (dir: string): string {
  return `stop the node, move ${dir} aside (mv ${dir} ${dir}.damaged), then restore it from a backup copy or rebuild it from peers: docs/storage.md, "A damaged store"`
}

/** E_STORE_CORRUPT for the store at `dir`, with what was found damaged. */
export function storeCorrupt (dir: string, cause: unknown): AuraError {
  return new StoreCorruptError(`the store at ${dir} is damaged: ${toAuraError(cause).message}`, { path: dir, hint: recoveryHint(dir) })
}

/** Whether an error (or any error it wraps) is LevelDB reporting damage, or already E_STORE_CORRUPT. */
export function isCorruption (err: unknown): boolean {
  type Wrapped = { code?: unknown, cause?: unknown } | undefined
  for (let e = err as Wrapped; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code === 'LEVEL_CORRUPTION' || e.code === 'E_STORE_CORRUPT') return true
  }
  return false
}
