/**
 * Joining a team and keeping in touch with it: `aura join`, `aura peer add`, `aura peer list`,
 * `aura sync status`.
 *
 * @example
 * aura join aurajoin1.eyJ... --home ~/.aura-bob
 * aura sync status --intent 3f9a12 --json
 */
import type { Program } from '../program.js'
import { callNode, defined, str, strings } from '../call.js'

/** Registers the team commands. */
export function register (program: Program): void {
  program.command('join <token>', 'Redeem a join token at the Mothership and start syncing (creating this node\'s identity first if it has none)', async ({ args, options, io }) => {
    const { pingControl } = await import('../../node/control/client.js')
    const { ensureIdentity, joinTeam, ensureDaemon } = await import('../bring-up.js')
    // A machine with no identity yet gets one first (as `tailscale up --authkey` does): one
    // step to a node; the identity stays if the join is refused.
    const running = await pingControl(await io.home())
    const created = running ? null : await ensureIdentity(io)
    const res = await joinTeam(io, String(args.token))
    if (!running) {
      res.identityCreated = created
      if (options.start !== false && await ensureDaemon(io, { listen: strings(options.listen), set: options.set })) res.daemon = 'started'
    }
    return { data: res, text: (c) => `${c.green('joined')} team ${res.joined} as ${res.user} (${res.role}); this node is ${res.peer}${res.daemon === 'started' ? '; daemon started' : ''}` }
  })
    .option('--no-start', 'Do not start the daemon after joining')
    .option('--listen <multiaddr>', 'Listen address for the daemon started after joining')
    .example('aura join "$TOKEN"')
    .example('aura join "$TOKEN" --listen /ip4/0.0.0.0/tcp/4001')
    .example('aura join "$TOKEN" --no-start')

  program.command('peer add <multiaddr>', 'Remember a peer address and keep connected to it', async ({ args, io }) => {
    const res = await callNode(io, 'peer-add', { addr: args.multiaddr })
    return { data: res, text: () => `added ${res.peer} at ${res.added}` }
  })
    .example('aura peer add /ip4/192.0.2.10/tcp/4001/p2p/12D3KooW...')

  program.command('peer list', 'Peer addresses this node knows', async ({ io }) => {
    const rows = await callNode(io, 'peer-list', {}) as any[]
    return { data: rows, text: () => rows.map((r) => `${r.peer} ${r.addrs.join(' ')} last seen ${r.lastSeen ?? 'never'}`).join('\n') }
  })
    .example('aura peer list --json')

  program.command('sync status', 'Which admitted peers hold what (from their signed receipts)', async ({ options, io }) => {
    const res = await callNode(io, 'sync-status', defined({ intent: str(options.intent) }))
    return {
      data: res,
      text: (c) => [
        ...res.peers.map((p: any) => `${p.peer.padEnd(10)} ${p.user.padEnd(12)} ${p.revoked === true ? c.red('revoked') : ''} last receipt ${p.lastReceiptAt ?? 'never'} authority ${p.authSeq ?? '-'}${p.holdsIntent === null ? '' : p.holdsIntent === true ? c.green(' has it') : c.red(' missing')}${p.holdsIntent !== true || p.appliedIntent === null ? '' : p.appliedIntent === true ? c.green(', applied') : c.red(`, NOT applied to its workspace (apply = ${p.apply ?? '?'})`)}`),
        c.bold(res.verdict)
      ].join('\n')
    }
  }).option('--intent <id>', 'Check who holds this record (id or unique prefix)')
    .example('aura sync status')
    .example('aura sync status --intent 01JQ3Z')
}
