/**
 * The workspace wired into the node: what `log-intent`, `snapshot`, `snapshot-list`, `rewind`,
 * `apply`, `conflicts` and `pr-review` do with a running (or directly opened) node, and the
 * daemon's auto-apply of received deltas. The library that understands code is
 * node/workspace/; this folder adds the node's side: which directory is the workspace, the
 * baseline and apply state under `ws/` in the store, blobs that replicate as `blob` records,
 * and the log read as code history (effective records only; quarantined ones are reviewed,
 * never applied). docs/workspace.md explains it for operators.
 *
 * @example
 * import { logIntent, WORKSPACE_OPERATIONS, startAutoApply } from './workspace-node/index.js'
 * await logIntent(rt, { text: 'fix token expiry', cwd: process.cwd() })
 * await WORKSPACE_OPERATIONS.rewind(rt, {
 *   function: 'src/auth/verify.py:verify_token',
 *   to: '3f9a12',
 *   cwd: process.cwd()
 * })
 * const auto = await startAutoApply(rt, { fail: console.error })
 */
export { actingAs, type Acting } from './acting.js'
export { applyPending, listConflicts, pendingRecords, workspaceSummary, type AppliedRecord, type ApplyRun } from './apply-ops.js'
export { AutoApply, startAutoApply } from './auto-apply.js'
export { logOrder, readLog, resolveTarget, statusOf, versionAt, type LogItem, type Target } from './history.js'
export { DELTA_PART_BUDGET, logIntent, type LogIntentParams } from './log-intent.js'
export { BLOB_RECORD_BUDGET, NodeBlobStore, blobsOfData } from './node-blobs.js'
export { WORKSPACE_OPERATIONS } from './operations.js'
export { prReview, type ReviewedRecord, type ReviewParams } from './review-op.js'
export { rewindOp, type RewindParams } from './rewind-op.js'
export { listSnapshots, relativePaths, takeSnapshotOp, type SnapshotListParams, type SnapshotParams, type SnapshotRow } from './snapshot-ops.js'
export { WorkspaceNode, workspaceOf } from './workspace-node.js'
export { looksLikeCheckout, requireWorkspace, workspaceRoot, type RootParams } from './workspace-root.js'
export { WorkspaceStore, type Baseline, type Done, type StoredConflict, type WorkspaceCommit } from './ws-store.js'
