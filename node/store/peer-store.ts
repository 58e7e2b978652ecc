/**
 * Known peer addresses: `peers/<keyId>` → canonical JSON `{addrs, seen}`. Addresses are
 * hints for dialling, not authority: admission is decided by the chain.
 *
 * @example
 * await store.peers.put(bob, { addrs: ['/ip4/127.0.0.1/tcp/4100'], seen: clock.now() })
 * for (const { key, info } of await store.peers.list()) dial(key, info.addrs)
 */
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import { parseKeyId, type KeyId } from '../../crdt/ids.js'
import type { KV } from './kv.js'
import { layout } from './layout.js'

/** What this node knows of how to reach a peer. */
export interface PeerInfo {
  /** Multiaddrs, most recently working first. */
  readonly addrs: readonly string[]
  /** When we last had a connection to it (ms), or null if never. */
  readonly seen: number | null
}

/** The address book. */
export class PeerStore {
  constructor (private readonly kv: KV) {}

  /** Stores (replaces) what we know of `key`. */
  async put (key: KeyId, info: PeerInfo): Promise<void> {
    await this.kv.put(layout.peer(key), canonicalBytes({ addrs: [...info.addrs], seen: info.seen }))
  }

  /** What we know of `key`, if anything. */
  async get (key: KeyId): Promise<PeerInfo | undefined> {
    const v = await this.kv.get(layout.peer(key))
    return v === undefined ? undefined : parseCanonical(v) as unknown as PeerInfo
  }

  /** Forgets `key`. */
  async del (key: KeyId): Promise<void> {
    await this.kv.del(layout.peer(key))
  }

  /** Every known peer, by key id. */
  async list (): Promise<Array<{ key: KeyId, info: PeerInfo }>> {
    const out: Array<{ key: KeyId, info: PeerInfo }> = []
    for await (const [k, v] of this.kv.iterator({ prefix: layout.peersPrefix })) {
      out.push({ key: parseKeyId(k.slice(layout.peersPrefix.length)), info: parseCanonical(v) as unknown as PeerInfo })
    }
    return out
  }
}
