/**
 * mothership.key is checked when a node opens: others may not reach it (E_PERMISSIONS), its
 * seed must give its recorded pub (E_KEY_MISMATCH), and it must be the chain's current
 * Mothership key (E_KEY_MISMATCH), so a damaged or swapped key is found at start, not when
 * peers refuse the first entry it signs.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { initHome } from '../../node/home.js'
import { mothershipInit } from '../../node/mothership/mothership.js'
import { loadMothershipKey, MOTHERSHIP_KEY_FILE, NodeRuntime, writeMothershipKey } from '../../node/runtime.js'

let cleanups: Array<() => Promise<void>> = []
afterEach(async () => { for (const c of cleanups) await c(); cleanups = [] })

async function mothershipHome (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-mskey-'))
  cleanups.push(async () => await rm(dir, { recursive: true, force: true }))
  const home = join(dir, 'home')
  await initHome(home)
  const rt = await NodeRuntime.open(home, { env: {} })
  try { await mothershipInit(rt, { team: 'acme', user: 'ops' }) } finally { await rt.close() }
  return home
}

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  return await p.then(() => undefined, (e: { code?: string }) => e.code)
}

describe('mothership.key at start', () => {
  it('opens when private, matching and current', async () => {
    const home = await mothershipHome()
    const rt = await NodeRuntime.open(home, { env: {} })
    expect(rt.mothershipKey).not.toBeNull()
    await rt.close()
  })

  it('refuses a key file others can read, with the chmod that fixes it', async () => {
    const home = await mothershipHome()
    const file = join(home, MOTHERSHIP_KEY_FILE)
    await chmod(file, 0o644)
    const err = await loadMothershipKey(home).then(
      () => undefined,
      (e: { code: string, context: { hint: string } }) => e
    )
    expect(err?.code).toBe('E_PERMISSIONS')
    expect(err?.context.hint).toBe(`chmod 600 ${file}`)
    expect(await codeOf(NodeRuntime.open(home, { env: {} }))).toBe('E_PERMISSIONS')
  })

  it('refuses a damaged key file whose seed does not give its pub', async () => {
    const home = await mothershipHome()
    const file = join(home, MOTHERSHIP_KEY_FILE)
    const json = JSON.parse(await readFile(file, 'utf8')) as { seed: string }
    // One character of the seed changed, as a flipped bit on disk would.
    const seed = (json.seed[0] === 'A' ? 'B' : 'A') + json.seed.slice(1)
    await writeFile(file, JSON.stringify({ ...json, seed }) + '\n', { mode: 0o600 })
    expect(await codeOf(NodeRuntime.open(home, { env: {} }))).toBe('E_KEY_MISMATCH')
  })

  it("refuses a well-formed key that is not the chain's current Mothership key", async () => {
    const home = await mothershipHome()
    await writeMothershipKey(home, new Uint8Array(32).fill(3), true)
    const err = await NodeRuntime.open(home, { env: {} }).then(
      () => undefined,
      (e: { code: string, message: string, context: { hint: string } }) => e
    )
    expect(err?.code).toBe('E_KEY_MISMATCH')
    expect(err?.message).toContain('current Mothership key')
    expect(err?.context.hint).toContain('mothership.key')
  })
})
