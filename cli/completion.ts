/**
 * Shell completion scripts generated from the program's own command table (the cac commands
 * and options every module registered), so a new command or option completes without anyone
 * editing a list. One model, three renderings: bash, zsh, fish.
 *
 * @example
 * const program = await buildCli(ctx)
 * process.stdout.write(completionScript('bash', commandTable(program.cac)))
 */
import type { CAC } from 'cac'

/** The shells `aura completion` writes for. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const
export type Shell = typeof SHELLS[number]

/** One command: its words (`['mothership', 'revoke-peer']`), description and long options. */
export interface CompletionCommand {
  words: string[],
  description: string,
  options: Array<{ flag: string, description: string }>
}

/** The table to complete from: commands, and the options every command takes. */
export interface CompletionTable { commands: CompletionCommand[], global: Array<{ flag: string, description: string }> }

/** Reads the table out of a built program. */
export function commandTable (cli: CAC): CompletionTable {
  const opts = (options: Array<{ names: string[], rawName: string, description: string }>): CompletionTable['global'] =>
    options.flatMap((o) => o.rawName.split(/[ ,]+/).filter((f) => /^--?[a-z]/.test(f)).map((f) => ({ flag: f, description: o.description })))
  return {
    commands: cli.commands.filter((c) => c.name !== '').map((c) => ({ words: c.name.split(' '), description: c.description, options: opts(c.options) })),
    global: opts(cli.globalCommand.options)
  }
}

/** The completion script for `shell`. */
export function completionScript (shell: Shell, table: CompletionTable): string {
  switch (shell) {
    case 'bash': return bash(table)
    case 'zsh': return zsh(table)
    case 'fish': return fish(table)
  }
}

// First words, and for each group (a first word with sub-commands) its second words.
function shape (t: CompletionTable): { top: string[], groups: Map<string, CompletionCommand[]> } {
  const groups = new Map<string, CompletionCommand[]>()
  for (const c of t.commands) if (c.words.length > 1) groups.set(c.words[0], [...(groups.get(c.words[0]) ?? []), c])
  return { top: [...new Set(t.commands.map((c) => c.words[0]))], groups }
}

const sq = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

function bash (t: CompletionTable): string {
  const { top, groups } = shape(t)
  const global = t.global.map((o) => o.flag).join(' ')
  return `# aura completion for bash: eval "$(aura completion bash)" (or save it under ~/.local/share/bash-completion/completions/aura)
_aura_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" key="\${COMP_WORDS[1]}" opts=""
  if [[ $COMP_CWORD -eq 1 ]]; then COMPREPLY=($(compgen -W ${sq(top.join(' '))} -- "$cur")); return; fi
  case "\${COMP_WORDS[1]}" in
${[...groups].map(([g, cs]) => `    ${g}) if [[ $COMP_CWORD -eq 2 ]]; then COMPREPLY=($(compgen -W ${sq(cs.map((c) => c.words[1]).join(' '))} -- "$cur")); return; fi; key="${g} \${COMP_WORDS[2]}" ;;`).join('\n')}
  esac
  case "$key" in
${t.commands.filter((c) => c.options.length > 0).map((c) => `    ${sq(c.words.join(' '))}) opts=${sq(c.options.map((o) => o.flag).join(' '))} ;;`).join('\n')}
  esac
  COMPREPLY=($(compgen -W "$opts ${global}" -- "$cur"))
}
complete -o default -F _aura_complete aura
`
}

function zsh (t: CompletionTable): string {
  const { top, groups } = shape(t)
  const described = (name: string, d: string): string => sq(`${name.replace(/:/g, '\\:')}:${d}`)
  const firsts = top.map((w) => {
    const c = t.commands.find((x) => x.words.length === 1 && x.words[0] === w)
    return described(w, c?.description ?? `${w} commands`)
  })
  return `#compdef aura
# aura completion for zsh: save as _aura in a directory of $fpath, or source it after compinit.
_aura() {
  local -a cmds opts
  local key=$words[2]
  if (( CURRENT == 2 )); then
    cmds=(${firsts.join(' ')})
    _describe 'command' cmds; return
  fi
  case $words[2] in
${[...groups].map(([g, cs]) => `    ${g}) if (( CURRENT == 3 )); then cmds=(${cs.map((c) => described(c.words[1], c.description)).join(' ')}); _describe 'command' cmds; return; fi; key="${g} $words[3]" ;;`).join('\n')}
  esac
  case $key in
${t.commands.filter((c) => c.options.length > 0).map((c) => `    ${sq(c.words.join(' '))}) opts=(${c.options.map((o) => described(o.flag, o.description)).join(' ')}) ;;`).join('\n')}
  esac
  opts+=(${t.global.map((o) => described(o.flag, o.description)).join(' ')})
  _describe 'option' opts
  _files
}
compdef _aura aura 2>/dev/null
`
}

function fish (t: CompletionTable): string {
  const { top, groups } = shape(t)
  const lines = ['# aura completion for fish: aura completion fish > ~/.config/fish/completions/aura.fish', 'complete -c aura -f']
  for (const w of top) {
    const c = t.commands.find((x) => x.words.length === 1 && x.words[0] === w)
    lines.push(`complete -c aura -n __fish_use_subcommand -a ${sq(w)} -d ${sq(c?.description ?? `${w} commands`)}`)
  }
  for (const [g, cs] of groups) {
    const subs = cs.map((c) => c.words[1]).join(' ')
    for (const c of cs) lines.push(`complete -c aura -n ${sq(`__fish_seen_subcommand_from ${g}; and not __fish_seen_subcommand_from ${subs}`)} -a ${sq(c.words[1])} -d ${sq(c.description)}`)
  }
  const flag = (f: string): string => f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`
  for (const c of t.commands) {
    const cond = c.words.map((w) => `__fish_seen_subcommand_from ${w}`).join('; and ')
    for (const o of c.options) lines.push(`complete -c aura -n ${sq(cond)} ${flag(o.flag)} -d ${sq(o.description)}`)
  }
  for (const o of t.global) lines.push(`complete -c aura ${flag(o.flag)} -d ${sq(o.description)}`)
  return `${lines.join('\n')}\n`
}
