/**
 * The Mothership's commands: team creation, join tokens, revocation, lockdown, key rotation.
 * Run them against the Mothership's home; with its daemon running, every change reaches the
 * connected peers at once and spreads peer to peer from there.
 *
 * @example
 * aura mothership revoke-peer peer-5f3a --reason "laptop theft 2026-04-21"
 * aura mothership list-tokens --active
 * aura mothership lockdown --reason "ongoing incident investigation"
 */
import type { Program } from '../program.js'
import type { Colors } from '../output.js'
import { callNode, defined, str } from '../call.js'

function notes (c: Colors, res: { notes?: string[] }): string {
  return (res.notes ?? []).map((n) => `\n${c.yellow('note:')} ${n}`).join('')
}

/** Registers `aura mothership ...`. */
export function register (program: Program): void {
  program.command('mothership init', 'Make this node the Mothership: signing key and genesis of a new team', async ({ options, io }) => {
    const res = await callNode(io, 'mothership-init', defined({ team: str(options.team), user: str(options.user) }))
    return { data: res, text: (c) => `${c.green('team created')}: ${res.team}, Mothership key ${res.mothershipKey.slice(0, 12)}; start it with \`aura node start\`` }
  })
    .option('--team <name>', 'Team name (default: team)')
    .option('--user <name>', 'The user this node belongs to (default: [node] name)')
    .example('aura mothership init --team acme --user alice')

  program.command('mothership issue-peer <user>', 'Issue a join token for a new peer (a new identity)', async ({ args, options, io }) => {
    const res = await callNode(io, 'issue-peer', defined({ user: args.user, role: str(options.role), ttl: str(options.ttl), reusable: options.reusable === true }))
    // The token alone goes to stdout, so `TOKEN=$(aura mothership issue-peer ...)` works.
    if (!io.json) {
      io.out.info(`jti ${res.jti}, ${res.user} as ${res.role}, expires ${res.expiresAt}${res.reusable === true ? ', reusable' : ', single use'}`)
      for (const n of res.notes as string[]) io.out.warn(n)
    }
    return { data: res, text: () => res.token }
  })
    .option('--role <role>', 'Role of the new peer, e.g. contributor (required)')
    .option('--ttl <duration>', 'Validity, e.g. 10m (default: join_token_ttl)')
    .option('--reusable', 'Allow several peers to join with this token')
    .example('aura mothership issue-peer alice --role contributor')

  program.command('mothership list-peers', 'Admitted peers with user, role, admission time, last receipt', async ({ io }) => {
    const rows = await callNode(io, 'list-peers', {}) as any[]
    return { data: rows, text: (c) => rows.map((r) => `${c.bold(r.peer)} ${r.user.padEnd(12)} ${r.role.padEnd(12)} ${r.status === 'active' ? c.green('active') : c.red(`revoked: ${r.revokedReason}`)}  admitted ${r.admittedAt}  last receipt ${r.lastReceiptAt ?? 'never'}`).join('\n') }
  })
    .example('aura mothership list-peers')
    .example('aura mothership list-peers --json')

  program.command('mothership list-tokens', 'Join tokens issued by this Mothership', async ({ options, io }) => {
    const rows = await callNode(io, 'list-tokens', { active: options.active === true }) as any[]
    return { data: rows, text: (c) => rows.length === 0 ? c.dim('no tokens') : rows.map((r) => `${c.bold(r.jti)} ${r.user.padEnd(12)} ${r.role.padEnd(12)} ${r.status.padEnd(10)} expires ${r.expiresAt}${r.usedBy.length > 0 ? `  used by ${r.usedBy.join(', ')}` : ''}`).join('\n') }
  }).option('--active', 'Only tokens that can still be redeemed')
    .example('aura mothership list-tokens --active')

  program.command('mothership revoke-peer <peer>', 'Revoke a peer key everywhere; its later records never count', async ({ args, options, io }) => {
    const res = await callNode(io, 'revoke-peer', defined({ peer: args.peer, reason: str(options.reason) }))
    return { data: res, text: (c) => `${c.red('revoked')} ${res.revoked}${res.user === null ? '' : ` (${res.user})`}: ${res.reason}\n${c.dim(`cut at its record seq ${res.cut.seq}; chain entry ${res.entry}`)}` }
  }).option('--reason <text>', 'Why (kept in the chain; required)')
    .example('aura mothership revoke-peer peer-5f3a --reason "laptop stolen 2026-04-21"')

  program.command('mothership revoke-token <jti>', 'Revoke a join token; any later use gets E_REVOKED', async ({ args, options, io }) => {
    const res = await callNode(io, 'revoke-token', defined({ jti: args.jti, reason: str(options.reason) }))
    return { data: res, text: (c) => `${c.red('revoked')} ${res.revoked}: ${res.reason}${notes(c, res)}` }
  }).option('--reason <text>', 'Why (kept in the chain; required)')
    .example('aura mothership revoke-token 01JQ3ZK2 --reason "token pasted in a public channel"')

  program.command('mothership audit-token <jti>', 'Every join attempt made with a token, with time, source and outcome', async ({ args, io }) => {
    const res = await callNode(io, 'audit-token', { jti: args.jti })
    return {
      data: res,
      text: (c) => [
        `${c.bold(res.jti)} ${res.user ?? '?'} (${res.role ?? '?'})${res.revoked === null ? '' : c.red(` revoked: ${res.revoked.reason}`)}`,
        `bound to: ${res.boundTo.length === 0 ? 'nobody' : res.boundTo.map((b: any) => `${b.peer}${b.revoked === true ? ' (revoked)' : ''}`).join(', ')}`,
        ...(res.attempts.length === 0 ? [c.dim('no join attempts')] : res.attempts.map((a: any) => `${a.ts}  ${a.source.padEnd(22)} ${(a.peer ?? '?').padEnd(10)} ${a.outcome === 'accepted' ? c.green('accepted') : c.red('refused')}${a.reason === null ? '' : `  ${a.reason}`}`)),
        ...(res.summarised == null ? [] : [c.yellow(`+ ${res.summarised.count} more attempts ${res.summarised.first} .. ${res.summarised.last}, counted, not stored: ${counts(res.summarised.outcomes)}; from ${counts(res.summarised.sources)}`)])
      ].join('\n')
    }
  })
    .example('aura mothership audit-token 01JQ3ZK2')

  program.command('mothership lockdown', 'Break glass: no new tokens, joins or records anywhere; reads continue', async ({ options, io }) => {
    const res = await callNode(io, 'lockdown', defined({ reason: str(options.reason) }))
    return { data: res, text: (c) => `${c.red('LOCKDOWN')}: ${res.reason} (chain entry ${res.entry})` }
  }).option('--reason <text>', 'Why (shown by every peer\'s status; required)')
    .example('aura mothership lockdown --reason "ongoing incident investigation"')

  program.command('mothership unlock', 'End the lockdown', async ({ options, io }) => {
    const res = await callNode(io, 'unlock', defined({ reason: str(options.reason) }))
    return { data: res, text: (c) => `${c.green('unlocked')} (chain entry ${res.entry})` }
  }).option('--reason <text>', 'Why')
    .example('aura mothership unlock --reason "incident closed"')

  program.command('mothership rotate-key', 'Replace the Mothership signing key (announced by the old key)', async ({ io }) => {
    const res = await callNode(io, 'rotate-key', {})
    return { data: res, text: (c) => `${c.green('rotated')} ${res.from.slice(0, 12)} -> ${res.to.slice(0, 12)} (chain entry ${res.entry})${notes(c, res)}` }
  })
    .example('aura mothership rotate-key')
}

// `E_RATE_LIMITED ×900, E_TOKEN_USED ×3`, largest first.
function counts (by: Record<string, number>): string {
  return Object.entries(by).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ')
}
