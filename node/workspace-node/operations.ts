/**
 * The workspace operations of the node's operation table (node/operations.ts): served by the
 * daemon's control socket, or run directly by the CLI when no daemon runs. Every one takes the
 * workspace from `workspace` (--workspace DIR), `[workspace] path`, or `cwd` (where the command
 * ran); see workspace-root.ts.
 *
 * @example
 * const params = { function: 'src/auth/verify.py:verify_token', to: '3f9a12', cwd }
 * await invokeOperation(OPERATIONS, 'rewind', params, { rt })
 */
import { z } from 'zod'
import { defineOperation } from '../operation.js'

// Where the workspace is: --workspace DIR (relative to cwd), else [workspace] path, else found from cwd.
const where = { workspace: z.string().optional(), cwd: z.string().optional() }

/** Operation name → definition; the modules load on first use (tree-sitter is heavy). */
export const WORKSPACE_OPERATIONS = {
  snapshot: defineOperation({
    summary: 'Store the current contents of workspace files and record a signed snapshot',
    daemon: 'optional',
    params: z.strictObject({
      ...where,
      paths: z.array(z.string()).optional(),
      reason: z.string().optional(),
      agent: z.string().optional(),
      // 'workspace': relative paths are relative to the workspace root (an agent's MCP call), not to cwd.
      pathsFrom: z.literal('workspace').optional()
    }),
    run: async ({ rt }, p) => await (await import('./snapshot-ops.js')).takeSnapshotOp(rt, p)
  }),
  'snapshot-list': defineOperation({
    summary: 'The snapshots held, newest first',
    daemon: 'optional',
    params: z.strictObject(
      { author: z.string().optional(), path: z.string().optional(), since: z.string().optional() }
    ),
    run: async ({ rt }, p) => (await import('./snapshot-ops.js')).listSnapshots(rt, p)
  }),
  rewind: defineOperation({
    summary: 'Rewind one function to a recorded version, or an agent\'s whole session',
    daemon: 'optional',
    params: z.strictObject({
      ...where,
      function: z.string().optional(),
      to: z.string().optional(),
      toBeforeSession: z.string().optional(),
      dryRun: z.boolean().optional(),
      agent: z.string().optional()
    }),
    run: async ({ rt }, p) => await (await import('./rewind-op.js')).rewindOp(rt, p)
  }),
  apply: defineOperation({
    summary: 'Apply received changes to the workspace',
    daemon: 'optional',
    params: z.strictObject({ ...where, dryRun: z.boolean().optional() }),
    run: async ({ rt }, p) => {
      const { requireWorkspace } = await import('./workspace-root.js')
      const { applyPending } = await import('./apply-ops.js')
      return await applyPending(rt, await requireWorkspace(rt, p), { dryRun: p.dryRun === true, retry: true })
    }
  }),
  conflicts: defineOperation({
    summary: 'Received changes not applied to the workspace; `clear` forgets one (an id) or all (true)',
    daemon: 'optional',
    params: z.strictObject({ clear: z.union([z.string(), z.literal(true)]).optional() }),
    run: async ({ rt }, p) => {
      const { listConflicts } = await import('./apply-ops.js')
      const rows = await listConflicts(rt, p.clear === true ? [] : typeof p.clear === 'string' ? [p.clear] : undefined)
      // `foundAt`: when this node found it (ISO), not a signed time.
      return rows.map(({ ts, ...c }) => ({ ...c, foundAt: new Date(ts).toISOString() }))
    }
  }),
  'pr-review': defineOperation({
    summary: 'Review the records of a range, with security flags',
    daemon: 'optional',
    params: z.strictObject({
      actor: z.string().optional(),
      signer: z.string().optional(),
      since: z.string().optional(),
      security: z.boolean().optional(),
      cwd: z.string().optional()
    }),
    run: async ({ rt }, p) => await (await import('./review-op.js')).prReview(rt, p)
  })
}
