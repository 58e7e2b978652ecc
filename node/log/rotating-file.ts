/**
 * A log file that rotates by size, as logrotate names them: when a write would take
 * `daemon.log` past `maxBytes`, it becomes `daemon.log.1` (`.1` becomes `.2`, …, up to `keep`
 * files; the oldest is dropped) and a fresh `daemon.log` is started. Writes are synchronous, so
 * the line that explains why a daemon is exiting is on disk before it exits.
 *
 * @example
 * const f = new RotatingFile('/home/a/.aura/logs/daemon.log', { maxBytes: 10 * 1048576, keep: 5 })
 * f.write('{"level":"info","msg":"started"}\n')
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/** Sizes of a RotatingFile. */
export interface RotationInit {
  /** Rotate when the current file would pass this many bytes. */
  maxBytes: number
  /** Rotated files kept besides the current one (0: none). */
  keep: number
}

/** An append-only file with size-based rotation; usable as a pino destination. */
export class RotatingFile {
  private fd: number
  private size: number
  private closed = false

  constructor (readonly path: string, private readonly init: RotationInit) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    this.fd = openSync(path, 'a', 0o600)
    this.size = fstatSync(this.fd).size
  }

  /** Appends `chunk`, rotating first if it would not fit. */
  write (chunk: string): boolean {
    if (this.closed) return false
    const bytes = Buffer.byteLength(chunk)
    if (this.size > 0 && this.size + bytes > this.init.maxBytes) this.rotate()
    writeSync(this.fd, chunk)
    this.size += bytes
    return true
  }

  /** Closes the file; later writes are dropped. */
  close (): void {
    if (this.closed) return
    this.closed = true
    closeSync(this.fd)
  }

  private rotate (): void {
    closeSync(this.fd)
    for (let i = this.init.keep - 1; i >= 1; i--) renameQuiet(`${this.path}.${i}`, `${this.path}.${i + 1}`)
    if (this.init.keep > 0) renameSync(this.path, `${this.path}.1`)
    // keep = 0: the old file is truncated away by opening it afresh.
    this.fd = openSync(this.path, this.init.keep > 0 ? 'a' : 'w', 0o600)
    this.size = 0
  }
}

/** The files of a rotated log, oldest first: `daemon.log.K` … `daemon.log.1`, `daemon.log`. */
export function rotatedFiles (path: string, keep: number): string[] {
  return [...Array.from({ length: keep }, (_, i) => `${path}.${keep - i}`), path]
}

function renameQuiet (from: string, to: string): void {
  try {
    renameSync(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}
