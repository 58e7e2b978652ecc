/**
 * The local write path: what a node decides between "write this" and "push it", written once for
 * the daemon (NodeRuntime.appendRecord, node/runtime.ts, and its IntentWriter) and the simulator
 * (sim/sim-node.ts). Here, in order:
 *
 * 1. the write gate's first rule (write-gate.ts): a revoked key signs nothing, a lockdown lets
 *    only receipts through; asked for the signer, the node's key or an agent's;
 * 2. the record rules the effective view applies (capabilities, quotas, the earliest time a
 *    record may claim: node/agents/write-gate.ts), when the node is given them (the daemon is;
 *    the simulator is not);
 * 3. the fields the node fills in: the user it was admitted as unless the caller names an actor,
 *    the chain head it stands on, its host name, and the signing time (its clock, never below
 *    the time the rules last admitted a record of the signer at);
 * 4. the signer's own chain: each record follows the signer's newest record held (`prev`), at a
 *    seq above it and above every seq the signer may already have signed (`floor`: the daemon's
 *    seq mark, node/store/seq-reserve.ts; 0 where none is kept).
 *
 * Then each edge adds the batch to its intent log as one Automerge change signed by the node's
 * key and tells PeerCore.recordsWritten (push at once, a receipt due): the daemon's through its
 * store writer, which also reserves the seq mark and commits durably before acknowledging
 * (node/store/intent-writer.ts, group commit), the simulator's in memory (SimNode.appendOwn).
 *
 * @example
 * const writer = new RecordWriter({ localKey, chain: () => chain, now, host: () => 'laptop', name: () => 'alice' })
 * const fields = writer.prepare({ kind: 'intent', text: 'fix login' }, localKey, head) // throws E_REVOKED, E_LOCKDOWN…
 * const ts = writer.signingTime(localKey)
 * const { records, head: next } = signBatch(head, 0, [fields], { ts, host: 'laptop' }, key)
 * log.append(records, ts, key); peer.recordsWritten()
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { Json } from '../../crdt/canonical.js'
import type { KeyPair } from '../../crdt/crypto.js'
import type { AuraError } from '../../crdt/errors.js'
import type { KeyId, RecordId } from '../../crdt/ids.js'
import { signedSizeBound, signRecord, type EncodedRecord, type RecordFields, type RecordKind } from '../../crdt/record.js'
import type { WriteGate } from '../agents/write-gate.js'
import { writeRefusal } from './write-gate.js'

/** The authority reference of a node that has no chain yet (not part of a team). */
export const NO_AUTHORITY = { seq: 0, hash: '0'.repeat(64) }

/** A signer's newest record: what its next record follows. */
export interface SignerHead {
  readonly seq: number
  readonly id: RecordId
}

/** What a caller asks to write; the writer fills in the rest. */
export interface WriteInput {
  kind: RecordKind
  text: string
  actor?: string
  delta?: Json
  data?: Json
  refs?: RecordId[]
}

/** A record's fields before the signer's chain and the signing time are known. */
export type IntentFields = Omit<RecordFields, 'seq' | 'prev' | 'ts' | 'host'>

/** The record rules applied before signing (node/agents/write-gate.ts). */
export type RecordRules = Pick<WriteGate, 'admit' | 'floor'>

/** What the writer decides from. */
export interface WriterComponents {
  /** This node's key: the signer unless an agent's key is given. */
  localKey: KeyId
  /** The node's chain; null before it belongs to a team. */
  chain: () => AuthorityChain | null
  /** The node's clock (ms since the epoch). */
  now: () => number
  /** The `host` of every record signed here (the machine's name). */
  host: () => string
  /** The actor when neither the caller nor the chain names one (the config's node name). */
  name: () => string
  /** The record rules, if this node applies them before signing (the daemon does). */
  rules?: RecordRules
}

