/**
 * `aura up [TOKEN]`: the one command that gets this machine syncing. It creates the home and
 * identity if there are none, joins the team if given a token and not yet a member, starts the
 * daemon if it is not running, and prints what it did and how to reach the node. Running it
 * again is a no-op that says all is well.
 *
 * @example
 * aura up aurajoin1.eyJ...      # a new machine: identity, join, daemon
 * aura up                       # later: "all is well", exit 0
 */
import type { Program } from '../program.js'
import { callNode, strings } from '../call.js'
import { DaemonRunningError } from '../../crdt/errors.js'

/** Registers `aura up`. */
export function register (program: Program): void {
  program.command('up [token]', 'Get this machine syncing: create the identity if needed, join with TOKEN if given, start the daemon if not running; again: a no-op', async ({ args, options, io }) => {
    const home = await io.home()
    const { ensureIdentity, joinTeam, ensureDaemon } = await import('../bring-up.js')
    const listen = strings(options.listen)
    const did: string[] = []
    const created = await ensureIdentity(io)
    if (created !== null) did.push(`created identity ${created} in ${home}`)
    const token = typeof args.token === 'string' ? args.token : undefined
    let joined: any = null
    if (token !== undefined) {
      const before = await callNode(io, 'status', {})
      if (before.team === null) {
        joined = await joinTeam(io, token)
        did.push(`joined team ${joined.joined} as ${joined.user} (${joined.role})`)
      } else {
        await sameTeam(before.team, token)
      }
    }
    const started = await ensureDaemon(io, { listen, set: options.set })
    if (started) did.push('started the daemon')
    const s = await callNode(io, 'status', {}, { daemonOnly: true })
    if (!started && listen !== undefined) assertListening(listen, s.listen)
    const problems = s.problems as Array<{ code: string, message: string }>
    const data = {
      home,
      peer: s.peer,
      peerId: s.peerId,
      team: s.team,
      user: s.user,
      role: s.role,
      pid: s.pid,
      listen: s.listen,
      did,
      identityCreated: created,
      joined: joined === null ? null : { team: joined.joined, user: joined.user, role: joined.role },
      daemonStarted: started,
      problems
    }
    return {
      data,
      text: (c) => [
        ...(did.length === 0 ? [c.green('all is well: nothing to do')] : did.map((d) => `${c.green('✓')} ${d}`)),
        `${c.bold(s.peer)} ${s.peerId}${s.team === null ? '' : ` — team ${s.team} as ${s.user}${s.role === null ? '' : ` (${s.role})`}`}`,
        `daemon   running (pid ${s.pid}), log: aura node logs`,
        ...s.listen.map((a: string, i: number) => `${i === 0 ? 'listen  ' : '        '} ${a}`),
        ...(s.team === null ? [c.yellow('not part of a team yet: `aura up TOKEN` with a token from your Mothership, or `aura mothership init`')] : []),
        ...problems.filter((p) => p.code !== 'E_NOT_ADMITTED').map((p) => c.yellow(`! ${p.code}: ${p.message}`))
      ].join('\n')
    }
  })
    .option('--listen <multiaddr>', 'Listen address for the daemon it starts (repeatable), e.g. /ip4/0.0.0.0/tcp/7447')
    .example('aura up aurajoin1.eyJ...   # identity, join, daemon: this machine syncs')
    .example('aura up                    # again: nothing to do, exit 0')
}

// A token for the team this node is already in was redeemed before (or need not be): nothing to
// do. One for another team is a mistake to say, not to ignore.
async function sameTeam (team: string, token: string): Promise<void> {
  const [{ decodeToken }, { ExistsError }] = await Promise.all([import('../../crdt/join-token.js'), import('../../crdt/errors.js')])
  const claimed = decodeToken(token).team
  if (claimed === team) return
  throw new ExistsError(`this node already belongs to team '${team}'; the token is for team '${claimed}'`, {
    team,
    hint: 'a node belongs to one team: use another home (--home) for the other team'
  })
}

// `--listen` on a running daemon: fine if it listens there already; never silently ignored.
function assertListening (wanted: string[], actual: string[]): void {
  const missing = wanted.filter((w) => !actual.some((a) => a === w || a.startsWith(`${w}/`) || (/\/tcp\/0$/.test(w) && a.startsWith(w.replace(/\/tcp\/0$/, '/tcp/')))))
  if (missing.length === 0) return
  throw new DaemonRunningError(`the daemon is running on ${actual.join(', ')}, not on ${missing.join(', ')}`, {
    hint: 'restart it on the new address: `aura node stop`, then `aura up --listen ...`'
  })
}
