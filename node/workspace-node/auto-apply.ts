/**
 * `[workspace] apply = "auto"`: the daemon applies received deltas as soon as their records
 * are in the log (and again when chain entries arrive, which can make held records effective).
 * The workspace is `[workspace] path`, or the daemon's working directory at start when that is
 * a checkout; it is fixed for the daemon's life. Runs never overlap, and a burst of arrivals
 * makes one run.
 *
 * @example
 * const auto = await startAutoApply(rt, { cwd: process.cwd(), fail: (err) => log(err) })
 * auto?.kick()          // records arrived
 * await auto?.stop()    // before the store closes
 */
import { toAuraError } from '../../crdt/errors.js'
import type { NodeRuntime } from '../runtime.js'
import { applyPending } from './apply-ops.js'
import { workspaceRoot } from './workspace-root.js'

const SETTLE_MS = 50

/** The daemon's auto-apply loop. */
export class AutoApply {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private again = false
  private stopped = false

  constructor (readonly rt: NodeRuntime, readonly root: string, private readonly fail: (err: unknown) => void) {}

  /** Schedules a run (records or chain entries arrived). */
  kick (): void {
    if (this.stopped || this.timer !== undefined) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.run()
    }, SETTLE_MS)
  }

  private run (): void {
    if (this.running !== undefined) { this.again = true; return }
    this.running = (async () => {
      do {
        this.again = false
        try {
          await applyPending(this.rt, this.root)
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

/** Starts auto-apply when the config asks for it and there is a workspace; else null (and why, through `note`). */
export async function startAutoApply (rt: NodeRuntime, opts: { cwd: string, fail: (err: unknown) => void, note?: (message: string) => void }): Promise<AutoApply | null> {
  if (rt.config.workspace.apply !== 'auto') return null
  let root: string | null
  try {
    root = await workspaceRoot(rt, { cwd: opts.cwd })
  } catch (err) {
    opts.note?.(`auto-apply is off: ${toAuraError(err).message}`)
    return null
  }
  if (root === null) {
    opts.note?.(`auto-apply is off: [workspace] path is not set and ${opts.cwd} is not a checkout`)
    return null
  }
  const auto = new AutoApply(rt, root, opts.fail)
  auto.kick()
  return auto
}
