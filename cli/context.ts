/**
 * What the CLI needs from the outside world, passed in so tests run commands in-process with
 * their own streams, environment and directories.
 *
 * @example
 * const ctx: CliContext = { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() }
 */

/** A text sink such as process.stdout; `isTTY` decides colour. */
export interface TextStream {
  write: (chunk: string) => unknown
  isTTY?: boolean
}

/** The CLI's view of its process. */
export interface CliContext {
  stdout: TextStream
  stderr: TextStream
  env: Record<string, string | undefined>
  cwd: string
  /** The user's home directory, for the `~/.aura` default. Default: os.homedir(). */
  userHome?: string
  /** Shown by `aura --version`. */
  version?: string
}
