/**
 * AI agents: `aura agent issue`, `aura agent list`, `aura agent revoke`, `aura agent revoke-all`
 * (Playbook 3), `aura log-intent --agent NAME` for an agent's own signed records, and the
 * sentinel inbox (`aura sentinel send`, `aura sentinel inbox`): messages between agents.
 *
 * @example
 * aura agent list --filter "kind=agent"
 * aura agent revoke claude-7f3a --reason "generated unvetted deletions across auth module"
 * aura agent revoke-all --role agent --reason "investigating prompt injection"
 */
import type { Program } from '../program.js'
import { UsageError } from '../../crdt/errors.js'
import { callNode, defined, str, strings } from '../call.js'
import { workspaceParams } from './workspace.js'

/** Registers `aura agent ...`. */
export function register (program: Program): void {
  program.command('agent issue <name>', 'Issue an agent credential (Mothership): key, role, capabilities, quota, expiry', async ({ args, options, io }) => {
    const caps = str(options.capabilities)
    const quota = str(options.maxCommitsPerHour)
    const res = await callNode(io, 'agent-issue', defined({
      name: args.name,
      role: str(options.role),
      capabilities: caps === undefined ? undefined : caps.split(',').map((c) => c.trim()).filter(Boolean),
      ttl: str(options.ttl),
      maxCommitsPerHour: quota === undefined ? undefined : Number(quota)
    }))
    return { data: res, text: (c) => `${c.green('issued')} ${res.agent} (${res.role}: ${res.capabilities.join(', ')}), expires ${res.expiresAt}\n${c.dim(`credential: ${res.credential}`)}` }
  })
    .option('--role <role>', 'Role (default: [agents.defaults] role)')
    .option('--capabilities <list>', 'Comma-separated capabilities (default: the role\'s)')
    .option('--ttl <duration>', 'Lifetime (at most [agents.defaults] max_ttl)')
    .option('--max-commits-per-hour <n>', 'Quota of records per hour (default: [agents.defaults] max_commits_per_hour, 120)')
    .example('aura agent issue claude --role agent --ttl 8h')
    .example('aura agent issue reviewer --capabilities read,intent --max-commits-per-hour 30')

  program.command('agent list', 'Agents (and, with --filter kind=peer|all, peers) with role, capabilities, status', async ({ options, io }) => {
    const rows = await callNode(io, 'agent-list', defined({ filter: str(options.filter) })) as any[]
    return { data: rows, text: (c) => rows.length === 0 ? c.dim('no agents') : rows.map((r) => `${c.bold(r.id.padEnd(16))} ${r.kind.padEnd(6)} ${r.role.padEnd(12)} ${r.status === 'active' ? c.green('active') : c.red(r.status)}  ${r.capabilities.join(',')}${r.expiresAt === null ? '' : `  expires ${r.expiresAt}`}${r.reason === null ? '' : `  (${r.reason})`}`).join('\n') }
  }).option('--filter <k=v>', 'e.g. "kind=agent", "role=agent", "status=active"')
    .example('aura agent list')
    .example('aura agent list --filter status=active --json')

  program.command('agent revoke <agent>', 'Revoke one agent credential everywhere', async ({ args, options, io }) => {
    const res = await callNode(io, 'agent-revoke', defined({ agent: args.agent, reason: str(options.reason) }))
    return { data: res, text: (c) => `${c.red('revoked')} ${res.revoked}: ${res.reason} ${c.dim(`(cut at seq ${res.cut.seq}, chain entry ${res.entry})`)}` }
  }).option('--reason <text>', 'Why (kept in the chain; required)')
    .example('aura agent revoke claude-7f3a --reason "edited outside its zone"')

  program.command('agent revoke-all', 'Revoke AI agents at once: --role agent is the hard pause (every agent); people are never touched', async ({ options, io }) => {
    const res = await callNode(io, 'agent-revoke-all', defined({ role: str(options.role), reason: str(options.reason) }))
    const which = res.role === 'agent' ? 'every AI agent (hard pause: none can act until new credentials are issued)' : `the agents of role ${res.role}`
    return { data: res, text: (c) => `${c.red('revoked')} ${which}: ${res.revoked.join(', ')}: ${res.reason}\n${c.dim(`chain entries ${res.entries.join(', ')}; people are not touched`)}` }
  })
    .option('--role <role>', '`agent`: every AI agent, whatever its role; another role: the agents of that role. People are never revoked by this (required)')
    .option('--reason <text>', 'Why (kept in the chain; required)')
    .example('aura agent revoke-all --role agent --reason "hard pause: prompt injection suspected"')

  program.command('sentinel send <text>', 'Send a message to agents or peers, as a signed record (--agent: as that agent)', async ({ args, options, io }) => {
    const res = await callNode(io, 'sentinel-send', defined({ text: args.text, to: strings(options.to), agent: str(options.agent) }))
    return { data: res, text: (c) => `${c.green('sent')} ${res.id.slice(0, 12)} from ${res.from} to ${res.to.join(', ')}` }
  })
    .option('--to <id>', 'Recipient: an agent name or id, or a peer id (repeat for several)')
    .option('--agent <name>', 'Send as this agent (its credential must be in this home)')
    .example('aura sentinel send "stop editing auth/" --to claude-7f3a')
    .example('aura sentinel send "done with login.ts" --agent claude --to peer-5f3a')

  program.command('sentinel inbox', 'Messages between agents: who told whom what, with revoked senders and still-active recipients flagged', async ({ options, io }) => {
    const rows = await callNode(io, 'sentinel-inbox', defined({ agent: str(options.agent), since: str(options.since) })) as any[]
    return {
      data: rows,
      text: (c) => rows.length === 0
        ? c.dim('no messages')
        : rows.map((r) => {
          const to = r.to.map((t: any) => t.revoked === true ? c.red(`${t.id} (revoked)`) : t.id).join(', ')
          const flags = [
            r.status === 'quarantined' ? c.red(`quarantined: ${r.reason}`) : null,
            r.senderRevoked === true && r.activeRecipients === true ? c.yellow('sender revoked; a recipient is still active and may act on this') : null
          ].filter((x) => x !== null)
          return `${c.dim(r.ts)} ${c.bold(r.from)} -> ${to}: ${r.text}${flags.length === 0 ? '' : `\n    ${flags.join('; ')}`}`
        }).join('\n')
    }
  })
    .option('--agent <id>', 'Only messages from or to this agent (or peer)')
    .option('--since <duration>', 'e.g. 24h, 30d')
    .example('aura sentinel inbox --since 24h')
    .example('aura sentinel inbox --agent claude-7f3a --json')

  program.command('mcp', 'Serve the Model Context Protocol on stdin/stdout to an AI agent, acting as --agent: every call enforced, refusals (and with log_all_calls every call) audited', async ({ options, io }) => {
    const agent = str(options.agent)
    if (agent === undefined || agent === '') throw new UsageError('missing --agent NAME: the agent this server acts as (its credential must be in this home; see `aura agent list`)')
    // Fail before serving if the agent is unknown here, with the usual error; offer only the
    // tools its capabilities allow.
    const resolved = await callNode(io, 'agent-resolve', { agent }) as { capabilities: string[] }
    const [{ buildMcpServer }, { StdioServerTransport }] = await Promise.all([
      import('../../node/agents/mcp-server.js'),
      import('@modelcontextprotocol/sdk/server/stdio.js')
    ])
    const where = await workspaceParams(io, options) as { cwd?: string, workspace?: string }
    const server = buildMcpServer(agent, async (method, params) => await callNode(io, method, params), {
      cwd: where.cwd,
      workspace: where.workspace,
      capabilities: resolved.capabilities,
      ...(io.ctx.version === undefined ? {} : { version: io.ctx.version })
    })
    const closed = new Promise<void>((resolve) => { server.server.onclose = () => resolve() })
    process.stdin.once('end', () => { void server.close() })
    await server.connect(new StdioServerTransport())
    io.out.info(`aura mcp: serving as ${agent} on stdio`)
    await closed
    return undefined
  })
    .option('--agent <name>', 'The agent this server acts as (required)')
    .option('--workspace <dir>', 'The workspace the agent edits (default: [workspace] path, or found from here)')
    .example('aura mcp --agent claude --workspace ~/src/app')
}
