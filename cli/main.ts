/**
 * Process entry of the `aura` command (bin/aura.js loads the compat shim, then calls `main`).
 * Everything else lives in program.ts, which tests drive in-process.
 *
 * @example
 * main(process.argv).then((code) => { process.exitCode = code })
 */
import { packageVersion } from '../node/version.js'
import { buildCli } from './program.js'

/** Runs the CLI on a full argv (`[node, script, ...args]`); resolves to the exit code. */
export async function main (argv: string[]): Promise<number> {
  // `aura ... | head` closes stdout early; the rest of the output has nowhere to go.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code !== 'EPIPE') throw err })
  const args = argv.slice(2)
  const cli = await buildCli({
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    version: packageVersion() ?? undefined
  }, args)
  return await cli.run(args)
}
