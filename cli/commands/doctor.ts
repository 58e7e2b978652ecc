/**
 * `aura doctor`: checks the home, key file modes, config, the daemon, a dial to the Mothership,
 * the audit export endpoint and this clock against the Mothership's beacons; prints what to do
 * for each failure. Exit 0 when nothing failed (warnings and skips included), else the exit code
 * of the first failure's error code.
 *
 * @example
 * aura doctor
 * aura doctor --json | jq '.checks[] | select(.status == "fail")'
 */
import type { Program } from '../program.js'

/** Registers `aura doctor`. */
export function register (program: Program): void {
  program.command('doctor', 'Check this node (home, key modes, config, daemon, Mothership dial, export endpoint, clock) and say what to do for each failure', async ({ io }) => {
    const home = await io.home()
    const [{ runDoctor }, { exitCodeFor }] = await Promise.all([import('../../node/doctor.js'), import('../../crdt/errors.js')])
    const checks = await runDoctor(home, { env: io.ctx.env, flags: io.flags, cwd: io.ctx.cwd })
    const failed = checks.filter((c) => c.status === 'fail')
    return {
      exitCode: failed.length === 0 ? 0 : exitCodeFor(failed[0].code ?? 'E_INTERNAL'),
      data: { home, ok: failed.length === 0, checks },
      text: (c) => [
        ...checks.flatMap((k) => {
          const mark = k.status === 'ok' ? c.green('✓') : k.status === 'fail' ? c.red('✗') : k.status === 'warn' ? c.yellow('!') : c.dim('-')
          return [
            `${mark} ${k.name.padEnd(13)} ${k.status === 'skip' ? c.dim(`skipped: ${k.detail}`) : k.detail}${k.code === undefined ? '' : c.dim(` (${k.code})`)}`,
            ...(k.fix === undefined || k.status === 'ok' || k.status === 'skip' ? [] : [`  ${c.bold('fix:')} ${k.fix}`])
          ]
        }),
        failed.length === 0 ? c.green('all checks passed') : c.red(`${failed.length} check${failed.length === 1 ? '' : 's'} failed`)
      ].join('\n')
    }
  }).example('aura doctor --json')
}
