/**
 * The folded state of an authority chain, and the one rule for extending it: an entry is
 * verified against the state just before it (seq, prev, signer, signature, then what its kind
 * requires) and only then folded in. AuthorityChain (authority-chain.ts) works on a clone per
 * batch, so a refused batch leaves the live state untouched.
 *
 * @example
 * const state = ChainState.fromGenesis(genesis, hashEntry(genesis))
 * state.apply(entry, hashEntry(entry))   // BadChainError / BadSignatureError, state unchanged
 */
import { fromB64u, isDeepFrozen } from './canonical.js'
import { BadChainError, BadSignatureError } from './errors.js'
import { keyIdOf, shortId, type Jti, type KeyId } from './ids.js'
import type { Cut, KeyRevocation, Member } from './authority-view.js'
import { DEFAULT_QUOTAS, type Quotas } from './write-rules.js'
import { verifyEntrySignature, type ChainEntry, type Head, type RevokeBody } from './chain-entry.js'

/** A peer admitted by an `admit` entry. */
export interface PeerMember extends Member {
  readonly kind: 'peer'
  readonly jti: Jti | null
  readonly ts: number
}

/** An agent credential granted by an `agent` entry. */
export interface AgentMember extends Member {
  readonly kind: 'agent'
  readonly capabilities: readonly string[]
  readonly quotas: Readonly<Record<string, number>>
  readonly expires: number | null
  readonly owner: string
  readonly ts: number
}

/** A revoked join token. */
export interface TokenRevocation {
  readonly jti: Jti
  readonly seq: number
  readonly reason: string
  readonly ts: number
}

interface RoleRevocation {
  readonly seq: number
  readonly role: string
  readonly cuts: Readonly<Record<string, Cut>>
  readonly reason: string
}
interface LockChange { readonly seq: number, readonly locked: boolean, readonly reason: string }

const NO_CUT: Cut = { seq: 0, hash: null }

// Entries whose signature verified, by the entry object, with the Mothership key (base64url)
// it verified under. Only deeply frozen entries are kept: their bytes can never change, so the
// answer cannot either (replicas in one process share decoded entries, see authority-chain.ts).
const verifiedUnder = new WeakMap<ChainEntry, string>()

const OWN_KEYS = 1
const OWN_MEMBERS = 2
const OWN_DIRECT = 4
const OWN_ROLES = 8
const OWN_TOKENS = 16
const OWN_BYJTI = 32
const OWN_LOCKS = 64
const OWN_ALL = 127

/** Everything the chain says, as of its head. */
export class ChainState {
  head: Head
  team: string
  /** The team's write quotas, fixed at genesis. */
  quotas: Quotas
  mothership: { id: KeyId, pub: string }
  /** Every key that was ever the Mothership key, so fork evidence can be checked. */
  keys: Map<KeyId, string>
  members: Map<KeyId, PeerMember | AgentMember>
  direct: Map<KeyId, KeyRevocation>
  roles: RoleRevocation[]
  tokens: Map<Jti, TokenRevocation>
  byJti: Map<Jti, readonly KeyId[]>
  locks: LockChange[]
  // Which collections this state may change in place (bits of OWN_*); the others are shared.
  private owned = OWN_ALL

  private constructor (from: ChainState | { genesis: ChainEntry & { kind: 'genesis' }, hash: string }) {
    if (from instanceof ChainState) {
      // Copy on write: the collections are shared with `from` until either side changes one
      // (a revocation copies the small map of revocations, not the members of a large team).
      // Both sides lose ownership, so neither can change what the other sees.
      this.head = from.head
      this.team = from.team
      this.quotas = from.quotas
      this.mothership = from.mothership
      this.keys = from.keys
      this.members = from.members
      this.direct = from.direct
      this.roles = from.roles
      this.tokens = from.tokens
      this.byJti = from.byJti
      this.locks = from.locks
      from.owned = 0
      this.owned = 0
      return
    }
    const { genesis, hash } = from
    this.head = { seq: 0, hash }
    this.team = genesis.body.team
    this.quotas = Object.freeze({ ...(genesis.body.quotas ?? DEFAULT_QUOTAS) })
    this.mothership = { id: keyIdOf(fromB64u(genesis.body.mothership)), pub: genesis.body.mothership }
    this.keys = new Map([[this.mothership.id, this.mothership.pub]])
    this.members = new Map()
    this.direct = new Map()
    this.roles = []
    this.tokens = new Map()
    this.byJti = new Map()
    this.locks = []
  }

