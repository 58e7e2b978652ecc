/**
 * Snapshots: file contents stored by hash, plus a manifest naming them. The manifest is itself
 * a blob (its canonical JSON), so a snapshot's id is the hash of its manifest and any node
 * holding the blobs can verify and use it. The caller records each manifest in the log as a
 * `snapshot` record (its `data`), which is where `snapshot-list` reads them from. A snapshot is
 * taken automatically before every rewind.
 *
 * @example
 * const snap = await takeSnapshot({ root, blobs }, {
 *   paths: ['src/auth'],
 *   author: 'peer-5f3a',
 *   ts: Date.now(),
 *   reason: 'manual'
 * })
 * filterSnapshots([snap], { author: 'peer-5f3a', path: 'src/auth/verify.py' })
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { canonicalBytes } from '../../crdt/canonical.js'
import { MalformedError, NotFoundError } from '../../crdt/errors.js'
import { checkBlobHash, type BlobStore } from './blob-store.js'
import { DEFAULT_MAX_FILE_BYTES, listFiles } from './scan.js'

/** What a snapshot holds: workspace-relative path → blob hash of the file's bytes. */
export interface SnapshotManifest {
  v: 1
  /** Who took it: the actor id (a user or an agent such as `claude-7f3a`). */
  author: string
  /** When, in milliseconds, as the caller's clock says. */
  ts: number
  /** Why: `manual`, `pre-rewind`, `pre-edit`, … */
  reason: string
  files: Record<string, string>
}

/** A snapshot and its id (the blob hash of its canonical manifest). */
export interface Snapshot { id: string, manifest: SnapshotManifest }

/** What a snapshot needs from its node. */
export interface SnapshotComponents { root: string, blobs: BlobStore }

/** Options for taking a snapshot. */
export interface SnapshotInit {
  /** Files or directories to include (default: the whole workspace, ignore files honoured). */
  paths?: string[]
  author: string
  ts: number
  reason: string
  /** Larger files are left out (default 2 MiB). */
  maxFileBytes?: number
}

const manifestSchema = z.object({
  v: z.literal(1),
  author: z.string().min(1).max(256),
  ts: z.number().int().nonnegative(),
  reason: z.string().max(256),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/))
}).strict()

/** Validates a manifest from a record or a blob. */
export function parseSnapshotManifest (value: unknown): SnapshotManifest {
  const r = manifestSchema.safeParse(value)
  if (!r.success) throw new MalformedError(`malformed snapshot manifest: ${r.error.issues[0].message}`)
  return r.data as SnapshotManifest
}

/** Stores a manifest as a blob and returns the snapshot (its id is the manifest's hash). */
export async function storeManifest (blobs: BlobStore, manifest: SnapshotManifest): Promise<Snapshot> {
  const id = await blobs.put(canonicalBytes(manifest))
  return { id, manifest }
}

/** Stores the current contents of files and a manifest naming them. */
export async function takeSnapshot (c: SnapshotComponents, init: SnapshotInit): Promise<Snapshot> {
  const max = init.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES
  const files: Record<string, string> = {}
  for (const path of await listFiles(c.root, init.paths)) {
    const bytes = new Uint8Array(await readFile(join(c.root, ...path.split('/'))))
    if (bytes.length > max) continue
    files[path] = await c.blobs.put(bytes)
  }
  return await storeManifest(c.blobs, { v: 1, author: init.author, ts: init.ts, reason: init.reason, files })
}

/**
 * Stores given file contents (already in memory: the bytes as read, or text) as a snapshot:
 * how a rewind saves the file.
 */
export async function snapshotContents (blobs: BlobStore, contents: Record<string, string | Uint8Array>, meta: Omit<SnapshotManifest, 'v' | 'files'>): Promise<Snapshot> {
  const files: Record<string, string> = {}
  for (const [path, content] of Object.entries(contents)) files[path] = await blobs.put(typeof content === 'string' ? new TextEncoder().encode(content) : content)
  return await storeManifest(blobs, { v: 1, ...meta, files })
}

/** Loads a snapshot by id; E_NOT_FOUND when the blob store does not hold it. */
export async function loadSnapshot (blobs: BlobStore, id: string): Promise<Snapshot> {
  const bytes = await blobs.get(checkBlobHash(id))
  if (bytes === null) throw new NotFoundError(`no snapshot ${id} in this node's blob store`, { snapshot: id })
  let json: unknown
  try { json = JSON.parse(new TextDecoder().decode(bytes)) } catch { throw new MalformedError(`blob ${id} is not a snapshot manifest`, { snapshot: id }) }
  return { id, manifest: parseSnapshotManifest(json) }
}

/** Reads one file of a snapshot as text; E_NOT_FOUND when the snapshot or the blob lacks it. */
export async function snapshotFileText (blobs: BlobStore, snap: Snapshot, path: string): Promise<string> {
  const hash = snap.manifest.files[path]
  if (hash === undefined) throw new NotFoundError(`snapshot ${snap.id.slice(0, 12)} does not contain ${path}`, { snapshot: snap.id, path })
  const bytes = await blobs.get(hash)
  if (bytes === null) throw new NotFoundError(`the content of ${path} in snapshot ${snap.id.slice(0, 12)} is not in this node's blob store`, { snapshot: snap.id, path, blob: hash })
  return new TextDecoder().decode(bytes)
}

/** The filter of `aura snapshot-list`. */
export interface SnapshotFilter {
  author?: string
  /** A file or directory the snapshot must include. */
  path?: string
  /** Earliest `ts` (ms) to include. */
  since?: number
}

/** Snapshots matching a filter, oldest first (ties broken by id). */
export function filterSnapshots (snaps: Snapshot[], f: SnapshotFilter): Snapshot[] {
  const dir = f.path?.replace(/\/+$/, '')
  return snaps
    .filter((s) => f.author === undefined || s.manifest.author === f.author)
    .filter((s) => f.since === undefined || s.manifest.ts >= f.since)
    .filter((s) => dir === undefined || Object.keys(s.manifest.files).some((p) => p === dir || p.startsWith(dir + '/')))
    .sort((a, b) => a.manifest.ts - b.manifest.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}
