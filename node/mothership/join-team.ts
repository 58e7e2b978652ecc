/**
 * Redeeming a join token, the `join` operation: through the running daemon's host, or — when no
 * daemon runs — a short-lived host that dials the Mothership and stops. Either way what the
 * Mothership answered is checked and stored the same way (adoptJoin).
 *
 * @example
 * const joined = await joinTeam(rt, token, null)   // no daemon: a transient host
 */
import { ExistsError, NotAdmittedError } from '../../crdt/errors.js'
import type { Host } from '../net/host.js'
import type { NodeRuntime } from '../runtime.js'
import { requestJoin } from './join.js'

/** What a join stored. */
export interface JoinedTeam {
  result: {
    joined: string,
    peer: string,
    user: string,
    role: string,
    authority: { seq: number, hash: string },
    peers: number
  }
  /** The peers the Mothership named, to dial. */
  peers: string[]
}

/** Redeems `token` over `host`, or over a transient host when `host` is null. */
export async function joinTeam (rt: NodeRuntime, token: string, host: Host | null): Promise<JoinedTeam> {
  if (rt.chain !== null) throw new ExistsError(`this node already belongs to team '${rt.chain.team}'`, { home: rt.home })
  if (host !== null) return await adoptJoin(rt, await requestJoin(host, token))
  const { createHost } = await import('../net/host.js')
  const transient = await createHost({ seed: rt.identity.keyPair.seed, listen: ['/ip4/127.0.0.1/tcp/0'] })
  try {
    return await adoptJoin(rt, await requestJoin(transient, token))
  } finally {
    await transient.stop()
  }
}

/** Persists what a join returned: the chain and the peers to sync with. */
async function adoptJoin (rt: NodeRuntime, joined: Awaited<ReturnType<typeof requestJoin>>): Promise<JoinedTeam> {
  const genesisKey = joined.entries.find((e) => e.seq === 0)
  if (genesisKey === undefined) throw new NotAdmittedError('the Mothership sent no genesis entry')
  await rt.adoptEntries(joined.entries)
  const chain = rt.requireChain()
  if (chain.mothershipKeyId !== joined.mothership) {
    throw new NotAdmittedError('the chain received is not signed by the Mothership key named in the token')
  }
  if (chain.member(rt.key) === undefined) throw new NotAdmittedError('the Mothership answered but did not admit this key')
  const { keyIdFromMultiaddr } = await import('../net/peer-identity.js')
  for (const addr of joined.peers) {
    const key = keyIdFromMultiaddr(addr)
    if (key === null || key === rt.key) continue
    const prev = await rt.store.peers.get(key)
    await rt.store.peers.put(key, { addrs: [...new Set([addr, ...(prev?.addrs ?? [])])], seen: prev?.seen ?? null })
  }
  await rt.audit('joined', { team: joined.team, user: joined.user, role: joined.role })
  return {
    result: {
      joined: joined.team,
      peer: rt.identity.shortId,
      user: joined.user,
      role: joined.role,
      authority: chain.head,
      peers: joined.peers.length
    },
    peers: joined.peers
  }
}
