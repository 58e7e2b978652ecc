// `aura node stop` on a home with no daemon is the state asked for: it says so and exits 0.
// (`aura node start` on a running daemon: test/e2e/join.test.ts, which has a daemon running.)
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runCli } from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'aura-node-idem-'))
  expect((await runCli(['init', '--home', path.join(dir, 'home')], { cwd: dir })).code).toBe(0)
})
afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

it('node stop with no daemon running: "not running", exit 0', async () => {
  const home = path.join(dir, 'home')
  const text = await runCli(['node', 'stop', '--home', home], { cwd: dir })
  expect(text.code).toBe(0)
  expect(text.stdout).toContain('not running')
  const json = await runCli(['node', 'stop', '--home', home, '--json'], { cwd: dir })
  expect(json.code).toBe(0)
  expect(JSON.parse(json.stdout)).toEqual({ stopped: false, running: false })
})
