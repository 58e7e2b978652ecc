/**
 * The authority chain a replica holds: verified entries, the state they fold to, and any fork
 * evidence. Batches arrive from any peer in any order; each is sorted, checked entry by entry
 * against the state just before it, and applied whole or not at all. Two validly signed
 * entries with one seq prove the Mothership key is compromised: the evidence is kept and the
 * replica stays locked from then on.
 *
 * @example
 * const chain = AuthorityChain.fromGenesis(genesis)
 * chain.applyBatch([admit, revoke])     // { applied: 2 }, or throws with nothing applied
 * chain.revocation(key)                 // { seq, cut, reason } when revoked
 */
import { deepFreeze, fromB64u, isDeepFrozen } from './canonical.js'
import { AuraError, BadChainError, BadSignatureError, ForkError } from './errors.js'
import { shortId, type Jti, type KeyId } from './ids.js'
import type { AuthorityView, KeyRevocation } from './authority-view.js'
import { decodeEntry, hashEntry, parseEntry, verifyEntrySignature, type ChainEntry, type Head } from './chain-entry.js'
import type { Quotas } from './write-rules.js'
import { ChainState, type AgentMember, type PeerMember, type TokenRevocation } from './chain-state.js'

export type { AgentMember, PeerMember, TokenRevocation } from './chain-state.js'
export * from './chain-entry.js'

/** Two validly signed entries with the same seq: proof the Mothership key signed twice. */
export interface ForkEvidence { readonly seq: number, readonly held: ChainEntry, readonly other: ChainEntry }

/** The lockdown reason of a replica that holds fork evidence. */
export const FORK_REASON = 'fork: mothership key compromise suspected'

interface Held { readonly entry: ChainEntry, readonly hash: string }

// revokedMembers() of each held state (states are replaced, never changed, once held).
const revokedByState = new WeakMap<ChainState, KeyId[]>()

/** A replica's verified authority chain and its folded state. */
export class AuthorityChain implements AuthorityView {
  // Never changed in place once held here (clone() shares it): applyBatch replaces it.
  private state: ChainState
  private readonly held: Held[]
  private readonly forkList: ForkEvidence[] = []

  private constructor (genesis: ChainEntry) {
    const entry = shapeOf(genesis)
    const hash = hashEntry(entry)
    this.state = ChainState.fromGenesis(entry, hash)
    this.held = [{ entry, hash }]
  }

  /** A chain holding only its genesis entry (verified: signed by the key it names). */
  static fromGenesis (entry: ChainEntry): AuthorityChain {
    return new AuthorityChain(entry)
  }

  /**
   * A chain rebuilt from stored entries, genesis included, in any order, plus any stored fork
   * evidence (each is verified again; a replica that saw a fork stays locked across restarts).
   */
  static fromEntries (entries: readonly ChainEntry[], forks: readonly ForkEvidence[] = []): AuthorityChain {
    const genesis = entries.find((e) => e.seq === 0)
    if (genesis === undefined) throw new BadChainError('no genesis entry (seq 0)', { seq: 0, reason: 'no genesis', missingFrom: 0 })
    const chain = new AuthorityChain(genesis)
    chain.applyBatch(entries)
    for (const f of forks) chain.addForkEvidence(f)
    return chain
  }

