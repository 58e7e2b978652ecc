/**
 * Signed backups: `aura backup create | verify | restore | import`, one signed file holding the
 * authority chain and the records, for safekeeping and for peers that never touch the network
 * (docs/cli.md, "Backups"; the format in docs/storage.md).
 *
 * @example
 * aura backup create before-rewind.aurabak && aura backup verify before-rewind.aurabak
 * aura backup import slice.aurabak     # on an air-gapped peer
 */
import path from 'node:path'
import type { Program } from '../program.js'
import { callNode, defined, str } from '../call.js'

/** Registers `aura backup ...`. */
export function register (program: Program): void {
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
    .example('aura backup verify team-2026-12-07.aurabak')

  program.command('backup restore <file>', 'Make a node from a backup in a new home (--home): a fresh identity, the team\'s chain and records; join to sync', async ({ args, io }) => {
    const { restoreBackup } = await import('../../node/evidence/backup.js')
    const res = await restoreBackup(path.resolve(io.ctx.cwd, String(args.file)), await io.home())
    return { data: res, text: (c) => `${c.green('restored')} ${res.records} records and chain 0..${res.chainHead} of team ${res.team} into ${res.home} as ${res.peer}\n${c.dim('this is a new identity: admit it with a join token (`aura join TOKEN`) to sync')}` }
  })
    .example('aura backup restore team-2026-12-07.aurabak --home ~/.aura-restored')

  program.command('backup import <file>', 'Merge a backup or slice into this node through the same verify-first merge as sync (for peers without a network)', async ({ args, io }) => {
    const res = await callNode(io, 'backup-import', { file: path.resolve(io.ctx.cwd, String(args.file)) })
    return { data: res, text: (c) => `${c.green('imported')} ${res.chainAdded} chain entries, ${res.recordsAdded} new records (${res.recordsHeld} held already); ${res.quarantined} quarantined here` }
  })
    .example('aura backup import slice-from-laptop.aurabak')
}
