/**
 * `aura completion bash|zsh|fish`: prints a completion script generated from the command table.
 *
 * @example
 * eval "$(aura completion bash)"
 * aura completion fish > ~/.config/fish/completions/aura.fish
 */
import type { Program } from '../program.js'

/** Registers `aura completion`. */
export function register (program: Program): void {
  program.command('completion <shell>', 'Print a shell completion script (bash, zsh or fish), generated from the command table', async ({ args, io }) => {
    const [{ SHELLS, commandTable, completionScript }, { oneOfValues }] = await Promise.all([import('../completion.js'), import('../../node/config/suggest.js')])
    const shell = oneOfValues('shell', String(args.shell), SHELLS)
    const script = completionScript(shell, commandTable(program.cac))
    if (io.json) return { data: { shell, script } }
    io.out.write(script)
    return undefined
  })
    .example('eval "$(aura completion bash)"')
    .example('aura completion zsh > "${fpath[1]}/_aura"')
    .example('aura completion fish > ~/.config/fish/completions/aura.fish')
}
