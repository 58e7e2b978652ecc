/**
 * Automerge sync states as the WebAssembly backend holds them.
 *
 * The intent log drives Automerge's backend directly: the JS API turns a sync state into a
 * plain object and back on every call and, on receive, patches the document's JS view, which
 * copies the whole records map (milliseconds per message at 10,000 records) although the log
 * never reads that view. The backend's `generateSyncMessage` / `receiveSyncMessage` take the
 * backend's own `SyncState`, which `@automerge/automerge` (pinned at 3.2.6) does not export; it
 * comes from the very WebAssembly module the package loaded (Node's module cache returns the
 * same instance, and states from another instance would be refused). test/crdt/intent-log
 * guards this: an upgrade that moves the module fails there, not in production.
 *
 * @example
 * const s = initBackendSyncState()
 * const msg = A.getBackend(doc).generateSyncMessage(s) // mutates s
 */
import * as A from '@automerge/automerge'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

/** The backend (WebAssembly) handle of an Automerge document. */
export type Backend = ReturnType<typeof A.getBackend>

/** A sync state as the backend holds it: mutated in place by the backend's sync calls. */
export type BackendSyncState = Parameters<Backend['generateSyncMessage']>[0]

interface WasmApi {
  initSyncState: () => BackendSyncState
  exportSyncState: (state: BackendSyncState) => ExportedSyncState
  importSyncState: (state: ExportedSyncState) => BackendSyncState
  encodeSyncState: (state: BackendSyncState) => Uint8Array
  decodeSyncState: (data: Uint8Array) => BackendSyncState
}

const require = createRequire(import.meta.url)

function loadWasmApi (): WasmApi {
  // dist/cjs/fullfat_node.cjs → dist/mjs/wasm_bindgen_output/nodejs/automerge_wasm.cjs, the module
  // the ESM entry point (dist/mjs/entrypoints/fullfat_node.js) loads.
  const entry = require.resolve('@automerge/automerge')
  const path = join(dirname(entry), '..', 'mjs', 'wasm_bindgen_output', 'nodejs', 'automerge_wasm.cjs')
  try {
    return require(path) as WasmApi
  } catch (err) {
    throw new Error(`@automerge/automerge's WebAssembly module did not load from ${path} (${(err as Error).message}): the intent log needs Automerge 3.2.6 as pinned in package.json`)
  }
}

const wasm = loadWasmApi()

/** A fresh backend sync state for a peer. */
export function initBackendSyncState (): BackendSyncState {
  return wasm.initSyncState()
}

/** What Automerge keeps of a sync state between connections (the heads both sides shared). */
export function encodeBackendSyncState (state: BackendSyncState): Uint8Array {
  return wasm.encodeSyncState(state)
}

/** A sync state from `encodeBackendSyncState`; throws on bytes that are not one. */
export function decodeBackendSyncState (data: Uint8Array): BackendSyncState {
  return wasm.decodeSyncState(data)
}

/** A sync state as plain data (the backend's own export). */
export interface ExportedSyncState {
  sharedHeads: string[]
  lastSentHeads: string[]
  /** The peer's heads as last heard; null before its first message. */
  theirHeads: string[] | null
  /** The peer's have (last-sync heads and bloom filters) as last heard; null before its first message. */
  theirHave: unknown[] | null
  /** Changes sent in this session and not known to be held by the peer, keyed by hash. */
  sentHashes: Record<string, unknown>
  inFlight: boolean
  haveResponded: boolean
  [more: string]: unknown
}

/** Everything a sync state holds, as plain data. */
export function exportSyncState (state: BackendSyncState): ExportedSyncState {
  return wasm.exportSyncState(state)
}

/** Automerge's capability for v2 sync messages, which may carry a whole document. */
export const MESSAGE_V2 = 'message-v2'

/** A sync state from `exportSyncState`'s plain data. */
export function importSyncState (state: ExportedSyncState): BackendSyncState {
  return wasm.importSyncState(state)
}

// Below this, loading stored data cold costs less than warming up first.
const WARM_UP_WORTH_BYTES = 1024 * 1024
let warmed = false

/**
 * Runs Automerge's load path on a small document a few times (~50 ms, once per process), so
 * that V8 has optimized it before a large load. WebAssembly starts in V8's baseline code and a
 * function is optimized only on a later call, never inside a call already running: a large
 * document's checksum is one long call, so a process's first load of the 8.9 MB document of
 * 10,000 records takes ~0.55 s, and ~0.2 s after this (a warm load: ~0.12 s). Worth it when a
 * log is about to load `bytes` of stored data, or when it is empty (its first sync brings the
 * whole document); not for a small log.
 */
export function warmUpLoad (bytes: number): void {
  if (warmed || (bytes > 0 && bytes < WARM_UP_WORTH_BYTES)) return
  warmed = true
  const backend = A.getBackend(A.init({ actor: 'ff'.repeat(16) }))
  const map = backend.putObject('_root', 'warm', {})
  backend.put(map, 'bytes', new Uint8Array(200_000).fill(7), 'bytes')
  backend.commit(null, 0)
  const saved = backend.saveNoCompress()
  for (let i = 0; i < 5; i++) A.getBackend(A.load(saved)).materialize(map)
}
