/**
 * The semantic workspace: the developer's source tree understood at the level of functions.
 * Files are split into units (functions, `Class.method`s, classes, the rest of each module;
 * whole files where no grammar applies) with tree-sitter; each unit has a hash that ignores
 * formatting and comments. Between two scans the workspace yields a code delta (the `delta` of
 * an intent record); deltas received from peers are applied unit by unit, never over local
 * work; any unit can be rewound to an earlier version in place; and recorded deltas can be
 * reviewed for security. Blobs and snapshots live in `<node home>/blobs/`.
 *
 * @example
 * import {
 *   scanWorkspace, diffStates, summariseState, rewindUnit, versionFromHistory, FsBlobStore
 * } from './workspace/index.js'
 *
 * // aura log-intent "TEXT": the delta since the last recorded state
 * const { state } = await scanWorkspace(root, { baseline })
 * const { delta, blobs: big } = diffStates(baseline, state)
 * for (const bytes of big.values()) await blobs.put(bytes)
 * // ... sign a record with `delta`, then: baseline = summariseState(state)
 *
 * // aura rewind --function src/auth/verify.py:verify_token --to <intent-id>
 * const target = await versionFromHistory(history, intentId, 'src/auth/verify.py', 'verify_token', blobs)
 * const unit = { path: 'src/auth/verify.py', name: 'verify_token', target: target ?? null, author, ts }
 * const r = await rewindUnit({ root, blobs }, unit)
 * // sign a `rewind` record with r.delta, a `snapshot` record with r.snapshot.manifest
 */
export { advanceState } from './baseline.js'
export { applyDelta, type ApplyComponents, type ApplyInit, type ApplyResult, type Conflict, type ConflictReason, type FileChange } from './apply.js'
export { MemoryBlobStore, checkBlobHash, getBlobText, sha256Hex, type BlobStore } from './blob-store.js'
export { diffStates, parseCodeDelta, deltaPaths, splitDelta, DEFAULT_DELTA_BUDGET_BYTES, MAX_INLINE_TEXT_BYTES, type ChangeKind, type CodeDelta, type DeltaEntry, type DiffInit, type DiffResult } from './delta.js'
export { BLOBS_DIR, FsBlobStore } from './fs-blob-store.js'
export { IGNORE_FILES, IgnoreRules } from './ignore-rules.js'
export { languageOf, type Language } from './languages.js'
export { ALWAYS_SKIPPED, checkRelativePath } from './paths.js'
export { securityReview, changedLines, CATEGORY_OF_RULE, type Evidence, type Flag, type ReviewCategory, type ReviewInit, type ReviewItem, type ReviewRule, type ReviewThresholds, type Severity } from './review.js'
export { rewindUnit, type RewindComponents, type RewindInit, type RewindResult } from './rewind.js'
export { DEFAULT_MAX_FILE_BYTES, emptyState, listFiles, scanWorkspace, summariseState, type FileState, type ScanInit, type ScanResult, type SkippedFile, type WorkspaceState } from './scan.js'
export { filterSnapshots, loadSnapshot, parseSnapshotManifest, snapshotFileText, storeManifest, takeSnapshot, type Snapshot, type SnapshotComponents, type SnapshotFilter, type SnapshotInit, type SnapshotManifest } from './snapshots.js'
export { unifiedDiff } from './text-diff.js'
export { extractUnits, parseUnitRef, FILE_UNIT, MODULE_UNIT, type FileUnits, type Unit, type UnitKind, type UnitSummary, type UnitsInit } from './units.js'
export { versionFromHistory, versionFromSnapshot, type HistoryItem, type UnitVersion } from './versions.js'
