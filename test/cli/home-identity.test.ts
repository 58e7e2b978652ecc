import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { fromB64u, toB64u } from '../../crdt/canonical.js'
import { keyPairFromSeed, sign, verify } from '../../crdt/crypto.js'
import { AuraError } from '../../crdt/errors.js'
import { keyIdOf } from '../../crdt/ids.js'
import { initHome, resolveHome } from '../../node/home.js'
import { loadIdentity } from '../../node/identity.js'
import { privateKeyFromSeed } from '../../node/net/peer-identity.js'
import { runCli, tempDir } from './helpers.js'

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups.splice(0)) await c() })

async function home (): Promise<string> {
  const t = await tempDir()
  cleanups.push(t.cleanup)
  return path.join(t.dir, 'node')
}

const SEED = new Uint8Array(32).fill(7)

describe('resolveHome', () => {
  it('--home beats AURA_HOME beats ~/.aura; relative paths resolve against the cwd', () => {
    expect(resolveHome({ userHome: '/u' })).toBe('/u/.aura')
    expect(resolveHome({ userHome: '/u', env: { AURA_HOME: '/e' } })).toBe('/e')
    expect(resolveHome({ userHome: '/u', env: { AURA_HOME: '/e' }, flag: '/f' })).toBe('/f')
    expect(resolveHome({ flag: 'rel', cwd: '/c' })).toBe('/c/rel')
    expect(resolveHome({ userHome: '/u', env: { AURA_HOME: '' } })).toBe('/u/.aura')
  })
})

describe('initHome and loadIdentity', () => {
  it('creates the home 0700, the key 0600 and aura.toml; the key is the libp2p identity', async () => {
    const h = await home()
    const r = await initHome(h, { seed: SEED, system: { username: 'alice', hostname: 'lap' } })
    expect((await stat(h)).mode & 0o777).toBe(0o700)
    expect((await stat(path.join(h, 'identity.key'))).mode & 0o777).toBe(0o600)
    expect(r.configWritten).toBe(true)
    expect(await readFile(path.join(h, 'aura.toml'), 'utf8')).toContain('# name = "alice"')

    const kp = keyPairFromSeed(SEED)
    const id = await loadIdentity(h)
    expect(id.keyId).toBe(keyIdOf(kp.publicKey))
    expect(id.shortId).toBe(`peer-${id.keyId.slice(0, 4)}`)
    expect(id.publicKey).toBe(toB64u(kp.publicKey))
    expect(id.peerId).toBe(peerIdFromPublicKey(publicKeyFromRaw(kp.publicKey)).toString())
    expect(id.peerId).toMatch(/^12D3KooW/)
    expect((await privateKeyFromSeed(id.keyPair.seed)).publicKey.raw).toEqual(kp.publicKey)
    expect(verify('test', new Uint8Array([1]), sign('test', new Uint8Array([1]), id.keyPair), fromB64u(id.publicKey))).toBe(true)
  })

  it('fresh identities are random', async () => {
    const a = await initHome(await home())
    const b = await initHome(await home())
    expect(a.identity.keyId).not.toBe(b.identity.keyId)
  })

  it('never prints the private seed when an identity is logged or serialised', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    const id = await loadIdentity(h)
    const seedText = [toB64u(SEED), Buffer.from(SEED).toString('hex'), '7, 7, 7, 7']
    for (const shown of [JSON.stringify(id), inspect(id, { depth: 5 }), String(Object.keys(id))]) {
      for (const s of seedText) expect(shown).not.toContain(s)
    }
    expect(id.keyPair.seed).toEqual(SEED)
  })

  it('refuses a second init with E_EXISTS naming the file, and leaves the key untouched', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    const before = await readFile(path.join(h, 'identity.key'), 'utf8')
    const err = await initHome(h).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(AuraError)
    expect((err as AuraError).code).toBe('E_EXISTS')
    expect((err as AuraError).message).toContain(path.join(h, 'identity.key'))
    expect(await readFile(path.join(h, 'identity.key'), 'utf8')).toBe(before)
  })

  it('keeps an existing aura.toml', async () => {
    const t = await tempDir()
    cleanups.push(t.cleanup)
    await writeFile(path.join(t.dir, 'aura.toml'), '[workspace]\napply = "auto"\n')
    const r = await initHome(t.dir)
    expect(r.configWritten).toBe(false)
    expect(await readFile(path.join(t.dir, 'aura.toml'), 'utf8')).toBe('[workspace]\napply = "auto"\n')
  })

  it('refuses (E_PERMISSIONS) a key file or home open to others, saying exactly how to fix it', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    const key = path.join(h, 'identity.key')
    await chmod(key, 0o644)
    await chmod(h, 0o755)
    const err = await loadIdentity(h).then(() => undefined, (e: unknown) => e) as AuraError
    expect(err.code).toBe('E_PERMISSIONS')
    expect(err.message).toContain('mode 0755')
    expect(err.message).toContain('mode 0644')
    expect(err.context.hint).toBe(`chmod 700 ${h} && chmod 600 ${key}`)
    expect(err.context.path).toBe(h)
    await chmod(h, 0o700)
    const keyOnly = await loadIdentity(h).then(() => undefined, (e: unknown) => e) as AuraError
    expect(keyOnly.context).toMatchObject({ path: key, hint: `chmod 600 ${key}` })
    await chmod(key, 0o640)
    expect((await loadIdentity(h).then(() => undefined, (e: unknown) => e) as AuraError).code).toBe('E_PERMISSIONS')
    await chmod(key, 0o600)
    expect((await loadIdentity(h)).path).toBe(key)
  })

  it('init refuses, before writing anything, a home that already exists open to others', async () => {
    const h = await home()
    await mkdir(h, { mode: 0o755 })
    await chmod(h, 0o755)
    const err = await initHome(h).then(() => undefined, (e: unknown) => e) as AuraError
    expect(err.code).toBe('E_PERMISSIONS')
    expect(err.context.hint).toBe(`chmod 700 ${h}`)
    expect(await readdir(h)).toEqual([])
  })

  it('no identity: E_NOT_INITIALISED with a hint to run aura init', async () => {
    const h = await home()
    const err = await loadIdentity(h).then(() => undefined, (e: unknown) => e) as AuraError
    expect(err.code).toBe('E_NOT_INITIALISED')
    expect(err.context.hint).toContain('aura init')
  })

  it('a damaged key file is E_KEY_MISMATCH (seed and pub disagree) or E_MALFORMED, and the error does not repeat its content', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    const file = path.join(h, 'identity.key')
    const other = toB64u(keyPairFromSeed(new Uint8Array(32).fill(9)).publicKey)
    await writeFile(file, JSON.stringify({ v: 1, type: 'ed25519', seed: toB64u(SEED), pub: other }), { mode: 0o600 })
    const err = await loadIdentity(h).then(() => undefined, (e: unknown) => e) as AuraError
    expect(err.code).toBe('E_KEY_MISMATCH')
    expect(err.message).toContain('does not match')
    expect(JSON.stringify(err.toJSON())).not.toContain(toB64u(SEED))
    await writeFile(file, 'garbage', { mode: 0o600 })
    expect(((await loadIdentity(h).then(() => undefined, (e: unknown) => e)) as AuraError).code).toBe('E_MALFORMED')
  })
})