/** The write path's decisions for one node. */
export class RecordWriter {
  constructor (private readonly c: WriterComponents) {}

  /** Null when `signer` may sign a record of `kind` now, else why not (write-gate.ts). */
  refusal (kind: RecordKind, signer: KeyId = this.c.localKey): AuraError | null {
    return writeRefusal(this.c.chain(), signer, kind)
  }

  /** The actor named in this node's records: the user it was admitted as, else its name. */
  defaultActor (): string {
    return this.c.chain()?.member(this.c.localKey)?.name ?? this.c.name()
  }

  /** The authority head new records reference. */
  authRef (): { seq: number, hash: string } {
    const chain = this.c.chain()
    return chain === null ? NO_AUTHORITY : { ...chain.head }
  }

  /**
   * The fields of a record `signer` is about to sign, once the gate and the record rules let it
   * (E_REVOKED, E_LOCKDOWN, E_CAPABILITY, E_QUOTA are thrown). `head` is the signer's newest
   * record, if any. The rules count the record: sign it at `signingTime` or later.
   */
  prepare (input: WriteInput, signer: KeyId, head: { id: RecordId } | undefined): IntentFields {
    const refusal = this.refusal(input.kind, signer)
    if (refusal !== null) throw refusal
    const fields = {
      kind: input.kind,
      actor: input.actor ?? this.defaultActor(),
      auth: this.authRef(),
      text: input.text,
      delta: input.delta ?? null,
      data: input.data ?? null,
      refs: input.refs ?? []
    }
    const chain = this.c.chain()
    const member = chain?.member(signer)
    if (this.c.rules !== undefined && chain !== null && chain !== undefined && member !== undefined) {
      // The same rules peers apply to what arrives (crdt/write-rules.ts): refuse before signing.
      this.c.rules.admit(chain, member, head, {
        kind: fields.kind,
        ts: this.c.now(),
        authSeq: fields.auth.seq,
        size: signedSizeBound({ ...fields, host: this.c.host() })
      })
    }
    return fields
  }

  /** When a record of `signer` is signed now (`signingTime`). */
  signingTime (signer: KeyId): number {
    return signingTime(this.c.now(), this.c.rules, signer)
  }
}

/**
 * When a record of `signer` is signed: `now`, never below the time the rules last admitted one
 * at, so what is signed claims no earlier time than what was checked (a clock stepping back included).
 */
export function signingTime (now: number, rules: RecordRules | undefined, signer: KeyId): number {
  return Math.max(now, rules?.floor(signer) ?? 0)
}

/** The seq and prev of a signer's next record: after `head`, above `floor` (every seq it may have signed). */
export function nextInChain (head: SignerHead | undefined, floor = 0): { seq: number, prev: RecordId | null } {
  return { seq: Math.max(head?.seq ?? 0, floor) + 1, prev: head?.id ?? null }
}

/**
 * Signs `fields` as the signer's next record. After a gap (a crash lost records, or the seq mark
 * was ahead) `prev` is still the newest record held: the chain links what was written, seqs only rise.
 */
export function signNext (
  head: SignerHead | undefined,
  floor: number,
  fields: IntentFields & { ts: number, host: string },
  key: KeyPair
): { record: EncodedRecord, head: SignerHead } {
  const record = signRecord({ ...fields, ...nextInChain(head, floor) }, key)
  return { record, head: { seq: record.record.seq, id: record.id } }
}

/** Signs a batch in order, continuing the signer's chain, all at one time: what one change carries. */
export function signBatch (
  head: SignerHead | undefined,
  floor: number,
  list: readonly IntentFields[],
  at: { ts: number, host: string },
  key: KeyPair
): { records: EncodedRecord[], head: SignerHead | undefined } {
  const records: EncodedRecord[] = []
  for (const fields of list) {
    const next = signNext(head, floor, { ...fields, ...at }, key)
    records.push(next.record)
    head = next.head
  }
  return { records, head }
}
