import { describe, expect, it } from 'vitest'
import { buildCli, modulesFor, Program, type CommandCall } from '../../cli/program.js'
import { colorEnabled } from '../../cli/output.js'
import { NotFoundError } from '../../crdt/errors.js'
import { captureContext, runCli, runProgram } from './helpers.js'

// A program with test-only commands, to check parsing without touching node/.
function testProgram (env: Record<string, string> = {}, tty = false) {
  const cap = captureContext({ env, tty })
  const program = new Program(cap.ctx)
  const calls: CommandCall[] = []
  program.command('mothership revoke-peer <peer>', 'Revoke a peer', async (call) => {
    calls.push(call)
    return { data: { peer: call.args.peer, reason: call.options.reason }, text: (c) => c.red(`revoked ${String(call.args.peer)}`) }
  }).option('--reason <text>', 'Why')
  program.command('mothership lockdown', 'Lock down', async () => ({ data: { locked: true } }))
  program.command('rewind', 'Rewind a function', async (call) => {
    calls.push(call)
    return { data: { to: call.options.to, dryRun: call.options.dryRun } }
  }).option('--to <intent>', 'Target').option('--dry-run', 'Only show')
  program.command('fail', 'Always fails', async () => { throw new NotFoundError('no such intent abcd', { input: 'abcd', hint: 'run `aura trace`' }) })
  program.command('crash', 'Throws a plain error', async () => { throw new TypeError('boom') })
  program.command('status', 'Non-zero on purpose', async () => ({ data: { ok: false }, exitCode: 26 }))
  return { program, calls, cap }
}

describe('parsing', () => {
  it('runs multi-word commands with their arguments and options, options anywhere', async () => {
    const { program, calls, cap } = testProgram()
    const r = await runProgram(program, ['--json', 'mothership', 'revoke-peer', 'peer-5f3a', '--reason', 'laptop theft 2026-04-21'], cap)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toEqual({ peer: 'peer-5f3a', reason: 'laptop theft 2026-04-21' })
    expect(calls[0].args).toEqual({ peer: 'peer-5f3a' })
    expect(calls[0].io.json).toBe(true)
  })

  it('keeps option values exactly as typed (no number conversion)', async () => {
    const { program, calls, cap } = testProgram()
    const r = await runProgram(program, ['rewind', '--to', '0123', '--dry-run'], cap)
    expect(r.code).toBe(0)
    expect(calls[0].options.to).toBe('0123')
    expect(calls[0].options.dryRun).toBe(true)
  })

  it('a flag before a positional does not swallow it', async () => {
    const { program, calls, cap } = testProgram()
    expect((await runProgram(program, ['mothership', 'revoke-peer', '--json', '0042'], cap)).code).toBe(0)
    expect(calls[0].args.peer).toBe('0042')
  })

  it('unknown command: E_USAGE (exit 2) with a suggestion and a help hint', async () => {
    const r = await runCli(['confg', 'show'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain("error E_USAGE: unknown command 'confg'; did you mean 'config'?")
    expect(r.stderr).toContain('hint: run `aura --help`')
  })

  it('a command group without a known subcommand lists the subcommands', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['mothership', 'revoke'], cap)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("unknown command 'mothership revoke': revoke-peer, lockdown; did you mean 'mothership revoke-peer'?")
    const bare = testProgram()
    expect((await runProgram(bare.program, ['mothership'], bare.cap)).stderr).toContain('`aura mothership` needs a command')
  })

  it('unknown option, missing argument, extra argument: E_USAGE', async () => {
    const unknown = await runCli(['id', '--frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain("error E_USAGE: unknown option '--frobnicate' for 'aura id'")
    expect(unknown.stderr).toContain('hint: run `aura id --help`')
    const { program, cap } = testProgram()
    expect((await runProgram(program, ['mothership', 'revoke-peer'], cap)).stderr).toContain('E_USAGE: missing required args')
    expect((await runCli(['id', 'extra'])).stderr).toContain('E_USAGE: Unused args')
    expect((await runCli(['init', '--home'])).stderr).toContain("E_USAGE: option '--home <dir>' value is missing")
  })

  it('usage errors under --json are JSON on stdout', async () => {
    const r = await runCli(['xyzzy', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'E_USAGE', message: "unknown command 'xyzzy'", hint: 'run `aura --help` to list commands' } })
  })
})

describe('help and version', () => {
  it('--help lists every registered command and the global options on stdout', async () => {
    const r = await runCli(['--help'])
    expect(r.code).toBe(0)
    for (const s of ['init', 'id', 'config show', '--home <dir>', '--json', '--set <key=value>']) expect(r.stdout).toContain(s)
    expect(r.stderr).toBe('')
    expect((await runCli([])).stdout).toBe(r.stdout)
  })

  it('command help shows usage and the command\'s own options', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['mothership', 'revoke-peer', '--help'], cap)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('aura mothership revoke-peer <peer> [options]')
    expect(r.stdout).toContain('--reason <text>')
  })

  it('group help lists only the group', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['mothership', '--help'], cap)
    expect(r.stdout).toContain('mothership commands:')
    expect(r.stdout).toContain('mothership lockdown')
    expect(r.stdout).not.toContain('rewind')
  })

  it('--version', async () => {
    expect((await runCli(['--version'])).stdout).toBe('9.9.9-test\n')
    expect(JSON.parse((await runCli(['--version', '--json'])).stdout)).toEqual({ version: '9.9.9-test' })
  })

  it('each command module is listed with exactly the first words of the commands it registers', async () => {
    for (const m of modulesFor()) {
      const program = new Program(captureContext().ctx)
      ;(await m.load()).register(program)
      expect(new Set(program.cac.commands.map((c) => c.name.split(' ')[0])), m.words.join(' ')).toEqual(new Set(m.words))
    }
  })

  it('a run loads the modules its words name, and all of them when it names none', async () => {
    const all = await buildCli(captureContext().ctx)
    for (const cmd of all.cac.commands) {
      const args = ['--home', '/tmp/x', ...cmd.name.split(' '), '--json']
      const routed = await buildCli(captureContext().ctx, args)
      expect(routed.cac.commands.map((c) => c.name), cmd.name).toContain(cmd.name)
    }
    expect((await buildCli(captureContext().ctx, ['status'])).cac.commands.map((c) => c.name)).toEqual(['node start', 'node stop', 'status'])
    expect(modulesFor(['--help'])).toEqual(modulesFor())
    expect(modulesFor(['stauts'])).toEqual(modulesFor())
    expect(modulesFor(['completion', 'bash'])).toEqual(modulesFor())
  })

  it('every registered command accepts --json', async () => {
    const { ctx } = captureContext()
    const cli = await buildCli(ctx)
    for (const cmd of cli.cac.commands) {
      const options = [...cmd.options, ...cli.cac.globalCommand.options]
      expect(options.some((o) => o.names.includes('json')), cmd.name).toBe(true)
    }
  })
})

