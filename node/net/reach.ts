/**
 * Reach: how a node finds and connects to admitted peers it has no configured address for.
 * libp2p ships every part; this file chooses them and puts the gate in front of each:
 *
 * - identify (with signed peer records) tells each side the other's listen addresses and the
 *   address it was observed at; ping measures round trips for `aura status`;
 * - circuit relay v2: every host can *use* relays (listening on `/p2p-circuit` reserves a slot on
 *   a connected relay and advertises the circuit address); a host *serves* as a relay when
 *   `relayServe()` says so (the Mothership, or a node AutoNAT found publicly reachable), and only
 *   for admitted keys: the gater refuses reservations and circuits for anyone else, and the
 *   Noise-level gate refuses the relayed connection itself exactly as a direct one;
 * - DCUtR upgrades a relayed connection to a direct one where the NATs allow;
 * - mDNS finds peers on the LAN (discovered keys are dialled only if admitted).
 *
 * @example
 * const reach = { relayClient: true, relayServe: () => isMothership, mdns: true, announce: [], admitted }
 * const host = await createHost({ seed, gate, reach })
 */
import { autoNAT } from '@libp2p/autonat'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { identify, identifyPush } from '@libp2p/identify'
import type { PeerDiscovery } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { ping } from '@libp2p/ping'
import type { KeyId } from '../../crdt/ids.js'

/** What a host needs to reach beyond its configured addresses. */
export interface ReachInit {
  /** Reserve a slot on a connected relay and advertise the circuit address. */
  relayClient: boolean
  /** Whether this host serves as a relay now (asked at every reservation). */
  relayServe: () => boolean
  /** Announce and discover on the LAN with mDNS. */
  mdns: boolean
  /** Extra addresses to announce (a port forwarded by a NAT, a public name). */
  announce: string[]
  /** Strict admission: a member, not revoked. Relays serve only such keys. */
  admitted: (key: KeyId) => boolean
  /** How often mDNS queries the LAN, ms. Default 10 s. */
  mdnsIntervalMs?: number
}

/** Limits a relay puts on each circuit: generous enough for sync, bounded all the same. */
export const RELAY_LIMITS = {
  maxReservations: 128,
  /** A whole log of ~100,000 records crosses one circuit. */
  circuitDataBytes: 1n << 30n,
  circuitDurationMs: 60 * 60 * 1000,
  reservationTtlMs: 60 * 60 * 1000
} as const

/** Protocols that must also run over relayed (limited) connections. */
export const RUN_ON_LIMITED = { runOnLimitedConnection: true } as const

/** The libp2p services for reach. */
export function reachServices (init: ReachInit): Record<string, (components: any) => unknown> {
  return {
    identify: identify({ runOnLimitedConnection: true }),
    identifyPush: identifyPush({ runOnLimitedConnection: true }),
    ping: ping({ runOnLimitedConnection: true }),
    autoNAT: autoNAT(),
    dcutr: dcutr(),
    relay: circuitRelayServer({
      reservations: {
        maxReservations: RELAY_LIMITS.maxReservations,
        reservationTtl: RELAY_LIMITS.reservationTtlMs,
        defaultDataLimit: RELAY_LIMITS.circuitDataBytes,
        defaultDurationLimit: RELAY_LIMITS.circuitDurationMs
      }
    })
  }
}

/** The transport that dials (and, for a relay client, listens on) circuit addresses. */
export function relayTransport (): ReturnType<typeof circuitRelayTransport> {
  return circuitRelayTransport({ reservationCompletionTimeout: 10_000 })
}

/** LAN discovery, when on. */
export function reachDiscovery (init: ReachInit): Array<(components: any) => PeerDiscovery> {
  return init.mdns ? [mdns({ interval: init.mdnsIntervalMs ?? 10_000 })] : []
}
