/**
 * Continuous audit export (`[audit.export] enabled = true`): while the node runs, every record
 * it holds and every local audit event leaves the machine as the same lines `aura audit export`
 * prints, so the evidence survives even if this node (or the Mothership) is lost later.
 *
 * - `format = "jsonl"`: lines are appended to the file `endpoint`.
 * - `format = "otlp"`: lines are POSTed as OTLP/HTTP JSON logs to `<endpoint>/v1/logs` (one log
 *   record per line, the line as its string body, `aura.type` / `aura.id` attributes). Written
 *   by hand: the wire shape is a few fields, and the exporter must know whether each batch was
 *   accepted, which the OpenTelemetry SDK's batch processor does not tell its caller.
 *
 * What was exported is remembered in `<buffer_path>/export-state.json` (record ids, and hashes
 * of audit events), written after every accepted batch, so a restart neither repeats nor skips
 * lines. When the endpoint fails, `on_failure = "buffer"` keeps the lines pending — they are in
 * the node's store already — and retries every interval with the newest state; `"drop"` marks
 * them exported and records an `export-dropped` audit event with how many were lost.
 *
 * @example
 * const stream = await AuditStream.start(rt, { intervalMs: 1000 })
 * await stream.flush()          // also runs on its own every interval
 * stream.status()               // { exported, pending, lastError, ... }
 * await stream.stop()
 */
import { mkdir, readFile, rename, appendFile, writeFile } from 'node:fs/promises'
import { gzipSync } from 'node:zlib'
import { otelEndpoint } from '../config.js'
import { parseHeaderList } from '../config/values.js'
import { dirname, join } from 'node:path'
import { hashOf, type Json } from '../../crdt/canonical.js'
import { ConfigError, toAuraError } from '../../crdt/errors.js'
import type { NodeRuntime } from '../runtime.js'
import { layout } from '../store/layout.js'
import { auditLine, recordLine, type ExportLine } from './audit-export.js'
import { traceRecords } from './trace.js'

/** Options of AuditStream.start. */
export interface AuditStreamInit {
  /** How often pending lines are sent (default 1 s). */
  readonly intervalMs?: number
  /** Most lines per request (default 1,000). */
  readonly maxBatch?: number
  /** HTTP client (tests); default the global fetch. */
  readonly fetch?: typeof fetch
  /** Told when a send fails after succeeding (or at the first failure), with the cause in people's terms. */
  readonly onFailure?: (message: string, cause: string) => void
  /** Told when a send succeeds after failures. */
  readonly onRecovered?: () => void
  /** Environment, for OTEL_EXPORTER_OTLP_* (default process.env). */
  readonly env?: Record<string, string | undefined>
  /** Random source in [0, 1) for the backoff's jitter (default Math.random). */
  readonly random?: () => number
}

/** Where OTLP requests go and how. */
export interface OtlpTarget {
  readonly endpoint: string
  readonly headers: Record<string, string>
  readonly gzip: boolean
}

// Retries after a failure wait base * 2^(n-1), at most this long, with jitter (half fixed, half random).
const MAX_BACKOFF_MS = 300_000

/** What `aura status` shows of the export. */
export interface AuditStreamStatus {
  readonly format: 'jsonl' | 'otlp'
  readonly endpoint: string
  readonly exported: number
  readonly pending: number
  /** Lines dropped since the last success (`on_failure = "drop"`). */
  readonly dropped: number
  readonly lastSuccess: number | null
  readonly lastError: string | null
}

interface State { records: string[], audit: string[] }

const STATE_FILE = 'export-state.json'

/** The running export of one node. */
export class AuditStream {
  private readonly records = new Set<string>()
  private readonly audit = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private pending = 0
  private lastSuccess: number | null = null
  private lastError: string | null = null
  private dropped = 0
  // What the store held at the last complete flush: unchanged, there is nothing to look for.
  private seen: string | null = null

