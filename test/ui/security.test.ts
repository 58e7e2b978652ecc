// The incident page's security rules against a real daemon (`aura ui`): nothing without a
// session (401), the login URL works once, a foreign Host or Origin is refused (403), actions are
// refused unless the page was started with --actions (403), every answer carries the strict CSP,
// and the socket listens on 127.0.0.1 only. The same probes run against a deliberately broken
// server first, to show that each one catches the bug it is for.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ok, Team, waitFor } from '../e2e/helpers.js'
import { listenAddresses, login, reachableOn, request } from './probes.js'

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

describe('the probes catch a page server that breaks the rules', () => {
  let broken: Server
  let port: number
  beforeAll(async () => {
    // A realistic bug: listening on every interface, answering without a session or Origin check.
    broken = createServer((_req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{}') })
    await new Promise<void>((resolve) => broken.listen({ host: '0.0.0.0', port: 0 }, resolve))
    port = (broken.address() as AddressInfo).port
  })
  afterAll(async () => { await new Promise((resolve) => broken.close(resolve)) })

  it('sees a socket bound to every interface, and reaches it on another local address', async () => {
    expect(listenAddresses(port)).toEqual(['0.0.0.0'])
    expect(await reachableOn(port)).toContain('127.0.0.2')
  })

  it('sees answers without a session, to a foreign Host and Origin, and without a CSP', async () => {
    expect((await request(port, '/api/state')).status).toBe(200)
    expect((await request(port, '/api/state', { headers: { Host: 'attacker.example' } })).status).toBe(200)
    const post = await request(port, '/api/action', { method: 'POST', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' }, body: '{}' })
    expect(post.status).toBe(200)
    expect(post.headers['content-security-policy']).toBeUndefined()
  })
})

describe('aura ui on a real daemon', () => {
  let team: Team
  let port: number
  let cookie: string

  const ui = async (...args: string[]): Promise<{ url: string, port: number, actions: boolean }> => ok(await team.mothership.aura('ui', ...args), 'aura ui')

  beforeAll(async () => {
    team = await Team.empty()
    const first = await ui()
    port = first.port
    expect(first.actions).toBe(false)
    cookie = await login(first.url)
  }, 60_000)
  afterAll(async () => { await team?.close() })

  it('listens on 127.0.0.1 alone: no other local address reaches it', async () => {
    expect(listenAddresses(port)).toEqual(['127.0.0.1'])
    expect(await reachableOn(port)).toEqual([])
  })

  it('answers 401 without a session, with a wrong token, and to a used login URL; every answer has the CSP', async () => {
    for (const path of ['/', '/app.js', '/api/state', '/api/events', '/api/token?jti=tk_x']) {
      const r = await request(port, path)
      expect(r.status, path).toBe(401)
      expect(r.headers['content-security-policy']).toBe(CSP)
      expect(JSON.parse(r.body).error.code).toBe('E_PERMISSIONS')
    }
    expect((await request(port, '/api/state', { headers: { Cookie: 'aura_ui=forged' } })).status).toBe(401)
    expect((await request(port, '/login?token=AAAA')).status).toBe(401)
    const url = new URL((await ui()).url)
    const once = await request(port, url.pathname + url.search)
    expect(once.status).toBe(303)
    expect(once.headers['set-cookie']?.[0]).toMatch(/^aura_ui=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/)
    expect((await request(port, url.pathname + url.search)).status).toBe(401)
  })

  it('serves the page and its live state to the session, with the CSP', async () => {
    const page = await request(port, '/', { headers: { Cookie: cookie } })
    expect(page.status).toBe(200)
    expect(page.headers['content-security-policy']).toBe(CSP)
    expect(page.body).toContain('<script src="/app.js" defer></script>')
    expect(page.body).not.toMatch(/https?:\/\//)
    const state = JSON.parse((await request(port, '/api/state', { headers: { Cookie: cookie } })).body)
    expect(state.status.team).toBe('acme')
    const events = await request(port, '/api/events', { headers: { Cookie: cookie } })
    expect(events.headers['content-type']).toBe('text/event-stream')
    expect(events.body).toMatch(/^event: state\ndata: \{/)
  })

  it('refuses a request whose Host is not 127.0.0.1:PORT (DNS rebinding), even with the session', async () => {
    const r = await request(port, '/api/state', { headers: { Cookie: cookie, Host: `attacker.example:${port}` } })
    expect(r.status).toBe(403)
  })

  it('refuses actions while they are off (403), and a POST from a foreign Origin (403)', async () => {
    const body = JSON.stringify({ action: 'lockdown', params: { reason: 'drill' } })
    const same = { Cookie: cookie, 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${port}` }
    const off = await request(port, '/api/action', { method: 'POST', headers: same, body })
    expect(off.status).toBe(403)
    expect(JSON.parse(off.body).error.message).toMatch(/actions are off/)
    const foreign = await request(port, '/api/action', { method: 'POST', headers: { ...same, Origin: 'http://evil.example' }, body })
    expect(foreign.status).toBe(403)
    const none = await request(port, '/api/action', { method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body })
    expect(none.status).toBe(403)
    const status = ok(await team.mothership.aura('status'))
    expect(status.lockdown.locked).toBe(false)
  })

  it('with --actions: the same-origin POST runs the operation the CLI runs; a foreign Origin still cannot', async () => {
    const on = await ui('--actions')
    expect(on.actions).toBe(true)
    expect(on.port).toBe(port)
    const p = on.port
    const session = await login(on.url)
    const same = { Cookie: session, 'Content-Type': 'application/json', Origin: `http://127.0.0.1:${p}` }
    const body = JSON.stringify({ action: 'lockdown', params: { reason: 'drill from the page' } })
    expect((await request(p, '/api/action', { method: 'POST', headers: { ...same, Origin: 'http://evil.example' }, body })).status).toBe(403)
    expect((await request(p, '/api/action', { method: 'POST', headers: { ...same, 'Content-Type': 'text/plain' }, body })).status).toBe(415)
    expect(ok(await team.mothership.aura('status')).lockdown.locked).toBe(false)
    const preview = JSON.parse((await request(p, '/api/action', { method: 'POST', headers: same, body: JSON.stringify({ action: 'lockdown', params: { reason: 'drill from the page' }, preview: true }) })).body)
    expect(preview.cli).toBe("aura mothership lockdown --reason 'drill from the page'")
    expect(ok(await team.mothership.aura('status')).lockdown.locked).toBe(false)
    const done = await request(p, '/api/action', { method: 'POST', headers: same, body })
    expect(done.status).toBe(200)
    const s = (await team.mothership.aura('status')).json
    expect(s.lockdown).toEqual({ locked: true, reason: 'drill from the page' })
    const state = JSON.parse((await request(p, '/api/state', { headers: { Cookie: session } })).body)
    // No receipts during a lockdown: the front says the Mothership has not confirmed it yet.
    expect(state.front[0]).toMatchObject({ kind: 'lockdown', reason: 'drill from the page', subject: 'the whole team (lockdown)', expected: 1, confirmed: 0 })
    expect(state.front[0].peers.map((x: any) => x.state)).toEqual(['waiting'])
    const unlock = await request(p, '/api/action', { method: 'POST', headers: same, body: JSON.stringify({ action: 'unlock', params: { reason: 'drill over' } }) })
    expect(JSON.parse(unlock.body).cli).toBe("aura mothership unlock --reason 'drill over'")
    // The receipt written after the unlock holds both entries: the front confirms each.
    const front = await waitFor(async () => {
      const f = JSON.parse((await request(p, '/api/state', { headers: { Cookie: session } })).body).front
      return f[0]?.kind === 'unlock' && f[0].confirmed === 1 ? f : null
    }, 5_000, 'the unlock confirmed on the front')
    expect(front[1]).toMatchObject({ kind: 'lockdown', confirmed: 1 })
    expect(front[1].peers[0].confirmedAt).toBe(front[0].peers[0].confirmedAt)
    const bad = await request(p, '/api/action', { method: 'POST', headers: same, body: JSON.stringify({ action: 'revoke-peer', params: { peer: 'peer-0000' } }) })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).error.message).toMatch(/reason/)
    const unknown = await request(p, '/api/action', { method: 'POST', headers: same, body: JSON.stringify({ action: 'rotate-key', params: {} }) })
    expect(unknown.status).toBe(400)
    expect(JSON.parse(unknown.body).error.message).toMatch(/unknown action 'rotate-key': revoke-peer, revoke-token/)
  })

  it('aura ui without a daemon fails with E_DAEMON_UNREACHABLE, and a bad --port with E_USAGE', async () => {
    const bad = await team.mothership.aura('ui', '--port', 'seventy')
    expect(bad.code).not.toBe(0)
    expect(bad.json.error.code).toBe('E_USAGE')
    const r = await team.add('idle').aura('ui')
    expect(r.code).not.toBe(0)
    expect(r.json.error.code).toBe('E_DAEMON_UNREACHABLE')
  })
})
