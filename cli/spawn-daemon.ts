/**
 * Starting the daemon in the background: a detached `aura node start --foreground` writing
 * to `<home>/node.log`, then waiting until its control socket answers.
 *
 * @example
 * await spawnDaemon(home, { timeoutMs: 30_000 })
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync, fstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AuraError, DaemonRunningError, ERROR_CODES, TimeoutError, type ErrorCode } from '../crdt/errors.js'
import { pingControl } from '../node/control/client.js'

/** Spawns the daemon of `home` and waits for it to answer. */
export async function spawnDaemon (
  home: string,
  opts: { listen?: string[], set?: unknown, timeoutMs: number, env: Record<string, string | undefined> }
): Promise<void> {
  if (await pingControl(home)) throw new DaemonRunningError(`a daemon is already running on ${home}`, { home, hint: 'stop it with `aura node stop`' })
  const { requireInitialised } = await import('../node/home.js')
  await requireInitialised(home)
  const bin = fileURLToPath(new URL('../../bin/aura.js', import.meta.url))
  const args = [bin, 'node', 'start', '--foreground', '--home', home]
  for (const l of opts.listen ?? []) args.push('--listen', l)
  const sets = opts.set === undefined ? [] : Array.isArray(opts.set) ? opts.set : [opts.set]
  for (const s of sets) args.push('--set', String(s))
  const logFile = join(home, 'node.log')
  const fd = openSync(logFile, 'a', 0o600)
  // Only this start's lines tell why it failed; the file keeps earlier runs' too.
  const from = fstatSync(fd).size
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: opts.env as NodeJS.ProcessEnv })
  closeSync(fd)
  let exited: number | null = null
  child.once('exit', (code) => { exited = code ?? 1 })
  child.unref()
  const deadline = Date.now() + opts.timeoutMs
  while (Date.now() < deadline) {
    if (await pingControl(home)) return
    if (exited !== null) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const lines = readFileSync(logFile).subarray(from).toString('utf8').split('\n')
  if (exited !== null) throw startFailure(lines, logFile)
  throw new TimeoutError(`the daemon did not answer within ${opts.timeoutMs} ms (see ${logFile})`, { log: logFile })
}

// The daemon prints `error E_CODE: message` (and a `hint:` line) on its way out: that error,
// with its code, is the answer; anything else is shown as the log's tail.
function startFailure (lines: string[], logFile: string): AuraError {
  const at = lines.findLastIndex((l) => /^error E_[A-Z_]+: /.test(l))
  if (at < 0) return new AuraError('E_INTERNAL', `the daemon exited during start-up (see ${logFile}):\n${lines.slice(-15).join('\n')}`, { log: logFile })
  const m = /^error (E_[A-Z_]+): (.*)$/.exec(lines[at])!
  const hint = /^hint: (.*)$/.exec(lines[at + 1] ?? '')?.[1]
  const code = Object.hasOwn(ERROR_CODES, m[1]) ? m[1] as ErrorCode : 'E_INTERNAL'
  return new AuraError(code, m[2], { log: logFile, ...(hint === undefined ? {} : { hint }) })
}
