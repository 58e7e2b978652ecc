/**
 * The steps that bring a machine into a team, shared by `aura join` and `aura up`: an identity
 * if the home has none, a join (through the running daemon, or a transient host when none runs),
 * and a daemon started in the background. Each step says whether it did anything, so running
 * them again is a no-op that says so.
 *
 * @example
 * const created = await ensureIdentity(io)          // 'peer-5f3a' when it made one, else null
 * const joined = await joinTeam(io, token)          // what the Mothership admitted
 * const started = await ensureDaemon(io, { listen }) // false: one was already running
 */
import type { CommandIO } from './program.js'
import { callNode } from './call.js'

const START_TIMEOUT_MS = 30_000

/** Creates the home and its identity if it has none; the new short id, or null if one was there. */
export async function ensureIdentity (io: CommandIO): Promise<string | null> {
  const home = await io.home()
  const [{ access }, { identityPath }] = await Promise.all([import('node:fs/promises'), import('../node/identity.js')])
  if (await access(identityPath(home)).then(() => true, () => false)) return null
  const { initHome } = await import('../node/home.js')
  const created = (await initHome(home)).identity.shortId
  io.out.info(`created identity ${created} in ${home}`)
  return created
}

/** Redeems `token` at the Mothership: through the running daemon, else with a transient host. */
export async function joinTeam (io: CommandIO, token: string): Promise<any> {
  const home = await io.home()
  const { pingControl } = await import('../node/control/client.js')
  if (await pingControl(home)) return await callNode(io, 'join', { token }, { daemonOnly: true })
  // No daemon: the same `join` operation, which dials the Mothership from a transient host.
  const joined = await callNode(io, 'join', { token })
  const [loaded, { createDaemonLog }] = await Promise.all([io.config(), import('../node/log/daemon-log.js')])
  // The daemon's log tells the node's story: the join it did not see happen belongs in it.
  const log = createDaemonLog(
    home,
    { level: loaded.config.log.level, maxBytes: loaded.config.log.max_size, keep: loaded.config.log.keep, echo: null }
  )
  log.info({ event: 'joined', team: joined.joined, user: joined.user, role: joined.role, peer: joined.peer, via: 'aura join (no daemon running)' }, `joined team ${String(joined.joined)} as ${String(joined.user)}`)
  log.close()
  return joined
}

/** Starts the daemon in the background unless one runs; true when it started one. */
export async function ensureDaemon (io: CommandIO, opts: { listen?: string[], set?: unknown }): Promise<boolean> {
  const home = await io.home()
  const { pingControl } = await import('../node/control/client.js')
  if (await pingControl(home)) return false
  const { spawnDaemon } = await import('./spawn-daemon.js')
  await spawnDaemon(home, { listen: opts.listen, set: opts.set, timeoutMs: START_TIMEOUT_MS, env: io.ctx.env })
  return true
}