  /** The state after a genesis entry, which must be signed by the key it names. */
  static fromGenesis (entry: ChainEntry, hash: string): ChainState {
    if (entry.kind !== 'genesis') throw new BadChainError(`chain entry ${entry.seq} is not a genesis`, { seq: entry.seq, reason: 'not a genesis' })
    const state = new ChainState({ genesis: entry, hash })
    state.checkSigner(entry)
    return state
  }

  /** An independent copy to try a batch on. */
  clone (): ChainState {
    return new ChainState(this)
  }

  /** Verifies `entry` against this state and folds it in; throws, unchanged, if it is invalid. */
  apply (entry: ChainEntry, hash: string): void {
    if (entry.seq !== this.head.seq + 1) throw refused(entry, `expected seq ${this.head.seq + 1}`)
    if (entry.prev !== this.head.hash) throw refused(entry, `prev is not the hash of entry ${this.head.seq}`)
    this.checkSigner(entry)
    this.checkBody(entry)
    this.fold(entry)
    this.head = { seq: entry.seq, hash }
  }

  /** The revocation that applies to `key`: the earliest of its own and its role's. */
  revocation (key: KeyId): KeyRevocation | undefined {
    const member = this.members.get(key)
    if (member === undefined) return undefined
    const own = this.direct.get(key)
    const byRole = this.roles.find((r) => r.role === member.role && member.since < r.seq)
    if (byRole === undefined || (own !== undefined && own.seq < byRole.seq)) return own
    return { seq: byRole.seq, cut: Object.hasOwn(byRole.cuts, key) ? byRole.cuts[key] : NO_CUT, reason: byRole.reason }
  }

