/**
 * Continuous audit export against a real OTLP/HTTP receiver on 127.0.0.1 and a real jsonl file:
 * every record and audit event arrives once, a failing endpoint buffers (or drops, as
 * configured), and a restart neither repeats nor skips lines.
 */
import { createServer, type Server } from 'node:http'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { AuditStream } from '../../node/evidence/export-stream.js'
import { initHome } from '../../node/home.js'
import { NodeRuntime } from '../../node/runtime.js'

interface Receiver { url: string, status: number, requests: number, lines: any[], server: Server }

async function receiver (): Promise<Receiver> {
  const r: Receiver = { url: '', status: 200, requests: 0, lines: [], server: createServer() }
  r.server.on('request', (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      r.requests++
      if (req.url !== '/v1/logs' || req.method !== 'POST' || r.status !== 200) {
        res.writeHead(req.url !== '/v1/logs' ? 404 : r.status).end()
        return
      }
      const raw = Buffer.concat(chunks)
      const body = JSON.parse((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString())
      for (const rl of body.resourceLogs) {
        for (const sl of rl.scopeLogs) {
          for (const lr of sl.logRecords) {
            r.lines.push(
              { ...JSON.parse(lr.body.stringValue), attrs: lr.attributes, time: lr.timeUnixNano }
            )
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve))
  const addr = r.server.address()
  r.url = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`
  return r
}

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.reverse()) await c(); cleanups = [] })

async function node (flags: Record<string, unknown>): Promise<{ home: string, open: () => Promise<NodeRuntime> }> {
  const home = await mkdtemp(join(tmpdir(), 'aura-export-'))
  await initHome(home)
  cleanups.push(async () => await rm(home, { recursive: true, force: true }))
  return { home, open: async () => await NodeRuntime.open(home, { flags: { 'audit.export.enabled': true, ...flags } }) }
}

describe('continuous audit export', () => {
  it('sends every record and audit event once over OTLP/HTTP, buffers while the collector fails, and resumes after a restart without repeats', async () => {
    const rx = await receiver()
    cleanups.push(async () => await new Promise<void>((resolve) => rx.server.close(() => resolve())))
    const n = await node({ 'audit.export.format': 'otlp', 'audit.export.endpoint': rx.url })
    let rt = await n.open()
    const a = await rt.appendRecord({ kind: 'intent', text: 'move the token check first' })
    await rt.audit('lockdown', { reason: 'incident 42' })
    let stream = await AuditStream.start(rt, { intervalMs: 60_000 })
    await stream.flush()
    expect(rx.lines.map((l) => l.type).sort()).toEqual(['audit', 'record'])
    const rec = rx.lines.find((l) => l.type === 'record')
    expect(rec.id).toBe(a.id)
    expect(rec.verified).toBe(true)
    expect(rec.attrs).toContainEqual({ key: 'aura.id', value: { stringValue: a.id } })
    expect(rx.lines.find((l) => l.type === 'audit').event.reason).toBe('incident 42')
    expect(stream.status()).toMatchObject({ exported: 2, pending: 0, lastError: null })

    // The collector fails: the new record stays pending, and arrives once it is back.
    rx.status = 503
    const b = await rt.appendRecord({ kind: 'intent', text: 'second' })
    await stream.flush()
    expect(stream.status()).toMatchObject({ pending: 1, exported: 2 })
    expect(stream.status().lastError).toMatch(/HTTP 503/)
    expect(rx.lines.some((l) => l.id === b.id)).toBe(false)
    rx.status = 200
    await stream.flush()
    expect(stream.status()).toMatchObject({ pending: 0, exported: 3, lastError: null })
    expect(rx.lines.filter((l) => l.id === b.id)).toHaveLength(1)

    // Nothing new: no request at all.
    const before = rx.requests
    await stream.flush()
    expect(rx.requests).toBe(before)

    // A restart remembers what was sent.
    await stream.stop()
    await rt.close()
    rt = await n.open()
    cleanups.push(async () => await rt.close())
    const c = await rt.appendRecord({ kind: 'intent', text: 'third' })
    stream = await AuditStream.start(rt, { intervalMs: 60_000 })
    await stream.stop()
    const ids = rx.lines.filter((l) => l.type === 'record').map((l) => l.id)
    expect(ids.sort()).toEqual([a.id, b.id, c.id].sort())
  })

  it('drops what a failing collector refuses when on_failure = "drop", and says so once in the audit log', async () => {
    const rx = await receiver()
    cleanups.push(async () => await new Promise<void>((resolve) => rx.server.close(() => resolve())))
    rx.status = 500
    const n = await node({ 'audit.export.format': 'otlp', 'audit.export.endpoint': rx.url, 'audit.export.on_failure': 'drop' })
    const rt = await n.open()
    cleanups.push(async () => await rt.close())
    await rt.appendRecord({ kind: 'intent', text: 'lost to the collector' })
    const stream = await AuditStream.start(rt, { intervalMs: 60_000 })
    await stream.flush()
    await stream.flush()
    await stream.flush()
    expect(stream.status().pending).toBe(0)
    expect(stream.status().dropped).toBeGreaterThan(0)
    const dropped = (await rt.store.audit.list()).filter((e) => e.type === 'export-dropped')
    expect(dropped).toHaveLength(1)
    await stream.stop()
  })

  it('appends the same lines to a file when format = "jsonl"', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aura-siem-'))
    cleanups.push(async () => await rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'siem', 'audit.jsonl')
    const n = await node({ 'audit.export.format': 'jsonl', 'audit.export.endpoint': file })
    const rt = await n.open()
    cleanups.push(async () => await rt.close())
    const a = await rt.appendRecord({ kind: 'intent', text: 'to the file' })
    const stream = await AuditStream.start(rt, { intervalMs: 60_000 })
    await stream.flush()
    await rt.audit('unlock', {})
    await stream.stop()
    expect(stream.status().lastError).toBeNull()
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.type)).toEqual(['record', 'audit'])
    expect(lines[0].id).toBe(a.id)
    expect(lines[1].event.type).toBe('unlock')
  })
})
