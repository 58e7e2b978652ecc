/**
 * The workspace commands: snapshots, surgical rewind, applying received changes, conflicts,
 * and the security review of recorded changes. Each works on the workspace given by
 * `--workspace DIR`, else `[workspace] path`, else the directory it runs in (docs/workspace.md).
 *
 * @example
 * aura pr-review --actor peer-5f3a --since 30d --security
 * aura rewind --function src/auth/verify.py:verify_token --to 3f9a12
 * aura snapshot-list --author claude-7f3a
 */
import path from 'node:path'
import type { CommandIO, Program } from '../program.js'
import { callNode, defined, str } from '../call.js'

/**
 * Where a workspace command works: `--workspace` (made absolute
 * here), else the config's path, and the directory it ran in.
 */
export async function workspaceParams (
  io: CommandIO,
  options: Record<string, unknown>
): Promise<Record<string, unknown>> {
  const typed = str(options.workspace)
  const workspace = typed !== undefined
    ? path.resolve(io.ctx.cwd, typed)
    : (await io.config()).config.workspace.path ?? undefined
  return defined({ workspace, cwd: io.ctx.cwd })
}

const short = (id: string | null | undefined): string => (id ?? '').slice(0, 12)

/** Registers the workspace commands. */
export function register (program: Program): void {
  program.command('snapshot [...paths]', 'Store the current contents of files (default: the whole workspace) and record a signed snapshot', async ({ args, options, io }) => {
    const r = await callNode(io, 'snapshot', { ...await workspaceParams(io, options), ...defined({ paths: args.paths, reason: str(options.reason), agent: str(options.agent) }) })
    return { data: r, text: (c) => `snapshot ${c.bold(short(r.id))} of ${r.files} files (${r.reason}), record ${short(r.record)}` }
  })
    .option('--reason <text>', 'Why (default: manual)')
    .option('--agent <name>', 'Take it for this agent (its credential must be in this home)')
    .option('--workspace <dir>', 'The workspace (default: [workspace] path, else the current directory)')
    .example('aura snapshot src/auth')

  program.command('snapshot-list', 'List recorded snapshots, oldest first (quarantined ones marked)', async ({ options, io }) => {
    const rows = await callNode(io, 'snapshot-list', defined({ author: str(options.author), path: str(options.path), since: str(options.since) })) as any[]
    return {
      data: rows,
      text: (c) => rows.length === 0
        ? c.dim('no snapshots match')
        : rows.map((r) => `${c.dim(r.ts)} ${c.bold(short(r.id))} ${r.author.padEnd(14)} ${r.reason.padEnd(11)} ${String(r.files).padStart(4)} files  record ${short(r.record)}${r.status === 'effective' ? '' : c.red(`  QUARANTINED (${r.quarantineReason})`)}`).join('\n')
    }
  })
    .option('--author <id>', 'Only snapshots by this identity (peer-5f3a, claude-7f3a) or actor name')
    .option('--path <path>', 'Only snapshots holding this file or directory')
    .option('--since <when>', 'Only snapshots since: 30d, 6h, or an ISO time')
    .example('aura snapshot-list --author claude-7f3a')

  program.command('rewind', 'Put one function back as it was at an intent or snapshot (or every unit an agent session changed); neighbours keep their edits', async ({ options, io }) => {
    const r = await callNode(io, 'rewind', { ...await workspaceParams(io, options), ...defined({ function: str(options.function), to: str(options.to), toBeforeSession: str(options.toBeforeSession), dryRun: options.dryRun === true, agent: str(options.agent) }) })
    return {
      data: r,
      text: (c) => {
        if (r.session !== undefined) {
          const lines = (r.units as any[]).map((u) => u.changed === true
            ? `${c.green(r.dryRun === true ? 'would rewind' : 'rewound')} ${u.function} to ${short(u.targetSnapshot ?? u.target)}${u.record === null ? '' : `: rewind ${c.bold(short(u.record))}, file saved first as snapshot ${short(u.snapshot)}`}`
            : c.dim(`${u.function} already as before the session`))
          return [...lines, `${r.session}'s session: ${r.rewound} of ${r.units.length} units ${r.dryRun === true ? 'would be ' : ''}rewound${r.dryRun === true ? c.yellow(' (dry run: nothing written)') : ''}`].join('\n')
        }
        if (r.changed !== true) return `${r.function} is already as it was at ${short(r.targetSnapshot ?? r.target)}; nothing written`
        const head = r.dryRun === true ? c.yellow('dry run: nothing written') : `${c.green('rewound')} ${r.function} to ${short(r.targetSnapshot ?? r.target)}: rewind ${c.bold(short(r.record))}, file saved first as snapshot ${short(r.snapshot)}`
        return `${r.diff.trimEnd()}\n${head}`
      }
    }
  })
    .option('--function <path:name>', 'The unit: src/auth/verify.py:verify_token, src/a.ts:Auth.check')
    .option('--to <id>', 'An intent, rewind or snapshot id (or a unique prefix) from `aura trace` or `aura snapshot-list`')
    .option('--to-before-session <agent>', 'Instead of --function/--to: every unit this agent credential changed, back as it was before it first touched it (its pre-edit snapshots)')
    .option('--dry-run', 'Show the change without writing anything')
    .option('--agent <name>', 'Rewind as this agent (needs the rewind capability)')
    .option('--workspace <dir>', 'The workspace (default: [workspace] path, else the current directory)')
    .example('aura rewind --function src/auth/verify.py:verify_token --to 3f9a12')
    .example('aura rewind --to-before-session claude-7f3a')

  program.command('apply', 'Apply received changes to the workspace (and retry those that conflicted)', async ({ options, io }) => {
    const r = await callNode(io, 'apply', { ...await workspaceParams(io, options), dryRun: options.dryRun === true })
    return {
      data: r,
      text: (c) => {
        if (r.records.length === 0) return c.dim('nothing to apply')
        const lines = r.records.flatMap((x: any) => [
          `${c.bold(short(x.record))} ${x.signer} as ${x.actor}: ${x.applied} applied, ${x.already} already here, ${x.conflicts.length === 0 ? '0 conflicts' : c.red(`${x.conflicts.length} conflicts`)}  ${c.dim(x.text)}`,
          ...x.conflicts.map((k: any) => `    ${c.red(k.reason)} ${k.path}:${k.name} ${k.message}`)
        ])
        return (r.dryRun === true ? [c.yellow('dry run: nothing written'), ...lines] : lines).join('\n')
      }
    }
  })
    .option('--dry-run', 'Show what would be applied without writing')
    .option('--workspace <dir>', 'The workspace (default: [workspace] path, else the current directory)')
    .example('aura apply --dry-run')

  program.command('conflicts', 'Received changes not applied because the workspace differs here', async ({ options, io }) => {
    const clear = options.clear === true ? true : str(options.clear)
    const rows = await callNode(io, 'conflicts', defined({ clear })) as any[]
    return {
      data: rows,
      text: (c) => rows.length === 0
        ? c.dim(clear === undefined ? 'no conflicts' : 'cleared; no conflicts left')
        : rows.map((k) => `${c.bold(short(k.recordId))} ${k.signer} as ${k.actor} ${c.red(k.reason)} ${k.path}:${k.name}\n    ${k.message}`).join('\n')
    }
  })
    .option('--clear [record]', 'Forget the conflicts of one record (id prefix), or all of them')
    .example('aura conflicts --json')

  program.command('pr-review', 'Review recorded changes in range; with --security, flag suspicious patterns', async ({ options, io }) => {
    const { rewindCommand } = await import('../../node/workspace-node/rewind-command.js')
    const r = await callNode(io, 'pr-review', defined({ actor: str(options.actor), signer: str(options.signer), since: str(options.since), security: options.security === true }))
    return {
      data: r,
      text: (c) => {
        if (r.records.length === 0) return c.dim('no recorded changes match')
        const out: string[] = []
        for (const x of r.records) {
          const status = x.status === 'effective' ? '' : c.red(` QUARANTINED (${x.reason})`)
          out.push(`${c.dim(x.ts)} ${c.bold(short(x.id))} ${x.kind} ${x.signer} as ${x.actor}${status}  ${x.text}`)
          for (const ch of x.changes) out.push(`    ${ch}`)
          for (const f of r.flags.filter((f: any) => f.recordId === x.id)) {
            const sev = f.severity === 'high' ? c.red('HIGH  ') : f.severity === 'medium' ? c.yellow('MEDIUM') : c.dim('note  ')
            const ev = f.evidence ?? {}
            out.push(`  ${sev} ${f.rule} ${f.location}: ${f.reason}`)
            if (f.excerpt !== '') out.push(`           ${c.dim(`${ev.line == null ? '' : `line ${String(ev.line)}: `}${String(f.excerpt)}`)}`)
            if (ev.before != null || ev.after != null) out.push(`           ${c.dim(`before: ${String(ev.before ?? '—')}   after: ${String(ev.after ?? '—')}`)}`)
            if (ev.detail != null) out.push(`           ${c.dim(String(ev.detail))}`)
            const undo = rewindCommand(f)
            if (undo !== null) out.push(`           ${c.dim(`undo: ${undo}`)}`)
          }
        }
        if (r.security === true) out.push(`${r.summary.records} records, ${r.summary.flagged} flagged: ${r.summary.high} high, ${r.summary.medium} medium, ${r.summary.low} low (notes)`)
        return out.join('\n')
      }
    }
  })
    .option('--actor <id>', 'Only records by this identity (peer-5f3a, claude-7f3a) or actor name')
    .option('--signer <id>', 'Only records signed by this key')
    .option('--since <when>', 'Only records since: 30d, 6h, or an ISO time')
    .option('--security', 'Flag ways out of the process (network, processes, beacons, writes outside), dynamic code, secrets, weakened security logic, weakened tests, large diffs')
    .example('aura pr-review --actor peer-5f3a --since 30d --security')
}
