/**
 * A node opened on its home: identity, config, store, authority chain, intent log and writer.
 * The daemon holds one for its lifetime; CLI commands that run without a daemon open one,
 * do their work and close it. Every operation (node/operations.ts) takes a runtime, so the
 * same code answers whether or not a daemon is running.
 *
 * @example
 * const rt = await NodeRuntime.open(home)
 * await rt.appendRecord({ kind: 'intent', actor: 'alice', text: 'fix login' })
 * await rt.close()
 */
import { randomBytes } from 'node:crypto'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuthorityChain, decodeEntry, encodeEntry, type ChainEntry } from '../crdt/authority-chain.js'
import { teamCarrierRule, writerActor } from '../crdt/change-auth.js'
import { keyPairFromSeed, type KeyPair } from '../crdt/crypto.js'
import { EffectiveViewCache, type EffectiveViewLike } from '../crdt/effective-view-cache.js'
import { verifyRecordsAhead, type SignatureBatch, type SignedRecord } from '../crdt/record.js'
import { toB64u, type Json } from '../crdt/canonical.js'
import { ExistsError, KeyMismatchError, NotFoundError } from '../crdt/errors.js'
import { keyIdOf, shortId, type KeyId } from '../crdt/ids.js'
import { WriteGate } from './agents/write-gate.js'
import { RecordWriter, signingTime, type WriteInput } from './peer/writer.js'
import { loadConfig, type LoadedConfig } from './config.js'
import { loadIdentity, type Identity } from './identity.js'
import { assertPrivate, parseKeyFile } from './key-files.js'
import { NodeStore } from './store/node-store.js'
import { IntentWriter, type Appended } from './store/intent-writer.js'
import { FileSeqReserve, SEQ_DIR } from './store/seq-reserve.js'

export { NO_AUTHORITY } from './peer/writer.js'

/** File holding the Mothership signing key (mode 0600), only in the Mothership's home. */
export const MOTHERSHIP_KEY_FILE = 'mothership.key'

/** Options of NodeRuntime.open. */
export interface RuntimeOptions {
  /** Config overrides by dotted path (CLI `--set`, `--listen`). */
  flags?: Record<string, unknown>
  env?: Record<string, string | undefined>
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number
  /** An already loaded config (the CLI's, with its --set flags); loaded from the home if absent. */
  loaded?: LoadedConfig
}

/** What a caller supplies to append a record; the runtime fills in auth, signer and chain. */
export type AppendInput = WriteInput

/** Things the daemon wants to hear about, to push to peers at once. */
export interface RuntimeHooks {
  recordsAdded?: () => void
  chainAppended?: (fromSeq: number) => void
  /** Every audit event as it is recorded (the daemon's log). */
  audited?: (type: string, fields: Record<string, Json>) => void
}

/** One node, opened. */
export class NodeRuntime {
  chain: AuthorityChain | null
  mothershipKey: KeyPair | null
  hooks: RuntimeHooks = {}
  private readonly agentWriters = new Map<KeyId, IntentWriter>()
  private readonly views = new EffectiveViewCache()
  private closing = false
  private warming: Promise<boolean> | null = null
  readonly now: () => number
  /** The local write gate: the view's rules, applied before anything is signed. */
  readonly gate: WriteGate
  /** The write path's decisions (node/peer/writer.ts), shared with the simulator. */
  readonly writes: RecordWriter

  private constructor (
    readonly home: string,
    readonly identity: Identity,
    /** The config in effect; a daemon replaces it when aura.toml is reloaded (node/config-reload.ts). */
    public loaded: LoadedConfig,
    readonly store: NodeStore,
    readonly writer: IntentWriter,
    chain: AuthorityChain | null,
    mothershipKey: KeyPair | null,
    clock: () => number,
    gate: WriteGate
  ) {
    this.chain = chain
    this.mothershipKey = mothershipKey
    this.now = clock
    this.gate = gate
    this.writes = new RecordWriter({
      localKey: identity.keyId,
      chain: () => this.chain,
      now: clock,
      host: () => this.config.node.host,
      name: () => this.config.node.name,
      rules: gate
    })
  }

