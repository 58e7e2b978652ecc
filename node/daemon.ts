/**
 * The daemon: a NodeRuntime kept open, a libp2p host, the sync engine, the peer core (node/peer/:
 * the gate, revocations, the reconnect loop, beacons, receipts, anti-entropy and keep-alive) on
 * Node's timers, and the control socket the CLI talks to.
 * Stops cleanly on SIGINT/SIGTERM: connections closed, store flushed.
 *
 * @example
 * const d = await startDaemon(home, { flags: { 'node.listen': ['/ip4/127.0.0.1/tcp/0'] } })
 * await d.stopped   // resolves after `aura node stop` or a signal
 */
import { randomBytes, randomInt } from 'node:crypto'
import { AuraError, NotAdmittedError, toAuraError } from '../crdt/errors.js'
import { shortId, type KeyId } from '../crdt/ids.js'
import type { KeyRevocation } from '../crdt/authority-view.js'
import { startControlServer, type ControlServer } from './control/server.js'
import { createHost, type Host } from './net/host.js'
import { addressInUse, isAddressInUse } from './net/listen-error.js'
import { ADDRS_PROTOCOL, AddressBook } from './net/address-book.js'
import { keyIdFromMultiaddr, keyIdFromPeerId } from './net/peer-identity.js'
import { SYNC_PROTOCOL } from './net/protocols.js'
import { JOIN_AUDIT_UNISSUED, JOIN_PROTOCOL, JOIN_REQUEST_BYTES, JoinDesk } from './mothership/join.js'
import { loadObservedAddresses, saveListenAddresses, saveObservedAddresses } from './mothership/addresses.js'
import { AuditStream } from './evidence/export-stream.js'
import { createDaemonLog, type DaemonLog } from './log/daemon-log.js'
import { ConfigReloader, checkCallOverrides, type CallOverrides } from './config-reload.js'
import { OPERATIONS, operationRows, runOperation } from './operations.js'
import type { DaemonControls, LiveState, OperationContext } from './operation.js'
import { ControlStream } from './control/protocol.js'
import { NodeRuntime, type RuntimeOptions } from './runtime.js'
import { PeerCore } from './peer/index.js'
import { FUTURE_TOLERANCE_MS } from '../crdt/write-rules.js'
import { SyncEngine } from './sync/engine.js'
import { SignaturePool } from './verify/pool.js'
import { startAutoApply, type AutoApply } from './workspace-node/auto-apply.js'
import type { UiServer } from './ui/server.js'
import { unappliedSummary } from './workspace-node/apply-ops.js'

/** A running daemon. */
export interface Daemon {
  readonly rt: NodeRuntime
  readonly host: Host
  /** Resolves once the daemon has stopped. */
  readonly stopped: Promise<void>
  stop: () => Promise<void>
}

// Control calls that can change which received changes the workspace has applied.
const WORKSPACE_WRITERS = new Set(['apply', 'conflicts', 'rewind'])

/** Starts the daemon on `home`. */
export async function startDaemon (home: string, opts: RuntimeOptions = {}): Promise<Daemon> {
  // The store's lock makes a second daemon on the same home fail here with E_DAEMON_RUNNING.
  const rt = await NodeRuntime.open(home, opts)
  const log = createDaemonLog(
    home,
    { level: rt.config.log.level, maxBytes: rt.config.log.max_size, keep: rt.config.log.keep }
  )
  const d = new DaemonImpl(rt, log)
  try {
    await d.startHost()
    await d.startControl()
    await d.startAutoApply()
    await d.startAuditExport()
    log.info({ event: 'started', peer: rt.identity.shortId, peerId: rt.identity.peerId, listen: d.host.addresses(), team: rt.chain?.team ?? null }, `daemon ${rt.identity.shortId} started`)
    d.warmUp()
    return d
  } catch (err) {
    const e = toAuraError(err)
    log.error({ event: 'start-failed', code: e.code, ...e.context }, `start-up failed: ${e.message}`)
    await d.stop().catch(() => {})
    throw err
  }
}

