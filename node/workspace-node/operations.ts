/**
 * The workspace operations of the node's operation table (node/operations.ts): served by the
 * daemon's control socket, or run directly by the CLI when no daemon runs. Every one takes the
 * workspace from `workspace` (--workspace DIR), `[workspace] path`, or `cwd` (where the command
 * ran); see workspace-root.ts.
 *
 * @example
 * await WORKSPACE_OPERATIONS.rewind(rt, { function: 'src/auth/verify.py:verify_token', to: '3f9a12', cwd })
 */
import type { NodeRuntime } from '../runtime.js'

type Op = (rt: NodeRuntime, params: Record<string, any>) => Promise<unknown>

/** Operation name → implementation; the modules load on first use (tree-sitter is heavy). */
export const WORKSPACE_OPERATIONS: Record<string, Op> = {
  snapshot: async (rt, p) => await (await import('./snapshot-ops.js')).takeSnapshotOp(rt, p),
  'snapshot-list': async (rt, p) => (await import('./snapshot-ops.js')).listSnapshots(rt, p),
  rewind: async (rt, p) => await (await import('./rewind-op.js')).rewindOp(rt, p),
  apply: async (rt, p) => {
    const { requireWorkspace } = await import('./workspace-root.js')
    const { applyPending } = await import('./apply-ops.js')
    return await applyPending(rt, await requireWorkspace(rt, p), { dryRun: p.dryRun === true, retry: true })
  },
  conflicts: async (rt, p) => {
    const { listConflicts } = await import('./apply-ops.js')
    return await listConflicts(rt, p.clear === true ? [] : typeof p.clear === 'string' ? [p.clear] : undefined)
  },
  'pr-review': async (rt, p) => await (await import('./review-op.js')).prReview(rt, p)
}