  /** Opens the node at `home` (which `aura init` created). */
  static async open (home: string, opts: RuntimeOptions = {}): Promise<NodeRuntime> {
    const clock = opts.clock ?? (() => Date.now())
    const identity = await loadIdentity(home)
    const loaded = opts.loaded ?? await loadConfig(home, { env: opts.env ?? process.env, flags: opts.flags })
    // The log writes as an actor bound to this node's key, with a suffix new for every life, so
    // a restart after a crash never reissues an (actor, seq) pair (crdt/change-auth.ts).
    const store = await NodeStore.open(join(home, 'store'), { actor: writerActor(identity.keyId, randomBytes(16).toString('hex')) })
    try {
      if (store.droppedOnRecovery.length > 0) await reportLostWrites(store, clock())
      const chain = await loadChain(store)
      const mothershipKey = await loadMothershipKey(home)
      if (chain !== null && mothershipKey !== null) checkMothershipKey(home, mothershipKey, chain)
      const seqs = await FileSeqReserve.open(join(home, SEQ_DIR), identity.keyId)
      const gate = new WriteGate(store.intent.log)
      const writer = await IntentWriter.open(
        { intent: store.intent, key: identity.keyPair, clock: signingClock(clock, gate, identity.keyId), seqs },
        { host: loaded.config.node.host }
      )
      const rt = new NodeRuntime(home, identity, loaded, store, writer, chain, mothershipKey, clock, gate)
      store.intent.log.useCarrierRule(teamCarrierRule((key) => rt.chain?.member(key)))
      await rt.reofferOrphans()
      return rt
    } catch (err) {
      await store.close()
      throw err
    }
  }

  /** The key id of this node. */
  get key (): KeyId { return this.identity.keyId }

  /**
   * The effective view of every record held under the current chain, or null without a chain.
   * Kept between calls: only the signers with records new since the last call are recomputed,
   * and all of them when the chain moved (crdt/effective-view-cache.ts).
   */
  effectiveView (): EffectiveViewLike | null {
    return this.chain === null ? null : this.views.view(this.store.intent.log, this.chain)
  }

  /** The config. */
  get config (): LoadedConfig['config'] { return this.loaded.config }

  /** The chain, or E_NOT_FOUND explaining how to get one. */
  requireChain (): AuthorityChain {
    if (this.chain === null) {
      throw new NotFoundError('this node is not part of a team yet', { hint: 'join one with `aura join TOKEN`, or create one with `aura mothership init`' })
    }
    return this.chain
  }

  /** The authority head to reference in new records. */
  authRef (): { seq: number, hash: string } {
    return this.writes.authRef()
  }

  /**
   * Signs and durably appends one record — of this node, or of an agent whose key is given —
   * and pushes it to peers if a daemon runs.
   */
  async appendRecord (input: AppendInput, signer?: KeyPair): Promise<Appended> {
    const key = signer === undefined ? this.key : keyIdOf(signer.publicKey)
    // Refused before an agent's writer is opened (its seq mark is a file).
    const refusal = this.writes.refusal(input.kind, key)
    if (refusal !== null) throw refusal
    const writer = signer === undefined ? this.writer : await this.writerFor(signer)
    const appended = await writer.append(this.writes.prepare(input, key, writer.head))
    this.hooks.recordsAdded?.()
    return appended
  }

  /**
   * Offers again, in a change of this node, the records a rebuilt log holds outside its
   * document (crdt/intent-log.ts `orphaned`) that this node writes: its own and its agents'.
   * Records are the truth and Automerge the transport, so the team gets them back this way.
   */
  async reofferOrphans (): Promise<number> {
    const log = this.store.intent.log
    const rule = teamCarrierRule((key) => this.chain?.member(key))
    const mine = log.orphaned().filter((id) => {
      const r = log.record(id)
      return r !== undefined && rule(this.key, r.signer)
    })
    if (mine.length === 0) return 0
    log.append(mine.map((id) => ({ id, bytes: log.get(id) as Uint8Array })), this.now(), this.identity.keyPair)
    await this.store.intent.commit()
    return mine.length
  }

