/**
 * Probes of the incident page's security rules, used by test/ui/security.test.ts against the
 * real daemon and, to show each can fail, against a deliberately broken server: where a TCP
 * port listens (/proc/net/tcp{,6}), which local addresses accept a connection on it, and what a
 * request without a session gets.
 *
 * @example
 * listenAddresses(port)    // ['127.0.0.1']
 * await reachableOn(port)  // addresses other than 127.0.0.1 that accepted a connection: []
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'

/** The local addresses a LISTEN socket on `port` is bound to, from /proc/net/tcp and tcp6. */
export function listenAddresses (port: number): string[] {
  const out: string[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try { text = readFileSync(file, 'utf8') } catch { continue }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 4 || cols[3] !== '0A') continue
      const [hex, portHex] = cols[1].split(':')
      if (parseInt(portHex, 16) !== port) continue
      out.push(hex.length === 8 ? ipv4(hex) : ipv6(hex))
    }
  }
  return out
}

function ipv4 (hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.')
}

function ipv6 (hex: string): string {
  // Four little-endian 32-bit words.
  const words = [0, 1, 2, 3].map((w) => hex.slice(w * 8, w * 8 + 8).match(/../g)!.reverse().join(''))
  const groups = words.join('').match(/.{4}/g)!.map((g) => parseInt(g, 16).toString(16))
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')
}

/** Every local address to try besides 127.0.0.1: another loopback address and each interface's. */
export function otherLocalAddresses (): string[] {
  const out = ['127.0.0.2', '::1']
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.address !== '127.0.0.1' && a.address !== '::1' && !a.address.startsWith('fe80')) out.push(a.address)
  }
  return [...new Set(out)]
}

/** Whether a TCP connection to address:port is accepted (within 2 s). */
export async function connects (address: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const s = net.connect({ host: address, port })
    const done = (ok: boolean): void => { clearTimeout(timer); s.destroy(); resolve(ok) }
    const timer = setTimeout(() => done(false), 2000)
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/** Local addresses other than 127.0.0.1 on which `port` accepts a connection (should be none). */
export async function reachableOn (port: number): Promise<string[]> {
  const out: string[] = []
  for (const a of otherLocalAddresses()) if (await connects(a, port)) out.push(a)
  return out
}

/** What one HTTP request got. */
export interface Answer { status: number, headers: http.IncomingHttpHeaders, body: string }

/** One HTTP request to 127.0.0.1:`port`, with exactly the headers given (Host defaults to 127.0.0.1:port). */
export async function request (
  port: number,
  path: string,
  opts: { method?: string, headers?: Record<string, string>, body?: string, host?: string } = {}
): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = http.request({ host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: { Host: `127.0.0.1:${port}`, ...opts.headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      // An event stream never ends: the first chunk is enough.
      if (res.headers['content-type']?.startsWith('text/event-stream') === true) {
        res.once('data', (d: string) => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: d }); req.destroy() })
        return
      }
      res.on('data', (d: string) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${path} within 10 s`)))
    req.on('error', reject)
    req.end(opts.body)
  })
}

/** Logs in with a one-time login URL; returns the session cookie (`name=value`). */
export async function login (url: string): Promise<string> {
  const u = new URL(url)
  const r = await request(Number(u.port), u.pathname + u.search)
  const cookie = r.headers['set-cookie']?.[0]
  if (r.status !== 303 || cookie === undefined) throw new Error(`login answered ${r.status}: ${r.body}`)
  return cookie.split(';')[0]
}
