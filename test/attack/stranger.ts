/**
 * A stranger, as a child process: fresh ed25519 identities nobody admitted, built with the
 * project's own network edge (node/net/host.ts) and raw libp2p streams. It attacks one target
 * multiaddr and prints one JSON line of what it saw, then exits.
 *
 *   partial-frames N ADDR    N sync streams, each a frame declaring 16 MiB and 256 KiB of it
 *   silent-streams N ADDR    N sync streams that never send a byte; waits until they are closed
 *   join-flood N ADDR TOKEN  N join attempts with TOKEN, 4 at a time
 *   bare-connections N ADDR  N connections (one per fresh key) that never open a stream; waits until they are closed
 *
 * Run: node --import tsx test/attack/stranger.ts silent-streams 100 /ip4/127.0.0.1/tcp/7447/p2p/12D3...
 */
import '../../node/compat.js'
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { toAuraError } from '../../crdt/errors.js'
import { createHost, type Host } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { requestJoin } from '../../node/mothership/join.js'
import { encodeLength } from '../../node/sync/frame.js'

// Streams per identity: under the target's default cap of 8 per key.
const PER_KEY = 5
const [mode, countText, addr, token] = process.argv.slice(2)
const count = Number(countText)

async function identities (n: number): Promise<Host[]> {
  return await Promise.all(Array.from({ length: n }, async () => await createHost({ seed: randomBytes(32) })))
}

// Opens `n` raw sync streams spread over fresh keys; resolves with them and when each closed.
async function openStreams (n: number): Promise<{
  hosts: Host[]
  streams: any[]
  closedAt: number[]
  opened: number
  failed: number
}> {
  const hosts = await identities(Math.ceil(n / PER_KEY))
  const streams: any[] = []
  const closedAt: number[] = []
  let failed = 0
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    try {
      const s = await hosts[Math.floor(i / PER_KEY)].libp2p.dialProtocol(multiaddr(addr), SYNC_PROTOCOL)
      streams.push(s)
      s.addEventListener('close', () => { closedAt.push(Date.now()) })
    } catch {
      failed++
    }
  }))
  return { hosts, streams, closedAt, opened: streams.length, failed }
}

async function waitClosed (closedAt: number[], opened: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs
  while (closedAt.length < opened && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
}

async function main (): Promise<Record<string, unknown>> {
  const started = Date.now()
  if (mode === 'partial-frames' || mode === 'silent-streams') {
    const { hosts, streams, closedAt, opened, failed } = await openStreams(count)
    let sent = 0
    if (mode === 'partial-frames') {
      for (const s of streams) {
        try {
          s.send(encodeLength(16 * 1024 * 1024))
          s.send(randomBytes(256 * 1024))
          sent++
        } catch { /* closed already */ }
      }
    }
    await waitClosed(closedAt, opened, 60_000)
    const out = {
      mode,
      opened,
      failed,
      sent,
      closed: closedAt.length,
      lastClosedAfterMs: closedAt.length === 0 ? null : Math.max(...closedAt) - started
    }
    await Promise.all(hosts.map(async (h) => await h.stop()))
    return out
  }
  if (mode === 'bare-connections') {
    const hosts = await identities(count)
    const closedAt: number[] = []
    let opened = 0
    let failed = 0
    await Promise.all(hosts.map(async (h) => {
      try {
        const c = await h.libp2p.dial(multiaddr(addr))
        opened++
        h.libp2p.addEventListener('connection:close', (evt) => { if (evt.detail.id === c.id) closedAt.push(Date.now()) })
      } catch {
        failed++
      }
    }))
    await waitClosed(closedAt, opened, 60_000)
    const out = {
      mode,
      opened,
      failed,
      closed: closedAt.length,
      lastClosedAfterMs: closedAt.length === 0 ? null : Math.max(...closedAt) - started
    }
    await Promise.all(hosts.map(async (h) => await h.stop()))
    return out
  }
  if (mode === 'join-flood') {
    const [host] = await identities(1)
    const codes: Record<string, number> = {}
    let next = 0
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < count) {
        next++
        let code = 'joined'
        try {
          await requestJoin(host, token, 10_000)
        } catch (err) {
          code = toAuraError(err).code
        }
        codes[code] = (codes[code] ?? 0) + 1
      }
    }))
    await host.stop()
    return { mode, attempts: count, codes, tookMs: Date.now() - started }
  }
  throw new Error(`unknown mode ${mode}`)
}

main().then((out) => {
  process.stdout.write(JSON.stringify(out) + '\n')
  process.exit(0)
}, (err) => {
  process.stderr.write(`stranger: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
