/**
 * Zones: `aura zone claim | list | release`, signed claims over paths or functions that warn or
 * block others' changes (docs/cli.md, "Zones").
 *
 * @example
 * aura zone claim 'src/auth/**' --mode block --ttl 4h
 * aura zone list --owner peer-5f3a --all
 */
import type { Program } from '../program.js'
import { callNode, defined, str } from '../call.js'

/** Registers `aura zone ...`. */
export function register (program: Program): void {
  program.command('zone claim [...patterns]', 'Claim a zone: paths, globs or PATH:NAME functions others are warned (warn) or refused (block) from changing', async ({ args, options, io }) => {
    const res = await callNode(io, 'zone-claim', defined({ patterns: args.patterns, mode: str(options.mode), ttl: str(options.ttl), agent: str(options.agent) }))
    for (const o of res.overlaps as any[]) io.out.warn(`overlaps ${o.owner}'s ${o.mode} zone ${o.id.slice(0, 12)} (${o.patterns.join(', ')})`)
    return { data: res, text: (c) => `${c.green('claimed')} zone ${res.id} (${res.mode}) by ${res.owner}: ${res.patterns.join(' ')}  ${c.dim(`until ${res.expiresAt}`)}` }
  })
    .option('--mode <mode>', 'block (default): others\' changes inside are refused; warn: they are reported')
    .option('--ttl <duration>', 'How long the claim lasts (default 8h, at most 30d)')
    .option('--agent <name>', 'Claim as this agent (its credential must be in this home)')
    .example("aura zone claim 'src/auth/**' src/billing/charge.py:refund --mode block --ttl 4h")

  program.command('zone list', 'Active zones (with --all: released and expired too), newest first', async ({ options, io }) => {
    const rows = await callNode(io, 'zone-list', defined({ owner: str(options.owner), all: options.all === true })) as any[]
    return {
      data: rows,
      text: (c) => rows.length === 0
        ? c.dim(options.all === true ? 'no zones' : 'no active zones (--all shows released and expired ones)')
        : rows.map((r) => `${c.bold(r.id.slice(0, 12))} ${r.mode.padEnd(5)} ${r.owner.padEnd(16)} ${r.status === 'active' ? c.green('active') : c.dim(r.status)}  until ${r.expiresAt}\n    ${r.patterns.join(' ')}`).join('\n')
    }
  })
    .option('--owner <id>', 'Only zones of this identity (peer-5f3a, claude-7f3a, or a user name)')
    .option('--all', 'Include released and expired zones')
    .example('aura zone list')
    .example('aura zone list --owner peer-5f3a --all')

  program.command('zone release <id>', 'Release a zone you claimed (its id or a unique prefix)', async ({ args, options, io }) => {
    const res = await callNode(io, 'zone-release', defined({ id: args.id, agent: str(options.agent) }))
    return { data: res, text: (c) => `${c.green('released')} zone ${res.released.slice(0, 12)}: ${res.patterns.join(' ')}` }
  }).option('--agent <name>', 'Release as this agent')
    .example('aura zone release 01JQ3Z')
}
