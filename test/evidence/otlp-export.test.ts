/**
 * The OTLP export as collectors expect it, against a real HTTP receiver on 127.0.0.1: gzip,
 * headers from `[audit.export] headers` and OTEL_EXPORTER_OTLP_HEADERS, the endpoint from
 * OTEL_EXPORTER_OTLP_ENDPOINT, severityNumber; and a collector that fails, throttles and
 * recovers — retries back off exponentially (with jitter), a Retry-After is honoured, and every
 * line arrives once in the end.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, expect, it } from 'vitest'
import { AuditStream, retryAfterMs } from '../../node/evidence/export-stream.js'
import { initHome } from '../../node/home.js'
import { NodeRuntime } from '../../node/runtime.js'

interface Answer { status: number, headers?: Record<string, string> }
interface Receiver {
  url: string
  server: Server
  script: Answer[]
  requests: Array<{ at: number, headers: IncomingHttpHeaders, records: any[] }>
}

// Answers from `script` in turn, then 200.
async function receiver (script: Answer[] = []): Promise<Receiver> {
  const r: Receiver = { url: '', server: createServer(), script, requests: [] }
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString())
      const records = body.resourceLogs.flatMap((rl: any) => rl.scopeLogs.flatMap((sl: any) => sl.logRecords))
      r.requests.push({ at: performance.now(), headers: req.headers, records })
      const answer = r.script.shift() ?? { status: 200 }
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.status === 200 ? '{}' : '')
    })
  })
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve))
  const addr = r.server.address()
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  return r
}

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.reverse()) await c(); cleanups = [] })

async function open (flags: Record<string, unknown>, env: Record<string, string> = {}): Promise<NodeRuntime> {
  const home = await mkdtemp(join(tmpdir(), 'aura-otlp-'))
  await initHome(home)
  const rt = await NodeRuntime.open(home, { env, flags: { 'audit.export.enabled': true, 'audit.export.format': 'otlp', ...flags } })
  cleanups.push(async () => { await rt.close(); await rm(home, { recursive: true, force: true }) })
  return rt
}

async function serve (script: Answer[] = []): Promise<Receiver> {
  const rx = await receiver(script)
  cleanups.push(async () => await new Promise<void>((resolve) => rx.server.close(() => resolve())))
  return rx
}

it('gzip, headers from aura.toml over OTEL_EXPORTER_OTLP_HEADERS, endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, severityNumber', async () => {
  const rx = await serve()
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme%20eu,authorization=Bearer%20from-env' }
  const rt = await open({ 'audit.export.headers': { authorization: 'Bearer from-config' } }, env)
  await rt.appendRecord({ kind: 'intent', text: 'tighten the token check' })
  await rt.audit('lockdown', { reason: 'incident 42' })
  const stream = await AuditStream.start(rt, { intervalMs: 60_000, env })
  await stream.stop()
  expect(stream.status()).toMatchObject({ endpoint: rx.url, exported: 2, lastError: null })
  expect(rx.requests).toHaveLength(1)
  const { headers, records } = rx.requests[0]
  expect(headers['content-encoding']).toBe('gzip')
  expect(headers.authorization).toBe('Bearer from-config')
  expect(headers['x-tenant']).toBe('acme eu')
  const bodies = records.map(
    (r: any) => ({
      type: JSON.parse(r.body.stringValue).type,
      severityNumber: r.severityNumber,
      severityText: r.severityText
    })
  )
  expect(bodies).toContainEqual({ type: 'record', severityNumber: 9, severityText: 'INFO' })
  expect(bodies).toContainEqual({ type: 'audit', severityNumber: 13, severityText: 'WARN' })
})

it('compression = "none" sends plain JSON', async () => {
  const rx = await serve()
  const rt = await open({ 'audit.export.endpoint': rx.url, 'audit.export.compression': 'none' })
  await rt.appendRecord({ kind: 'intent', text: 'plain' })
  const stream = await AuditStream.start(rt, { intervalMs: 60_000 })
  await stream.stop()
  expect(rx.requests[0].headers['content-encoding']).toBeUndefined()
})

it('a collector that fails, throttles and recovers: backoff doubles (with jitter), Retry-After is honoured, every line arrives once', async () => {
  const rx = await serve([{ status: 500 }, { status: 502 }, { status: 503 }, { status: 429, headers: { 'retry-after': '1' } }])
  const rt = await open({ 'audit.export.endpoint': rx.url })
  const a = await rt.appendRecord({ kind: 'intent', text: 'first' })
  const failures: string[] = []
  let recovered = 0
  // The timer ticks every 50 ms; jitter fixed at the middle: waits of 37.5, 75, 150 ms, then 1 s asked.
  const stream = await AuditStream.start(
    rt,
    { intervalMs: 50, random: () => 0.5, onFailure: (m) => failures.push(m), onRecovered: () => { recovered++ } }
  )
  cleanups.push(async () => await stream.stop())
  const busy = (): boolean => stream.status().pending + (stream.status().exported === 0 ? 1 : 0) > 0
  for (let i = 0; i < 100 && busy(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
  expect(stream.status()).toMatchObject({ exported: 1, pending: 0, lastError: null })
  expect(rx.requests).toHaveLength(5)
  const gaps = rx.requests.slice(1).map((r, i) => r.at - rx.requests[i].at)
  expect(gaps[0]).toBeGreaterThanOrEqual(37)
  expect(gaps[1]).toBeGreaterThanOrEqual(75)
  expect(gaps[2]).toBeGreaterThanOrEqual(150)
  expect(gaps[2]).toBeGreaterThan(gaps[0])
  expect(gaps[3]).toBeGreaterThanOrEqual(1000)
  expect(gaps[3]).toBeLessThan(1600)
  // Said once per run of failures, and the recovery once.
  expect(failures).toHaveLength(1)
  expect(failures[0]).toMatch(/HTTP 500/)
  expect(recovered).toBe(1)
  const ids = rx.requests.flatMap((r) => r.records.map((x: any) => JSON.parse(x.body.stringValue).id))
  expect(ids.filter((id) => id === a.id)).toHaveLength(5)
  expect(rx.requests[4].records.map((x: any) => JSON.parse(x.body.stringValue).id)).toEqual([a.id])
})

it('Retry-After as seconds or an HTTP date', () => {
  expect(retryAfterMs('3', 0)).toBe(3000)
  const now = Date.parse('2026-12-07T00:00:00Z')
  expect(retryAfterMs('Mon, 07 Dec 2026 00:00:10 GMT', now)).toBe(10_000)
  expect(retryAfterMs('soon', now)).toBeNull()
  expect(retryAfterMs(null, now)).toBeNull()
})
