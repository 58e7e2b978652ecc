/**
 * Reading the daemon's log back (`aura node logs`): the rotated files oldest first, lines at or
 * above a level, and following the current file as it grows and rotates.
 *
 * @example
 * for (const line of await readLog(home, { level: 'warn', last: 100 })) console.log(line.msg)
 * const stop = followLog(home, { level: 'info' }, (line) => console.log(line.msg))
 */
import { open, readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { daemonLogPath, LOG_LEVELS, type LogLevel } from './daemon-log.js'

/** One parsed log line (pino's JSON), or the raw text of a line that is not JSON. */
export interface LogLine {
  time?: string
  level?: string
  msg?: string
  event?: string
  [field: string]: unknown
}

/** Whether `line` is at or above `level`; lines without a known level always pass. */
export function atLeast (line: LogLine, level: LogLevel): boolean {
  const i = LOG_LEVELS.indexOf(line.level as LogLevel)
  return i < 0 || i >= LOG_LEVELS.indexOf(level)
}

/** The log files of `home`, oldest first (daemon.log.N … daemon.log.1, daemon.log); [] if none. */
export async function logFiles (home: string): Promise<string[]> {
  const current = daemonLogPath(home)
  const names = await readdir(path.dirname(current)).catch(() => [] as string[])
  const rotated = names.map((n) => /^daemon\.log\.(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1])).map((m) => path.join(path.dirname(current), m[0]))
  return [...rotated, ...(names.includes('daemon.log') ? [current] : [])]
}

/** The last `last` lines at or above `level`, oldest first. */
export async function readLog (home: string, opts: { level: LogLevel, last: number }): Promise<LogLine[]> {
  const out: LogLine[] = []
  for (const file of await logFiles(home)) {
    for (const text of (await readFile(file, 'utf8')).split('\n')) {
      if (text === '') continue
      const line = parseLine(text)
      if (atLeast(line, opts.level)) out.push(line)
    }
  }
  return opts.last >= out.length ? out : out.slice(out.length - opts.last)
}

/**
 * Calls `onLine` for each line added to the current log file from its present end, following it
 * across rotations (a new file, or one shorter than what was read), every `intervalMs`, until
 * the returned function is called.
 */
export function followLog (
  home: string,
  opts: { level: LogLevel, intervalMs?: number },
  onLine: (line: LogLine) => void
): () => void {
  const file = daemonLogPath(home)
  let offset: number | null = null
  let ino: number | null = null
  let rest = ''
  let busy = false
  const poll = async (): Promise<void> => {
    const st = await stat(file).catch(() => null)
    if (st === null) return
    if (offset === null) { offset = st.size; ino = st.ino; return }
    if (st.ino !== ino || st.size < offset) {
      // Rotated: what was written to the old file after the last read is in daemon.log.1 now.
      const old = await stat(`${file}.1`).catch(() => null)
      if (old !== null && old.ino === ino) await readFrom(`${file}.1`, offset, old.size)
      offset = 0
      ino = st.ino
      rest = ''
    }
    offset = await readFrom(file, offset, st.size)
  }
  const readFrom = async (name: string, from: number, to: number): Promise<number> => {
    if (to <= from) return from
    const fh = await open(name, 'r')
    try {
      const buf = Buffer.alloc(to - from)
      const { bytesRead } = await fh.read(buf, 0, buf.length, from)
      const lines = (rest + buf.subarray(0, bytesRead).toString('utf8')).split('\n')
      rest = lines.pop() ?? ''
      for (const text of lines) {
        if (text === '') continue
        const line = parseLine(text)
        if (atLeast(line, opts.level)) onLine(line)
      }
      return from + bytesRead
    } finally {
      await fh.close()
    }
  }
  const tick = (): void => {
    if (busy) return
    busy = true
    void poll().catch(() => {}).finally(() => { busy = false })
  }
  tick()
  const timer = setInterval(tick, opts.intervalMs ?? 250)
  return () => clearInterval(timer)
}

function parseLine (text: string): LogLine {
  try {
    const v = JSON.parse(text) as unknown
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as LogLine
  } catch {
    // not JSON: shown as it is
  }
  return { msg: text }
}
