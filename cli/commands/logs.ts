/**
 * `aura node logs [-f] [--level L] [--lines N]`: the daemon's structured log
 * (`<home>/logs/daemon.log` and its rotated files), for people or as JSON lines (`--jsonl`).
 * Works whether or not the daemon runs.
 *
 * @example
 * aura node logs --level warn
 * aura node logs -f --jsonl | jq .event
 */
import type { Program } from '../program.js'
import type { Colors } from '../output.js'
import type { LogLine } from '../../node/log/read-log.js'
import { UsageError } from '../../crdt/errors.js'

const DEFAULT_LINES = 200

/** Registers `aura node logs`. */
export function register (program: Program): void {
  program.command('node logs', 'Show the daemon\'s log (structured, levelled, timestamped); -f follows it', async ({ options, io }) => {
    const [{ LOG_LEVELS, daemonLogPath }, { readLog, followLog }, { oneOfValues }] = await Promise.all([
      import('../../node/log/daemon-log.js'), import('../../node/log/read-log.js'), import('../../node/config/suggest.js')
    ])
    const level = parseLevel(typeof options.level === 'string' ? options.level : 'trace', LOG_LEVELS, oneOfValues)
    const last = options.lines === undefined ? DEFAULT_LINES : Number(options.lines)
    if (!Number.isInteger(last) || last < 0) throw new UsageError(`--lines takes a whole number, got '${String(options.lines)}'`)
    const follow = options.follow === true
    const jsonl = options.jsonl === true
    if (io.json && follow) throw new UsageError('--json prints one JSON value, which a followed log never finishes: use --jsonl with -f')
    const home = await io.home()
    const [{ logFiles }, { NotFoundError }] = await Promise.all([import('../../node/log/read-log.js'), import('../../crdt/errors.js')])
    if (!follow && (await logFiles(home)).length === 0) {
      throw new NotFoundError(`no daemon log at ${daemonLogPath(home)}`, { path: daemonLogPath(home), hint: 'the daemon writes it once started (`aura up` or `aura node start`)' })
    }
    const lines = await readLog(home, { level, last })
    if (io.json) return { data: lines }
    if (lines.length === 0 && !follow && !jsonl) return { data: lines, text: () => `no log lines at ${level} or above in ${daemonLogPath(home)}` }
    const show = (l: LogLine): void => io.out.write(`${jsonl ? JSON.stringify(l) : render(l, io.out.colors)}\n`)
    for (const l of lines) show(l)
    if (!follow) return undefined
    // Until interrupted (SIGINT/SIGTERM) or stdout goes away (`| head`).
    await new Promise<void>((resolve) => {
      const stop = followLog(home, { level }, show)
      const end = (): void => { stop(); resolve() }
      process.once('SIGINT', end)
      process.once('SIGTERM', end)
      process.stdout.once('close', end)
    })
    return undefined
  })
    .option('-f, --follow', 'Keep printing lines as the daemon writes them')
    .option('--level <level>', 'Only lines at this level or above: trace, debug, info, warn, error, fatal (default: all)')
    .option('--lines <n>', `Print at most the last N lines first (default ${DEFAULT_LINES})`)
    .option('--jsonl', 'Print each line as the JSON object stored (one per line)')
    .example('aura node logs --level warn')
    .example('aura node logs -f --jsonl')
}

function render (l: LogLine, c: Colors): string {
  const { time, level, msg, pid: _pid, event, ...rest } = l
  const lvl = String(level ?? '').toUpperCase().padEnd(5)
  const colour = level === 'error' || level === 'fatal' ? c.red : level === 'warn' ? c.yellow : level === 'debug' || level === 'trace' ? c.dim : (s: string) => s
  const fields = Object.entries(rest).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
  return [time === undefined ? null : c.dim(String(time)), level === undefined ? null : colour(lvl), event === undefined ? null : c.cyan(String(event)), String(msg ?? ''), fields.length === 0 ? null : c.dim(fields.join(' '))].filter((x) => x !== null).join(' ')
}

// `warning`, `err`, `WARN`: the level meant, or E_USAGE with the closest (by prefix too).
function parseLevel<T extends string> (
  input: string,
  levels: readonly T[],
  oneOf: (what: string, input: string, allowed: readonly T[]) => T
): T {
  const low = input.trim().toLowerCase()
  const byPrefix = levels.find((l) => low.length >= 3 && (low.startsWith(l) || l.startsWith(low)))
  if (byPrefix !== undefined && byPrefix !== low) {
    throw new UsageError(`unknown log level '${input}': one of ${levels.join(', ')}; did you mean '${byPrefix}'?`, { input, allowed: [...levels] })
  }
  return oneOf('log level', input, levels)
}
