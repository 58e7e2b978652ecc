/**
 * A hostile member's process for the attack tests, built from the project's own modules: the
 * member's home opened as its daemon would (key, chain, log), a libp2p host with its key, and a
 * real SyncEngine on each link it dials, so the victim talks to it exactly as to any peer. On top
 * of that it can push raw frames the honest engine would not send (`feedBeacon`). Also here:
 * collecting the Mothership's beacons as anyone can, from the hello it sends every key that
 * dials it (even one that is then refused).
 *
 * @example
 * const stockpile = await collectBeacons(await team.address('mothership'), 8, 500, team.m('alice').home)
 * const mallory = await RogueMember.open(team.m('mallory').home)
 * await mallory.dial(await team.address('bob'))
 * mallory.feedBeacon(stockpile[0]); await mallory.write('forged')
 * await mallory.close()
 */
import { decodeBeacon, type Beacon } from '../../crdt/beacon.js'
import { fromB64u, toB64u } from '../../crdt/canonical.js'
import type { RecordId } from '../../crdt/ids.js'
import { createHost, type Host } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { loadIdentity } from '../../node/identity.js'
import { NodeRuntime } from '../../node/runtime.js'
import { SyncEngine } from '../../node/sync/engine.js'
import type { Link } from '../../node/sync/link.js'
import { decodeMessage, encodeMessage } from '../../node/sync/messages.js'

/** One collected beacon: its bytes and what it says. */
export interface Collected { bytes: Uint8Array, beacon: Beacon }

/**
 * Dials the Mothership `count` times, `everyMs` apart, as the member whose home is `home` (a
 * stranger hears no hello, so no beacon), and keeps the beacon of each hello it answers with
 * (distinct ones, oldest first).
 */
export async function collectBeacons (
  mothershipAddr: string,
  count: number,
  everyMs: number,
  home: string
): Promise<Collected[]> {
  const host = await createHost({ seed: (await loadIdentity(home)).keyPair.seed })
  const seen = new Map<string, Collected>()
  try {
    for (let i = 0; i < count; i++) {
      const link = await host.openLink(mothershipAddr, SYNC_PROTOCOL)
      const b64 = await new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 5_000)
        link.onFrame = (frame) => {
          const msg = decodeMessage(frame)
          if (msg.t === 'hello') { clearTimeout(timer); resolve(msg.beacon) }
        }
      })
      link.close()
      if (b64 !== null && !seen.has(b64)) seen.set(b64, { bytes: fromB64u(b64), beacon: decodeBeacon(fromB64u(b64)) })
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  } finally {
    await host.stop()
  }
  return [...seen.values()].sort((a, b) => a.beacon.ts - b.beacon.ts)
}

/** A member's key, chain and log in the attacker's hands, speaking the sync protocol. */
export class RogueMember {
  private readonly links: Link[] = []

  private constructor (readonly rt: NodeRuntime, readonly host: Host, readonly engine: SyncEngine) {}

  /** Opens the member's home (its daemon must be stopped) and starts a host with its key. */
  static async open (home: string): Promise<RogueMember> {
    const rt = await NodeRuntime.open(home)
    try {
      const chain = rt.requireChain()
      const host = await createHost({ seed: rt.identity.keyPair.seed })
      // No freshness bound and no beacon of its own: the only beacons a victim gets from it are
      // the ones fed by hand.
      const engine = new SyncEngine(
        { chain, log: rt.store.intent.log, localKey: rt.key, clock: () => Date.now(), random: Math.random },
        { team: chain.team }
      )
      rt.hooks = { recordsAdded: () => engine.localRecordsAdded() }
      return new RogueMember(rt, host, engine)
    } catch (err) {
      await rt.close()
      throw err
    }
  }

  /** Dials a victim and runs a sync session with it. */
  async dial (addr: string): Promise<void> {
    const link = await this.host.openLink(addr, SYNC_PROTOCOL)
    this.links.push(link)
    this.engine.addLink(link)
  }

  /** Sends a beacon to every victim dialled, as a relay would. */
  feedBeacon (bytes: Uint8Array): void {
    const frame = encodeMessage({ t: 'beacon', beacon: toB64u(bytes) })
    for (const link of this.links) if (!link.closed) link.send(frame)
  }

  /** Signs a new record of the member and pushes it to every victim; returns its id. */
  async write (text: string): Promise<RecordId> {
    return (await this.rt.appendRecord({ kind: 'intent', text })).id
  }

  /** Closes every link, the host and the member's store. */
  async close (): Promise<void> {
    this.engine.closeAll()
    await this.host.stop()
    await this.rt.close()
  }
}
