/**
 * This package's version, read once from the package.json above this file (two levels up from
 * dist/node/, one from node/ under tsx). `aura --version`, `aura status` and the MCP server's
 * handshake all report it.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

let cached: string | null | undefined

/** The version of aura-node, or null when no package.json of it is found. */
export function packageVersion (): string | null {
  if (cached !== undefined) return cached
  let dir = path.dirname(fileURLToPath(import.meta.url))
  cached = null
  for (let i = 0; i < 3; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'aura-node' && typeof pkg.version === 'string') return (cached = pkg.version)
    } catch {
      // no package.json at this level; look one up.
    }
    dir = path.dirname(dir)
  }
  return cached
}