class DaemonImpl implements Daemon {
  host!: Host
  engine: SyncEngine | null = null
  readonly stopped: Promise<void>
  private resolveStopped!: () => void
  private book!: AddressBook
  // Addresses peers saw this node at (identify), newest last: how it looks from outside a NAT.
  private readonly observed: string[] = []
  private control: ControlServer | undefined
  private lastRefusal: LiveState['lastRefusal'] = null
  // Admission, revocations, dialling, beacons, receipts, anti-entropy (node/peer/), shared with the simulator.
  private readonly peer: PeerCore
  private readonly startedAt: number
  private stopping: Promise<void> | undefined
  private autoApply: AutoApply | null = null
  private reloader: ConfigReloader | null = null
  private auditStream: AuditStream | null = null
  private readonly ui: { server: UiServer | null } = { server: null }

  // Signatures of incoming records are checked on worker threads while the main thread decodes.
  private readonly signatures = SignaturePool.start()

  // Refusals by this node's gate, per key: logged at the 1st, 2nd, 4th, 8th… so a peer redialling cannot flood the log.
  private readonly refusedKeys = new Map<KeyId, number>()
  private loggedSeq = -1

  constructor (readonly rt: NodeRuntime, readonly log: DaemonLog) {
    rt.store.intent.log.useSignatureBatches(() => this.signatures.batch())
    this.stopped = new Promise((resolve) => { this.resolveStopped = resolve })
    this.startedAt = rt.now()
    this.peer = new PeerCore({
      localKey: rt.key,
      chain: () => this.rt.chain,
      isMothership: () => this.rt.mothershipKey !== null,
      signingKey: () => this.rt.mothershipKey,
      engines: () => this.engine === null ? [] : [this.engine],
      now: () => this.rt.now(),
      random: secureRandom,
      // When each revocation took effect here and when the last connection to the key was
      // closed: epoch ms with sub-ms precision, for tests and the bench.
      stamp: preciseNow,
      scheduler: { setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (h) => clearTimeout(h as NodeJS.Timeout) },
      dial: {
        connect: (addr, done) => { this.connect(addr).then(() => done(null), (err: Error) => done(err)) },
        isConnected: (key, addr) => {
          if (this.engine?.connectedPeers().includes(key) !== true) return false
          return addr.includes('/p2p-circuit') || this.host.connectionInfo().some((c) => c.key === key && c.via === 'direct')
        },
        keyOf: keyIdFromMultiaddr
      },
      links: {
        hangUp: (key, err) => { this.host.cut(key, err) },
        forget: (key) => { void this.book.forget(key).catch(() => {}) }
      },
      receipts: {
        records: () => this.rt.store.intent.log.records(),
        workspace: async () => await unappliedSummary(this.rt),
        write: async (data) => await this.rt.appendRecord({ kind: 'receipt', text: '', data })
      }
    }, {
      beaconIntervalMs: rt.config.mothership.beacon_interval * 1000,
      receiptIntervalMs: rt.config.sync.receipt_interval * 1000,
      antiEntropyMs: rt.config.sync.anti_entropy_interval * 1000,
      keepAliveMs: keepAliveMs(rt)
    }, {
      refused: (
        key,
        direction,
        err,
        address
      ) => { if (address !== undefined) this.logRefusal(key, direction, address, err) },
      revocationApplied: (key, r) => this.logRevocation(key, r),
      receiptFailed: (err) => this.fail('writing a receipt', err)
    })
  }

