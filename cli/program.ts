/**
 * The `aura` program: a cac instance built from command modules, run against an injected
 * context, with every failure turned into an exit code. Tests build and run it in-process.
 *
 * Adding a command: write `cli/commands/<name>.ts` exporting `register(program)` (see
 * commands/id.ts), then add one line to COMMAND_MODULES below with the first word of each of
 * its commands. Keep the module's top-level imports light; load node/ code inside the handler,
 * so `aura --help` stays instant and a command that talks to the daemon loads no libp2p,
 * Automerge or level (test/cli/lazy-load.test.ts checks).
 *
 * @example
 * const cli = await buildCli({ stdout, stderr, env: {}, cwd: dir })
 * const code = await cli.run(['id', '--json', '--home', dir])   // one run per built program
 */
import { cac, type CAC, type Command } from 'cac'
import { AuraError, UsageError } from '../crdt/errors.js'
import type { LoadedConfig } from '../node/config.js'
import type { Identity } from '../node/identity.js'
import type { CliContext } from './context.js'
import { createOutput, type Output, type TextRenderer } from './output.js'
import { commandHelp, globalHelp } from './help.js'
import { joinCommandWords, leadingWords, optionSpec, rawValues, spellBooleans, unknownFlags, type OptionSpec } from './argv.js'
import { closest } from '../node/config/suggest.js'

/** A command module: registers its commands on the program. */
export interface CommandModule {
  register: (program: Program) => void
}

/**
 * Every command module, in the order `aura --help` lists them, with the first word of each
 * command it registers: a run loads only the modules one of its words names (`aura status`
 * loads node.js), so a command that talks to the daemon does not pay for the others. A run
 * that names none (`aura --help`, an unknown command) loads them all. `whole` modules need
 * the complete program (completion reads the command table).
 */
const COMMAND_MODULES: Array<{ words: string[], whole?: true, load: () => Promise<CommandModule> }> = [
  { words: ['init'], load: async () => await import('./commands/init.js') },
  { words: ['up'], load: async () => await import('./commands/up.js') },
  { words: ['id'], load: async () => await import('./commands/id.js') },
  { words: ['config'], load: async () => await import('./commands/config.js') },
  { words: ['node', 'status'], load: async () => await import('./commands/node.js') },
  { words: ['node'], load: async () => await import('./commands/logs.js') },
  { words: ['doctor'], load: async () => await import('./commands/doctor.js') },
  { words: ['log-intent', 'trace', 'audit'], load: async () => await import('./commands/records.js') },
  { words: ['join', 'peer', 'sync'], load: async () => await import('./commands/team.js') },
  { words: ['mothership'], load: async () => await import('./commands/mothership.js') },
  { words: ['agent', 'sentinel', 'mcp'], load: async () => await import('./commands/agent.js') },
  { words: ['sim'], load: async () => await import('./commands/sim.js') },
  { words: ['snapshot', 'snapshot-list', 'rewind', 'apply', 'conflicts', 'pr-review'], load: async () => await import('./commands/workspace.js') },
  { words: ['zone'], load: async () => await import('./commands/zone.js') },
  { words: ['backup'], load: async () => await import('./commands/backup.js') },
  { words: ['ui'], load: async () => await import('./commands/ui.js') },
  { words: ['completion'], whole: true, load: async () => await import('./commands/completion.js') },
  { words: ['service'], load: async () => await import('./commands/service.js') }
]

/** What a command handler receives. */
export interface CommandCall {
  /** Positional arguments by their declared names (`<peer>` → `args.peer`; variadic → array). */
  args: Record<string, string | string[] | undefined>
  /** Options, camel-cased; values exactly as typed (strings), flags booleans. */
  options: Record<string, unknown>
  io: CommandIO
}

/** Services a handler may use; each loads its node/ module on first use. */
export interface CommandIO {
  readonly ctx: CliContext
  readonly out: Output
  readonly json: boolean
  /** The node home: --home, else AURA_HOME, else ~/.aura. */
  home: () => Promise<string>
  /** The merged config (aura.toml, AURA_* env, --set); warnings are printed to stderr. */
  config: () => Promise<LoadedConfig>
  /** The node identity; warnings (e.g. key file too open) are printed to stderr. */
  identity: () => Promise<Identity>
  /** Whether this run was given config overrides (`--set`, or an `AURA_*` config variable). */
  overridesConfig: boolean
  /** The `--set` flags, by dotted key. */
  flags: Record<string, string>
}

/**
 * What a handler returns: data for --json, optional text for people, optional exit code. Nothing: it printed already.
 */
export type CommandResult = { data: unknown, text?: TextRenderer, exitCode?: number } | undefined

/** A command's implementation. */
export type CommandHandler = (call: CommandCall) => Promise<CommandResult>

const BIN = 'aura'

/** The `aura` program. Build a new one for each run: cac keeps parse state. */
export class Program {
  /** The underlying cac instance, for inspection in tests. */
  readonly cac: CAC
  private readonly ctx: CliContext
  private out: Output

