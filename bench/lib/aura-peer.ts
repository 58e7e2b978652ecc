/**
 * One Aura peer of the replication benchmark, in its own process, wired as the daemon wires it
 * (node/daemon.ts): a NodeStore on LevelDB (fsync on), the node's IntentWriter, a libp2p Host,
 * the SyncEngine with the store's IntentLog, and a SignaturePool checking incoming signatures; records received by sync
 * are persisted through `writer.ingest`, and an append is pushed once durable. Anti-entropy ticks only when the
 * benchmark turns them on. Driven over IPC by bench/replication.ts (bench/lib/rpc.ts).
 *
 * Times are `process.hrtime.bigint()`: CLOCK_MONOTONIC, one clock for every process on the
 * machine, so an append here and its arrival in another process can be subtracted.
 *
 * @example
 * const a = await Peer.start(new URL('./lib/aura-peer.ts', import.meta.url))
 * await a.call('build', { dir, recordsFile, perChange: 10 })
 * const { addr } = await a.call('start', { dir, name: 'alice', writers: 10 })
 */
import '../../node/compat.js'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import type { RecordId } from '../../crdt/ids.js'
import { keyIdOf } from '../../crdt/ids.js'
import type { KeyPair } from '../../crdt/crypto.js'
import { LevelKV } from '../../node/store/level-kv.js'
import { layout } from '../../node/store/layout.js'
import { buildSignedDocument } from './signed-doc.js'
import { FileSeqReserve, SEQ_DIR } from '../../node/store/seq-reserve.js'
import { writerActor } from '../../crdt/change-auth.js'
import { createHost, type Host } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { NodeStore } from '../../node/store/node-store.js'
import { SyncEngine } from '../../node/sync/engine.js'
import { SignaturePool } from '../../node/verify/pool.js'
import { LinkCounts, metered } from './metered-link.js'
import { benchKey, benchTeam, digestOf, readRecordFile, textOf } from './replication-data.js'
import { serve } from './rpc.js'

const BUILD_TIME = 1_767_225_700_000

interface Running {
  dir: string
  store: NodeStore
  chain: AuthorityChain
  writer: IntentWriter
  host: Host
  engine: SyncEngine
  pool: SignaturePool | undefined
}

let node: Running | undefined
let tick: ReturnType<typeof setInterval> | undefined
let ingesting: Promise<void> = Promise.resolve()
let appended = 0
const counts = new LinkCounts()
const heldAt = new Map<RecordId, bigint>()
const waiting = new Map<RecordId, (t: bigint) => void>()
let whenSize: {
  size: number
  resolve: (at: { t: bigint, cpu: number, mainCpu: number }) => void
  reject: (err: Error) => void
} | undefined

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// CPU of the main thread alone (Linux: utime + stime of the thread, in 10 ms ticks): the work
// on the critical path, which signature workers run beside.
function mainCpuMs (): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function ms (from: bigint, to: bigint): number {
  return Number(to - from) / 1e6
}

function running (): Running {
  if (node === undefined) throw new TypeError('peer not started')
  return node
}

function digest (n: Running): string {
  return digestOf(n.store.intent.log.ids().map((id) => n.store.intent.log.get(id) as Uint8Array))
}

