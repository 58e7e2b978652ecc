/**
 * Request/response over a forked child's IPC channel. The replication benchmark drives its peer
 * processes with it; every measured interval starts and ends inside one peer process (timed
 * with the system-wide monotonic clock), so no IPC message is ever part of a figure.
 *
 * @example
 * // child.ts
 * serve({ ping: () => 'pong' })
 * // parent
 * const peer = await Peer.start(new URL('./child.ts', import.meta.url))
 * await peer.call<string>('ping')   // 'pong'
 * await peer.stop()
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

type Handler = (arg: any) => unknown

interface Reply { id: number, result?: unknown, error?: string }

/** In a child: answers the parent's calls; `stop` (always present) runs `onStop`, then exits. */
export function serve (handlers: Record<string, Handler>, onStop: () => Promise<void> = async () => {}): void {
  const all: Record<string, Handler> = {
    ...handlers,
    stop: async () => {
      await onStop()
      setImmediate(() => process.exit(0))
    }
  }
  process.on('message', (msg: { id: number, cmd: string, arg: unknown }) => {
    void (async () => {
      try {
        const handler = all[msg.cmd]
        if (handler === undefined) throw new TypeError(`no handler for '${msg.cmd}'`)
        process.send?.({ id: msg.id, result: await handler(msg.arg) } satisfies Reply)
      } catch (err) {
        process.send?.(
          { id: msg.id, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies Reply
        )
      }
    })()
  })
  process.send?.({ ready: true })
}

/** A child process serving calls. */
export class Peer {
  private next = 0
  private readonly pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly exited: Promise<void>

  private constructor (readonly proc: ChildProcess) {
    proc.on('message', (msg: Reply) => {
      const p = this.pending.get(msg.id)
      if (p === undefined) return
      this.pending.delete(msg.id)
      if (msg.error !== undefined) p.reject(new Error(`child: ${msg.error}`))
      else p.resolve(msg.result)
    })
    this.exited = new Promise((resolve) => proc.once('exit', () => {
      for (const p of this.pending.values()) p.reject(new Error('child exited'))
      this.pending.clear()
      resolve()
    }))
  }

  /** Forks `module` under tsx (with `execArgv` added, e.g. `--cpu-prof`) and waits for it to serve. */
  static async start (module: URL, execArgv: string[] = []): Promise<Peer> {
    const proc = fork(fileURLToPath(module), [], { execArgv: ['--import', 'tsx', ...execArgv], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    await new Promise<void>((resolve, reject) => {
      proc.once('message', () => resolve())
      proc.once('exit', (code) => reject(new Error(`${String(module)} exited with ${code} before serving`)))
    })
    return new Peer(proc)
  }

  /** Calls a handler in the child; rejects if no answer comes within `timeoutMs`. */
  async call<T = unknown> (cmd: string, arg?: unknown, timeoutMs = 300_000): Promise<T> {
    const id = this.next++
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      return await new Promise<T>((resolve, reject) => {
        this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        timer = setTimeout(() => {
          this.pending.delete(id)
          reject(new Error(`child did not answer '${cmd}' within ${timeoutMs} ms`))
        }, timeoutMs)
        this.proc.send({ id, cmd, arg })
      })
    } finally {
      clearTimeout(timer)
    }
  }

  /** Asks the child to clean up and exit; kills it if it has not exited within 10 s. */
  async stop (): Promise<void> {
    if (this.proc.exitCode !== null) return
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
    await this.call('stop').catch(() => {})
    await this.exited
    clearTimeout(timer)
  }
}