  constructor (ctx: CliContext) {
    this.ctx = ctx
    this.out = createOutput(ctx, { json: false })
    this.cac = cac(BIN)
    this.cac.globalCommand.versionNumber = ctx.version
    this.cac
      .option('--home <dir>', 'Node home (default: $AURA_HOME, else ~/.aura)')
      .option('--json', 'Print the result (or error) as JSON on stdout')
      .option('--set <key=value>', 'Override a config key for this run, e.g. --set sync.max_staleness=10m (repeatable)')
      .option('-h, --help', 'Show help')
      .option('--version', 'Show the version')
  }

  /**
   * Registers a command. `rawName` is cac syntax and may have several words:
   * `'mothership revoke-peer <peer>'`. Returns the cac Command for `.option()`, `.example()`.
   */
  command (rawName: string, description: string, handler: CommandHandler): Command {
    const cmd = this.cac.command(rawName, description)
    cmd.action(async (...params: unknown[]) => await this.invoke(cmd, params, handler))
    return cmd
  }

  /** Parses and runs `args` (argv without node and script), printing output; resolves to the exit code. */
  async run (args: readonly string[]): Promise<number> {
    // `aura help mothership revoke-peer` is `aura mothership revoke-peer --help`, as in git and gh.
    if (args[0] === 'help') return await this.run([...args.slice(1), '--help'])
    const beforeDashes = args.includes('--') ? args.slice(0, args.indexOf('--')) : args
    this.out = createOutput(this.ctx, { json: beforeDashes.some((a) => a === '--json' || a === '--json=true') })
    try {
      const all = this.specs([this.cac.globalCommand, ...this.cac.commands])
      const joined = joinCommandWords(args, all, this.cac.commands.map((c) => c.name))
      const words = leadingWords(joined, all)
      const cmd = this.cac.commands.find((c) => c.isMatched(words[0] ?? ''))
      const known = this.specs([this.cac.globalCommand, ...(cmd === undefined ? [] : [cmd])])
      // cac would read `aura --bogus status` as --bogus=status and run no command at all.
      const unknown = unknownFlags(joined, known)
      if (unknown.length > 0) throw this.unknownOption(unknown[0], cmd, known)
      const argv = spellBooleans(joined, known)
      this.cac.parse(['node', BIN, ...argv], { run: false })
      const opts = this.cac.options
      if (opts.version === true) {
        this.out.result({ version: this.ctx.version ?? 'unknown' }, () => this.ctx.version ?? 'unknown')
        return 0
      }
      const group = this.groupOf(words[0])
      if (opts.help === true || words.length === 0) {
        // Help for a command that does not exist is an error, not the general help with exit 0.
        if (cmd === undefined && group === undefined && words.length > 0) throw this.unknownCommand(words, group)
        this.out.write(
          cmd !== undefined ? commandHelp(this.cac, cmd, this.out.colors) : globalHelp(this.cac, this.out.colors, group)
        )
        return 0
      }
      if (cmd === undefined) throw this.unknownCommand(words, group)
      return await (this.cac.runMatchedCommand() as Promise<number>)
    } catch (err) {
      return this.out.fail(this.asUsageError(err))
    }
  }

  private specs (commands: Command[]): OptionSpec[] {
    return commands.flatMap((c) => c.options.map((o) => optionSpec(o.rawName, o.names)))
  }

  private async invoke (cmd: Command, params: unknown[], handler: CommandHandler): Promise<number> {
    const options = params[params.length - 1] as Record<string, unknown>
    const args: CommandCall['args'] = {}
    cmd.args.forEach((a, i) => { args[camel(a.value)] = params[i] as string | string[] | undefined })
    for (const spec of this.specs([this.cac.globalCommand, cmd])) {
      if (!spec.takesValue) {
        // `--dry-run=true` reaches cac as the string 'true' for flags with a dash in their name.
        for (const name of spec.names) if (options[name] === 'true') options[name] = true
        continue
      }
      // cac turns numeric values into numbers; read back what was typed.
      const values = rawValues(this.cac.rawArgs, spec)
      if (values.length === 0) continue
      for (const name of spec.names) options[name] = values.length === 1 ? values[0] : values
    }
    const result = await handler({ args, options, io: this.io(options) })
    if (result === undefined) return 0
    this.out.result(result.data, result.text)
    return result.exitCode ?? 0
  }

