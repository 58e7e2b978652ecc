/**
 * `aura ui [--port N] [--actions]`: asks the running daemon to serve the incident page on
 * 127.0.0.1 and prints a one-time login URL (node/ui/). Run it again for a new URL.
 *
 * @example
 * aura ui                 # read-only page on a free port
 * aura ui --port 7450 --actions   # on the Mothership: revoke, lockdown, unlock from the page
 */
import type { Program } from '../program.js'
import { callNode, defined, str } from '../call.js'

/** Registers `aura ui`. */
export function register (program: Program): void {
  program.command('ui', 'Serve the live incident page on 127.0.0.1 (running daemon) and print a one-time login URL', async ({ options, io }) => {
    const port = str(options.port)
    const res = await callNode(io, 'ui', defined({ port, actions: options.actions === true, cwd: io.ctx.cwd }), { daemonOnly: true })
    return {
      data: res,
      text: (c) => [
        `incident page on 127.0.0.1:${String(res.port)}${res.actions === true ? c.yellow(' (actions on)') : ''}; open this URL once (it logs the browser in):`,
        res.url
      ].join('\n')
    }
  })
    .option('--port <n>', 'Port on 127.0.0.1 (default: any free port; kept while the daemon runs)')
    .option('--actions', 'Allow revoke-peer, revoke-token, agent revoke-all, lockdown and unlock from the page (Mothership only)')
    .example('aura ui --actions')
}
