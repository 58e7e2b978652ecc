/**
 * `[workspace] apply = "auto"`: the daemon applies received deltas as soon as their records
 * are in the log (and again when chain entries arrive, which can make held records effective).
 * It writes only into a workspace someone chose: `[workspace] path` (resolved when the daemon
 * started), else the workspace this node records intents from (the baseline's root) — never
 * merely the directory the daemon happened to start in. With neither, received deltas wait
 * (`aura status` counts them) until one exists. Runs never overlap; a burst of arrivals makes
 * one run.
 *
 * @example
 * const auto = await startAutoApply(rt, { fail: (err) => log(err), note: log })
 * auto?.kick()          // records arrived
 * await auto?.stop()    // before the store closes
 */
import { toAuraError } from '../../crdt/errors.js'
import type { NodeRuntime } from '../runtime.js'
import { applyPending } from './apply-ops.js'
import { workspaceOf } from './workspace-node.js'
import { workspaceRoot } from './workspace-root.js'

const SETTLE_MS = 50

/** The daemon's auto-apply loop. */
export class AutoApply {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = false

  /** `configured`: the `[workspace] path` checked at start, or null to follow the recorded workspace. */
  constructor (
    readonly rt: NodeRuntime,
    readonly configured: string | null,
    private readonly fail: (err: unknown) => void
  ) {}

  /** Schedules a run (records or chain entries arrived). */
  kick (): void {
    if (this.stopped || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.run()
    }, SETTLE_MS)
  }

  /** The workspace to write into now, if any. */
  async root (): Promise<string | null> {
    return this.configured ?? await workspaceOf(this.rt).state.recordedRoot()
  }

  private run (): void {
    if (this.running !== undefined) { this.again = true; return }
    this.running = (async () => {
      do {
        this.again = false
        try {
          const root = await this.root()
          if (root !== null) await applyPending(this.rt, root)
        } catch (err) {
          this.fail(err)
        }
      } while (this.again && !this.stopped)
    })().finally(() => { this.running = undefined })
  }

  /** Stops scheduling and waits for a run in progress. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }
}

/** Starts auto-apply when the config asks for it; else null. `note` hears why it cannot write yet. */
export async function startAutoApply (
  rt: NodeRuntime,
  opts: { fail: (err: unknown) => void, note?: (message: string) => void }
): Promise<AutoApply | null> {
  if (rt.config.workspace.apply !== 'auto') return null
  let configured: string | null = null
  if (rt.config.workspace.path !== null) {
    try {
      configured = await workspaceRoot(rt, {})
    } catch (err) {
      opts.note?.(`auto-apply is off: ${toAuraError(err).message}`)
      return null
    }
  }
  const auto = new AutoApply(rt, configured, opts.fail)
  if (await auto.root() === null) opts.note?.('auto-apply waits for a workspace: set [workspace] path, or log an intent in your checkout')
  auto.kick()
  return auto
}