  private io (options: Record<string, unknown>): CommandIO {
    const { ctx, out } = this
    let home: Promise<string> | undefined
    let config: Promise<LoadedConfig> | undefined
    let identity: Promise<Identity> | undefined
    const flags = setFlags(options.set)
    const io: CommandIO = {
      ctx,
      out,
      json: options.json === true,
      flags,
      overridesConfig: Object.keys(flags).length > 0 || Object.entries(ctx.env).some(([k, v]) => k.startsWith('AURA_') && k !== 'AURA_HOME' && k !== 'AURA_DEBUG' && v !== undefined && v !== ''),
      home: async () => await (home ??= import('../node/home.js').then(async (m) => {
        const dir = m.resolveHome(
          { flag: lastString(options.home), env: ctx.env, userHome: ctx.userHome, cwd: ctx.cwd }
        )
        await m.checkHomePath(dir)
        return dir
      })),
      config: async () => await (config ??= (async () => {
        const { loadConfig } = await import('../node/config.js')
        const loaded = await loadConfig(await io.home(), { env: ctx.env, flags, cwd: ctx.cwd })
        for (const w of loaded.warnings) out.warn(w)
        return loaded
      })()),
      identity: async () => await (identity ??= (async () => {
        const { loadIdentity } = await import('../node/identity.js')
        return await loadIdentity(await io.home())
      })())
    }
    return io
  }

  private groupOf (word: string | undefined): string | undefined {
    if (word === undefined) return undefined
    return this.cac.commands.some((c) => c.name.startsWith(`${word} `)) ? word : undefined
  }

  private unknownCommand (words: string[], group: string | undefined): AuraError {
    if (group !== undefined) {
      const subs = this.cac.commands.filter((c) => c.name.startsWith(`${group} `)).map((c) => c.name.slice(group.length + 1))
      const guess = words[1] === undefined ? undefined : closest(words[1], subs)
      const what = words[1] === undefined ? `\`${BIN} ${group}\` needs a command` : `unknown command '${group} ${words[1]}'`
      return new UsageError(`${what}: ${subs.join(', ')}${guess === undefined ? '' : `; did you mean '${group} ${guess}'?`}`, {
        hint: `run \`${BIN} ${group} --help\``
      })
    }
    const names = [...new Set(this.cac.commands.map((c) => c.name.split(' ')[0]))]
    // `aura revoke-peer` means `aura mothership revoke-peer`: a group's command typed without its group.
    const grouped = this.cac.commands.filter((c) => c.name.includes(' '))
    const sub = closest(words[0], grouped.map((c) => c.name.split(' ')[1]))
    const guess = closest(words[0], names) ?? grouped.find((c) => c.name.split(' ')[1] === sub)?.name
    return new UsageError(`unknown command '${words[0]}'${guess === undefined ? '' : `; did you mean '${guess}'?`}`, {
      hint: `run \`${BIN} --help\` to list commands`
    })
  }

  private unknownOption (flag: string, cmd: Command | undefined, known: OptionSpec[]): AuraError {
    const guess = closest(flag.replace(/^-+/, ''), known.flatMap((s) => s.flags))
    const name = cmd === undefined ? BIN : `${BIN} ${cmd.name}`
    return new UsageError(`unknown option '${flag}' for '${name}'${guess === undefined ? '' : `; did you mean '--${guess}'?`}`, {
      hint: `run \`${name} --help\``
    })
  }

  private asUsageError (err: unknown): unknown {
    if (!(err instanceof Error) || err.name !== 'CACError') return err
    const name = this.cac.matchedCommand?.name
    return new UsageError(err.message.replace(/`/g, "'"), { hint: `run \`${BIN}${name === undefined ? '' : ` ${name}`} --help\`` })
  }
}

/**
 * Builds the program. Given the run's `args`, it registers only the command modules those
 * words name (all of them when they name none); without `args`, every module.
 */
export async function buildCli (ctx: CliContext, args?: readonly string[]): Promise<Program> {
  const program = new Program(ctx)
  for (const mod of await Promise.all(modulesFor(args).map(async (m) => await m.load()))) mod.register(program)
  return program
}

/** The command modules a run of `args` needs (every one when `args` is undefined). */
export function modulesFor (args?: readonly string[]): typeof COMMAND_MODULES {
  if (args === undefined) return COMMAND_MODULES
  // Any argument may be a command word; an option value that happens to be one only loads a
  // module too many, never one too few.
  const named = COMMAND_MODULES.filter((m) => m.words.some((w) => args.includes(w)))
  return named.length === 0 || named.some((m) => m.whole === true) ? COMMAND_MODULES : named
}

function setFlags (set: unknown): Record<string, string> {
  const items = set === undefined ? [] : Array.isArray(set) ? set : [set]
  const flags: Record<string, string> = {}
  for (const item of items) {
    const s = String(item)
    const eq = s.indexOf('=')
    if (eq <= 0) throw new UsageError(`--set takes key=value, got '${s}'`, { hint: 'e.g. --set sync.max_staleness=10m' })
    flags[s.slice(0, eq).trim()] = s.slice(eq + 1)
  }
  return flags
}

function lastString (v: unknown): string | undefined {
  const last: unknown = Array.isArray(v) ? v[v.length - 1] : v
  return typeof last === 'string' ? last : undefined
}

function camel (s: string): string {
  return s.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase())
}