describe('results and errors', () => {
  it('human output goes to stdout, coloured only on a TTY', async () => {
    const plain = testProgram()
    expect((await runProgram(plain.program, ['mothership', 'revoke-peer', 'peer-1234'], plain.cap)).stdout).toBe('revoked peer-1234\n')
    const tty = testProgram({}, true)
    expect((await runProgram(tty.program, ['mothership', 'revoke-peer', 'peer-1234'], tty.cap)).stdout).toBe('\u001b[31mrevoked peer-1234\u001b[39m\n')
    const noColor = testProgram({ NO_COLOR: '1' }, true)
    expect((await runProgram(noColor.program, ['mothership', 'revoke-peer', 'peer-1234'], noColor.cap)).stdout).toBe('revoked peer-1234\n')
  })

  it('colour rules: off without a TTY, under --json, with NO_COLOR', () => {
    expect(colorEnabled({ write: () => true, isTTY: true }, {}, false)).toBe(true)
    expect(colorEnabled({ write: () => true, isTTY: false }, {}, false)).toBe(false)
    expect(colorEnabled({ write: () => true, isTTY: true }, {}, true)).toBe(false)
    expect(colorEnabled({ write: () => true, isTTY: true }, { NO_COLOR: '1' }, false)).toBe(false)
  })

  it('an AuraError: `error E_CODE: message` and hint on stderr, exit code from the table', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['fail'], cap)
    expect(r.code).toBe(4)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe('error E_NOT_FOUND: no such intent abcd\nhint: run `aura trace`\n')
  })

  it('an AuraError under --json: {"error": {code, message, ...context}} on stdout', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['fail', '--json'], cap)
    expect(r.code).toBe(4)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'E_NOT_FOUND', message: 'no such intent abcd', input: 'abcd', hint: 'run `aura trace`' } })
  })

  it('anything else is E_INTERNAL, exit 1', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['crash'], cap)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe('error E_INTERNAL: boom\n')
  })

  it('a handler may choose its exit code', async () => {
    const { program, cap } = testProgram()
    const r = await runProgram(program, ['status', '--json'], cap)
    expect(r.code).toBe(26)
    expect(JSON.parse(r.stdout)).toEqual({ ok: false })
  })
})