  private constructor (
    private readonly rt: NodeRuntime,
    private readonly format: 'jsonl' | 'otlp',
    private readonly endpoint: string,
    private readonly onFailure: 'buffer' | 'drop',
    private readonly stateFile: string,
    private readonly maxBatch: number,
    private readonly fetcher: typeof fetch,
    private readonly init: AuditStreamInit,
    private readonly target: OtlpTarget
  ) {}

  private failures = 0
  private retryAt = 0

  /** Starts exporting as `[audit.export]` says; E_CONFIG if it is enabled without an endpoint. */
  static async start (rt: NodeRuntime, init: AuditStreamInit = {}): Promise<AuditStream> {
    const cfg = rt.config.audit.export
    const target = otlpTarget(cfg, init.env ?? process.env)
    if (target.endpoint === '') {
      throw new ConfigError('[audit.export] enabled = true needs an endpoint (a URL for "otlp", a file path for "jsonl")', { key: 'audit.export.endpoint' })
    }
    // The config has made the paths absolute (a jsonl endpoint, buffer_path).
    const stream = new AuditStream(
      rt,
      cfg.format,
      target.endpoint,
      cfg.on_failure,
      join(cfg.buffer_path, STATE_FILE),
      init.maxBatch ?? 1000,
      init.fetch ?? fetch,
      init,
      target
    )
    await stream.loadState()
    // Every interval, unless a failure put the next attempt later (backoff, Retry-After).
    stream.timer = setInterval(() => { if (rt.now() >= stream.retryAt) void stream.flush() }, init.intervalMs ?? 1000)
    stream.timer.unref()
    return stream
  }

  /** Sends what is pending (at most one flush at a time); never throws. */
  async flush (): Promise<void> {
    this.running ??= this.flushOnce().finally(() => { this.running = undefined })
    await this.running
  }

  /** Stops the timer after one last flush. */
  async stop (): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  status (): AuditStreamStatus {
    return {
      format: this.format,
      endpoint: this.endpoint,
      exported: this.records.size + this.audit.size,
      pending: this.pending,
      dropped: this.dropped,
      lastSuccess: this.lastSuccess,
      lastError: this.lastError
    }
  }

  private async flushOnce (): Promise<void> {
    const seen = await this.storeVersion()
    if (seen === this.seen) return
    let batch: Array<{ key: string, kind: 'record' | 'audit', ts: number, line: ExportLine }>
    try {
      batch = await this.pendingLines()
    } catch (err) {
      this.lastError = toAuraError(err).message
      return
    }
    this.pending = batch.length
    while (batch.length > 0) {
      const part = batch.splice(0, this.maxBatch)
      try {
        await this.send(part.map((p) => p.line))
        if (this.lastError !== null) this.init.onRecovered?.()
        this.lastSuccess = this.rt.now()
        this.lastError = null
        this.failures = 0
        this.retryAt = 0
      } catch (err) {
        const cause = failureCause(err)
        const first = this.lastError === null
        this.lastError = `${this.format} export to ${this.endpoint} failed: ${cause}`
        if (first) this.init.onFailure?.(this.lastError, cause)
        this.failures++
        this.retryAt = this.rt.now() + this.retryDelay(err)
        // Buffered: still pending, retried next interval (the lines are in the node's store).
        if (this.onFailure === 'buffer') return
        // Dropped: one audit event per run of failures (that event is a line to export too).
        if (this.dropped === 0) await this.rt.audit('export-dropped', { lines: part.length, message: this.lastError }).catch(() => {})
        this.dropped += part.length
      }
      if (this.lastError === null) this.dropped = 0
      for (const p of part) (p.kind === 'record' ? this.records : this.audit).add(p.key)
      this.pending -= part.length
      await this.saveState()
    }
    if (this.lastError === null) this.seen = seen
  }

  // Changes whenever a record or an event is added: the log's size and the event counter.
  private async storeVersion (): Promise<string> {
    const counter = await this.rt.store.kv.get(layout.counter)
    return `${this.rt.store.intent.log.size}/${counter === undefined ? 0 : Buffer.from(counter).toString()}`
  }

