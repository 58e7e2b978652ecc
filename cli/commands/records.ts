/**
 * Writing and reading the intent log: `aura log-intent`, `aura trace`, `aura audit export`.
 *
 * @example
 * aura log-intent "INCIDENT: peer-5f3a revoked due to laptop theft"
 * aura trace --actor peer-5f3a --since 30d --jsonl > exposure.jsonl
 * aura audit export --signer peer-5f3a --since 30d > exposure-audit.jsonl
 */
import type { Program } from '../program.js'
import { callNode, defined, str, streamNode } from '../call.js'

/** Registers the record commands. */
export function register (program: Program): void {
  program.command('log-intent <text>', 'Append a signed intent (INCIDENT: ... makes an incident record)', async ({ args, options, io }) => {
    const { workspaceParams } = await import('./workspace.js')
    const res = await callNode(io, 'log-intent', { ...await workspaceParams(io, options), ...defined({ text: args.text, agent: str(options.agent) }) })
    for (const w of res.zoneWarnings ?? []) io.out.warn(`zone: ${String(w.message)}`)
    if (res.baseline != null) io.out.info(`first intent on ${res.workspace}: recorded a baseline snapshot of ${res.baseline.files} files (${res.baseline.snapshot.slice(0, 12)})`)
    const changes = res.changes == null ? '' : `: ${res.changes.units} unit${res.changes.units === 1 ? '' : 's'} changed in ${res.changes.files} file${res.changes.files === 1 ? '' : 's'}`
    return { data: res, text: () => `${res.kind} ${res.id} (seq ${res.seq})${changes}` }
  })
    .option('--agent <name>', 'Sign as this agent (its credential must be in this home), with its quota and capabilities enforced')
    .option('--workspace <dir>', 'Record the changes of this workspace (default: [workspace] path, else the current directory if it holds source files)')
    .example('aura log-intent "fix token expiry check"')

  program.command('trace', 'List records, newest first, with quarantine status', async ({ options, io }) => {
    const params = defined({
      actor: str(options.actor),
      signer: str(options.signer),
      since: str(options.since),
      kind: str(options.kind),
      receipts: options.receipts === true
    })
    // Redirected to a file (`> exposure.jsonl`, as the playbooks do), trace writes JSON lines,
    // each as it arrives: a store of any size goes through without being held here.
    if (options.jsonl === true || (!io.json && io.ctx.stdout.isTTY !== true)) {
      await streamNode(io, 'trace', params, (r) => io.out.write(JSON.stringify(r) + '\n'))
      return undefined
    }
    const rows: any[] = []
    await streamNode(io, 'trace', params, (r) => { rows.push(r) })
    return {
      data: rows,
      text: (c) => rows.length === 0
        ? c.dim('no records match')
        : rows.map((r) => {
          const status = r.status === 'effective' ? c.green('effective') : r.status === 'pending' ? c.yellow('pending') : c.red(`QUARANTINED (${r.reason}${r.revoked === null ? '' : `: signer revoked, ${r.revoked.reason}`})`)
          return `${c.dim(r.ts)} ${c.bold(r.id.slice(0, 12))} ${r.kind.padEnd(8)} ${r.signer} as ${r.actor}  ${status}\n    ${r.text}`
        }).join('\n')
    }
  })
    .option('--actor <id>', 'Only records by this identity (peer-5f3a, claude-7f3a) or actor name')
    .option('--signer <id>', 'Only records signed by this key')
    .option('--since <when>', 'Only records since: 30d, 6h, 15m, or an ISO time')
    .option('--kind <kind>', 'Only this kind: intent, incident, rewind, snapshot, blob, receipt, audit')
    .option('--receipts', 'Include receipts and blob records (hidden by default)')
    .option('--jsonl', 'One JSON object per line')
    .example('aura trace --actor peer-5f3a --since 30d > exposure.jsonl')

  program.command('audit export', 'Export records and audit events as verifiable JSON lines', async ({ options, io }) => {
    const format = str(options.format)
    if (format !== undefined && format.toLowerCase() !== 'jsonl') {
      const { UsageError } = await import('../../crdt/errors.js')
      throw new UsageError(`--format ${format} is not supported by export: the one format is jsonl${format.toLowerCase() === 'otlp' ? ' (OTLP streaming is configured in [audit.export])' : ''}`, { input: format, allowed: ['jsonl'] })
    }
    const count = await streamNode(io, 'audit-export', defined({ actor: str(options.actor), signer: str(options.signer), since: str(options.since) }), (l) => io.out.write(JSON.stringify(l) + '\n'))
    io.out.info(`${count} lines exported`)
    return undefined
  })
    .option('--actor <id>', 'Only what concerns this identity or actor')
    .option('--signer <id>', 'Only records signed by this key')
    .option('--since <when>', '30d, 6h, or an ISO time')
    .option('--format <format>', 'jsonl (default)')
    .example('aura audit export --signer peer-5f3a --since 30d > exposure-audit.jsonl')
}
