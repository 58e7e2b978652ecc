/**
 * `aura service install|uninstall`: runs the node as a service of the current user — a systemd
 * user unit on Linux, a launchd agent on macOS — from the templates in `service/`, with
 * `node start --foreground` on this home. Install writes the file and says how to enable it;
 * `--dry-run` prints it instead. The directory is the platform's (`~/.config/systemd/user`,
 * `~/Library/LaunchAgents`) unless AURA_SERVICE_DIR names another (tests, packaging).
 *
 * @example
 * aura service install --dry-run
 * aura service install && systemctl --user enable --now aura
 */
import type { Program } from '../program.js'
import type { CommandIO } from '../program.js'

const KINDS = ['systemd', 'launchd'] as const
type Kind = typeof KINDS[number]

const FILES: Record<Kind, {
  template: string,
  dir: string[],
  enable: (file: string) => string,
  disable: (file: string) => string
}> = {
  systemd: {
    template: 'aura.service',
    dir: ['.config', 'systemd', 'user'],
    enable: () => 'systemctl --user daemon-reload && systemctl --user enable --now aura',
    disable: () => 'systemctl --user disable --now aura (before uninstalling), then systemctl --user daemon-reload'
  },
  launchd: {
    template: 'dev.aura.node.plist',
    dir: ['Library', 'LaunchAgents'],
    enable: (file) => `launchctl bootstrap gui/$(id -u) ${file}`,
    disable: (file) => `launchctl bootout gui/$(id -u) ${file} (before uninstalling)`
  }
}

/** Registers the service commands. */
export function register (program: Program): void {
  program.command('service install', 'Write a systemd user unit (Linux) or launchd agent (macOS) running this node with `node start --foreground`', async ({ options, io }) => {
    const { kind, file, text } = await serviceFile(io, options.platform)
    if (options.dryRun === true) return { data: { kind, file, written: false, text }, text: () => `# would write ${file}\n${text}` }
    const { mkdir, writeFile } = await import('node:fs/promises')
    const path = await import('node:path')
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, text, { mode: 0o644 })
    const next = FILES[kind].enable(file)
    return { data: { kind, file, written: true, next }, text: (c) => `${c.green('wrote')} ${file}\nstart it now and at every login: ${next}` }
  })
    .option('--dry-run', 'Print the file instead of writing it')
    .option('--platform <kind>', 'systemd or launchd (default: this system\'s)')
    .example('aura service install')
    .example('aura service install --dry-run --platform launchd')

  program.command('service uninstall', 'Remove the service file `aura service install` wrote', async ({ options, io }) => {
    const { kind, file } = await serviceFile(io, options.platform)
    const { rm, access } = await import('node:fs/promises')
    const present = await access(file).then(() => true, () => false)
    const before = FILES[kind].disable(file)
    if (options.dryRun === true) return { data: { kind, file, removed: false, present }, text: () => present ? `would remove ${file}` : `not installed (no ${file})` }
    // Idempotent, like `node stop`: no file is the state asked for.
    if (!present) return { data: { kind, file, removed: false, present: false }, text: () => `not installed (no ${file})` }
    await rm(file)
    return { data: { kind, file, removed: true, stop: before }, text: () => `removed ${file}; if it is running: ${before}` }
  })
    .option('--dry-run', 'Say what would be removed')
    .option('--platform <kind>', 'systemd or launchd (default: this system\'s)')
    .example('aura service uninstall --dry-run')
}

async function serviceFile (io: CommandIO, platform: unknown): Promise<{ kind: Kind, file: string, text: string }> {
  const [path, { readFile }, { fileURLToPath }, os, { oneOfValues }, { UsageError }] = await Promise.all([
    import('node:path'), import('node:fs/promises'), import('node:url'), import('node:os'), import('../../node/config/suggest.js'), import('../../crdt/errors.js')
  ])
  const kind: Kind = typeof platform === 'string' ? oneOfValues('service platform', platform, KINDS) : process.platform === 'darwin' ? 'launchd' : 'systemd'
  if (typeof platform !== 'string' && process.platform !== 'darwin' && process.platform !== 'linux') {
    throw new UsageError(`no user service manager known on ${process.platform}`, { hint: 'pass --platform systemd or launchd with --dry-run to see the file' })
  }
  const home = await io.home()
  const root = packageRoot(path, fileURLToPath(import.meta.url))
  const aura = path.join(root, 'bin', 'aura.js')
  const template = await readFile(path.join(root, 'service', FILES[kind].template), 'utf8')
  const text = template.replaceAll('{{NODE}}', process.execPath).replaceAll('{{AURA}}', aura).replaceAll('{{HOME}}', home)
  const dir = io.ctx.env.AURA_SERVICE_DIR ?? path.join(io.ctx.userHome ?? os.homedir(), ...FILES[kind].dir)
  return { kind, file: path.join(path.resolve(io.ctx.cwd, dir), kind === 'systemd' ? 'aura.service' : 'dev.aura.node.plist'), text }
}

// The folder with bin/ and service/: two levels above cli/commands (tsx), three above dist/cli/commands.
function packageRoot (path: typeof import('node:path'), file: string): string {
  const up2 = path.resolve(path.dirname(file), '../..')
  return path.basename(up2) === 'dist' ? path.dirname(up2) : up2
}
