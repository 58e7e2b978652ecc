/**
 * Staging for the intent log's sync: read what an incoming Automerge sync message would apply,
 * without applying it. A sync message carries change chunks (decoded directly) or, for a peer
 * that has little, one whole compressed document (loaded into a throwaway document whose full
 * history is then read). Every change must pass `recordPuts`.
 *
 * `ChangeIndex` remembers which change each (actor, seq) pair names. Automerge actors are not
 * authenticated: a second, different change for a pair the live document already holds makes
 * Automerge throw "duplicate seq" on every later sync, so such a change is refused up front.
 *
 * @example
 * const changes = stageSyncMessage(msg)           // E_MALFORMED on anything but record puts
 * index.status(c.actor, c.seq, c.hash)            // 'known' | 'new' | 'fork'
 */
import * as A from '@automerge/automerge'
import { MalformedError } from './errors.js'
import { recordPuts, type IntentDoc, type RecordPut } from './intent-doc.js'

/** One change an incoming sync message carries, with the records it would put. */
export interface StagedChange {
  readonly hash: string
  readonly actor: string
  readonly seq: number
  readonly puts: RecordPut[]
}

// The throwaway document never writes; a fixed actor keeps staging free of randomness.
const STAGING_ACTOR = 'ff'.repeat(16)

/** The changes (deduplicated, in message order) a sync message carries; E_MALFORMED if any is not pure record puts. */
export function stageSyncMessage (message: Uint8Array): StagedChange[] {
  let chunks: Uint8Array[]
  try {
    chunks = A.decodeSyncMessage(message).changes
  } catch (err) {
    throw new MalformedError(`not an Automerge sync message: ${(err as Error).message}`)
  }
  const out = new Map<string, StagedChange>()
  const add = (decoded: A.DecodedChange): void => {
    if (!out.has(decoded.hash)) out.set(decoded.hash, { hash: decoded.hash, actor: decoded.actor, seq: decoded.seq, puts: recordPuts(decoded) })
  }
  for (const chunk of chunks) {
    const single = tryDecodeChange(chunk)
    if (single !== undefined) { add(single); continue }
    for (const change of A.getAllChanges(loadThrowaway(chunk))) add(A.decodeChange(change))
  }
  return [...out.values()]
}

/** Which change each (actor, seq) pair of a document names. */
export class ChangeIndex {
  private readonly byActor = new Map<string, Map<number, string>>()

  /** The index of everything `doc` holds. */
  static of (doc: A.Doc<IntentDoc>): ChangeIndex {
    const index = new ChangeIndex()
    for (const meta of A.getChangesMetaSince(doc, [])) index.add(meta.actor, meta.seq, meta.hash)
    return index
  }

  /** Records that (actor, seq) names the change `hash`. */
  add (actor: string, seq: number, hash: string): void {
    let seqs = this.byActor.get(actor)
    if (seqs === undefined) { seqs = new Map(); this.byActor.set(actor, seqs) }
    seqs.set(seq, hash)
  }

  /** 'known': held already; 'fork': another change holds this (actor, seq); 'new' otherwise. */
  status (actor: string, seq: number, hash: string): 'known' | 'new' | 'fork' {
    const held = this.byActor.get(actor)?.get(seq)
    if (held === undefined) return 'new'
    return held === hash ? 'known' : 'fork'
  }

  /** The change held for (actor, seq), if any. */
  held (actor: string, seq: number): string | undefined {
    return this.byActor.get(actor)?.get(seq)
  }
}

function tryDecodeChange (chunk: Uint8Array): A.DecodedChange | undefined {
  try {
    return A.decodeChange(chunk)
  } catch {
    return undefined
  }
}

function loadThrowaway (chunk: Uint8Array): A.Doc<IntentDoc> {
  try {
    return A.load<IntentDoc>(chunk, { actor: STAGING_ACTOR })
  } catch (err) {
    throw new MalformedError(`sync message carries a chunk that is neither a change nor a document: ${(err as Error).message}`)
  }
}
