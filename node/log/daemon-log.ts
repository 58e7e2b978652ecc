/**
 * The daemon's log: structured (pino, one JSON object per line), levelled, timestamped in
 * ISO-8601, in `<home>/logs/daemon.log` with size-based rotation (`[log] max_size`, `[log]
 * keep`). Warnings and errors are also printed on stderr as one human line (`aura: warn: …`), so
 * a daemon run in the foreground (or under systemd) shows them; `aura node logs` reads the file.
 * Each line has `time`, `level`, `msg`, and an `event` naming what happened (`connected`,
 * `refused`, `joined`, `chain-applied`, `revoked`, `lockdown`, `export-failed`, …) with its fields.
 *
 * @example
 * const log = createDaemonLog(home, { level: 'info', maxBytes: 10 * 1048576, keep: 5 })
 * log.warn({ event: 'port-fallback', address: '/ip4/0.0.0.0/tcp/7447' }, 'port in use, listening on a free port')
 */
import path from 'node:path'
import { pino, stdTimeFunctions, type Logger } from 'pino'
import { RotatingFile } from './rotating-file.js'

/** Log levels, least severe first (pino's). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const

/** One of LOG_LEVELS. */
export type LogLevel = typeof LOG_LEVELS[number]

/** The daemon's logger; `close` closes its file (after the last line). */
export type DaemonLog = Logger & { close: () => void }

/** Where the daemon's log lives in a home. */
export function daemonLogPath (home: string): string {
  return path.join(home, 'logs', 'daemon.log')
}

/** Options of createDaemonLog. */
export interface DaemonLogInit {
  level: LogLevel
  maxBytes: number
  keep: number
  /** Where warnings and errors are echoed for people; default process.stderr. Null: nowhere. */
  echo?: { write: (s: string) => unknown } | null
}

/** Opens the daemon's log in `home`. */
export function createDaemonLog (home: string, init: DaemonLogInit): DaemonLog {
  const file = new RotatingFile(daemonLogPath(home), { maxBytes: init.maxBytes, keep: init.keep })
  const echo = init.echo === undefined ? process.stderr : init.echo
  const streams: Array<{
    level: LogLevel
    stream: { write: (s: string) => unknown }
  }> = [{ level: init.level, stream: file }]
  if (echo !== null) streams.push({ level: 'warn', stream: { write: (line: string) => echo.write(humanLine(line)) } })
  const logger = pino({
    level: init.level,
    base: { pid: process.pid },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) }
  }, pino.multistream(streams))
  return Object.assign(logger, { close: () => file.close() })
}

/** A log line for people: `aura: warn: message (code E_X, address …)`. */
export function humanLine (jsonLine: string): string {
  try {
    const { level, msg, time: _t, pid: _p, event, ...rest } = JSON.parse(jsonLine) as Record<string, unknown>
    // The CLI prints a start-up failure itself, with its code and hint.
    if (event === 'start-failed') return ''
    const extra = Object.entries(rest).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object').map(([k, v]) => `${k} ${String(v)}`)
    return `aura: ${String(level)}: ${String(msg)}${extra.length === 0 ? '' : ` (${extra.join(', ')})`}\n`
  } catch {
    return jsonLine
  }
}