  // Every line not exported yet, oldest first.
  private async pendingLines (): Promise<Array<{ key: string, kind: 'record' | 'audit', ts: number, line: ExportLine }>> {
    const out: Array<{ key: string, kind: 'record' | 'audit', ts: number, line: ExportLine }> = []
    for (const row of traceRecords(this.rt, { receipts: true })) {
      if (this.records.has(row.id)) continue
      const l = recordLine(this.rt, row)
      if (l !== undefined) out.push({ key: row.id, kind: 'record', ...l })
    }
    for (const event of await this.rt.store.audit.list()) {
      const key = hashOf(event)
      if (this.audit.has(key)) continue
      out.push({ key, kind: 'audit', ...auditLine(this.rt, event) })
    }
    return out.sort((a, b) => a.ts - b.ts)
  }

  private async send (lines: ExportLine[]): Promise<void> {
    if (this.format === 'jsonl') {
      await mkdir(dirname(this.endpoint), { recursive: true })
      await appendFile(this.endpoint, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
      return
    }
    const req = otlpRequest(this.target, otlpLogs(this.rt, lines))
    const res = await this.fetcher(req.url, { ...req.init, signal: AbortSignal.timeout(10_000) })
    // Drain the body so the connection is reused.
    await res.arrayBuffer().catch(() => undefined)
    if (!res.ok) throw new HttpError(res.status, res.statusText, retryAfterMs(res.headers.get('retry-after'), this.rt.now()))
  }

  // Exponential from the interval, with jitter so many nodes do not retry in step; a collector's
  // Retry-After (429, 503) is honoured as given, within the same ceiling.
  private retryDelay (err: unknown): number {
    if (err instanceof HttpError && err.retryAfterMs !== null) return Math.min(err.retryAfterMs, MAX_BACKOFF_MS)
    const base = this.init.intervalMs ?? 1000
    const ceiling = Math.min(MAX_BACKOFF_MS, base * 2 ** Math.min(this.failures - 1, 30))
    return ceiling / 2 + (this.init.random ?? Math.random)() * ceiling / 2
  }

  private async loadState (): Promise<void> {
    let text: string
    try {
      text = await readFile(this.stateFile, 'utf8')
    } catch {
      return
    }
    try {
      const s = JSON.parse(text) as State
      for (const id of s.records) this.records.add(id)
      for (const id of s.audit) this.audit.add(id)
    } catch {
      // A torn state file (the write is atomic, so only from outside): export everything again;
      // repeating lines is better than losing them.
    }
  }

  private async saveState (): Promise<void> {
    await mkdir(dirname(this.stateFile), { recursive: true })
    const tmp = `${this.stateFile}.tmp`
    await writeFile(tmp, JSON.stringify({ records: [...this.records], audit: [...this.audit] } satisfies State))
    await rename(tmp, this.stateFile)
  }
}

// OTLP/HTTP JSON logs: one log record per line.
function otlpLogs (rt: NodeRuntime, lines: ExportLine[]): Json {
  const str = (key: string, value: string): Json => ({ key, value: { stringValue: value } })
  return {
    resourceLogs: [{
      resource: { attributes: [str('service.name', 'aura-node'), str('aura.node', rt.key), str('aura.peer', rt.identity.shortId)] },
      scopeLogs: [{
        scope: { name: 'aura.audit' },
        logRecords: lines.map((line) => {
          const ts = lineTime(line)
          const attrs = [str('aura.type', String(line.type))]
          if (typeof line.id === 'string') attrs.push(str('aura.id', line.id))
          if (typeof line.status === 'string') attrs.push(str('aura.status', line.status))
          const [severityNumber, severityText] = severityOf(line)
          return { timeUnixNano: `${ts}000000`, severityNumber, severityText, body: { stringValue: JSON.stringify(line) }, attributes: attrs }
        })
      }]
    }]
  }
}

function lineTime (line: ExportLine): number {
  const holder = (line.type === 'record' ? line.record : line.event) as Record<string, Json> | null
  return typeof holder?.ts === 'number' ? holder.ts : 0
}

/**
 * Why a send failed, in the operator's terms: fetch says only "fetch failed" and keeps the
 * reason (DNS, refused connection, TLS) in `cause`.
 */
export function failureCause (err: unknown): string {
  const e = err as { name?: string, message?: string, cause?: { code?: string, message?: string } } | undefined
  const code = e?.cause?.code
  const detail = e?.cause?.message ?? e?.message ?? String(err)
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout: no answer within 10 s'
  if (code === undefined) return toAuraError(err).message
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `DNS: ${detail}`
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'UND_ERR_SOCKET') return `connection: ${detail}`
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return `TLS: ${detail}`
  return `${code}: ${detail}`
}

