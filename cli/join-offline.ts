/**
 * `aura join` when no daemon runs: a short-lived host dials the Mothership, redeems the token,
 * and the result is stored in the home before the daemon is started.
 *
 * @example
 * await joinWithoutDaemon(home, token, loaded)
 */
import type { LoadedConfig } from '../node/config.js'

/** Joins with a transient host and persists the chain and peers. */
export async function joinWithoutDaemon (home: string, token: string, loaded: LoadedConfig): Promise<any> {
  const { NodeRuntime } = await import('../node/runtime.js')
  const { createHost } = await import('../node/net/host.js')
  const { requestJoin } = await import('../node/mothership/join.js')
  const { adoptJoin } = await import('../node/daemon.js')
  const { ExistsError } = await import('../crdt/errors.js')
  const rt = await NodeRuntime.open(home, { loaded })
  try {
    if (rt.chain !== null) throw new ExistsError(`this node already belongs to team '${rt.chain.team}'`, { home })
    const host = await createHost({ seed: rt.identity.keyPair.seed, listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      return await adoptJoin(rt, await requestJoin(host, token))
    } finally {
      await host.stop()
    }
  } finally {
    await rt.close()
  }
}