serve({
  /** Fills a fresh store with the records of `recordsFile`, `perChange` per Automerge change. */
  async build ({ dir, recordsFile, perChange }: { dir: string, recordsFile: string, perChange: number }) {
    const t0 = process.hrtime.bigint()
    // Each writer's records in changes of its own, signed by it (crdt/change-auth.ts), stored
    // as the base; opening the store indexes them.
    const keys = new Map(Array.from({ length: 64 }, (_, i) => benchKey(`writer${i}`)).map((k) => [keyIdOf(k.publicKey), k]))
    const base = buildSignedDocument(
      readRecordFile(recordsFile),
      perChange,
      (signer) => keys.get(signer) as KeyPair,
      BUILD_TIME
    )
    await (await NodeStore.open(dir, { sync: false })).close()
    const kv = await LevelKV.open(dir, { sync: false })
    await kv.batch([{ type: 'put', key: layout.docBase, value: base }])
    await kv.close()
    const store = await NodeStore.open(dir, { sync: false, actor: randomBytes(16).toString('hex') })
    const log = store.intent.log
    const size = log.size
    const docBytes = log.save().length
    await store.close()
    return { size, docBytes, buildMs: ms(t0, process.hrtime.bigint()) }
  },

  /** Opens the store at `dir` and starts the node as `name`. */
  async start ({ dir, name, writers }: { dir: string, name: string, writers: number }) {
    const t0 = process.hrtime.bigint()
    const key = benchKey(name)
    // As the runtime does: an actor bound to the node's key, new for every life.
    const store = await NodeStore.open(dir, { actor: writerActor(keyIdOf(key.publicKey), randomBytes(16).toString('hex')) })
    const chain = AuthorityChain.fromEntries(benchTeam(writers).entries)
    const writer = await IntentWriter.open({ intent: store.intent, key, clock: { now: () => Date.now() }, seqs: await FileSeqReserve.open(join(dir, SEQ_DIR), keyIdOf(key.publicKey)) }, { host: `${name}-bench` })
    const host = await createHost({ seed: key.seed })
    // As the daemon does; BENCH_REPL_VERIFY_WORKERS=0 verifies on the main thread only (A/B runs).
    const workers = Number(process.env.BENCH_REPL_VERIFY_WORKERS ?? -1)
    const pool = workers === 0 ? undefined : SignaturePool.start(workers > 0 ? { workers } : {})
    if (pool !== undefined) store.intent.log.useSignatureBatches(() => pool.batch())
    const engine = new SyncEngine(
      { chain, log: store.intent.log, localKey: host.key, clock: () => Date.now(), random: Math.random },
      { team: chain.team },
      {
        // BENCH_REPL_VERBOSE=1: the engine's audit events (refusals, dropped links) on stderr.
        // A refusal while a full replication is awaited fails it at once (a refused record never
        // arrives: waiting would only end at the caller's timeout).
        audit: (e) => {
          if (process.env.BENCH_REPL_VERBOSE === '1') console.error(`[${name}]`, JSON.stringify(e).slice(0, 400))
          if (e.type === 'refused' && whenSize !== undefined) {
            whenSize.reject(new Error(`the fresh peer refused records: ${e.code} ${e.message}`))
            whenSize = undefined
          }
        },
        recordsAdded: (ids) => {
          const t = process.hrtime.bigint()
          for (const id of ids) {
            heldAt.set(id, t)
            waiting.get(id)?.(t)
            waiting.delete(id)
          }
          if (whenSize !== undefined && store.intent.log.size >= whenSize.size) {
            whenSize.resolve({ t, cpu: cpuMs(), mainCpu: mainCpuMs() })
            whenSize = undefined
          }
          const done = writer.ingest(ids)
          ingesting = ingesting.then(async () => await done)
        }
      }
    )
    await host.handle(SYNC_PROTOCOL, (link) => engine.addLink(metered(link, counts)))
    node = { dir, store, chain, writer, host, engine, pool }
    return {
      addr: host.addresses()[0],
      peerId: host.peerId,
      size: store.intent.log.size,
      digest: digest(node),
      startMs: ms(t0, process.hrtime.bigint())
    }
  },

  /**
   * Dials `addr` and syncs until `expect` records are held (verified, in the live log) and
   * then durable. Times from the dial; CPU is this process's over the same intervals.
   */
  async replicate ({ addr, expect }: { addr: string, expect: number }) {
    const n = running()
    counts.largest = 0
    const before = counts.snapshot()
    const full = new Promise<{ t: bigint, cpu: number, mainCpu: number }>(
      (resolve, reject) => { whenSize = { size: expect, resolve, reject } }
    )
    const cpu0 = cpuMs()
    const main0 = mainCpuMs()
    const t0 = process.hrtime.bigint()
    const link = await n.host.openLink(addr, SYNC_PROTOCOL)
    const t1 = process.hrtime.bigint()
    n.engine.addLink(metered(link, counts))
    const held = await full
    await ingesting
    const durable = process.hrtime.bigint()
    const after = counts.snapshot()
    return {
      dialMs: ms(t0, t1),
      bulkArrivedMs: ms(t0, after.largestAt),
      heldMs: ms(t0, held.t),
      durableMs: ms(t0, durable),
      cpuMs: held.cpu - cpu0,
      mainCpuMs: held.mainCpu - main0,
      durableCpuMs: cpuMs() - cpu0,
      size: n.store.intent.log.size,
      digest: digest(n),
      recvBytes: after.recvBytes - before.recvBytes,
      sentBytes: after.sentBytes - before.sentBytes,
      recvFrames: after.recvFrames - before.recvFrames,
      verified: { ...(n.pool?.stats ?? { workers: 0, here: 0 }) },
      // This process is new per trial, so its peak resident set is the fresh peer's.
      maxRssMiB: process.resourceUsage().maxRSS / 1024
    }
  },

  /** Appends one intent as the daemon does (durable, then pushed); returns when it started. */
  async append () {
    const n = running()
    const t0 = process.hrtime.bigint()
    const a = await n.writer.append({ kind: 'intent', actor: 'alice', auth: { ...n.chain.head }, text: textOf(1_000_000 + appended++) })
    n.engine.localRecordsAdded()
    return { id: a.id, t0, durable: process.hrtime.bigint() }
  },

  /** When record `id` became held here (waits for it). */
  async heldAt ({ id }: { id: RecordId }) {
    return heldAt.get(id) ?? await new Promise<bigint>((resolve) => waiting.set(id, resolve))
  },

  /** Link-layer totals so far. */
  counts: () => counts.snapshot(),

  /** CPU milliseconds used by this process so far. */
  cpu: () => cpuMs(),

  /** Runs anti-entropy every `intervalMs` from now (0: never), as the daemon's timer does. */
  tick ({ intervalMs }: { intervalMs: number }) {
    clearInterval(tick)
    tick = intervalMs > 0 ? setInterval(() => running().engine.tick(), intervalMs) : undefined
  }
}, async () => {
  clearInterval(tick)
  if (node === undefined) return
  node.engine.closeAll()
  await node.host.stop()
  await node.pool?.close()
  await ingesting.catch(() => {})
  await node.store.close()
  await rm(node.dir, { recursive: true, force: true })
})