/**
 * Where and how to send: `[audit.export] endpoint`, else OTEL_EXPORTER_OTLP_LOGS_ENDPOINT /
 * OTEL_EXPORTER_OTLP_ENDPOINT; headers from OTEL_EXPORTER_OTLP_HEADERS overlaid by `headers`.
 */
export function otlpTarget (cfg: { format: string, endpoint: string | null, headers: Record<string, string>, compression: 'gzip' | 'none' }, env: Record<string, string | undefined>): OtlpTarget {
  const endpoint = cfg.endpoint ?? (cfg.format === 'otlp' ? otelEndpoint(env) : null) ?? ''
  const fromEnv = env.OTEL_EXPORTER_OTLP_HEADERS === undefined ? {} : parseHeaderList(env.OTEL_EXPORTER_OTLP_HEADERS)
  return { endpoint, headers: { ...fromEnv, ...cfg.headers }, gzip: cfg.compression === 'gzip' }
}

/**
 * The OTLP/HTTP logs request for `body`: `<endpoint>/v1/logs`
 * (unless it already ends so), JSON, gzipped unless asked not to.
 */
export function otlpRequest (target: OtlpTarget, body: Json): { url: string, init: RequestInit } {
  const base = target.endpoint.replace(/\/+$/, '')
  const url = base.endsWith('/v1/logs') ? base : `${base}/v1/logs`
  const json = JSON.stringify(body)
  const headers: Record<string, string> = { ...target.headers, 'content-type': 'application/json' }
  if (target.gzip) headers['content-encoding'] = 'gzip'
  return { url, init: { method: 'POST', headers, body: target.gzip ? gzipSync(json) : json } }
}

/** A collector's refusal: its status, and how long it asked us to wait (Retry-After), if it did. */
class HttpError extends Error {
  constructor (readonly status: number, statusText: string, readonly retryAfterMs: number | null) {
    super(`HTTP ${status} ${statusText}${retryAfterMs === null ? '' : ` (retry after ${Math.round(retryAfterMs / 1000)} s)`}`)
  }
}

/** Milliseconds a Retry-After header asks for (seconds, or an HTTP date); null if absent or unreadable. */
export function retryAfterMs (value: string | null, now: number): number | null {
  if (value === null || value.trim() === '') return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isNaN(at) ? null : Math.max(0, at - now)
}

// OTLP severities: WARN (13) for what an incident responder looks for first, INFO (9) otherwise.
const WARN_EVENTS = new Set(['join-refused', 'protocol-error', 'lockdown', 'revoke-peer', 'revoke-token', 'revoke-agent', 'revoke-agents', 'export-dropped', 'store-lost-writes', 'actor-claimed', 'rotate-key'])
function severityOf (line: ExportLine): [number, string] {
  if (line.type === 'record') return line.status === 'quarantined' ? [13, 'WARN'] : [9, 'INFO']
  const type = (line.event as Record<string, Json> | undefined)?.type
  return typeof type === 'string' && (WARN_EVENTS.has(type) || type.startsWith('sync-')) ? [13, 'WARN'] : [9, 'INFO']
}
