// `aura completion` is generated from the command table: every command and option of the
// program completes (checked by running the bash script in a real bash), and a command added to
// the program completes with no list to edit. `aura service install|uninstall` writes the
// systemd unit / launchd plist from the repo's templates for this home, into AURA_SERVICE_DIR.
import { execFileSync } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildCli } from '../../cli/program.js'
import { commandTable, completionScript } from '../../cli/completion.js'
import { captureContext, runCli, runProgram, tempDir } from './helpers.js'

let dir: string
let cleanup: () => Promise<void>
beforeEach(async () => { ({ dir, cleanup } = await tempDir('aura-compl-')) })
afterEach(async () => { await cleanup() })

// What bash completes for `aura <words...>` (the last word is the one being typed).
function complete (script: string, words: string[]): string[] {
  const arr = ['aura', ...words].map((w) => `'${w}'`).join(' ')
  const out = execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length}; _aura_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' })
  return out.split('\n').filter((l) => l !== '')
}

describe('aura completion', () => {
  it('bash: every command, sub-command and option of the program completes', async () => {
    const r = await runCli(['completion', 'bash'])
    expect(r.code).toBe(0)
    const program = await buildCli(captureContext().ctx)
    const table = commandTable(program.cac)
    const top = complete(r.stdout, [''])
    for (const c of table.commands) expect(top, c.words.join(' ')).toContain(c.words[0])
    expect(complete(r.stdout, ['mothership', 're'])).toEqual(expect.arrayContaining(['revoke-peer', 'revoke-token']))
    expect(complete(r.stdout, ['node', 'logs', '--le'])).toEqual(['--level'])
    expect(complete(r.stdout, ['up', '--li'])).toEqual(['--listen'])
    expect(complete(r.stdout, ['status', '--ho'])).toEqual(['--home'])
    for (const c of table.commands) {
      for (const o of c.options.filter((x) => x.flag.startsWith('--'))) expect(complete(r.stdout, [...c.words, o.flag]), `${c.words.join(' ')} ${o.flag}`).toContain(o.flag)
    }
  }, 60_000)

  it('a command added to the program completes in all three shells without editing a list', async () => {
    const { ctx, stdout, stderr } = captureContext()
    const program = await buildCli(ctx)
    program.command('frobnicate sprocket', 'a test-only command', async () => ({ data: {} })).option('--teeth <n>', 'how many')
    const table = commandTable(program.cac)
    expect(complete(completionScript('bash', table), ['frobnicate', ''])).toEqual(['sprocket'])
    expect(complete(completionScript('bash', table), ['frobnicate', 'sprocket', '--te'])).toEqual(['--teeth'])
    expect(completionScript('zsh', table)).toContain("'sprocket:a test-only command'")
    expect(completionScript('zsh', table)).toContain("'--teeth:how many'")
    expect(completionScript('fish', table)).toContain("-n '__fish_seen_subcommand_from frobnicate; and __fish_seen_subcommand_from sprocket' -l teeth -d 'how many'")
    expect((await runProgram(program, ['completion', 'fish'], { stdout, stderr })).stdout).toContain("-a 'sprocket'")
  })

  it('an unknown shell is E_USAGE with a did-you-mean', async () => {
    const r = await runCli(['completion', 'bsh'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("did you mean 'bash'?")
  })
})

describe('aura service', () => {
  it('install --dry-run prints the unit: node start --foreground on this home; install writes it; uninstall removes it, twice is fine', async () => {
    const home = path.join(dir, 'home')
    const env = { AURA_SERVICE_DIR: path.join(dir, 'units') }
    const dry = await runCli(['service', 'install', '--platform', 'systemd', '--dry-run', '--home', home], { env, cwd: dir })
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(new RegExp(`^ExecStart=${process.execPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\S+/bin/aura\\.js node start --foreground --home ${home}$`, 'm'))
    await expect(stat(path.join(dir, 'units'))).rejects.toThrow()

    const inst = await runCli(['service', 'install', '--platform', 'systemd', '--home', home, '--json'], { env, cwd: dir })
    expect(JSON.parse(inst.stdout)).toMatchObject({ kind: 'systemd', file: path.join(dir, 'units', 'aura.service'), written: true })
    const unit = await readFile(path.join(dir, 'units', 'aura.service'), 'utf8')
    expect(unit).not.toContain('{{')
    const aura = /ExecStart=\S+ (\S+)/.exec(unit)![1]
    await stat(aura)
    expect(unit).toContain('[Install]\nWantedBy=default.target')

    const un = await runCli(['service', 'uninstall', '--platform', 'systemd', '--home', home, '--json'], { env, cwd: dir })
    expect(JSON.parse(un.stdout)).toMatchObject({ removed: true })
    await expect(stat(path.join(dir, 'units', 'aura.service'))).rejects.toThrow()
    const again = await runCli(['service', 'uninstall', '--platform', 'systemd', '--home', home], { env, cwd: dir })
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('not installed')
  })

  it('launchd: a plist with the same command; an unknown platform is E_USAGE', async () => {
    const home = path.join(dir, 'home')
    const env = { AURA_SERVICE_DIR: path.join(dir, 'agents') }
    const r = await runCli(['service', 'install', '--platform', 'launchd', '--home', home], { env, cwd: dir })
    expect(r.code).toBe(0)
    const plist = await readFile(path.join(dir, 'agents', 'dev.aura.node.plist'), 'utf8')
    expect(plist).toContain(`<string>--foreground</string>\n    <string>--home</string>\n    <string>${home}</string>`)
    expect(plist).not.toContain('{{')
    const bad = await runCli(['service', 'install', '--platform', 'systemv', '--home', home], { env, cwd: dir })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain("did you mean 'systemd'?")
  })
})
