/**
 * A counting TCP relay on 127.0.0.1: a peer dials the meter instead of the target, and every
 * byte each way is forwarded and counted. That is the TCP payload the two peers exchange
 * (Noise, the muxer and the protocol, everything but TCP/IP headers), the same measure for
 * every tool. It adds one loopback hop in the benchmark's own process.
 *
 * @example
 * const meter = await startTcpMeter(targetPort)
 * // dial /ip4/127.0.0.1/tcp/${meter.port}/p2p/<target peer id> instead
 * meter.bytes()   // { up: dialer → target, down: target → dialer }
 * await meter.close()
 */
import { connect, createServer, type Socket } from 'node:net'

/** A running meter. */
export interface TcpMeter {
  readonly port: number
  /** Bytes relayed so far: `up` from the dialling side, `down` back to it. */
  bytes: () => { up: number, down: number }
  close: () => Promise<void>
}

/** Starts a meter relaying to `targetPort` on 127.0.0.1. */
export async function startTcpMeter (targetPort: number): Promise<TcpMeter> {
  let up = 0
  let down = 0
  const sockets = new Set<Socket>()
  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  }
  const server = createServer((inbound) => {
    inbound.setNoDelay(true)
    const outbound = connect(targetPort, '127.0.0.1')
    outbound.setNoDelay(true)
    track(inbound)
    track(outbound)
    inbound.on('data', (d: Buffer) => { up += d.length })
    outbound.on('data', (d: Buffer) => { down += d.length })
    inbound.pipe(outbound)
    outbound.pipe(inbound)
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    bytes: () => ({ up, down }),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
