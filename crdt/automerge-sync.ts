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

interface WasmApi { initSyncState: () => BackendSyncState }

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
