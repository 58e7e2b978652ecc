/**
 * The incident page (`aura ui`): a small HTTP server in the daemon, on 127.0.0.1 only, that shows
 * the team, the revocation front, evidence and tokens, live. Security model (docs/architecture.md):
 *
 * 1. It listens on 127.0.0.1 alone; a request whose Host is not `127.0.0.1:PORT` is refused
 *    (a DNS-rebinding page cannot borrow the session).
 * 2. Nothing is served without a session. A session starts from a one-time login URL
 *    (`/login?token=...`, 32 random bytes) that `aura ui` prints; the token works once, then an
 *    HttpOnly, SameSite=Strict cookie carries a fresh random session id.
 * 3. Every answer carries a strict Content-Security-Policy; the page loads nothing from outside.
 * 4. Actions are POSTs, accepted only with `--actions`, on the Mothership, from a session, with
 *    an Origin header equal to this server's origin and a JSON body; they run the same operation
 *    code (node/operations.ts) as the CLI line the page shows before confirming.
 *
 * @example
 * const ui = await startUiServer({ rt, run, port: 0, actions: false })
 * ui.loginUrl()   // http://127.0.0.1:PORT/login?token=...
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AuraError, PermissionsError, UsageError, toAuraError } from '../../crdt/errors.js'
import type { NodeRuntime } from '../runtime.js'
import { ACTIONS, actionCli, actionParams, type ActionName } from './actions.js'
import { loadAssets, type Asset } from './assets.js'
import { incidentState, identityEvidence, intentEvidence, reviewEvidence, tokenEvidence, type RunOperation } from './state.js'

/** The page's Content-Security-Policy: nothing but this origin, no inline script or style. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** Only loopback: the page is for the operator at this machine. */
export const UI_HOST = '127.0.0.1'

// The page is pushed a new state when the chain or the records change; checked this often.
const WATCH_MS = 200
const KEEPALIVE_MS = 15_000
// After a state build of T ms, wait 3 T before the next: the page costs the daemon at most 1/4.
const BUILD_SHARE_WAIT = 3
const MAX_BODY_BYTES = 16_384
const MAX_SESSIONS = 64
const COOKIE = 'aura_ui'

/** What the daemon gives the page server. */
export interface UiServerInit {
  rt: NodeRuntime
  /** Runs an operation of node/operations.ts with the daemon's live state. */
  run: RunOperation
  port: number
  actions: boolean
  /** Where workspace operations (pr-review) look for the workspace when `[workspace] path` is unset. */
  cwd?: string
}

/** A running page server. */
export interface UiServer {
  readonly port: number
  readonly actions: boolean
  /** A new one-time login URL (the previous unused one stops working). */
  loginUrl: () => string
  close: () => Promise<void>
}

/** Starts the page server on 127.0.0.1:`port` (0: a free port). */
export async function startUiServer (init: UiServerInit): Promise<UiServer> {
  const assets = await loadAssets()
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host: UI_HOST, port: init.port, exclusive: true }, () => { server.off('error', reject); resolve() })
  })
  return new UiServerImpl(init, server, assets)
}

class UiServerImpl implements UiServer {
  readonly port: number
  readonly actions: boolean
  private loginToken: Buffer | null = null
  private readonly sessions = new Set<string>()
  private readonly streams = new Set<ServerResponse>()
  private watch: NodeJS.Timeout | undefined
  private keepalive: NodeJS.Timeout | undefined
  private fingerprint = ''
  private pushing = false
  private nextBuild = 0

  constructor (
    private readonly init: UiServerInit,
    private readonly server: Server,
    private readonly assets: Map<string, Asset>
  ) {
    this.port = (server.address() as AddressInfo).port
    this.actions = init.actions
    server.on('request', (req, res) => { void this.handle(req, res).catch((err) => this.fail(res, toAuraError(err))) })
  }

  get origin (): string { return `http://${UI_HOST}:${this.port}` }

  loginUrl (): string {
    const token = randomBytes(32)
    this.loginToken = token
    return `${this.origin}/login?token=${token.toString('base64url')}`
  }

