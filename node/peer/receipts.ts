/**
 * The receipt schedule: when a node signs a receipt, and what it covers. A receipt is due every
 * interval and, coalesced, `RECEIPT_DEBOUNCE_MS` after what the node holds changes (records or
 * chain entries arrived or were written here, the workspace applied some); a due receipt is
 * written only if it says something new (node/sync/receipts.ts `sameSummary`), and never by a
 * node that is revoked, not a member, or in lockdown (a receipt written then would be quarantined
 * everywhere as `written_during_lockdown`: noise in the evidence; the unlock brings a fresh one).
 * It covers the chain head and, per signer, the highest seq held (receiptSummary), with the
 * workspace's backlog when the node has one.
 *
 * @example
 * const receipts = new ReceiptSchedule({ localKey, chain, records, write, scheduler }, { intervalMs: 60_000 })
 * receipts.start()
 * receipts.changed()   // records arrived: a receipt 250 ms from now, if it says something new
 */
import type { AuthorityChain } from '../../crdt/authority-chain.js'
import type { Json } from '../../crdt/canonical.js'
import type { KeyId } from '../../crdt/ids.js'
import type { SignedRecord } from '../../crdt/record.js'
import { receiptSummary, sameSummary, summaryJson, type ReceiptSummary, type WorkspaceSummary } from '../sync/receipts.js'
import type { PeerScheduler, TimerHandle } from './scheduler.js'

/** How long after a change a receipt is written (changes within it share one receipt). */
export const RECEIPT_DEBOUNCE_MS = 250

/** Options of the receipt schedule. */
export interface ReceiptInit {
  /** How often a receipt is due without any change (`[sync] receipt_interval`). */
  intervalMs: number
  debounceMs?: number
}

/** What a receipt is read from and written to. */
export interface ReceiptComponents {
  localKey: KeyId
  chain: () => AuthorityChain | null
  /** Every record this node holds (receipts among them are left out of the summary). */
  records: () => Iterable<{ record: SignedRecord }>
  /** The workspace's backlog, read before each receipt; absent on a node without a workspace. */
  workspace?: () => Promise<WorkspaceSummary | null>
  /** Signs and appends a receipt record carrying `data` (through the node's write path). */
  write: (data: Json) => void | Promise<unknown>
  scheduler: PeerScheduler
}

/** Heard when writing a receipt failed (the schedule carries on). */
export type ReceiptFailureListener = (err: unknown) => void

/** One node's receipts. */
export class ReceiptSchedule {
  private loop: TimerHandle | null = null
  private pending: TimerHandle | null = null
  private last: ReceiptSummary | null = null
  private readonly debounceMs: number

  constructor (
    private readonly c: ReceiptComponents,
    private readonly init: ReceiptInit,
    private readonly onFailure?: ReceiptFailureListener
  ) {
    this.debounceMs = init.debounceMs ?? RECEIPT_DEBOUNCE_MS
  }

  /** A receipt is due every interval from now until `stop`. */
  start (): void {
    if (this.loop !== null) return
    const tick = (): void => {
      this.due(0)
      this.loop = this.c.scheduler.setTimer(tick, this.init.intervalMs)
    }
    this.loop = this.c.scheduler.setTimer(tick, this.init.intervalMs)
  }

  /** Stops the loop and drops a receipt not written yet. */
  stop (): void {
    if (this.loop !== null) this.c.scheduler.clearTimer(this.loop)
    if (this.pending !== null) this.c.scheduler.clearTimer(this.pending)
    this.loop = null
    this.pending = null
  }

  /** What the node holds changed: a receipt is due shortly. */
  changed (): void {
    this.due(this.debounceMs)
  }

  /** Whether this node signs no receipt now: not in a team, revoked, not a member, or locked. */
  barred (): boolean {
    const chain = this.c.chain()
    return chain === null ||
      chain.revocation(this.c.localKey) !== undefined ||
      chain.member(this.c.localKey) === undefined ||
      chain.locked
  }

  // One receipt at a time: a change while one is due joins it.
  private due (delayMs: number): void {
    if (this.pending !== null) return
    this.pending = this.c.scheduler.setTimer(() => {
      this.pending = null
      this.fire()
    }, delayMs)
  }

  private fire (): void {
    if (this.barred()) return
    // Without a workspace the receipt is written in this turn (the simulator's virtual time
    // must not wait on a promise); the daemon reads its workspace's backlog first.
    if (this.c.workspace === undefined) { this.sign(null); return }
    this.c.workspace().then((ws) => { if (!this.barred()) this.sign(ws) }).catch((err) => this.onFailure?.(err))
  }

  private sign (ws: WorkspaceSummary | null): void {
    const chain = this.c.chain()
    if (chain === null) return
    const summary = receiptSummary(this.c.records(), chain.head, ws)
    if (sameSummary(this.last, summary)) return
    this.last = summary
    try {
      const written = this.c.write(summaryJson(summary))
      if (written instanceof Promise) written.catch((err) => this.onFailure?.(err))
    } catch (err) {
      this.onFailure?.(err)
    }
  }
}
