/**
 * Zones and signed backups: `aura zone claim | list | release` (signed claims over paths or
 * functions that warn or block others' changes), and `aura backup create | verify | restore |
 * import` (one signed file holding the authority chain and the records, for safekeeping and for
 * peers that never touch the network).
 *
 * @example
 * aura zone claim 'src/auth/**' --mode block --ttl 4h
 * aura backup create before-rewind.aurabak && aura backup verify before-rewind.aurabak
 * aura backup import slice.aurabak     # on an air-gapped peer
 */
import path from 'node:path'
import type { Program } from '../program.js'
import { callNode, defined, str } from '../call.js'

/** Registers `aura zone ...` and `aura backup ...`. */
export function register (program: Program): void {
  program.command('zone claim [...patterns]', 'Claim a zone: paths, globs or PATH:NAME functions others are warned (warn) or refused (block) from changing', async ({ args, options, io }) => {
    const res = await callNode(io, 'zone-claim', defined({ patterns: args.patterns, mode: str(options.mode), ttl: str(options.ttl), agent: str(options.agent) }))
    for (const o of res.overlaps as any[]) io.out.warn(`overlaps ${o.owner}'s ${o.mode} zone ${o.id.slice(0, 12)} (${o.patterns.join(', ')})`)
    return { data: res, text: (c) => `${c.green('claimed')} zone ${res.id} (${res.mode}) by ${res.owner}: ${res.patterns.join(' ')}  ${c.dim(`until ${res.expires}`)}` }
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
        : rows.map((r) => `${c.bold(r.id.slice(0, 12))} ${r.mode.padEnd(5)} ${r.owner.padEnd(16)} ${r.status === 'active' ? c.green('active') : c.dim(r.status)}  until ${r.expires}\n    ${r.patterns.join(' ')}`).join('\n')
    }
  })
    .option('--owner <id>', 'Only zones of this identity (peer-5f3a, claude-7f3a, or a user name)')
    .option('--all', 'Include released and expired zones')

  program.command('zone release <id>', 'Release a zone you claimed (its id or a unique prefix)', async ({ args, options, io }) => {
    const res = await callNode(io, 'zone-release', defined({ id: args.id, agent: str(options.agent) }))
    return { data: res, text: (c) => `${c.green('released')} zone ${res.released.slice(0, 12)}: ${res.patterns.join(' ')}` }
  }).option('--agent <name>', 'Release as this agent')

  program.command('backup create <file>', 'Write a signed backup: the authority chain and every record (or those since --since), blobs included', async ({ args, options, io }) => {
    const res = await callNode(io, 'backup-create', defined({ file: path.resolve(io.ctx.cwd, String(args.file)), since: str(options.since) }))
    return { data: res, text: (c) => `${c.green('wrote')} ${res.file}: ${res.records} records, chain 0..${res.chainHead}, ${res.bytes} bytes, signed by ${res.creator}` }
  })
    .option('--since <when>', 'Only records since: 30d, 6h, or an ISO time (a slice to carry to a peer)')
    .example('aura backup create before-rewind.aurabak')

  program.command('backup verify <file>', 'Check every signature of a backup and its own; print what it holds', async ({ args, io }) => {
    const { verifyBackupFile } = await import('../../node/evidence/backup.js')
    const res = await verifyBackupFile(path.resolve(io.ctx.cwd, String(args.file)))
    return {
      data: res,
      text: (c) => [
        `${c.green('verified')} backup of team ${res.team} by ${res.creator}, created ${res.created}${res.since === null ? '' : `, records since ${res.since}`}`,
        `  chain: entries 0..${res.chain.head} (${res.chain.revocations} revocations${res.chain.locked ? ', LOCKED' : ''})`,
        `  records: ${res.records.total} (${res.records.effective} effective, ${res.records.quarantined} quarantined under the file's chain)`,
        `  kinds: ${Object.entries(res.records.kinds).map(([k, n]) => `${k} ${String(n)}`).join(', ')}`
      ].join('\n')
    }
  })

  program.command('backup restore <file>', 'Make a node from a backup in a new home (--home): a fresh identity, the team\'s chain and records; join to sync', async ({ args, io }) => {
    const { restoreBackup } = await import('../../node/evidence/backup.js')
    const res = await restoreBackup(path.resolve(io.ctx.cwd, String(args.file)), await io.home())
    return { data: res, text: (c) => `${c.green('restored')} ${res.records} records and chain 0..${res.chainHead} of team ${res.team} into ${res.home} as ${res.peer}\n${c.dim('this is a new identity: admit it with a join token (`aura join TOKEN`) to sync')}` }
  })

  program.command('backup import <file>', 'Merge a backup or slice into this node through the same verify-first merge as sync (for peers without a network)', async ({ args, io }) => {
    const res = await callNode(io, 'backup-import', { file: path.resolve(io.ctx.cwd, String(args.file)) })
    return { data: res, text: (c) => `${c.green('imported')} ${res.chainAdded} chain entries, ${res.recordsAdded} new records (${res.recordsHeld} held already); ${res.quarantined} quarantined here` }
  })
}