  async startHost (): Promise<Host> {
    const cfg = this.rt.config
    const hostInit = (listen: string[]): Parameters<typeof createHost>[0] => ({
      seed: this.rt.identity.keyPair.seed,
      listen,
      gate: (key, direction, address) => this.peer.gate(key, direction, address),
      maxFrameBytes: cfg.sync.max_frame_bytes,
      unadmittedBytes: cfg.sync.unadmitted_bytes,
      handshakeTimeoutMs: cfg.sync.handshake_timeout * 1000,
      idleTimeoutMs: cfg.sync.idle_timeout * 1000,
      maxStreamsPerKey: cfg.sync.max_sessions_per_key,
      maxUnadmitted: cfg.sync.max_unadmitted_sessions,
      onProtocolError: (err, info) => {
        void this.rt.audit('protocol-error', { peer: info.remote, protocol: info.protocol, code: err.code, message: err.message }).catch(() => {})
      },
      reach: {
        relayClient: true,
        relayServe: () => this.servesRelay(),
        // mDNS multicasts on every interface: a node listening on loopback alone has nothing to
        // announce to the LAN, and tests on 127.0.0.1 must never reach a real network.
        mdns: cfg.node.mdns && !listen.every(isLoopback),
        announce: cfg.node.announce,
        admitted: (key) => this.peer.admitted(key)
      },
      onPeerAddresses: (key, addrs, how) => { void this.book?.learn(key, addrs, how === 'mdns' ? 'mdns' : 'peer').catch(() => {}) },
      onObservedAddress: (addr) => this.observe(addr)
    })
    const source = this.rt.loaded.sources['node.listen']
    try {
      this.host = await createHost(hostInit(cfg.node.listen))
    } catch (err) {
      if (!isAddressInUse(err)) throw err
      // Several homes on one machine all default to port 7447: when the default is taken, take
      // any free port rather than fail. An address the operator chose is never replaced.
      if (source?.kind !== 'default') throw addressInUse(err, cfg.node.listen, source)
      this.host = await createHost(hostInit(cfg.node.listen.map((a) => a.replace(/\/tcp\/\d+/, '/tcp/0'))))
      this.log.warn({ event: 'port-fallback', wanted: cfg.node.listen, listen: this.host.addresses() }, `${cfg.node.listen.join(', ')} is in use; listening on a free port instead (set [node] listen to choose one)`)
    }
    this.host.on('connect', (key) => this.log.info({ event: 'connected', peer: shortId(key), key, address: this.addressOf(key) }, `connected to ${shortId(key)}`))
    this.host.on('disconnect', (key) => this.log.info({ event: 'disconnected', peer: shortId(key), key }, `disconnected from ${shortId(key)}`))
    await saveListenAddresses(this.rt.home, this.host.addresses())
    this.observed.push(...await loadObservedAddresses(this.rt.home))
    await this.host.handle(SYNC_PROTOCOL, (link) => {
      if (this.engine === null) { link.close(new NotAdmittedError('this node is not part of a team yet')); return }
      this.engine.addLink(link)
    })
    const desk = new JoinDesk(this.rt, {
      perSource: cfg.mothership.join_attempts_per_source,
      perToken: cfg.mothership.join_attempts_per_token,
      auditPerToken: cfg.mothership.join_audit_per_token,
      auditUnissued: JOIN_AUDIT_UNISSUED
    })
    await this.host.handle(JOIN_PROTOCOL, (link) => {
      if (this.rt.mothershipKey === null) { link.close(new NotAdmittedError('this node is not the Mothership')); return }
      desk.serve(link, this.joinSource(link.remote), () => this.peerAddresses())
    }, { unadmittedBytes: JOIN_REQUEST_BYTES })
    await this.host.handle(ADDRS_PROTOCOL, (link) => {
      if (!this.peer.admitted(link.remote)) { link.close(); return }
      this.book.serve(link)
    })
    this.book = new AddressBook({
      store: this.rt.store.peers,
      dialer: this.peer.dialer,
      host: this.host,
      admitted: (key) => this.peer.admitted(key),
      now: () => this.rt.now(),
      discover: cfg.node.discover
    })
    for (const addr of cfg.node.peers) this.peer.dialer.add(addr)
    for (const { info } of await this.rt.store.peers.list()) for (const a of info.addrs) this.peer.dialer.add(a)
    if (this.rt.chain !== null) this.startEngine()
    this.peer.start()
    return this.host
  }