  /** The lockdown in force just after entry `seq`, if any. */
  lockAt (seq: number): LockChange | undefined {
    let lo = 0
    let hi = this.locks.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.locks[mid].seq <= seq) lo = mid + 1
      else hi = mid
    }
    const change = lo > 0 ? this.locks[lo - 1] : undefined
    return change?.locked === true ? change : undefined
  }

  private checkSigner (entry: ChainEntry): void {
    const context = { seq: entry.seq, signer: entry.signer }
    if (entry.signer !== this.mothership.id) {
      throw new BadSignatureError(`chain entry ${entry.seq} is signed by ${shortId(entry.signer, 'key')}, not the current Mothership key ${shortId(this.mothership.id, 'key')}`, { ...context, reason: 'wrong signer' })
    }
    if (verifiedUnder.get(entry) === this.mothership.pub) return
    if (!verifyEntrySignature(entry, fromB64u(this.mothership.pub))) {
      throw new BadSignatureError(`chain entry ${entry.seq} has a bad signature`, { ...context, reason: 'bad signature' })
    }
    if (isDeepFrozen(entry)) verifiedUnder.set(entry, this.mothership.pub)
  }

  private checkBody (entry: ChainEntry): void {
    switch (entry.kind) {
      case 'admit':
      case 'agent':
        if (this.members.has(entry.body.key)) throw refused(entry, `key ${shortId(entry.body.key, 'key')} is already admitted`)
        if (entry.kind === 'admit' && entry.body.jti !== null && this.tokens.has(entry.body.jti)) throw refused(entry, `token ${entry.body.jti} is revoked`)
        return
      case 'revoke':
        return this.checkRevoke(entry, entry.body)
      case 'rotate':
        if (this.keys.has(keyIdOf(fromB64u(entry.body.mothership)))) throw refused(entry, 'the new Mothership key was already used')
        break
      default:
    }
  }

  private checkRevoke (entry: ChainEntry, { subject }: RevokeBody): void {
    if (subject.type === 'token') {
      if (this.tokens.has(subject.jti)) throw refused(entry, `token ${subject.jti} is already revoked`)
    } else if (subject.type === 'role') {
      for (const key of Object.keys(subject.cuts)) {
        if (this.members.get(key as KeyId)?.role !== subject.role) throw refused(entry, `cut for ${shortId(key, 'key')}, which is not a member with role ${subject.role}`)
      }
    } else {
      const member = this.members.get(subject.key)
      if (member === undefined) throw refused(entry, `revokes unknown key ${shortId(subject.key, 'key')}`)
      if (member.kind !== subject.type) throw refused(entry, `key ${shortId(subject.key, 'key')} is a ${member.kind}, not a ${subject.type}`)
      if (this.revocation(subject.key) !== undefined) throw refused(entry, `key ${shortId(subject.key, 'key')} is already revoked`)
    }
  }

  // Makes the collection(s) in `bit` this state's own (copying what is shared), for a change.
  private own (bit: number): this {
    if ((this.owned & bit) !== 0) return this
    this.owned |= bit
    if (bit === OWN_KEYS) this.keys = new Map(this.keys)
    else if (bit === OWN_MEMBERS) this.members = new Map(this.members)
    else if (bit === OWN_DIRECT) this.direct = new Map(this.direct)
    else if (bit === OWN_ROLES) this.roles = this.roles.slice()
    else if (bit === OWN_TOKENS) this.tokens = new Map(this.tokens)
    else if (bit === OWN_BYJTI) this.byJti = new Map(this.byJti)
    else if (bit === OWN_LOCKS) this.locks = this.locks.slice()
    return this
  }

  private fold (entry: ChainEntry): void {
    const { seq } = entry
    switch (entry.kind) {
      case 'admit': {
        const { key, pub, user, role, jti, ts } = entry.body
        this.own(OWN_MEMBERS).members.set(key, { key, publicKey: pub, kind: 'peer', name: user, role, since: seq, jti, ts })
        if (jti !== null) this.own(OWN_BYJTI).byJti.set(jti, [...(this.byJti.get(jti) ?? []), key])
        return
      }
      case 'agent': {
        const { key, pub, name, role, capabilities, quotas, expires, owner, ts } = entry.body
        this.own(OWN_MEMBERS).members.set(key, { key, publicKey: pub, kind: 'agent', name, role, since: seq, capabilities, quotas, expires, owner, ts })
        return
      }
      case 'revoke': {
        const { subject, reason, ts } = entry.body
        if (subject.type === 'token') this.own(OWN_TOKENS).tokens.set(subject.jti, { jti: subject.jti, seq, reason, ts })
        else if (subject.type === 'role') this.own(OWN_ROLES).roles.push({ seq, role: subject.role, cuts: subject.cuts, reason })
        else this.own(OWN_DIRECT).direct.set(subject.key, { seq, cut: subject.cut, reason })
        return
      }
      case 'lockdown':
      case 'unlock':
        this.own(OWN_LOCKS).locks.push({ seq, locked: entry.kind === 'lockdown', reason: entry.body.reason })
        return
      case 'rotate': {
        this.mothership = { id: keyIdOf(fromB64u(entry.body.mothership)), pub: entry.body.mothership }
        this.own(OWN_KEYS).keys.set(this.mothership.id, this.mothership.pub)
        break
      }
      default:
    }
  }
}

function refused (entry: ChainEntry, reason: string): InstanceType<typeof BadChainError> {
  return new BadChainError(`chain entry ${entry.seq} (${entry.kind}) refused: ${reason}`, { seq: entry.seq, kind: entry.kind, reason })
}