  /**
   * Verifies and applies a batch, in seq order; held entries are skipped. Throws, with nothing
   * applied: ForkError when the batch holds a validly signed entry conflicting with a held one
   * (the evidence is recorded first); else BadChainError (malformed, wrong prev, body invalid
   * for the state, gap — context `missingFrom`) or BadSignatureError.
   */
  applyBatch (entries: readonly ChainEntry[]): { applied: number } {
    const batch = entries.map(shaped)
      .sort((a, b) => a.entry.seq - b.entry.seq || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    // The live state until the first entry to apply: a batch of held entries (every peer
    // relays each new entry) costs no copy of the state.
    let work = this.state
    const added: Held[] = []
    let fork: ForkEvidence | undefined
    try {
      for (const item of batch) {
        const { entry, hash } = item
        if (entry.seq <= work.head.seq) {
          const held = entry.seq < this.held.length ? this.held[entry.seq] : added[entry.seq - this.held.length]
          if (held.hash !== hash) {
            const evidence = this.recordFork(work, held, item)
            fork ??= evidence
          }
          continue
        }
        if (entry.seq > work.head.seq + 1) {
          const missingFrom = work.head.seq + 1
          throw new BadChainError(`chain entries from seq ${missingFrom} are missing before entry ${entry.seq}`, { seq: entry.seq, reason: 'gap', missingFrom })
        }
        if (work === this.state) work = this.state.clone()
        work.apply(entry, hash)
        added.push(item)
      }
    } catch (err) {
      // Entries after a fork belong to the other branch and cannot link to ours; the fork is
      // what the caller must hear about, not the mismatch it causes.
      if (fork === undefined || !(err instanceof AuraError)) throw err
    }
    if (fork !== undefined) {
      throw new ForkError(`two different chain entries signed for seq ${fork.seq}: ${FORK_REASON}`, { seq: fork.seq, held: hashEntry(fork.held), other: hashEntry(fork.other) })
    }
    this.state = work
    this.held.push(...added)
    return { applied: added.length }
  }

  /**
   * An independent replica of this chain: the same verified entries, fork evidence and state,
   * without verifying anything again. The folded state is shared: a chain never changes the
   * state it holds, only replaces it (applyBatch folds into a copy), so sharing is safe.
   */
  clone (): AuthorityChain {
    const copy = Object.create(AuthorityChain.prototype) as AuthorityChain
    const fields = copy as unknown as { state: ChainState, held: Held[], forkList: ForkEvidence[] }
    fields.state = this.state
    fields.held = this.held.slice()
    fields.forkList = this.forkList.slice()
    return copy
  }

  /** Seq and hash of the newest entry. */
  get head (): Head { return this.state.head }
  /** The team named at genesis. */
  get team (): string { return this.state.team }
  /** The team's per-member write quotas, fixed at genesis. */
  get quotas (): Quotas { return this.state.quotas }
  /** The current Mothership public key (it changes with `rotate`). */
  get mothershipKey (): Uint8Array { return fromB64u(this.state.mothership.pub) }
  /** The key id of the current Mothership key. */
  get mothershipKeyId (): KeyId { return this.state.mothership.id }

  /** Held entries from `fromSeq` (default 0), oldest first: what a peer behind us is missing. */
  entries (fromSeq = 0): ChainEntry[] {
    return this.held.slice(Math.max(0, fromSeq)).map((h) => h.entry)
  }

  /** The entry at `seq`, if held. */
  entry (seq: number): ChainEntry | undefined { return this.held[seq]?.entry }
  /** Hash of the entry at `seq`, if held. */
  entryHash (seq: number): string | undefined { return this.held[seq]?.hash }
  /** Signed time of the entry at `seq`, if held. */
  entryTs (seq: number): number | undefined { return this.held[seq]?.entry.body.ts }

  /** The member admitted with this key (peer or agent), revoked or not. */
  member (key: KeyId): PeerMember | AgentMember | undefined { return this.state.members.get(key) }
  /** Every member ever admitted, in admission order. */
  members (): Array<PeerMember | AgentMember> { return [...this.state.members.values()] }
  /** Every peer ever admitted, in admission order. */
  peers (): PeerMember[] { return this.members().filter((m): m is PeerMember => m.kind === 'peer') }
  /** Every agent credential ever granted, in order. */
  agents (): AgentMember[] { return this.members().filter((m): m is AgentMember => m.kind === 'agent') }

  /**
   * Keys of every member revoked now (directly or through its role), in admission order: the
   * members for which `revocation` is defined. Worked out once per state (a held state never
   * changes, and clones share it), so a thousand replicas of one chain fold it once.
   */
  revokedMembers (): KeyId[] {
    let keys = revokedByState.get(this.state)
    if (keys === undefined) {
      keys = []
      for (const m of this.state.members.values()) if (this.state.revocation(m.key) !== undefined) keys.push(m.key)
      revokedByState.set(this.state, keys)
    }
    return keys.slice()
  }

  /** The revocation that applies to this key, directly or through its role (the earlier wins). */
  revocation (key: KeyId): KeyRevocation | undefined { return this.state.revocation(key) }
  /** The revocation of a token id, if revoked. */
  isTokenRevoked (jti: Jti): TokenRevocation | undefined { return this.state.tokens.get(jti) }
  /** Every revoked token, in revocation order. */
  tokenRevocations (): TokenRevocation[] { return [...this.state.tokens.values()] }
  /** The keys admitted by redeeming this token id. */
  admissionsByJti (jti: Jti): readonly KeyId[] { return this.state.byJti.get(jti) ?? [] }

  /** Whether the team is in lockdown now (a fork locks for good). */
  get locked (): boolean { return this.isForked || this.state.lockAt(this.state.head.seq) !== undefined }
  /** Why the team is in lockdown, or undefined when it is not. */
  get lockdownReason (): string | undefined {
    return this.isForked ? FORK_REASON : this.state.lockAt(this.state.head.seq)?.reason
  }

  /** Whether the team was in lockdown just after entry `seq`; seqs at or past a fork count as locked. */
  lockedAt (seq: number): boolean {
    if (this.forkList.some((f) => f.seq <= seq)) return true
    return this.state.lockAt(seq) !== undefined
  }

  /** Whether this replica holds proof of a fork. */
  get isForked (): boolean { return this.forkList.length > 0 }
  /** The fork evidence held, in the order it was found. */
  get forks (): readonly ForkEvidence[] { return this.forkList }

  /** Adds fork evidence kept from an earlier run, after checking it again (BadSignatureError if it proves nothing). */
  addForkEvidence (evidence: ForkEvidence): void {
    const held = shapeOf(evidence.held)
    const other = shapeOf(evidence.other)
    if (held.seq !== other.seq) throw new BadChainError('fork evidence must be two entries with one seq', { seq: held.seq, reason: 'not a fork' })
    this.recordFork(this.state, { entry: held, hash: hashEntry(held) }, { entry: other, hash: hashEntry(other) })
  }

  // Two entries at one seq prove a fork only if both are signed by one key that has been the
  // Mothership key; anything else is a forgery, and forgeries must not be able to lock a team.
  private recordFork (state: ChainState, held: Held, other: Held): ForkEvidence {
    const seq = held.entry.seq
    if (held.hash === other.hash) throw new BadChainError('fork evidence must be two different entries', { seq, reason: 'not a fork' })
    const pub = state.keys.get(held.entry.signer)
    const signedBy = (e: ChainEntry): boolean => e.signer === held.entry.signer &&
      pub !== undefined &&
      verifyEntrySignature(e, fromB64u(pub))
    if (!signedBy(held.entry) || !signedBy(other.entry)) {
      throw new BadSignatureError(`chain entry ${seq} conflicts with entry ${seq} held and is not signed by the same Mothership key ${shortId(held.entry.signer, 'key')}`,
        { seq, reason: 'bad signature', signer: other.entry.signer })
    }
    const evidence = { seq, held: held.entry, other: other.entry }
    const known = this.forkList.some(
      (f) => f.seq === seq && new Set([hashEntry(f.held), hashEntry(f.other), held.hash, other.hash]).size === 2
    )
    if (!known) this.forkList.push(evidence)
    return evidence
  }
}

// Entries checked for shape and hashed, by the deeply frozen object handed in (which can never
// change): replicas in one process that apply one decoded entry (decodeEntryShared) check it once.
const shapedEntries = new WeakMap<ChainEntry, Held>()

function shaped (e: ChainEntry): Held {
  const known = shapedEntries.get(e)
  if (known !== undefined) return known
  const entry = shapeOf(e)
  const held = { entry, hash: hashEntry(entry) }
  if (isDeepFrozen(e)) {
    deepFreeze(entry)
    shapedEntries.set(e, held)
  }
  return held
}

// Entries decoded lately, by their base64url text, deeply frozen.
const DECODED_MAX = 256
const decodedEntries = new Map<string, ChainEntry>()

/**
 * `decodeEntry(fromB64u(b64))`, remembered: a chain entry is relayed to every session, so a
 * process holding many replicas (the simulator) decodes each one once. The entry is deeply
 * frozen, shared by every caller.
 */
export function decodeEntryShared (b64: string): ChainEntry {
  let entry = decodedEntries.get(b64)
  if (entry === undefined) {
    entry = deepFreeze(decodeEntry(fromB64u(b64)))
    if (decodedEntries.size >= DECODED_MAX) decodedEntries.delete(decodedEntries.keys().next().value as string)
    decodedEntries.set(b64, entry)
  }
  return entry
}

function shapeOf (entry: ChainEntry): ChainEntry {
  try {
    return parseEntry(entry)
  } catch (err) {
    const seq = typeof (entry as { seq?: unknown })?.seq === 'number' ? (entry as { seq: number }).seq : null
    throw new BadChainError(`chain entry ${seq ?? '?'} refused: ${(err as Error).message}`, { seq, reason: 'malformed' })
  }
}
