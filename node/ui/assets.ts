/**
 * The page's static files (node/ui/static/: HTML, one script, one stylesheet), read once when
 * the page server starts. They ship in the repository next to this module and are found from
 * the compiled module in dist/ as well, so the page needs nothing from the network.
 *
 * @example
 * const assets = await loadAssets()
 * assets.get('/app.js')?.type   // 'text/javascript; charset=utf-8'
 */
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AuraError } from '../../crdt/errors.js'

/** One static file, by the path it is served at. */
export interface Asset { type: string, body: Buffer }

const FILES: Record<string, string> = {
  '/index.html': 'text/html; charset=utf-8',
  '/app.js': 'text/javascript; charset=utf-8',
  '/app.css': 'text/css; charset=utf-8',
  '/favicon.svg': 'image/svg+xml'
}

/** The folder of the static files: beside this module, or from dist/node/ui/ back to node/ui/. */
export function staticDir (): string {
  const here = path.dirname(fileURLToPath(import.meta.url))
  const candidates = [path.join(here, 'static'), path.resolve(here, '../../../node/ui/static')]
  const found = candidates.find((d) => existsSync(path.join(d, 'index.html')))
  if (found === undefined) throw new AuraError('E_INTERNAL', `the page's files are missing (looked in ${candidates.join(', ')})`)
  return found
}

/** Reads every static file. */
export async function loadAssets (): Promise<Map<string, Asset>> {
  const dir = staticDir()
  const out = new Map<string, Asset>()
  for (const [url, type] of Object.entries(FILES)) {
    out.set(
      url,
      { type, body: await readFile(path.join(dir, url.slice(1))) }
    )
  }
  return out
}
