/**
 * The control socket's streamed answers: rows of a list go one line each, so an answer larger
 * than any one line may be goes through; a stream that fails part way is an error, never a
 * short success; only "nothing listens" lets the CLI open the store itself.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createServer } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NotFoundError } from '../../crdt/errors.js'
import { callControl, noDaemon, streamControl } from '../../node/control/client.js'
import { ControlStream } from '../../node/control/protocol.js'
import { startControlServer, type ControlServer } from '../../node/control/server.js'
import { controlSocketPath } from '../../node/control/protocol.js'
import { runCli } from '../cli/helpers.js'

const ROW_TEXT = 'x'.repeat(10_000)

function * rows (n: number, failAt = -1): Generator<{ i: number, text: string }> {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new NotFoundError(`row ${i} is gone`, { row: i })
    yield { i, text: ROW_TEXT }
  }
}

describe('control socket streaming', () => {
  let home: string
  let server: ControlServer | null = null

  beforeEach(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'aura-control-'))
    server = await startControlServer(home, {
      rows: async (p) => new ControlStream(rows(Number(p.n))),
      failing: async () => new ControlStream(rows(50, 20)),
      whole: async () => Array.from(rows(200)),
      refuse: async () => { throw new NotFoundError('no such record', { id: 'abc' }) }
    })
  })

  afterEach(async () => {
    await server?.close()
    await rm(home, { recursive: true, force: true })
  })

  it('streams 2 MB of rows through a 64 KiB line limit, in order, with the count', async () => {
    const got: Array<{ i: number }> = []
    const n = await streamControl(home, 'rows', { n: 200 }, (r) => { got.push(r as { i: number }) }, { maxLineBytes: 64 * 1024 })
    expect(n).toBe(200)
    expect(got.map((r) => r.i)).toEqual(Array.from({ length: 200 }, (_, i) => i))
  })

  it('refuses a whole answer over the line limit with E_FRAME_TOO_LARGE (not a lost daemon)', async () => {
    const err = await streamControl(home, 'whole', {}, () => {}, { maxLineBytes: 64 * 1024 }).catch((e) => e)
    expect(err.code).toBe('E_FRAME_TOO_LARGE')
    expect(noDaemon(err)).toBe(false)
  })

  it('collects a streamed answer into an array for callControl', async () => {
    const all = await callControl(home, 'rows', { n: 3 }) as Array<{ i: number }>
    expect(all.map((r) => r.i)).toEqual([0, 1, 2])
  })

  it('ends a stream that fails part way with its error, after the rows before it', async () => {
    const got: unknown[] = []
    const err = await streamControl(home, 'failing', {}, (r) => { got.push(r) }).catch((e) => e)
    expect(err.code).toBe('E_NOT_FOUND')
    expect(got.length).toBe(20)
  })

  it('tells "no daemon" apart from a daemon that answered with an error', async () => {
    const refused = await callControl(home, 'refuse', {}).catch((e) => e)
    expect(refused.code).toBe('E_NOT_FOUND')
    expect(noDaemon(refused)).toBe(false)
    await server?.close()
    server = null
    const none = await callControl(home, 'rows', { n: 1 }).catch((e) => e)
    expect(none.code).toBe('E_DAEMON_UNREACHABLE')
    expect(noDaemon(none)).toBe(true)
  })
})

describe('the CLI and a daemon that breaks off', () => {
  it('surfaces the broken answer instead of opening the store behind the daemon', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'aura-control-cli-'))
    const env = { AURA_HOME: home, NO_COLOR: '1' }
    expect((await runCli(['init'], { env })).code).toBe(0)
    // Something listens and reads the request, then hangs up without a word.
    const broken = createServer((socket) => socket.once('data', () => socket.destroy()))
    await new Promise<void>((resolve) => broken.listen(controlSocketPath(home), resolve))
    try {
      for (const args of [['trace', '--jsonl'], ['audit', 'export'], ['status']]) {
        const r = await runCli(args, { env })
        expect(r.code, `aura ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(8)
        expect(r.stderr).toMatch(/E_DAEMON_UNREACHABLE.*closed the connection before answering/)
      }
    } finally {
      await new Promise<void>((resolve) => broken.close(() => resolve()))
      await rm(home, { recursive: true, force: true })
    }
  })
})
