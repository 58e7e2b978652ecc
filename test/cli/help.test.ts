/**
 * Help as a reader meets it: every command shows examples, each example is a command line this
 * CLI accepts (its command and every option exist), `aura help CMD` is `aura CMD --help`, help for
 * a command that does not exist is an error with a did-you-mean, and a `--no-x` flag does not
 * print cac's inverted default.
 */
import { describe, expect, it } from 'vitest'
import { buildCli } from '../../cli/program.js'
import { captureContext, runCli } from './helpers.js'

/** Shell words of an example line, up to a redirection or pipe; `$VAR` stays a word. */
export function shellWords (line: string): string[] {
  const words: string[] = []
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) {
    const word = m[1] ?? m[2] ?? m[3]
    if (m[3] !== undefined && /^(>|>>|\||2>|&&|;)/.test(word)) break
    words.push(word)
  }
  return words
}

/** Every example of every command, as the words after `aura`. */
async function examples (): Promise<Array<{ command: string, line: string, args: string[] }>> {
  const program = await buildCli(captureContext().ctx)
  return program.cac.commands.flatMap((cmd) => cmd.examples.map((e) => {
    const line = typeof e === 'function' ? e('aura') : e
    // `eval "$(aura completion bash)"`: the aura command inside the substitution.
    const words = shellWords(/\$\((aura [^)]*)\)/.exec(line)?.[1] ?? line)
    return { command: cmd.name, line, args: words.slice(words.indexOf('aura') + 1) }
  }))
}

describe('help', () => {
  it('every command has at least one example', async () => {
    const program = await buildCli(captureContext().ctx)
    const without = program.cac.commands.filter((c) => c.examples.length === 0).map((c) => c.name)
    expect(without).toEqual([])
  })

  it('every example names its own command and only options that command has', async () => {
    const all = await examples()
    expect(all.length).toBeGreaterThan(50)
    const bad: string[] = []
    for (const ex of all) {
      if (!ex.line.includes(`aura ${ex.command}`)) bad.push(`${ex.command}: example runs another command: ${ex.line}`)
      // --help after the example's own words: the parser refuses an unknown command or option
      // before it prints anything, and runs nothing.
      const r = await runCli([...ex.args, '--help'])
      if (r.code !== 0) bad.push(`${ex.command}: ${ex.line}\n  ${r.stderr.trim()}`)
    }
    expect(bad).toEqual([])
  })

  it('the example checker refuses an example with a mistyped option', async () => {
    const r = await runCli([...shellWords('aura mothership revoke-peer peer-5f3a --reason "x" --resaon y'), '--help'].slice(1))
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("did you mean '--reason'?")
  })

  it('aura help CMD prints what aura CMD --help prints', async () => {
    for (const words of [['mothership', 'revoke-peer'], ['trace'], ['mothership']]) {
      const viaHelp = await runCli(['help', ...words])
      const viaFlag = await runCli([...words, '--help'])
      expect(viaHelp.code).toBe(0)
      expect(viaHelp.stdout).toBe(viaFlag.stdout)
      expect(viaHelp.stdout).toContain('Usage:')
    }
    expect((await runCli(['help'])).stdout).toBe((await runCli(['--help'])).stdout)
  })

  it('help for a command that does not exist is E_USAGE with a did-you-mean, never the general help', async () => {
    for (const args of [['help', 'stauts'], ['stauts', '--help']]) {
      const r = await runCli(args)
      expect(r.code).toBe(2)
      expect(r.stdout).toBe('')
      expect(r.stderr).toContain("unknown command 'stauts'; did you mean 'status'?")
    }
  })

  it("a group's command typed without its group is suggested with it", async () => {
    const r = await runCli(['revoke-peer', 'peer-5f3a'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("did you mean 'mothership revoke-peer'?")
  })

  it('a --no-x flag shows no inverted default, and required options say so', async () => {
    const join = (await runCli(['help', 'join'])).stdout
    expect(join).toMatch(/--no-start\s+Do not start the daemon after joining\n/)
    for (const [cmd, opt] of [['mothership revoke-peer', '--reason'], ['mothership lockdown', '--reason'], ['agent revoke', '--reason'], ['agent revoke-all', '--role'], ['mothership issue-peer', '--role'], ['mcp', '--agent']]) {
      const text = (await runCli(['help', ...cmd.split(' ')])).stdout
      expect(text.split('\n').find((l) => l.trimStart().startsWith(opt)), `${cmd} ${opt}`).toContain('required')
    }
  })
})
