/**
 * The team a run starts with: every identity's key derived from the seed, the Mothership's
 * signing key, and the authority chain everyone already holds (genesis, then one admission per
 * peer, and the agent credential when the adversary is a rogue agent). Nothing here reads a
 * clock or a random source: the epoch is fixed and every byte comes from the seed.
 *
 * @example
 * const team = buildTeam(scenario, 42)
 * const chain = team.chainFor()   // a replica of the bootstrap chain for one node
 */
import { AuthorityChain, admitEntry, agentEntry, genesisEntry, headOf, type ChainEntry } from '../crdt/authority-chain.js'
import { toB64u, toHex } from '../crdt/canonical.js'
import { AuraError } from '../crdt/errors.js'
import sodium from 'sodium-native'
import type { KeyPair } from '../crdt/crypto.js'
import { keyIdOf, makeJti, type Jti, type KeyId } from '../crdt/ids.js'
import { seededBytes } from './random.js'
import { nodeNames, type Scenario } from './scenario.js'

/** Virtual time 0 on every node's clock: 2026-01-01T00:00:00Z. */
export const SIM_EPOCH_MS = 1_767_225_600_000

/** One identity taking part. */
export interface Identity {
  readonly name: string
  readonly role: 'mothership' | 'honest' | 'adversary' | 'agent'
  readonly key: KeyPair
  readonly id: KeyId
  /** The join token this identity redeemed (null for the Mothership's own node and agents). */
  readonly jti: Jti | null
}

/** Identities, the Mothership's first signing key and the bootstrap chain. */
export interface Team {
  readonly name: string
  /** The signing key of the genesis entry (a rotation puts another in use: World.signing). */
  readonly signing: KeyPair
  /** Network nodes in index order: the Mothership first, then honest peers, then the adversary. */
  readonly nodes: readonly Identity[]
  /** The rogue agent's identity when the adversary is an agent (it is not a network node). */
  readonly agent: Identity | null
  readonly byName: ReadonlyMap<string, Identity>
  readonly entries: readonly ChainEntry[]
  /** A fresh replica of the bootstrap chain. */
  chainFor: () => AuthorityChain
}

/** Derives the team of a scenario from a seed. */
export function buildTeam (s: Scenario, seed: number): Team {
  const names = nodeNames(s)
  const identity = (name: string, role: Identity['role'], withToken: boolean): Identity => {
    const key = fastKeyPair(seededBytes(seed, `key/${name}`))
    const jti = withToken ? makeJti(SIM_EPOCH_MS, seededBytes(seed, `jti/${name}`, 10)) : null
    return { name, role, key, id: keyIdOf(key.publicKey), jti }
  }
  const nodes: Identity[] = [identity(names.mothership, 'mothership', false)]
  for (const n of names.honest) nodes.push(identity(n, 'honest', true))
  if (names.adversary !== null) nodes.push(identity(names.adversary, 'adversary', true))
  const agent = s.adversary?.identity === 'agent' ? identity(s.adversary.name, 'agent', false) : null
  const signing = mothershipSigningKey(seed, 0)
  const team = `sim-${s.name}`.slice(0, 200)

  let ts = SIM_EPOCH_MS
  const entries: ChainEntry[] = [genesisEntry(signing, { team, ts })]
  for (const n of nodes) {
    const role = n.role === 'mothership' ? 'admin' : 'contributor'
    const head = headOf(entries[entries.length - 1])
    entries.push(admitEntry(signing, head, { pub: toB64u(n.key.publicKey), user: n.name, role, jti: n.jti, ts: ++ts }))
  }
  if (agent !== null) {
    entries.push(agentEntry(signing, headOf(entries[entries.length - 1]), {
      pub: toB64u(agent.key.publicKey), name: agent.name.replace(/[^A-Za-z0-9_.]/g, '_'), role: 'agent', capabilities: ['commit'], quotas: {}, expires: null, owner: s.adversary?.host ?? 'unknown', ts: ++ts
    }))
  }
  // Verified once; every node then gets a copy of the verified state instead of verifying
  // N entries N times (a million signature checks at N = 1,000).
  const base = AuthorityChain.fromEntries(entries)
  const byName = new Map<string, Identity>([...nodes, ...(agent === null ? [] : [agent])].map((i) => [i.name, i]))
  return { name: team, signing, nodes, agent, byName, entries, chainFor: () => copyChain(base) }
}

/** The Mothership's signing key of a run: the genesis one (0), then the one each rotation puts in use. */
export function mothershipSigningKey (seed: number, generation: number): KeyPair {
  return fastKeyPair(seededBytes(seed, generation === 0 ? 'key/mothership-signing' : `key/mothership-signing/${generation}`))
}

// crypto.ts keyPairFromSeed derives the public key with @noble/ed25519 (portable, ~230 µs a
// key); libsodium derives the same 32 bytes (RFC 8032 key generation is deterministic) in a
// fraction of that, which matters with a thousand identities per run.
function fastKeyPair (seed: Uint8Array): KeyPair {
  const pk = Buffer.alloc(32)
  const sk = Buffer.alloc(64)
  sodium.crypto_sign_seed_keypair(pk, sk, Buffer.from(seed))
  return { seed: new Uint8Array(seed), publicKey: new Uint8Array(pk) }
}

/** A deterministic Automerge actor id for one life of a node (a new one after each disk loss). */
export function actorFor (seed: number, name: string, life: number): string {
  return toHex(seededBytes(seed, `actor/${name}/${life}`, 16))
}

// A replica of an already verified chain (entries and folded state shared, nothing verified
// again); the run checks the copy's head against the original.
function copyChain (base: AuthorityChain): AuthorityChain {
  const chain = base.clone()
  if (chain.head.hash !== base.head.hash) throw new AuraError('E_INTERNAL', 'sim: chain copy does not match its source')
  return chain
}