describe('aura init / id / config show, in-process', () => {
  it('init then id --json report the same identity', async () => {
    const h = await home()
    const init = await runCli(['init', '--home', h, '--json'])
    expect(init.code).toBe(0)
    const created = JSON.parse(init.stdout)
    expect(created).toMatchObject({ home: h, identityFile: path.join(h, 'identity.key'), configWritten: true })
    const id = await runCli(['id', '--json'], { env: { AURA_HOME: h } })
    expect(id.code).toBe(0)
    const shown = JSON.parse(id.stdout)
    expect(Object.keys(shown).sort()).toEqual(['home', 'key', 'peer', 'peerId', 'publicKey'])
    expect(shown).toMatchObject(
      { peer: created.peer, key: created.key, publicKey: created.publicKey, peerId: created.peerId }
    )
  })

  it('id prints the short id first for people', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    const r = await runCli(['id', '--home', h])
    const id = await loadIdentity(h)
    expect(r.stdout.split('\n')[0]).toBe(id.shortId)
    expect(r.stdout).toContain(`peer id     ${id.peerId}`)
  })

  it('id in an empty home: E_NOT_INITIALISED, exit 10', async () => {
    const r = await runCli(['id', '--home', await home()])
    expect(r.code).toBe(10)
    expect(r.stderr).toMatch(/^error E_NOT_INITIALISED: no identity at /)
  })

  it('config show: merged values with sources, warnings on stderr', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    await writeFile(path.join(h, 'aura.toml'), '[sync]\nmax_staleness = "5m"\nbogus = 1\n')
    const r = await runCli(['config', 'show', '--home', h, '--json', '--set', 'hooks.large_diff_threshold_files=7'], { env: { AURA_SYNC_RECEIPT_INTERVAL: '15' } })
    expect(r.code).toBe(0)
    const shown = JSON.parse(r.stdout)
    expect(shown.config.sync).toMatchObject({ max_staleness: 300, receipt_interval: 15 })
    expect(shown.config.hooks.large_diff_threshold_files).toBe(7)
    expect(shown.sources['sync.max_staleness']).toEqual({ kind: 'file', path: path.join(h, 'aura.toml'), line: 2, text: 'aura.toml:2' })
    expect(shown.sources['sync.receipt_interval'].text).toBe('env AURA_SYNC_RECEIPT_INTERVAL')
    expect(shown.sources['hooks.large_diff_threshold_files'].text).toBe('flag --set hooks.large_diff_threshold_files')
    expect(shown.effective).toEqual({ join_token_ttl: 3600 })
    expect(r.stderr).toBe(`warning: ${path.join(h, 'aura.toml')}:3: unknown key [sync] bogus (ignored)\n`)

    const human = await runCli(['config', 'show', '--home', h])
    expect(human.stdout).toMatch(/^max_staleness = 300 +# aura\.toml:2$/m)
    expect(human.stdout).toMatch(/^# join_token_ttl \(unset\) +# default$/m)
  })

  it('config show with a bad value: E_CONFIG naming key and line, exit 3', async () => {
    const h = await home()
    await initHome(h, { seed: SEED })
    await writeFile(path.join(h, 'aura.toml'), '[agents.defaults]\nrole = "reader"\nmax_ttl = "forever"\n')
    const r = await runCli(['config', 'show', '--home', h])
    expect(r.code).toBe(3)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain(`error E_CONFIG: ${path.join(h, 'aura.toml')}:3: [agents.defaults] max_ttl: expected a duration`)
  })

  it('--set without key=value is E_USAGE', async () => {
    const r = await runCli(['config', 'show', '--home', await home(), '--set', 'oops'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--set takes key=value')
  })
})
