/**
 * Loopback figures for the network edge: connect (TCP + Noise + Yamux), Host.dial's ready round
 * trip, opening a Link, one-frame round trip, and bulk throughput through a Link. Run twice:
 * both hosts in this process, and the echoing host in a child process (the realistic case:
 * two processes do not share an event loop).
 *
 * @example
 * npx tsx bench/net-latency.ts            # prints a table, then one JSON line
 */
import '../node/compat.js'
import { fork } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { TimeoutError } from '../crdt/errors.js'
import { createHost, type Host } from '../node/net/host.js'
import type { Link } from '../node/sync/link.js'

const ECHO = '/aura/bench/echo/1.0.0'
const SINK = '/aura/bench/sink/1.0.0'
const DIALS = 30
const PINGS = 500

const seed = (n: number): Uint8Array => new Uint8Array(32).fill(n)

// The far side: echoes every frame on ECHO; on SINK, counts frames and answers the count once
// the sender's final empty frame arrives.
async function serve (seedByte: number): Promise<Host> {
  const host = await createHost({ seed: seed(seedByte), maxConnections: 4096 })
  await host.handle(ECHO, (link) => { link.onFrame = (f) => { link.send(f) } })
  await host.handle(SINK, (link) => {
    let n = 0
    link.onFrame = (f) => {
      if (f.length > 0) { n++; return }
      const count = new Uint8Array(4)
      new DataView(count.buffer).setUint32(0, n)
      link.send(count)
    }
  })
  return host
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

function p95 (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]
}

async function nextFrame (link: Link, ms = 30_000): Promise<Uint8Array> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`no frame within ${ms} ms`)), ms)
    link.onFrame = (f) => { clearTimeout(timer); resolve(f) }
  })
}

async function bulk (client: Host, target: string, frames: number, size: number): Promise<number> {
  const link = await client.openLink(target, SINK)
  const payload = new Uint8Array(size).fill(7)
  const t0 = performance.now()
  for (let i = 0; i < frames; i++) link.send(payload)
  link.send(new Uint8Array(0))
  const reply = await nextFrame(link, 120_000)
  const count = new DataView(reply.buffer, reply.byteOffset, reply.byteLength).getUint32(0)
  const seconds = (performance.now() - t0) / 1000
  link.close()
  if (count !== frames) throw new TimeoutError(`sink counted ${count} of ${frames} frames`)
  return (frames * size) / seconds / 1e6
}

async function measure (target: string, serverKey: string): Promise<Record<string, number>> {
  const connect: number[] = []
  const ready: number[] = []
  const openLink: number[] = []
  // Fresh client each round: every dial is a new TCP connection and a new Noise handshake.
  // libp2p.dial first (TCP + Noise + Yamux), then Host.dial on that connection, which adds
  // only its ready round trip; together they are what Host.dial costs from cold.
  for (let i = 0; i < DIALS; i++) {
    const client = await createHost({ seed: seed(10 + (i % 200)) })
    const t0 = performance.now()
    await client.libp2p.dial(multiaddr(target))
    const t1 = performance.now()
    await client.dial(target)
    const t2 = performance.now()
    const link = await client.openLink(serverKey as never, ECHO)
    openLink.push(performance.now() - t2)
    connect.push(t1 - t0)
    ready.push(t2 - t1)
    link.close()
    await client.stop()
  }
  const client = await createHost({ seed: seed(9) })
  const link = await client.openLink(target, ECHO)
  const rtt: number[] = []
  const frame = new Uint8Array(300).fill(1)
  for (let i = 0; i < PINGS; i++) {
    const back = nextFrame(link)
    const t0 = performance.now()
    link.send(frame)
    await back
    rtt.push(performance.now() - t0)
  }
  link.close()
  const big = await bulk(client, target, 2000, 64 * 1024)
  const small = await bulk(client, target, 20_000, 300)
  await client.stop()
  return {
    connect_median_ms: median(connect),
    connect_p95_ms: p95(connect),
    ready_probe_median_ms: median(ready),
    open_link_median_ms: median(openLink),
    rtt_300B_median_ms: median(rtt),
    rtt_300B_p95_ms: p95(rtt),
    throughput_64KiB_MBps: big,
    throughput_300B_MBps: small
  }
}

async function child (): Promise<void> {
  const host = await serve(2)
  process.send?.({ addr: host.addresses()[0], key: host.key })
  process.on('message', () => { void host.stop().then(() => process.exit(0)) })
}

async function main (): Promise<void> {
  const server = await serve(2)
  const inProcess = await measure(server.addresses()[0], server.key)
  await server.stop()

  const proc = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'] })
  const hello = await new Promise<{ addr: string, key: string }>((resolve) => { proc.once('message', (m) => resolve(m as { addr: string, key: string })) })
  const twoProcesses = await measure(hello.addr, hello.key)
  proc.send('stop')
  await new Promise((resolve) => proc.once('exit', resolve))

  // Other work on the machine skews every figure here: say how busy it was.
  const load = loadavg()[0]
  console.log(`load average (1 min) at the end: ${load.toFixed(2)}`)
  const rows = Object.keys(inProcess)
  console.log(`${'measure'.padEnd(24)} ${'one process'.padStart(12)} ${'two processes'.padStart(14)}`)
  for (const r of rows) console.log(`${r.padEnd(24)} ${inProcess[r].toFixed(2).padStart(12)} ${twoProcesses[r].toFixed(2).padStart(14)}`)
  console.log(JSON.stringify({ node: process.version, load, dials: DIALS, pings: PINGS, inProcess, twoProcesses }))
}

if (process.argv.includes('--child')) await child()
else await main()
