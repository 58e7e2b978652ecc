/**
 * Signed backups: `aura backup create | verify | restore | import`. A backup holds the whole
 * authority chain and the records (all, or a `--since` slice with the blob records its deltas
 * and snapshots need), signed by the node that made it (backup-format.ts). Importing one is
 * the network's merge with a file for a link: chain entries through the chain's batch apply,
 * records through `IntentLog.mergeRecords` with the engine's own incoming rule
 * (crdt/incoming-check.ts), and what counts is the effective view's decision, so a revoked
 * key's records beyond its cut are quarantined exactly as when they arrive by sync. Nothing
 * is changed unless the whole file verifies.
 *
 * @example
 * await createBackup(rt, { file: '/backups/before-rewind.aurabak' })
 * await importBackup(rt, { file: '/media/usb/slice.aurabak', stale: false })
 */
import { randomBytes } from 'node:crypto'
import { link, readFile, rm, writeFile } from 'node:fs/promises'
import { effectiveView } from '../../crdt/effective-view.js'
import { DaemonRunningError, ExistsError, NotAdmittedError, NotFoundError, toAuraError, WrongTeamError } from '../../crdt/errors.js'
import { checkIncomingRecords } from '../../crdt/incoming-check.js'
import { shortId, type KeyId, type RecordId } from '../../crdt/ids.js'
import { decodeRecord, recordIdOf, type SignedRecord } from '../../crdt/record.js'
import { pingControl } from '../control/client.js'
import { NodeRuntime } from '../runtime.js'
import { blobsOfData } from '../workspace-node/node-blobs.js'
import { decodeBackup, encodeBackup, type Backup } from './backup-format.js'
import { parseSince } from './since.js'

/** Writes a signed backup of this node's chain and records (or those since `since`) to `file`; never overwrites. */
export async function createBackup (rt: NodeRuntime, p: { file: string, since?: unknown }) {
  const chain = rt.requireChain()
  const now = rt.now()
  const from = typeof p.since === 'string' ? parseSince(p.since, now) : null
  const log = rt.store.intent.log
  const held = log.records()
  const chosen = from === null ? held : slice(held, from)
  const bytes = encodeBackup(
    { chain, records: chosen.map(({ id }) => log.get(id)!), creator: rt.identity.keyPair, created: now, since: from }
  )
  const tmp = `${p.file}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, bytes, { mode: 0o600, flag: 'wx' })
  try {
    // A link fails if the name exists: a backup is never overwritten.
    await link(tmp, p.file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ExistsError(`${p.file} exists: a backup is never overwritten`, { file: p.file })
    throw err
  } finally {
    await rm(tmp, { force: true })
  }
  await rt.audit('backup-created', { file: p.file, records: chosen.length, since: from, head: chain.head.seq })
  return {
    file: p.file,
    bytes: bytes.length,
    records: chosen.length,
    chainHead: chain.head.seq,
    creator: rt.identity.shortId,
    team: chain.team,
    since: from === null ? null : new Date(from).toISOString()
  }
}

// Records written since `from`, and the blob records that their deltas and snapshots refer to
// (a slice must let its receiver apply and rewind what it carries).
function slice (
  held: Array<{ id: RecordId, record: SignedRecord }>,
  from: number
): Array<{ id: RecordId, record: SignedRecord }> {
  const chosen = held.filter(({ record }) => record.ts >= from)
  const needed = new Set<string>()
  for (const { record } of chosen) {
    const entries = (record.delta as { entries?: unknown } | null)?.entries
    if (Array.isArray(entries)) for (const e of entries) if (typeof e?.blob === 'string') needed.add(e.blob)
    const files = record.kind === 'snapshot' ? (record.data as { files?: unknown } | null)?.files : undefined
    if (typeof files === 'object' && files !== null) for (const h of Object.values(files)) if (typeof h === 'string') needed.add(h)
  }
  const ids = new Set(chosen.map(({ id }) => id))
  for (const r of held) {
    if (ids.has(r.id) || r.record.kind !== 'blob') continue
    const blobs = blobsOfData(r.record.data)
    if (blobs !== null && Object.keys(blobs).some((h) => needed.has(h))) chosen.push(r)
  }
  return chosen
}

/** Reads and verifies a backup file (no node needed): what it holds, as `aura backup verify` prints it. */
export async function verifyBackupFile (file: string) {
  const b = decodeBackup(await readBackup(file))
  const decoded = b.records.map((bytes) => decodeRecord(bytes))
  const view = effectiveView(decoded, b.chain)
  const kinds: Record<string, number> = {}
  for (const { record } of decoded) kinds[record.kind] = (kinds[record.kind] ?? 0) + 1
  const creator = b.header.creator as KeyId
  const m = b.chain.member(creator)
  const revocations = b.entries.filter((e) => e.kind === 'revoke').length
  return {
    file,
    format: b.header.format,
    version: b.header.v,
    team: b.header.team,
    creator: shortId(creator, m?.kind === 'agent' ? m.name : 'peer'),
    creatorKey: creator,
    creatorRevoked: b.chain.revocation(creator) !== undefined,
    created: new Date(b.header.created).toISOString(),
    since: b.header.since === null ? null : new Date(b.header.since).toISOString(),
    chain: { head: b.chain.head.seq, hash: b.chain.head.hash, revocations, locked: b.chain.locked },
    records: { total: decoded.length, effective: view.effective.size, quarantined: view.quarantined.size, kinds }
  }
}

/** Merges a backup file into this node through the same verify-first merge as sync. */
export async function importBackup (rt: NodeRuntime, p: { file: string, stale: boolean }) {
  return await importInto(rt, p.file, decodeBackup(await readBackup(p.file)), p.stale)
}

/**
 * Restores a backup into `home`: a node made with `aura init` and admitted with `aura join
 * TOKEN --no-start` (a new identity: a key is never restored, since two copies of one key
 * would fork its records), whose daemon is stopped and which holds no records yet. Then the
 * node starts and syncs as usual.
 */
export async function restoreBackup (file: string, home: string) {
  const b = decodeBackup(await readBackup(file))
  if (await pingControl(home)) throw new DaemonRunningError(`a daemon runs on ${home}: stop it first, or merge with \`aura backup import\``, { home })
  const rt = await NodeRuntime.open(home)
  try {
    if (rt.chain === null) {
      throw new NotAdmittedError(`${home} is not part of a team: restore needs a node admitted to team '${b.header.team}'`, { home, hint: '`aura init` then `aura join TOKEN --no-start`, then restore' })
    }
    if (rt.store.intent.log.size > 0) {
      throw new ExistsError(`${home} holds ${rt.store.intent.log.size} records already: restore makes a node from a backup; merge into a running node with \`aura backup import\``, { home })
    }
    const res = await importInto(rt, file, b, false)
    return { ...res, home, peer: rt.identity.shortId, records: res.recordsAdded, chainHead: rt.requireChain().head.seq }
  } finally {
    await rt.close()
  }
}