  private async writerFor (signer: KeyPair): Promise<IntentWriter> {
    const id = keyIdOf(signer.publicKey)
    let w = this.agentWriters.get(id)
    if (w === undefined) {
      const seqs = await FileSeqReserve.open(join(this.home, SEQ_DIR), id)
      w = await IntentWriter.open(
        {
          intent: this.store.intent,
          key: signer,
          changeKey: this.identity.keyPair,
          clock: signingClock(this.now, this.gate, id),
          seqs
        },
        { host: this.config.node.host }
      )
      this.agentWriters.set(id, w)
    }
    return w
  }

  /** The actor named in this node's records: the user it was admitted as, else the config name. */
  defaultActor (): string {
    return this.writes.defaultActor()
  }

  /** Applies and persists entries signed elsewhere (join, sync); returns how many were new. */
  async adoptEntries (entries: ChainEntry[]): Promise<number> {
    if (this.chain === null) {
      const [genesis, ...rest] = [...entries].sort((a, b) => a.seq - b.seq)
      if (genesis === undefined || genesis.seq !== 0) throw new NotFoundError('no genesis entry received')
      const chain = AuthorityChain.fromGenesis(genesis)
      chain.applyBatch(rest)
      this.chain = chain
      await this.store.chain.append(chain.entries(0).map(encodeEntry))
      return chain.head.seq + 1
    }
    const before = this.chain.head.seq
    this.chain.applyBatch(entries)
    await this.persistChainFrom(before + 1)
    return this.chain.head.seq - before
  }

  /** Persists chain entries from `fromSeq` that the in-memory chain holds but the store lacks. */
  async persistChainFrom (fromSeq: number): Promise<void> {
    const chain = this.requireChain()
    const start = Math.max(fromSeq, this.store.chain.size)
    const entries = chain.entries(start)
    if (entries.length > 0) await this.store.chain.append(entries.map(encodeEntry))
    const known = new Set((await this.store.chain.forks()).map((b) => toB64u(b)))
    for (const f of chain.forks) {
      const bytes = encodeEntry(f.other)
      if (!known.has(toB64u(bytes))) await this.store.chain.addFork(bytes)
    }
  }

  /** Appends entries signed here (the Mothership) and tells the daemon to push them. */
  async appendOwnEntries (entries: ChainEntry[]): Promise<void> {
    const chain = this.requireChain()
    const from = chain.head.seq + 1
    chain.applyBatch(entries)
    await this.persistChainFrom(from)
    this.hooks.chainAppended?.(from)
  }

  /** Records an audit event (ts added). */
  async audit (type: string, fields: Record<string, Json> = {}): Promise<void> {
    await this.store.audit.append({ ...fields, ts: this.now(), type })
    this.hooks.audited?.(type, fields)
  }

  /**
   * Checks the signatures of every record held, `chunk` at a time in `batch`es with a turn of
   * the event loop between chunks, then computes the effective view once: what the first query
   * after a start would otherwise do while the caller waits (about 50 µs a record). Stops early
   * when the runtime closes; true when it did it all.
   */
  async warmUp (batch: () => SignatureBatch, chunk = 1000): Promise<boolean> {
    const run = this.checkHeld(batch, chunk)
    this.warming = run
    return await run
  }

  /**
   * Resolves once a warm-up under way is done, at once when none is: a query of the view that
   * waits for it has the signatures checked in batches (on the daemon's worker pool) instead of
   * one by one on its own thread, competing with the warm-up. A warm-up that failed leaves the
   * query to do it (the daemon logs the failure).
   */
  async warmedUp (): Promise<void> {
    await this.warming?.catch(() => false)
  }

