/**
 * How commands reach a node: through the running daemon's control socket when there is one
 * (so changes are pushed to peers at once), otherwise by opening the node directly. Both run
 * the same operation (node/operations.ts), its parameters checked by the same schema, and fail
 * with the same codes.
 *
 * @example
 * const result = await callNode(io, 'trace', { since: '6h' })
 */
import type { OperationName } from '../node/operations.js'
import type { CommandIO } from './program.js'

/** Runs operation `method` on the node of `io.home()`. */
export async function callNode (
  io: CommandIO,
  method: OperationName,
  params: Record<string, unknown>,
  opts: { daemonOnly?: boolean } = {}
): Promise<any> {
  const home = await io.home()
  const { callControl, noDaemon } = await import('../node/control/client.js')
  try {
    // The daemon runs the command with its own config: it refuses `--set` / `AURA_*` values it
    // does not use. Read without aura.toml, so a broken file (the daemon reports it) stops nothing.
    const overrides = io.overridesConfig ? await commandOverrides(io, home) : {}
    return await callControl(
      home,
      method,
      Object.keys(overrides).length === 0 ? params : { ...params, _config: overrides }
    )
  } catch (err) {
    // Only when nothing listens: a daemon that answered with an error (or broke off) holds the
    // store, and opening it here would only fail on its lock with E_DAEMON_RUNNING.
    if (!noDaemon(err) || opts.daemonOnly === true) throw err
  }
  const [{ NodeRuntime }, { runOperation }] = await Promise.all([import('../node/runtime.js'), import('../node/operations.js')])
  const rt = await NodeRuntime.open(home, { loaded: await io.config() })
  try {
    return await runOperation(method, params, { rt })
  } finally {
    await rt.close()
  }
}

/**
 * Runs a list-valued operation (node/operations.ts: `trace`, `audit-export`), handing each row to
 * `onRow` as it comes: streamed from the daemon, or produced here from the store when none runs.
 * Resolves with the number of rows.
 */
export async function streamNode (io: CommandIO, method: 'trace' | 'audit-export', params: Record<string, unknown>, onRow: (row: any) => void): Promise<number> {
  const home = await io.home()
  const { streamControl, noDaemon } = await import('../node/control/client.js')
  try {
    const overrides = io.overridesConfig ? await commandOverrides(io, home) : {}
    return await streamControl(
      home,
      method,
      Object.keys(overrides).length === 0 ? params : { ...params, _config: overrides },
      onRow
    )
  } catch (err) {
    if (!noDaemon(err)) throw err
  }
  const [{ NodeRuntime }, { operationRows }] = await Promise.all([import('../node/runtime.js'), import('../node/operations.js')])
  const rt = await NodeRuntime.open(home, { loaded: await io.config() })
  try {
    let count = 0
    for (const row of await operationRows(method, params, { rt })) {
      onRow(row)
      count++
    }
    return count
  } finally {
    await rt.close()
  }
}

async function commandOverrides (io: CommandIO, home: string): Promise<Record<string, unknown>> {
  const [{ parseConfig, configPath }, { callOverrides }] = await Promise.all([import('../node/config.js'), import('../node/config-reload.js')])
  return callOverrides(
    parseConfig(null, { env: io.ctx.env, flags: io.flags, cwd: io.ctx.cwd, file: configPath(home), home })
  )
}

/** Drops undefined values (control params travel as JSON). */
export function defined (o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

/** Every value of an option that may be given several times (`--listen A --listen B`). */
export function strings (v: unknown): string[] | undefined {
  if (v === undefined) return undefined
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** The last value of an option that may have been given several times. */
export function str (v: unknown): string | undefined {
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v
  return typeof last === 'string' ? last : typeof last === 'number' ? String(last) : undefined
}
