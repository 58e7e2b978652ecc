/**
 * Running a node: `aura node start`, `aura node stop`, `aura status`.
 *
 * @example
 * aura node start --home ~/.aura --listen /ip4/127.0.0.1/tcp/0
 * aura status --json
 * aura node stop
 */
import type { Program } from '../program.js'
import { callNode, strings } from '../call.js'

const START_TIMEOUT_MS = 30_000

/** Registers the node commands. */
export function register (program: Program): void {
  program.command('node start', 'Start the node daemon (in the background unless --foreground)', async ({ options, io }) => {
    const home = await io.home()
    const listen = strings(options.listen)
    if (options.foreground === true) {
      const { startDaemon } = await import('../../node/daemon.js')
      const loaded = await io.config()
      if (listen !== undefined) {
        loaded.config.node.listen = listen
        loaded.sources['node.listen'] = { kind: 'flag', name: '--listen' }
      }
      const d = await startDaemon(home, { loaded })
      io.out.info(`aura node ${d.rt.identity.shortId} listening on ${d.host.addresses().join(', ')}`)
      await d.stopped
      io.out.info('aura node stopped')
      return undefined
    }
    const { spawnDaemon } = await import('../spawn-daemon.js')
    // Idempotent: a running daemon is the state asked for, unless this start asks for something
    // else (--listen, --set), which a running daemon cannot take: that is E_DAEMON_RUNNING.
    if (listen === undefined && options.set === undefined) {
      const { pingControl } = await import('../../node/control/client.js')
      if (await pingControl(home)) {
        const status = await callNode(io, 'status', {}, { daemonOnly: true })
        return { data: { ...status, alreadyRunning: true }, text: (c) => `${c.green('already running')}: ${status.peer} (pid ${status.pid}) on ${status.listen.join(', ')}` }
      }
    }
    await spawnDaemon(home, { listen, set: options.set, timeoutMs: START_TIMEOUT_MS, env: io.ctx.env })
    const status = await callNode(io, 'status', {}, { daemonOnly: true })
    return { data: status, text: (c) => `${c.green('started')} ${status.peer} on ${status.listen.join(', ')}` }
  })
    .option('--foreground', 'Run in this process until SIGINT/SIGTERM')
    .option('--listen <multiaddr>', 'Listen address (repeatable), e.g. /ip4/127.0.0.1/tcp/0')
    .example('aura node start')
    .example('aura node start --foreground --listen /ip4/0.0.0.0/tcp/4001')

  program.command('node stop', 'Stop the node daemon', async ({ io }) => {
    const home = await io.home()
    const { pingControl, noDaemon } = await import('../../node/control/client.js')
    try {
      await callNode(io, 'stop', {}, { daemonOnly: true })
    } catch (err) {
      // Idempotent: a stopped daemon is the state asked for.
      if (noDaemon(err)) return { data: { stopped: false, running: false }, text: () => `not running (no daemon on ${home})` }
      throw err
    }
    for (let i = 0; i < 100 && await pingControl(home); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    return { data: { stopped: true }, text: () => 'stopped' }
  })
    .example('aura node stop')

  program.command('status', 'Show this node: identity, team, peers, authority head, lockdown, refusals', async ({ io }) => {
    const s = await callNode(io, 'status', {})
    const { exitCodeFor } = await import('../../crdt/errors.js')
    return {
      // Scripts and monitors rely on it: the first (most serious) problem decides the exit code.
      exitCode: s.problems.length === 0 ? 0 : exitCodeFor(s.problems[0].code),
      data: s,
      text: (c) => [
        `${c.bold(s.peer)} ${s.user}${s.role === null ? '' : ` (${s.role})`}${s.mothership === true ? c.cyan(' [mothership]') : ''} — team ${s.team ?? c.dim('none')}`,
        `version     ${s.version ?? c.dim('unknown')}`,
        `daemon      ${s.daemon}${s.listen.length > 0 ? ` on ${s.listen.join(', ')}` : ''}`,
        `connected   ${s.connected.length === 0 ? c.dim('none') : s.connected.join(', ')}`,
        ...(s.peers ?? []).map((p: StatusPeer) =>
          // The short id, then how it is reached: scripts and the NAT suite read `peer-5f3a  direct`.
          `  ${p.peer}  ${p.via === 'direct' ? c.green('direct ') : c.yellow('relayed')}  ${p.addr}${p.user === null ? '' : `  (${p.user})`}` +
          `${p.rttMs === null ? '' : `  rtt ${p.rttMs} ms`}  in ${bytes(p.bytesIn)} out ${bytes(p.bytesOut)}` +
          `${p.lastSeen === null ? '' : `  heard ${p.lastSeen}`}  authority ${p.authSeq === null ? c.dim('no receipt') : `seq ${p.authSeq}`}`),
        ...((s.relayed ?? []).length > 0 ? [`via relay   ${s.relayed.join(', ')}`] : []),
        ...(s.relay === true ? ['relay       serving admitted peers'] : []),
        ...((s.observed ?? []).length > 0 ? [`seen at     ${s.observed.join(', ')}`] : []),
        `authority   ${s.authority === null ? c.dim('none') : `seq ${s.authority.seq} ${s.authority.hash.slice(0, 12)}`}`,
        `records     ${s.records.total} (${s.records.effective} effective, ${s.records.quarantined} quarantined)`,
        `lockdown    ${s.lockdown.locked === true ? c.red(`LOCKED: ${s.lockdown.reason ?? ''}`) : 'no'}`,
        `freshness   ${s.stale.stale === true ? c.red('E_STALE') : 'ok'}${s.stale.lastBeacon === null ? '' : ` (last beacon ${s.stale.lastBeacon})`}`,
        ...(s.lastRefusal === null ? [] : [`refused     ${c.red(s.lastRefusal.code)} ${s.lastRefusal.message} (${s.lastRefusal.at})`]),
        ...(s.auditExport === null || s.auditExport === undefined ? [] : [`export      ${s.auditExport.format} to ${s.auditExport.endpoint}: ${s.auditExport.exported} lines sent${s.auditExport.pending > 0 ? `, ${s.auditExport.pending} pending` : ''}${s.auditExport.lastSuccess === null ? '' : ` (last ${s.auditExport.lastSuccess})`}`]),
        ...s.problems.map((p: { code: string, message: string }) => c.yellow(`! ${p.code}: ${p.message}`))
      ].join('\n')
    }
  })
    .example('aura status')
    .example('aura status --json')
}

interface StatusPeer {
  peer: string
  user: string | null
  via: string
  addr: string
  rttMs: number | null
  bytesIn: number
  bytesOut: number
  lastSeen: string | null
  authSeq: number | null
}

function bytes (n: number): string {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`
}
