#!/usr/bin/env node
// The main job of the README's quick start: a whole team on this machine, end to end, in real
// processes on 127.0.0.1 — create a Mothership, admit two peers with join tokens, write and
// replicate signed intents, revoke a peer, show its records quarantined everywhere, stop.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const bin = fileURLToPath(new URL('../bin/aura.js', import.meta.url))
const root = mkdtempSync(join(tmpdir(), 'aura-demo-'))
const homes = { m: join(root, 'mothership'), alice: join(root, 'alice'), bob: join(root, 'bob') }
const fast = ['--set', 'sync.anti_entropy_interval=500ms', '--set', 'sync.receipt_interval=1s', '--set', 'mothership.beacon_interval=1s']
const listen = ['--listen', '/ip4/127.0.0.1/tcp/0']

function aura (args, { show = true, json = false } = {}) {
  if (show) process.stdout.write(`\n$ aura ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ').replaceAll(root, '$DEMO')}\n`)
  const r = spawnSync(process.execPath, [bin, ...args, ...(json ? ['--json'] : [])], { encoding: 'utf8', cwd: root, env: { ...process.env, NO_COLOR: '1' } })
  if (show) process.stdout.write(r.stdout + r.stderr)
  if (r.status !== 0) throw new Error(`aura ${args[0]} failed (exit ${r.status}): ${r.stderr || r.stdout}`)
  return json ? JSON.parse(r.stdout) : r.stdout.trim()
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor (what, fn, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) { if (fn()) return; await sleep(200) }
  throw new Error(`timed out waiting for ${what}`)
}

try {
  for (const h of Object.values(homes)) aura(['init', '--home', h], { show: false })
  aura(['mothership', 'init', '--team', 'acme', '--home', homes.m])
  aura(['node', 'start', '--home', homes.m, ...listen, ...fast])
  for (const [user, home] of [['alice', homes.alice], ['bob', homes.bob]]) {
    const token = aura(['mothership', 'issue-peer', user, '--role', 'contributor', '--home', homes.m])
    aura(['join', token, '--home', home, ...listen, ...fast])
  }
  const alice = aura(['status', '--home', homes.alice], { show: false, json: true }).peer
  const { id } = aura(['log-intent', 'tighten token expiry check in verify_token', '--home', homes.alice], { json: true })
  await waitFor('the intent to reach bob', () => aura(['trace', '--home', homes.bob], { show: false, json: true }).some((r) => r.id === id))
  aura(['trace', '--since', '1h', '--home', homes.bob])
  aura(['mothership', 'revoke-peer', alice, '--reason', 'demo: laptop theft', '--home', homes.m])
  await waitFor('bob to hold the revocation', () => aura(['mothership', 'list-peers', '--home', homes.m], { show: false, json: true }).length > 0 &&
    aura(['status', '--home', homes.bob], { show: false, json: true }).authority.seq >= aura(['status', '--home', homes.m], { show: false, json: true }).authority.seq)
  aura(['log-intent', `INCIDENT: ${alice} revoked in the demo`, '--home', homes.m])
  aura(['status', '--home', homes.bob])
  aura(['mothership', 'list-peers', '--home', homes.m])
  await sleep(1500)
  aura(['sync', 'status', '--home', homes.m])
  process.stdout.write('\ndemo finished: a team, replication, revocation and evidence, on real processes.\n')
} finally {
  for (const h of Object.values(homes)) spawnSync(process.execPath, [bin, 'node', 'stop', '--home', h], { encoding: 'utf8' })
  rmSync(root, { recursive: true, force: true })
}