async function importInto (rt: NodeRuntime, file: string, b: Backup, stale: boolean) {
  const chain = rt.chain
  if (chain === null) throw new NotAdmittedError('this node is not part of a team: join one before importing a backup', { hint: '`aura join TOKEN`' })
  if (chain.entryHash(0) !== b.header.genesis) {
    throw new WrongTeamError(`${file} is a backup of team '${b.header.team}' (genesis ${b.header.genesis.slice(0, 12)}), not of this node's team '${chain.team}'`, { file, team: b.header.team })
  }
  const before = chain.head.seq
  try {
    await rt.adoptEntries(b.entries)
  } catch (err) {
    // A fork locks the chain for good; keep its evidence as sync does, then refuse.
    if (toAuraError(err).code === 'E_FORK') await rt.persistChainFrom(before + 1)
    throw err
  } finally {
    if (chain.head.seq > before) rt.hooks.chainAppended?.(before + 1)
  }
  const log = rt.store.intent.log
  const added = log.mergeRecords(b.records, (incoming) => checkIncomingRecords(chain, incoming, stale))
  if (added.length > 0) {
    await rt.writer.ingest(added)
    rt.hooks.recordsAdded?.()
  }
  const view = rt.effectiveView()!
  const reasons: Record<string, number> = {}
  const ids = new Set(b.records.map((bytes) => recordIdOf(bytes)))
  for (const id of ids) {
    const q = view.quarantined.get(id)
    if (q !== undefined) reasons[q.reason] = (reasons[q.reason] ?? 0) + 1
  }
  const quarantined = Object.values(reasons).reduce((a, n) => a + n, 0)
  await rt.audit('backup-imported', { file, creator: b.header.creator, chainAdded: chain.head.seq - before, recordsAdded: added.length, quarantined })
  return {
    file,
    team: b.header.team,
    creator: shortId(b.header.creator as KeyId),
    chainAdded: chain.head.seq - before,
    recordsAdded: added.length,
    recordsHeld: ids.size - added.length,
    quarantined,
    reasons
  }
}

async function readBackup (file: string): Promise<Uint8Array> {
  try {
    return await readFile(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no backup file ${file}`, { file })
    throw err
  }
}
