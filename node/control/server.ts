/**
 * The daemon's side of the control socket. Methods are plain async functions; whatever they
 * throw reaches the CLI as `{error: {code, message, ...}}`, so the CLI prints the same codes
 * whether it ran an operation itself or asked the daemon. A method that returns a ControlStream
 * is answered row by row (`{id, item}` lines, then `{id, end}`), each row written only when the
 * socket has drained the ones before, so a large trace never sits whole in the daemon's memory
 * or in one line.
 *
 * @example
 * const server = await startControlServer(home, { status: async () => ({ ok: true }) })
 * await server.close()
 */
import { createServer, type Server, type Socket } from 'node:net'
import { unlink } from 'node:fs/promises'
import { DaemonRunningError, MalformedError, UsageError, toAuraError } from '../../crdt/errors.js'
import { closest } from '../config/suggest.js'
import { controlSocketPath, ControlStream, MAX_CONTROL_REQUEST, type ControlRequest, type ControlResponse } from './protocol.js'
import { pingControl } from './client.js'
import { listenPrivately } from './private-socket.js'

/** A control method: params in, a JSON-serialisable result (or a ControlStream of rows) out. */
export type ControlMethod = (params: Record<string, unknown>) => Promise<unknown>

/** A running control server. */
export interface ControlServer {
  readonly path: string
  close: () => Promise<void>
}

/** Listens on the home's control socket; refuses to start when another daemon answers there. */
export async function startControlServer (
  home: string,
  methods: Record<string, ControlMethod>
): Promise<ControlServer> {
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
      if (buf.length > MAX_CONTROL_REQUEST) { socket.destroy(); return }
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl)
        buf = buf.slice(nl + 1)
        void answer(line).then(async (res) => await reply(socket, res))
      }
    })
  })
  async function answer (line: string): Promise<ControlResponse | { id: number, stream: ControlStream }> {
    let req: ControlRequest
    try {
      req = JSON.parse(line)
      if (typeof req.method !== 'string' || typeof req.id !== 'number') throw new MalformedError('bad control request')
    } catch (err) {
      return { id: -1, error: toAuraError(err instanceof SyntaxError ? new MalformedError('control request is not JSON') : err).toJSON() }
    }
    const fn = Object.hasOwn(methods, req.method) ? methods[req.method] : undefined
    if (fn === undefined) {
      const near = closest(req.method, Object.keys(methods))
      return { id: req.id, error: new UsageError(`the daemon has no method '${req.method}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`, { method: req.method, nearest: near ?? null }).toJSON() }
    }
    try {
      const result = await fn(req.params ?? {})
      return result instanceof ControlStream ? { id: req.id, stream: result } : { id: req.id, result }
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

// Writes one answer; a stream row by row, pausing while the socket's buffer is full. A row that
// fails part way ends the stream with an error line, never with a silent cut.
async function reply (socket: Socket, res: ControlResponse | { id: number, stream: ControlStream }): Promise<void> {
  if (!('stream' in res)) {
    if (!socket.destroyed) socket.write(JSON.stringify(res) + '\n')
    return
  }
  let count = 0
  try {
    for await (const row of res.stream.rows) {
      if (socket.destroyed) return
      if (!socket.write(JSON.stringify({ id: res.id, item: row }) + '\n')) await drained(socket)
      count++
    }
  } catch (err) {
    if (!socket.destroyed) socket.write(JSON.stringify({ id: res.id, error: toAuraError(err).toJSON() }) + '\n')
    return
  }
  if (!socket.destroyed) socket.write(JSON.stringify({ id: res.id, end: { count } }) + '\n')
}

async function drained (socket: Socket): Promise<void> {
  await new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}
