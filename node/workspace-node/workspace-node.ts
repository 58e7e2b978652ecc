/**
 * The workspace side of one open node: its blobs (disk, backed by the log's `blob` records),
 * its `ws/` state in the store, and one lock, so that a log-intent, a rewind, an apply and the
 * daemon's auto-apply never interleave on the same files and baseline. One per NodeRuntime.
 *
 * @example
 * const ws = workspaceOf(rt)
 * await ws.exclusive(async () => { const base = await ws.state.baseline(root); ... })
 */
import type { NodeRuntime } from '../runtime.js'
import { NodeBlobStore } from './node-blobs.js'
import { WorkspaceStore } from './ws-store.js'

/** The workspace services of one node. */
export class WorkspaceNode {
  readonly blobs: NodeBlobStore
  readonly state: WorkspaceStore
  private tail: Promise<void> = Promise.resolve()

  constructor (readonly rt: NodeRuntime) {
    this.blobs = new NodeBlobStore(rt.home, rt.store.intent.log)
    this.state = new WorkspaceStore(rt.store.kv)
  }

  /** Runs `fn` once every earlier call has finished; calls never overlap. */
  async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const before = this.tail
    let release!: () => void
    this.tail = new Promise((resolve) => { release = resolve })
    try {
      await before
      return await fn()
    } finally {
      release()
    }
  }

  /** Resolves once the calls queued so far have finished. */
  async idle (): Promise<void> {
    await this.exclusive(async () => {})
  }
}

const nodes = new WeakMap<NodeRuntime, WorkspaceNode>()

/** The workspace services of a runtime, created on first use. */
export function workspaceOf (rt: NodeRuntime): WorkspaceNode {
  let ws = nodes.get(rt)
  if (ws === undefined) {
    ws = new WorkspaceNode(rt)
    nodes.set(rt, ws)
  }
  return ws
}