  private async checkHeld (batch: () => SignatureBatch, chunk: number): Promise<boolean> {
    const log = this.store.intent.log
    // The records held now: what arrives meanwhile was checked on arrival.
    let left = log.size
    let records: SignedRecord[] = []
    for (const { record } of log.recordsFrom(0)) {
      if (this.closing || left-- <= 0) break
      records.push(record)
      if (records.length < chunk) continue
      verifyRecordsAhead(records, batch())
      records = []
      await new Promise((resolve) => setImmediate(resolve))
    }
    if (this.closing) return false
    if (records.length > 0) verifyRecordsAhead(records, batch())
    this.effectiveView()
    return true
  }

  /** Flushes and closes the store. */
  async close (): Promise<void> {
    this.closing = true
    await this.writer.close().catch(() => {})
    for (const w of this.agentWriters.values()) await w.close().catch(() => {})
    await this.store.close()
  }
}

// LevelDB skipped damaged write-ahead-log records: acknowledged writes are gone. The seq mark
// keeps this node from reusing their seqs; peers send back what they hold. Say it, and keep it.
async function reportLostWrites (store: NodeStore, ts: number): Promise<void> {
  process.stderr.write(`aura: warning: the store's write-ahead log was damaged; LevelDB dropped what it could not read (${store.droppedOnRecovery.join('; ')}). Peers will send back what they hold; see docs/storage.md, "A damaged store"\n`)
  await store.audit.append({ ts, type: 'store-lost-writes', lines: [...store.droppedOnRecovery] })
}

async function loadChain (store: NodeStore): Promise<AuthorityChain | null> {
  const bytes = await store.chain.load()
  if (bytes.length === 0) return null
  const forks = (await store.chain.forks()).map(decodeEntry)
  const entries = bytes.map(decodeEntry)
  const evidence = forks.flatMap((other) => {
    const held = entries[other.seq]
    return held === undefined ? [] : [{ seq: other.seq, held, other }]
  })
  return AuthorityChain.fromEntries(entries, evidence)
}

/**
 * The Mothership signing key of a home, if this home is a Mothership: E_PERMISSIONS if others
 * can reach the file, E_MALFORMED / E_KEY_MISMATCH if it is damaged.
 */
export async function loadMothershipKey (home: string): Promise<KeyPair | null> {
  const file = join(home, MOTHERSHIP_KEY_FILE)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  await assertPrivate([{ path: file, kind: 'file' }])
  return parseKeyFile(text, file, 'the Mothership signing key')
}

// A key file that is not the chain's current Mothership key would sign entries every peer
// refuses: say so at start, not at the first revocation.
function checkMothershipKey (home: string, key: KeyPair, chain: AuthorityChain): void {
  const held = keyIdOf(key.publicKey)
  if (held === chain.mothershipKeyId) return
  const file = join(home, MOTHERSHIP_KEY_FILE)
  throw new KeyMismatchError(`${file} holds Mothership key ${shortId(held, 'ms')}, but the team's chain names ${shortId(chain.mothershipKeyId, 'ms')} as its current Mothership key`, {
    path: file,
    held,
    expected: chain.mothershipKeyId,
    hint: `put back the mothership.key whose key id is ${chain.mothershipKeyId} (from a backup; docs/storage.md)`
  })
}

/** Writes a new Mothership signing key (mode 0600); refuses to overwrite one. */
export async function writeMothershipKey (
  home: string,
  seed: Uint8Array = randomBytes(32),
  overwrite = false
): Promise<KeyPair> {
  const file = join(home, MOTHERSHIP_KEY_FILE)
  if (!overwrite && await stat(file).then(() => true, () => false)) {
    throw new ExistsError(`a Mothership key already exists at ${file}`, { file, hint: 'this home is already a Mothership' })
  }
  const key = keyPairFromSeed(seed)
  const body = JSON.stringify({ seed: toB64u(key.seed), pub: toB64u(key.publicKey), keyId: keyIdOf(key.publicKey) }) + '\n'
  await writeFile(`${file}.tmp`, body, { mode: 0o600 })
  await rename(`${file}.tmp`, file)
  return key
}

// The store writer's clock for `key` (node/peer/writer.ts `signingTime`).
function signingClock (clock: () => number, gate: WriteGate, key: KeyId): { now: () => number } {
  return { now: () => signingTime(clock(), gate, key) }
}
