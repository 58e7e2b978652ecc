/**
 * One Hypercore 11 peer of the replication benchmark, in its own process: the writer serves
 * `core.replicate(false, { keepAlive: false })` to every TCP connection on 127.0.0.1; the reader
 * dials it, pipes `core.replicate(true, { keepAlive: false })` over the socket (Noise inside
 * Hypercore's own secret stream) and downloads live from block 0. A block counts as held once
 * Hypercore emits 'download' for it: its Merkle proof verified and the block stored. Driven
 * over IPC by bench/replication.ts, with the same monotonic clock as bench/lib/aura-peer.ts.
 *
 * @example
 * const w = await Peer.start(new URL('./lib/hypercore-peer.ts', import.meta.url))
 * await w.call('build', { dir, recordsFile, perChange: 10 })
 * const { port, key } = await w.call('serve')
 */
import { rm } from 'node:fs/promises'
import { createServer, connect, type Server, type Socket } from 'node:net'
import Hypercore from 'hypercore'
import { digestOf, readRecordFile } from './replication-data.js'
import { serve } from './rpc.js'

let core: Hypercore | undefined
let dir: string | undefined
let server: Server | undefined
let extra: Uint8Array[] = []
let appended = 0
const sockets = new Set<Socket>()
const heldAt = new Map<number, bigint>()
const waiting = new Map<number, (t: bigint) => void>()
let whenLength: { length: number, resolve: (t: bigint) => void } | undefined

function cpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function ms (from: bigint, to: bigint): number {
  return Number(to - from) / 1e6
}

function opened (): Hypercore {
  if (core === undefined) throw new TypeError('core not open')
  return core
}

// Nagle off on both ends, as libp2p's TCP transport sets it: one small block must not wait
// for a delayed ACK.
function pipe (socket: Socket, isInitiator: boolean): void {
  socket.setNoDelay(true)
  sockets.add(socket)
  const stream = opened().replicate(isInitiator, { keepAlive: false })
  socket.pipe(stream).pipe(socket)
  // A closing peer resets the other side; the benchmark judges by what was held, not by errors.
  stream.on('error', () => {})
  socket.on('error', () => {})
  socket.on('close', () => sockets.delete(socket))
}

async function digest (c: Hypercore): Promise<string> {
  const blocks: Uint8Array[] = []
  for (let i = 0; i < c.length; i++) blocks.push(await c.get(i) as Uint8Array)
  return digestOf(blocks)
}

serve({
  /** A new core at `at` holding the records of `recordsFile`, `perChange` blocks per append. */
  async build ({ dir: at, recordsFile, extraFile, perChange }: {
    dir: string
    recordsFile: string
    extraFile: string
    perChange: number
  }) {
    const t0 = process.hrtime.bigint()
    dir = at
    core = new Hypercore(at)
    await core.ready()
    const all = readRecordFile(recordsFile)
    for (let i = 0; i < all.length; i += perChange) await core.append(all.slice(i, i + perChange))
    extra = readRecordFile(extraFile)
    return { size: core.length, digest: await digest(core), buildMs: ms(t0, process.hrtime.bigint()) }
  },

  /** Serves replication on 127.0.0.1. */
  async serve () {
    server = createServer((socket) => pipe(socket, false))
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    const address = server.address()
    return { port: typeof address === 'object' && address !== null ? address.port : 0, key: opened().key }
  },

  /** An empty core at `at` for `key`, recording when each block arrives. */
  async fresh ({ dir: at, key }: { dir: string, key: Uint8Array }) {
    dir = at
    core = new Hypercore(at, key)
    await core.ready()
    const c = core
    c.on('download', (index) => {
      const t = process.hrtime.bigint()
      heldAt.set(index, t)
      waiting.get(index)?.(t)
      waiting.delete(index)
      if (whenLength !== undefined && heldAt.size >= whenLength.length) {
        whenLength.resolve(t)
        whenLength = undefined
      }
    })
    return { size: c.length }
  },

  /** Dials the writer and downloads until `expect` blocks are held; times from the dial. */
  async replicate ({ port, expect }: { port: number, expect: number }) {
    const c = opened()
    const full = new Promise<bigint>((resolve) => { whenLength = { length: expect, resolve } })
    const cpu0 = cpuMs()
    const t0 = process.hrtime.bigint()
    pipe(connect(port, '127.0.0.1'), true)
    c.download({ start: 0, end: -1 })
    const held = await full
    const cpu = cpuMs() - cpu0
    // This process is new per trial, so its peak resident set is the fresh reader's.
    const maxRssMiB = process.resourceUsage().maxRSS / 1024
    return { heldMs: ms(t0, held), cpuMs: cpu, size: heldAt.size, digest: await digest(c), maxRssMiB }
  },

  /** Appends the next extra record as one block; returns when it started and when it was stored. */
  async append () {
    const c = opened()
    const t0 = process.hrtime.bigint()
    await c.append(extra[appended++ % extra.length])
    return { index: c.length - 1, t0, durable: process.hrtime.bigint() }
  },

  /** When block `index` was held here (waits for it). */
  async heldAt ({ index }: { index: number }) {
    return heldAt.get(index) ?? await new Promise<bigint>((resolve) => waiting.set(index, resolve))
  },

  /** CPU milliseconds used by this process so far. */
  cpu: () => cpuMs()
}, async () => {
  for (const s of sockets) s.destroy()
  await new Promise<void>((resolve) => { if (server === undefined) resolve(); else server.close(() => resolve()) })
  await core?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})
