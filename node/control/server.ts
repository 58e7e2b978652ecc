/**
 * The daemon's side of the control socket. Methods are plain async functions; whatever they
 * throw reaches the CLI as `{error: {code, message, ...}}`, so the CLI prints the same codes
 * whether it ran an operation itself or asked the daemon.
 *
 * @example
 * const server = await startControlServer(home, { status: async () => ({ ok: true }) })
 * await server.close()
 */
import { createServer, type Server, type Socket } from 'node:net'
import { unlink } from 'node:fs/promises'
import { DaemonRunningError, MalformedError, toAuraError } from '../../crdt/errors.js'
import { controlSocketPath, MAX_CONTROL_LINE, type ControlRequest, type ControlResponse } from './protocol.js'
import { pingControl } from './client.js'
import { listenPrivately } from './private-socket.js'

/** A control method: params in, JSON-serialisable result out. */
export type ControlMethod = (params: Record<string, unknown>) => Promise<unknown>

/** A running control server. */
export interface ControlServer {
  readonly path: string
  close: () => Promise<void>
}

/** Listens on the home's control socket; refuses to start when another daemon answers there. */
export async function startControlServer (home: string, methods: Record<string, ControlMethod>): Promise<ControlServer> {
  const path = controlSocketPath(home)
  if (await pingControl(home)) {
    throw new DaemonRunningError(`a daemon is already running on ${home}`, { home, hint: 'stop it with `aura node stop`' })
  }
  await unlink(path).catch(() => {})
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_CONTROL_LINE) { socket.destroy(); return }
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        void answer(line).then((res) => { if (!socket.destroyed) socket.write(JSON.stringify(res) + '\n') })
      }
    })
  })
  async function answer (line: string): Promise<ControlResponse> {
    let req: ControlRequest
    try {
      req = JSON.parse(line)
      if (typeof req.method !== 'string' || typeof req.id !== 'number') throw new MalformedError('bad control request')
    } catch (err) {
      return { id: -1, error: toAuraError(err instanceof SyntaxError ? new MalformedError('control request is not JSON') : err).toJSON() }
    }
    const fn = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined
    if (fn === undefined) return { id: req.id, error: { code: 'E_USAGE', message: `the daemon has no method '${req.method}'` } }
    try {
      return { id: req.id, result: await fn(req.params ?? {}) }
    } catch (err) {
      return { id: req.id, error: toAuraError(err).toJSON() }
    }
  }
  await listenPrivately(server, path)
  return {
    path,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await unlink(path).catch(() => {})
    }
  }
}
