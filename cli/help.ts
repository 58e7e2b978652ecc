/**
 * Help text, rendered from what commands registered with cac (names, arguments, options,
 * examples). Written here rather than by cac so it goes to the injected stdout, lists
 * multi-word commands, and can show one command group (`aura mothership --help`).
 *
 * @example
 * out.write(globalHelp(cli, colors))
 * out.write(commandHelp(cli, cli.commands[0], colors))
 */
import type { CAC, Command } from 'cac'
import type { Colors } from './output.js'

const BIN = 'aura'
const MAX_LEFT = 36

interface Row { left: string, right: string }

function table (rows: Row[]): string {
  const width = Math.min(MAX_LEFT, Math.max(0, ...rows.map((r) => r.left.length)))
  return rows.map((r) => r.left.length > width
    ? `  ${r.left}\n  ${' '.repeat(width)}  ${r.right}`
    : `  ${r.left.padEnd(width)}  ${r.right}`).join('\n')
}

function optionRows (cmd: Command): Row[] {
  return cmd.options.map((o) => ({
    left: o.rawName,
    // cac gives `--no-start` the default `true` (of `start`): shown as is, it reads as the
    // opposite of what happens. A negated flag is off unless typed, which its text says.
    right: o.description + (o.config.default === undefined || o.negated ? '' : ` (default: ${String(o.config.default)})`)
  }))
}

/** The command list, or the commands of one group (`mothership`). */
export function globalHelp (cli: CAC, c: Colors, group?: string): string {
  const commands = cli.commands.filter((cmd) => group === undefined || cmd.name.startsWith(`${group} `))
  const parts = [
    `${c.bold(BIN)}${cli.globalCommand.versionNumber === undefined ? '' : ` ${cli.globalCommand.versionNumber}`}: Aura node, a signed intent log and authority chain over libp2p`,
    `${c.bold('Usage:')}\n  ${BIN} ${group === undefined ? '<command>' : `${group} <command>`} [options]`,
    `${c.bold(group === undefined ? 'Commands:' : `${group} commands:`)}\n${table(commands.map((cmd) => ({ left: cmd.rawName, right: cmd.description })))}`,
    `${c.bold('Global options:')}\n${table(optionRows(cli.globalCommand))}`,
    `Run \`${BIN} help <command>\` (or \`${BIN} <command> --help\`) for a command's options and examples.`
  ]
  return parts.join('\n\n') + '\n'
}

/** Help for one command: usage, description, its options, the global options, examples. */
export function commandHelp (cli: CAC, cmd: Command, c: Colors): string {
  const parts = [
    `${c.bold('Usage:')}\n  ${BIN} ${cmd.usageText ?? cmd.rawName} [options]`,
    cmd.description
  ]
  const own = optionRows(cmd)
  if (own.length > 0) parts.push(`${c.bold('Options:')}\n${table(own)}`)
  parts.push(`${c.bold('Global options:')}\n${table(optionRows(cli.globalCommand))}`)
  if (cmd.examples.length > 0) {
    parts.push(`${c.bold('Examples:')}\n${cmd.examples.map((e) => `  ${typeof e === 'function' ? e(BIN) : e}`).join('\n')}`)
  }
  return parts.join('\n\n') + '\n'
}
