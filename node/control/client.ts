/**
 * The CLI's side of the control socket. `callControl` returns a whole result (a streamed one
 * collected into an array); `streamControl` hands over the rows of a streamed result one by one,
 * so `aura trace` and `aura audit export` of any store size never hold one giant line.
 *
 * Only "nothing listens on the socket" is `E_DAEMON_UNREACHABLE` with `running: false`: the one
 * case in which the CLI may open the store itself. A daemon that answers with an error, stops
 * answering, or sends a line too long surfaces that error instead (falling back would only fail
 * on the daemon's store lock with a misleading E_DAEMON_RUNNING).
 *
 * @example
 * const status = await callControl(home, 'status', {})   // throws E_DAEMON_UNREACHABLE if none
 * await streamControl(home, 'trace', {}, (row) => out.write(JSON.stringify(row) + '\n'))
 */
import { connect } from 'node:net'
import { AuraError, DaemonUnreachableError, FrameTooLargeError, fromJSON, MalformedError } from '../../crdt/errors.js'
import { controlSocketPath, MAX_CONTROL_LINE, type ControlResponse } from './protocol.js'

/** Options of a control call. */
export interface ControlCallOptions {
  /** Longest silence (no line from the daemon) before giving up, ms. Default 120 s. */
  timeoutMs?: number
  /** Longest answer line accepted. Default MAX_CONTROL_LINE (64 MiB). */
  maxLineBytes?: number
}

/** Calls one method on the daemon of `home`; E_DAEMON_UNREACHABLE when no daemon answers. */
export async function callControl (
  home: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = 120_000
): Promise<unknown> {
  const rows: unknown[] = []
  const answer = await request(home, method, params, (row) => { rows.push(row) }, { timeoutMs })
  return answer.streamed ? rows : answer.result
}

/**
 * Calls a method whose answer is a list, handing each row to `onRow` as it arrives (a daemon
 * that answers with one whole array is read the same way). Resolves with the number of rows.
 */
export async function streamControl (
  home: string,
  method: string,
  params: Record<string, unknown>,
  onRow: (row: unknown) => void,
  opts: ControlCallOptions = {}
): Promise<number> {
  const answer = await request(home, method, params, onRow, opts)
  if (answer.streamed) return answer.count
  if (!Array.isArray(answer.result)) throw new MalformedError(`the daemon answered '${method}' with no list`, { method })
  for (const row of answer.result) onRow(row)
  return answer.result.length
}

/** True when the error means no daemon listens on the home (so the CLI may open the store). */
export function noDaemon (err: unknown): boolean {
  return err instanceof DaemonUnreachableError && err.context.running === false
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

type Answer = { streamed: false, result: unknown } | { streamed: true, count: number }

async function request (
  home: string,
  method: string,
  params: Record<string, unknown>,
  onRow: (row: unknown) => void,
  opts: ControlCallOptions
): Promise<Answer> {
  const timeoutMs = opts.timeoutMs ?? 120_000
  const maxLine = opts.maxLineBytes ?? MAX_CONTROL_LINE
  const socket = connect(controlSocketPath(home))
  return await new Promise<Answer>((resolve, reject) => {
    let connected = false
    let settled = false
    let pending: Buffer[] = []
    let pendingBytes = 0
    let rows = 0
    const finish = (err: AuraError | null, answer?: Answer): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (err !== null) reject(err)
      else resolve(answer as Answer)
    }
    let timer = setTimeout(silent, timeoutMs)
    function silent (): void {
      finish(new DaemonUnreachableError(`the daemon on ${home} did not answer '${method}' within ${timeoutMs} ms`, { home, method, running: true }))
    }
    // One answer line; false once the answer is complete.
    const line = (text: string): void => {
      let res: ControlResponse
      try {
        res = JSON.parse(text) as ControlResponse
      } catch {
        finish(new MalformedError(`the daemon on ${home} sent a line that is not JSON`, { home, method }))
        return
      }
      if ('error' in res) finish(fromJSON(res.error))
      else if ('result' in res) finish(null, { streamed: false, result: res.result })
      else if ('end' in res) {
        if (res.end.count !== rows) finish(new MalformedError(`the daemon sent ${rows} rows of '${method}' but announced ${res.end.count}`, { home, method }))
        else finish(null, { streamed: true, count: rows })
      } else if ('item' in res) {
        rows++
        onRow(res.item)
      } else finish(new MalformedError(`the daemon on ${home} sent an unknown answer line`, { home, method }))
    }
    socket.on('connect', () => {
      connected = true
      socket.write(JSON.stringify({ id: 1, method, params }) + '\n')
    })
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(timer)
      timer = setTimeout(silent, timeoutMs)
      let start = 0
      // eslint-disable-next-line no-unmodified-loop-condition -- finish(), called in the loop, sets it
      while (!settled) {
        const nl = chunk.indexOf(10, start)
        if (nl < 0) {
          pending.push(chunk.subarray(start))
          pendingBytes += chunk.length - start
          if (pendingBytes > maxLine) {
            finish(new FrameTooLargeError(`the daemon's answer to '${method}' has a line over ${maxLine} bytes`, { home, method, max: maxLine }))
          }
          return
        }
        const part = chunk.subarray(start, nl)
        const text = pending.length === 0 ? part.toString('utf8') : Buffer.concat([...pending, part]).toString('utf8')
        pending = []
        pendingBytes = 0
        start = nl + 1
        try {
          line(text)
        } catch (err) {
          finish(err instanceof AuraError ? err : new AuraError('E_INTERNAL', String((err as Error)?.message ?? err)))
        }
      }
    })
    socket.on('error', (err) => {
      if (!connected) finish(new DaemonUnreachableError(`no daemon is running on ${home}`, { home, running: false, hint: 'start one with `aura node start`' }))
      else finish(new DaemonUnreachableError(`lost the daemon on ${home} during '${method}': ${err.message}`, { home, method, running: true }))
    })
    socket.on('close', () => {
      finish(new DaemonUnreachableError(`the daemon on ${home} closed the connection before answering '${method}' in full`, { home, method, running: true }))
    })
  })
}
