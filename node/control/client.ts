/**
 * The CLI's side of the control socket.
 *
 * @example
 * const status = await callControl(home, 'status', {})   // throws E_DAEMON_UNREACHABLE if none
 */
import { connect } from 'node:net'
import { DaemonUnreachableError, fromJSON } from '../../crdt/errors.js'
import { controlSocketPath, MAX_CONTROL_LINE, type ControlResponse } from './protocol.js'

/** Calls one method on the daemon of `home`; E_DAEMON_UNREACHABLE when no daemon answers. */
export async function callControl (home: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<unknown> {
  const path = controlSocketPath(home)
  return await new Promise((resolve, reject) => {
    const socket = connect(path)
    let buf = ''
    let connected = false
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new DaemonUnreachableError(`the daemon on ${home} did not answer '${method}' within ${timeoutMs} ms`, { home }))
    }, timeoutMs)
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      connected = true
      socket.write(JSON.stringify({ id: 1, method, params }) + '\n')
    })
    socket.on('data', (chunk: string) => {
      buf += chunk
      if (buf.length > MAX_CONTROL_LINE) { socket.destroy(); return }
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      clearTimeout(timer)
      socket.end()
      const res = JSON.parse(buf.slice(0, nl)) as ControlResponse
      if ('error' in res) reject(fromJSON(res.error))
      else resolve(res.result)
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      if (!connected) reject(new DaemonUnreachableError(`no daemon is running on ${home}`, { home, hint: 'start one with `aura node start`' }))
      else reject(new DaemonUnreachableError(`lost the daemon on ${home}: ${err.message}`, { home }))
    })
    socket.on('close', () => {
      clearTimeout(timer)
      if (connected && buf.indexOf('\n') < 0) reject(new DaemonUnreachableError(`the daemon on ${home} closed the connection`, { home }))
    })
  })
}

/** True when a daemon answers on the home's control socket. */
export async function pingControl (home: string): Promise<boolean> {
  try {
    await callControl(home, 'ping', {}, 2_000)
    return true
  } catch (err) {
    return !(err instanceof DaemonUnreachableError)
  }
}
