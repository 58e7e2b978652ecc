/**
 * Starting the daemon in the background: a detached `aura node start --foreground` writing
 * to `<home>/node.log`, then waiting until its control socket answers.
 *
 * @example
 * await spawnDaemon(home, { timeoutMs: 30_000 })
 */
import { spawn } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DaemonRunningError, TimeoutError } from '../crdt/errors.js'
import { pingControl } from '../node/control/client.js'

/** Spawns the daemon of `home` and waits for it to answer. */
export async function spawnDaemon (home: string, opts: { listen?: string[], set?: unknown, timeoutMs: number, env: Record<string, string | undefined> }): Promise<void> {
  if (await pingControl(home)) throw new DaemonRunningError(`a daemon is already running on ${home}`, { home, hint: 'stop it with `aura node stop`' })
  const bin = fileURLToPath(new URL('../../bin/aura.js', import.meta.url))
  const args = [bin, 'node', 'start', '--foreground', '--home', home]
  for (const l of opts.listen ?? []) args.push('--listen', l)
  const sets = opts.set === undefined ? [] : Array.isArray(opts.set) ? opts.set : [opts.set]
  for (const s of sets) args.push('--set', String(s))
  const logFile = join(home, 'node.log')
  const fd = openSync(logFile, 'a', 0o600)
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
  const tail = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')
  if (exited !== null) {
    const { AuraError } = await import('../crdt/errors.js')
    const code = /error (E_[A-Z_]+)/.exec(tail)?.[1]
    throw new AuraError((code as any) ?? 'E_INTERNAL', `the daemon exited during start-up (see ${logFile}):\n${tail}`, { log: logFile })
  }
  throw new TimeoutError(`the daemon did not answer within ${opts.timeoutMs} ms (see ${logFile})`, { log: logFile })
}