  async close (): Promise<void> {
    clearInterval(this.watch)
    clearInterval(this.keepalive)
    for (const s of this.streams) s.end()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin)
    if (req.headers.host !== `${UI_HOST}:${this.port}`) return this.refuse(res, 403, `this page answers only at ${this.origin} (Host was '${req.headers.host ?? ''}')`)
    if (url.pathname === '/login' && req.method === 'GET') return this.login(url, res)
    if (!this.hasSession(req)) return this.refuse(res, 401, 'no session: open the one-time login URL `aura ui` prints')
    if (req.method === 'POST') return await this.post(url, req, res)
    if (req.method !== 'GET') return this.refuse(res, 405, `${req.method ?? '?'} is not served here`)
    const asset = this.assets.get(url.pathname === '/' ? '/index.html' : url.pathname)
    if (asset !== undefined) return this.send(res, 200, asset.type, asset.body)
    const q = (name: string): string | undefined => url.searchParams.get(name) ?? undefined
    switch (url.pathname) {
      case '/api/state': return this.json(res, await this.state())
      case '/api/events': return this.events(res)
      case '/api/identity': return this.json(res, await identityEvidence(this.init.run, { id: required(q('id'), 'id'), since: q('since') }))
      case '/api/token': return this.json(res, await tokenEvidence(this.init.run, required(q('jti'), 'jti')))
      case '/api/intent': return this.json(res, await intentEvidence(this.init.run, required(q('id'), 'id')))
      case '/api/review': return this.json(res, await reviewEvidence(this.init.run, { since: q('since'), cwd: this.init.cwd }))
    }
    this.refuse(res, 404, `no page ${url.pathname}`)
  }

  private login (url: URL, res: ServerResponse): void {
    const given = Buffer.from(url.searchParams.get('token') ?? '', 'base64url')
    const token = this.loginToken
    if (token === null || given.length !== token.length || !timingSafeEqual(given, token)) {
      return this.refuse(res, 401, 'this login URL is not valid (each works once): run `aura ui` for a new one')
    }
    this.loginToken = null
    const session = randomBytes(32).toString('base64url')
    if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.values().next().value as string)
    this.sessions.add(session)
    res.writeHead(303, { ...this.headers(), Location: '/', 'Set-Cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/` })
    res.end()
  }

  private hasSession (req: IncomingMessage): boolean {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [k, v] = part.trim().split('=')
      if (k === COOKIE && v !== undefined && this.sessions.has(v)) return true
    }
    return false
  }

  private async post (url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.origin !== this.origin) return this.refuse(res, 403, `refused: a POST must come from ${this.origin} (Origin was '${req.headers.origin ?? 'none'}')`)
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return this.refuse(res, 415, 'a POST carries JSON (Content-Type: application/json)')
    if (url.pathname !== '/api/action') return this.refuse(res, 404, `no action at ${url.pathname}`)
    if (!this.actions) return this.refuse(res, 403, 'actions are off: start the page with `aura ui --actions` on the Mothership')
    if (this.init.rt.mothershipKey === null) return this.refuse(res, 403, 'actions run only on the Mothership')
    const body = await readJson(req)
    const name = String(body.action ?? '')
    if (!Object.hasOwn(ACTIONS, name)) throw new UsageError(`unknown action '${name}': ${Object.keys(ACTIONS).join(', ')}`)
    const params = actionParams(name as ActionName, body.params ?? {})
    const cli = actionCli(name as ActionName, params)
    // The confirmation shows the CLI line first: a preview checks the parameters and runs nothing.
    if (body.preview === true) return this.json(res, { action: name, cli, preview: true })
    const result = await this.init.run(ACTIONS[name as ActionName].operation, params)
    this.json(res, { action: name, cli, result })
  }

  private async state (): Promise<unknown> {
    return await incidentState(
      this.init.rt,
      this.init.run,
      { actions: this.actions && this.init.rt.mothershipKey !== null }
    )
  }

  private events (res: ServerResponse): void {
    res.writeHead(200, { ...this.headers(), 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
    this.streams.add(res)
    res.on('close', () => { this.streams.delete(res); if (this.streams.size === 0) this.idle() })
    void this.push([res])
    if (this.watch === undefined) {
      this.fingerprint = this.currentFingerprint()
      this.watch = setInterval(() => this.check(), WATCH_MS)
      this.keepalive = setInterval(() => { for (const s of this.streams) s.write(': keepalive\n\n') }, KEEPALIVE_MS)
    }
  }

  private idle (): void {
    clearInterval(this.watch)
    clearInterval(this.keepalive)
    this.watch = undefined
    this.keepalive = undefined
  }

  // Cheap to read every tick: a new chain entry, record (receipts included) or connection changes it.
  private currentFingerprint (): string {
    const rt = this.init.rt
    return `${rt.chain?.head.seq ?? -1}:${rt.store.intent.log.size}`
  }

  // At most one state is being built at a time, and building takes at most a quarter of the
  // daemon's time (a build costs ~16 ms per 1,000 records: bench/ui-state.ts); a change made
  // meanwhile is sent on a later tick.
  private check (): void {
    if (this.pushing || performance.now() < this.nextBuild) return
    const now = this.currentFingerprint()
    if (now === this.fingerprint) return
    this.fingerprint = now
    this.pushing = true
    const started = performance.now()
    void this.push([...this.streams]).finally(() => {
      this.pushing = false
      this.nextBuild = performance.now() + BUILD_SHARE_WAIT * (performance.now() - started)
    })
  }

  private async push (to: ServerResponse[]): Promise<void> {
    let data: string
    try {
      data = JSON.stringify(await this.state())
    } catch (err) {
      data = JSON.stringify({ error: toAuraError(err).toJSON() })
    }
    for (const s of to) s.write(`event: state\ndata: ${data}\n\n`)
  }

  private headers (): Record<string, string> {
    return {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin'
    }
  }

  private send (res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { ...this.headers(), 'Content-Type': type, 'Cache-Control': 'no-store' })
    res.end(body)
  }

  private json (res: ServerResponse, data: unknown): void {
    this.send(res, 200, 'application/json; charset=utf-8', JSON.stringify(data))
  }

  private refuse (res: ServerResponse, status: number, message: string): void {
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: new PermissionsError(message).toJSON() }))
  }

  private fail (res: ServerResponse, err: AuraError): void {
    if (res.headersSent) { res.end(); return }
    const status = err.code === 'E_USAGE' ? 400 : err.code === 'E_NOT_FOUND' || err.code === 'E_AMBIGUOUS' ? 404 : err.code === 'E_INTERNAL' ? 500 : 409
    this.send(res, status, 'application/json; charset=utf-8', JSON.stringify({ error: err.toJSON() }))
  }
}

function required (v: string | undefined, name: string): string {
  if (v === undefined || v.trim() === '') throw new UsageError(`missing ${name}`)
  return v
}

async function readJson (req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new UsageError(`the request body is over ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  try {
    const v: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object')
    return v as Record<string, any>
  } catch (err) {
    throw new UsageError(`the request body is not a JSON object: ${(err as Error).message}`)
  }
}

/**
 * The page server a `ui` control call asks for (`aura ui --port N --actions`), kept in `holder`:
 * the running one when it fits, else a new one (on the same port unless another is asked for).
 */
export async function ensureUiServer (holder: { server: UiServer | null }, p: Record<string, unknown>, init: Pick<UiServerInit, 'rt' | 'run'>): Promise<UiServer> {
  const port = p.port === undefined ? 0 : Number(p.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a port number 0-65535 (0: any free port), got '${String(p.port)}'`)
  const actions = p.actions === true
  const current = holder.server
  if (current !== null && (port === 0 || port === current.port) && actions === current.actions) return current
  holder.server = null
  await current?.close()
  holder.server = await startUiServer({ ...init, port: port === 0 ? current?.port ?? 0 : port, actions, ...(typeof p.cwd === 'string' ? { cwd: p.cwd } : {}) })
  return holder.server
}