  async startControl (): Promise<void> {
    this.reloader = ConfigReloader.start(this.rt, {
      env: process.env,
      log: (line) => this.log.warn({ event: 'config-reload' }, line.replace(/^aura: /, '')),
      changed: (keys) => { if (keys.includes('sync.max_staleness') || keys.includes('sync.max_clock_skew')) this.applyFreshness() }
    })
    // The operation table is the daemon's table: parameters are checked here, at the socket.
    const methods: Record<string, (p: Record<string, unknown>) => Promise<unknown>> = {}
    for (const [name, op] of Object.entries(OPERATIONS)) {
      // Evidence goes row by row, so its size is bounded by nothing but the store.
      methods[name] = op.rows === undefined
        ? async (p) => await runOperation(name, p, this.context())
        : async (p) => new ControlStream(await operationRows(name, p, this.context()))
    }
    // A command's own `--set` / `AURA_*` (sent as `_config`) must match what the daemon uses.
    for (const [name, method] of Object.entries(methods)) {
      methods[name] = async (p) => {
        const { _config: overrides, ...params } = p
        if (overrides !== undefined &&
          overrides !== null) checkCallOverrides(this.rt.loaded, overrides as CallOverrides)
        try {
          return await method(params)
        } finally {
          // What the workspace has applied changed: receipts say so (sync status: received vs applied).
          if (WORKSPACE_WRITERS.has(name)) this.peer.holdingsChanged()
        }
      }
    }
    this.control = await startControlServer(this.rt.home, methods)
    this.rt.hooks = {
      recordsAdded: () => this.peer.recordsWritten(),
      audited: (type, fields) => this.logAudit(type, fields),
      chainAppended: (from) => {
        if (this.engine === null && this.rt.chain !== null) this.startEngine()
        // Pushed (and enforced) before it is logged: peers wait on the push, nobody on the log.
        this.peer.chainAppended(from)
        this.logChain(from)
      }
    }
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void this.stop() })
  }

  // What an operation run by the daemon is given: the node, its live state, and what only the daemon can do.
  private context (): OperationContext & { live: LiveState, daemon: DaemonControls } {
    return {
      rt: this.rt,
      live: this.live(),
      daemon: {
        host: this.host,
        configState: () => this.reloader!.state(),
        stop: () => { setTimeout(() => { void this.stop() }, 10) },
        joined: (peers) => {
          this.startEngine()
          for (const a of peers) this.peer.dialer.add(a)
          this.peer.dialer.wake()
          this.peer.dialer.run()
        },
        dial: (addr) => {
          this.peer.dialer.add(addr)
          this.peer.dialer.wake()
          this.peer.dialer.run()
        },
        openUi: async (p) => await this.openUi(p),
        revocations: () => this.peer.revocations().map(
          ({ key, appliedAt, closedAt }) => ({ key, peer: shortId(key), appliedAt, closedAt })
        )
      }
    }
  }

  /** `aura ui`: the incident page (node/ui/), started on first call; each call mints a new one-time login URL. */
  private async openUi (p: Record<string, unknown>): Promise<{ url: string, port: number, actions: boolean }> {
    const { ensureUiServer } = await import('./ui/server.js')
    const ui = await ensureUiServer(
      this.ui,
      p,
      { rt: this.rt, run: async (op, params) => await runOperation(op, params, this.context()) }
    )
    return { url: ui.loginUrl(), port: ui.port, actions: ui.actions }
  }

  /** `[audit.export] enabled = true`: records and audit events leave the machine as they come. */
  async startAuditExport (): Promise<void> {
    if (!this.rt.config.audit.export.enabled) return
    this.auditStream = await AuditStream.start(this.rt, {
      onFailure: (message, cause) => this.log.warn({ event: 'export-failed', endpoint: this.auditStream?.status().endpoint ?? null, cause }, message),
      onRecovered: () => this.log.info({ event: 'export-recovered', endpoint: this.auditStream?.status().endpoint ?? null }, 'audit export recovered')
    })
    void this.auditStream.flush()
  }

  /** `[workspace] apply = "auto"`: received deltas are applied as their records arrive. */
  async startAutoApply (): Promise<void> {
    this.autoApply = await startAutoApply(this.rt, {
      fail: (err) => this.fail('applying received changes to the workspace', err),
      note: (message) => this.log.warn({ event: 'auto-apply' }, message)
    })
  }

  /**
   * `[sync] max_staleness` and `max_clock_skew` are live: the running engine judges freshness
   * with the values now in effect. SyncEngine (node/sync/) keeps its options in `init` and reads
   * these two on every freshness check; it has no setter yet, so the daemon sets the fields.
   */
  private applyFreshness (): void {
    if (this.engine === null) return
    const { max_staleness: s, max_clock_skew: skew } = this.rt.config.sync
    this.engine.setFreshness({ maxStalenessMs: s === null ? null : s * 1000, maxClockSkewMs: skew * 1000 })
  }

  private startEngine (): void {
    const chain = this.rt.requireChain()
    this.rt.store.intent.log.limitRecordBytes(chain.quotas.max_record_bytes)
    this.engine = new SyncEngine({
      chain,
      log: this.rt.store.intent.log,
      localKey: this.rt.key,
      clock: () => this.rt.now(),
      random: secureRandom
    }, {
      team: chain.team,
      maxStalenessMs: this.rt.config.sync.max_staleness === null ? null : this.rt.config.sync.max_staleness * 1000,
      maxClockSkewMs: this.rt.config.sync.max_clock_skew * 1000,
      maxMessageBytes: this.rt.config.sync.max_message_bytes,
      maxBufferedMessageBytes: this.rt.config.sync.max_buffered_message_bytes,
      keepaliveMs: keepAliveMs(this.rt),
      maxFutureMs: FUTURE_TOLERANCE_MS
    }, this.peer.engineEvents({
      chainApplied: (from) => {
        this.logChain(from)
        void this.rt.persistChainFrom(from).catch((err) => this.fail('persisting chain entries', err))
        this.autoApply?.kick()
        void this.book.admissionsChanged().catch(() => {})
      },
      recordsAdded: (ids) => {
        void this.rt.writer.ingest(ids).catch((err) => this.fail('persisting received records', err))
        this.autoApply?.kick()
      },
      audit: (e) => { void this.rt.audit(`sync-${e.type}`, { peer: e.peer, code: e.code ?? null, message: e.message }).catch(() => {}) },
      actorClaimed: (seq) => this.leaveActor(seq),
      refusedChange: (row) => {
        // The 1st, 2nd, 4th, 8th... of each kind: a peer repeating a refused change cannot flood the log.
        if ((row.count & (row.count - 1)) !== 0) return
        const dir = row.direction === 'in' ? `from ${shortId(row.peer)} refused here` : `refused by ${shortId(row.peer)}`
        this.log.warn({ event: 'change-refused', peer: shortId(row.peer), direction: row.direction, code: row.code, count: row.count }, `sync: intent change ${dir} (${row.code}, ${row.count} so far): ${row.message}`)
      },
      sessionOpened: (peer) => {
        const addr = this.remoteAddress(peer)
        if (addr !== null) void this.book.learn(peer, [addr], 'connected').catch(() => {})
        void this.book.share(peer).catch(() => {})
      },
      sessionClosed: (peer, reason) => {
        // Only refusals the remote sent: closing a session ourselves (revoking it) is no refusal of us.
        if (reason !== undefined && reason.context.remote === true && ['E_REVOKED', 'E_NOT_ADMITTED', 'E_BAD_SIGNATURE', 'E_LOCKDOWN', 'E_STALE', 'E_MALFORMED', 'E_FRAME_TOO_LARGE'].includes(reason.code)) {
          this.lastRefusal = {
            code: reason.code,
            message: reason.message,
            peer: shortId(peer),
            at: new Date(this.rt.now()).toISOString()
          }
          this.log.warn({ event: 'refused-by-peer', peer: shortId(peer), code: reason.code }, `${shortId(peer)} refused this node: ${reason.message}`)
        }
      }
    }))
  }

  private servesRelay (): boolean {
    const mode = this.rt.config.node.relay
    if (mode !== 'auto') return mode === 'on'
    return this.rt.mothershipKey !== null || this.publiclyReachable()
  }

  // AutoNAT confirmed an address peers observed us at: others can dial us, so we can relay.
  private publiclyReachable (): boolean {
    const am = (this.host.libp2p as unknown as {
      components?: { addressManager?: { getAddressesWithMetadata?: () => Array<{ verified: boolean, type: string }> } }
    }).components?.addressManager
    return am?.getAddressesWithMetadata?.().some((a) => a.verified && a.type === 'observed') === true
  }

  private observe (addr: string): void {
    if (this.observed.includes(addr)) return
    this.observed.push(addr)
    if (this.observed.length > 8) this.observed.shift()
    void saveObservedAddresses(this.rt.home, [...this.observed]).catch(() => {})
  }

  private async connect (addr: string): Promise<void> {
    if (this.engine === null) return
    // A refusal here is this node's own gate (the remote tells its reasons on the link), so it
    // is no refusal of this node and not shown as one.
    const link = await this.host.openLink(addr, SYNC_PROTOCOL)
    this.engine.addLink(link)
  }

  private joinSource (key: KeyId): { source: string, publicKey: Uint8Array } {
    const conn = this.host.libp2p.getConnections().find((c) => keyIdFromPeerId(c.remotePeer) === key)
    const pub = conn?.remotePeer.publicKey?.raw
    return { source: conn === undefined ? 'unknown' : sourceOf(conn.remoteAddr.toString()), publicKey: pub ?? new Uint8Array() }
  }

  /**
   * A peer refused our change at `seq` as a fork: another holder of this node's key wrote under
   * its actor first. The log gives the actor up (its records of those changes become orphans),
   * stores the rebuilt document, and offers them again under a new actor: no operator action.
   */
  private leaveActor (seq: number): void {
    const log = this.rt.store.intent.log
    const old = log.actorId
    const orphaned = log.leaveActor(seq, randomBytes(16).toString('hex'))
    this.log.warn({ event: 'actor-claimed', seq }, `sync: a peer holds another change at seq ${seq} of this node's actor ${old.slice(0, 8)}…${old.slice(-4)} (someone else holds this node's key?); writing as ${log.actorId.slice(0, 8)}…${log.actorId.slice(-4)} from now on and offering ${orphaned.length} records again`)
    void (async () => {
      await this.rt.store.intent.compact()
      const offered = await this.rt.reofferOrphans()
      this.engine?.localDocumentRebuilt()
      await this.rt.audit('actor-claimed', { seq, actor: old, next: log.actorId, reoffered: offered })
    })().catch((err) => this.fail('leaving a claimed actor', err))
  }

  private remoteAddress (key: KeyId): string | null {
    const conn = this.host.libp2p.getConnections().find((c) => keyIdFromPeerId(c.remotePeer) === key && c.direction === 'outbound')
    return conn === undefined ? null : `${conn.remoteAddr.toString()}/p2p/${conn.remotePeer.toString()}`.replace(/\/p2p\/[^/]+\/p2p\//, '/p2p/')
  }

  private peerAddresses (): string[] {
    return [...this.host.addresses(), ...this.peer.dialer.list().map((t) => t.addr)]
  }

  private live (): LiveState {
    return {
      listen: this.host.addresses(),
      connected: this.engine?.connectedPeers() ?? [],
      lastRefusal: this.lastRefusal,
      stale: this.engine?.isStale() ?? false,
      lastBeacon: this.engine?.lastBeaconTs ?? null,
      knownAddresses: this.peer.dialer.list().map(({ addr, lastError }) => ({ addr, lastError })),
      connections: this.host.connectionInfo(),
      observed: [...this.observed],
      relay: this.servesRelay(),
      startedAt: this.startedAt,
      auditExport: this.auditStream?.status() ?? null,
      refusedChanges: this.engine?.refusedChanges() ?? [],
      config: this.reloader === null
        ? null
        : { restartNeeded: this.reloader.state().restartNeeded, error: this.reloader.state().error }
    }
  }

  private fail (what: string, err: unknown): void {
    const e = toAuraError(err)
    this.log.error({ event: 'failed', what, code: e.code }, `${what} failed: ${e.message}`)
  }

  private logRefusal (key: KeyId, direction: 'inbound' | 'outbound', address: string, err: AuraError): void {
    const n = (this.refusedKeys.get(key) ?? 0) + 1
    this.refusedKeys.set(key, n)
    if ((n & (n - 1)) !== 0) return
    this.log.warn({ event: 'refused', peer: shortId(key), key, direction, address, code: err.code, count: n }, `refused ${direction} connection of ${shortId(key)} from ${address}: ${err.code}`)
  }

  private logRevocation (key: KeyId, r: KeyRevocation | undefined): void {
    this.log.warn({ event: 'revoked', peer: shortId(key), key, reason: r?.reason ?? '', entry: r?.seq ?? null }, `revocation of ${shortId(key)} enforced: connections closed, the gate refuses it`)
  }

  private logChain (from: number): void {
    const chain = this.rt.chain
    if (chain === null) return
    // The Mothership's own entries reach here twice (appended, then applied by the engine).
    const entries = chain.entries(Math.max(from, this.loggedSeq + 1))
    if (entries.length === 0) return
    this.loggedSeq = chain.head.seq
    this.log.info({ event: 'chain-applied', from: entries[0].seq, to: chain.head.seq, kinds: entries.map((e) => e.kind) }, `authority chain entries ${entries[0].seq}..${chain.head.seq} applied (${entries.map((e) => e.kind).join(', ')})`)
    for (const e of entries) {
      if (e.kind === 'lockdown') this.log.warn({ event: 'lockdown', entry: e.seq, reason: (e.body as { reason?: string }).reason ?? null }, `team in lockdown (entry ${e.seq})`)
      if (e.kind === 'unlock') this.log.info({ event: 'unlock', entry: e.seq }, `team unlocked (entry ${e.seq})`)
    }
  }

  // Audit events the operator should see in the log as they happen.
  private logAudit (type: string, fields: Record<string, unknown>): void {
    const f = { ...fields, peer: typeof fields.peer === 'string' && fields.peer.length === 64 ? shortId(fields.peer as KeyId) : fields.peer }
    switch (type) {
      case 'joined': this.log.info({ event: 'joined', ...f }, `joined team ${String(fields.team)} as ${String(fields.user)}`); break
      case 'admit': this.log.info({ event: 'admitted', ...f }, `admitted ${String(f.peer)} as ${String(fields.user)}`); break
      case 'join-refused': this.log.warn({ event: 'join-refused', ...f }, `join refused from ${String(fields.source)}: ${String(fields.reason ?? fields.code ?? '')}`); break
      case 'protocol-error': this.log.warn({ event: 'protocol-error', ...f }, `protocol error from ${String(f.peer)}: ${String(fields.code)}`); break
      case 'export-dropped': this.log.warn({ event: 'export-dropped', ...f }, `audit export dropped ${String(fields.lines)} lines`); break
      default: this.log.debug({ event: 'audit', type, ...f }, type)
    }
  }

  // The held records' signatures and the effective view, in the background: the first query
  // after a start would otherwise wait for all of it (seconds at 100,000 records).
  warmUp (): void {
    const began = performance.now()
    const records = this.rt.store.intent.log.size
    this.rt.warmUp(() => this.signatures.batch()).then(
      (done) => done && this.stopping === undefined && this.log.info({ event: 'warmed-up', records, ms: Math.round(performance.now() - began) }, `checked ${records} records' signatures and the effective view`),
      (err) => this.stopping === undefined && this.log.warn({ event: 'warm-up-failed', message: toAuraError(err).message }, `checking the held records in the background failed: ${toAuraError(err).message}`)
    )
  }

  private addressOf (key: KeyId): string | null {
    return this.host.connectionInfo().find((c) => c.key === key)?.addr ?? null
  }

  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.peer.stop()
      this.reloader?.stop()
      this.engine?.closeAll()
      await this.control?.close().catch(() => {})
      await this.ui.server?.close().catch(() => {})
      await (this.host as Host | undefined)?.stop().catch(() => {})
      await this.autoApply?.stop()
      await this.auditStream?.stop()
      await this.signatures.close()
      await this.rt.close()
      this.log.info({ event: 'stopped' }, 'daemon stopped')
      this.log.close()
      this.resolveStopped()
    })()
    await this.stopping
  }
}

// Heads at a quarter of the idle timeout keep a quiet but live session from timing out.
function keepAliveMs (rt: NodeRuntime): number {
  return rt.config.sync.idle_timeout * 1000 / 4
}

function secureRandom (): number {
  return randomInt(2 ** 32) / 2 ** 32
}

function preciseNow (): number {
  return performance.timeOrigin + performance.now()
}

function isLoopback (addr: string): boolean {
  return /^\/ip4\/127\.|^\/ip6\/::1\//.test(addr)
}

function sourceOf (multiaddr: string): string {
  const m = /^\/ip[46]\/([^/]+)\/tcp\/(\d+)/.exec(multiaddr)
  return m === null ? multiaddr : `${m[1]}:${m[2]}`
}
