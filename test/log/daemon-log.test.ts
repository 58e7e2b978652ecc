// The daemon log's file: pino lines (ISO time, level label) in a file that rotates by size and
// keeps K old files; reading back oldest first, by level; following it across a rotation.
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { createDaemonLog, daemonLogPath, humanLine } from '../../node/log/daemon-log.js'
import { followLog, readLog, type LogLine } from '../../node/log/read-log.js'
import { RotatingFile } from '../../node/log/rotating-file.js'
import { tempDir } from '../cli/helpers.js'

let dir: string
let cleanup: () => Promise<void>
beforeEach(async () => { ({ dir, cleanup } = await tempDir('aura-log-')) })
afterEach(async () => { await cleanup() })

it('rotates at max size, keeps K files, drops the oldest; every file within the limit', async () => {
  const file = path.join(dir, 'logs', 'daemon.log')
  const f = new RotatingFile(file, { maxBytes: 1000, keep: 2 })
  const line = (i: number): string => `${JSON.stringify({ level: 'info', msg: `line ${String(i).padStart(4, '0')}`, pad: 'x'.repeat(60) })}\n`
  for (let i = 0; i < 100; i++) f.write(line(i))
  f.close()
  expect((await readdir(path.dirname(file))).sort()).toEqual(['daemon.log', 'daemon.log.1', 'daemon.log.2'])
  for (const name of ['daemon.log', 'daemon.log.1', 'daemon.log.2']) expect((await stat(path.join(dir, 'logs', name))).size).toBeLessThanOrEqual(1000)
  expect((await stat(file)).mode & 0o777).toBe(0o600)
  // What is kept is the newest lines, in order, with no gap.
  const kept = (await readLog(dir, { level: 'trace', last: 1e9 })).map((l) => Number(String(l.msg).slice(5)))
  expect(kept[kept.length - 1]).toBe(99)
  expect(kept).toEqual(kept.map((_, i) => kept[0] + i))
  expect(kept.length).toBeGreaterThanOrEqual(18) // two full files of ~9 lines and the current one
})

it('keep = 0: the file is started afresh, no rotated files', async () => {
  const f = new RotatingFile(path.join(dir, 'logs', 'daemon.log'), { maxBytes: 200, keep: 0 })
  for (let i = 0; i < 20; i++) f.write(`${'y'.repeat(50)}\n`)
  f.close()
  expect(await readdir(path.join(dir, 'logs'))).toEqual(['daemon.log'])
})

it('pino lines: ISO time, level label, event; warnings echoed for people, info not; read back by level', async () => {
  const echoed: string[] = []
  const log = createDaemonLog(dir, { level: 'debug', maxBytes: 1 << 20, keep: 1, echo: { write: (s) => echoed.push(s) } })
  log.debug({ event: 'audit', type: 'x' }, 'a debug line')
  log.info({ event: 'connected', peer: 'peer-ab12' }, 'connected to peer-ab12')
  log.warn({ event: 'export-failed', cause: 'DNS: getaddrinfo ENOTFOUND collector' }, 'export failed')
  log.trace('below the level: not written')
  const lines = (await readFile(daemonLogPath(dir), 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
  expect(lines.map((l) => l.level)).toEqual(['debug', 'info', 'warn'])
  for (const l of lines) expect(new Date(l.time).toISOString()).toBe(l.time)
  expect(echoed).toEqual(['aura: warn: export failed (cause DNS: getaddrinfo ENOTFOUND collector)\n'])
  expect((await readLog(dir, { level: 'info', last: 10 })).map((l) => l.event)).toEqual(['connected', 'export-failed'])
  expect((await readLog(dir, { level: 'trace', last: 1 })).map((l) => l.event)).toEqual(['export-failed'])
  expect(humanLine('{"level":"error","msg":"start-up failed","event":"start-failed"}')).toBe('')
})

it('follow: sees lines appended after it started, also across a rotation, in order', async () => {
  const file = daemonLogPath(dir)
  const f = new RotatingFile(file, { maxBytes: 400, keep: 3 })
  f.write('{"level":"info","msg":"before"}\n')
  const seen: LogLine[] = []
  const stop = followLog(dir, { level: 'info', intervalMs: 20 }, (l) => seen.push(l))
  try {
    await new Promise((resolve) => setTimeout(resolve, 100))
    for (let i = 0; i < 30; i++) {
      f.write(`${JSON.stringify({ level: i % 2 === 0 ? 'info' : 'debug', msg: `n${i}` })}\n`)
      if (i % 5 === 4) await new Promise((resolve) => setTimeout(resolve, 60))
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  } finally {
    stop()
    f.close()
  }
  expect(seen.map((l) => l.msg)).toEqual(Array.from({ length: 15 }, (_, i) => `n${i * 2}`))
})
