/**
 * Process entry of the `aura` command (bin/aura.js loads the compat shim, then calls `main`).
 * Everything else lives in program.ts, which tests drive in-process.
 *
 * @example
 * main(process.argv).then((code) => { process.exitCode = code })
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildCli } from './program.js'

/** Runs the CLI on a full argv (`[node, script, ...args]`); resolves to the exit code. */
export async function main (argv: string[]): Promise<number> {
  // `aura ... | head` closes stdout early; the rest of the output has nowhere to go.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err })
  const cli = await buildCli({
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    version: packageVersion()
  })
  return await cli.run(argv.slice(2))
}

// The package.json above this file: two levels up from dist/cli/, one from cli/ under tsx.
function packageVersion (): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 3; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string, version?: string }
      if (pkg.name === 'aura-node') return pkg.version
    } catch {
      // no package.json at this level; look one up.
    }
    dir = path.dirname(dir)
  }
  return undefined
}
