/**
 * The addresses a Mothership hands out in join tokens: the ones its daemon last listened on
 * (written to `<home>/addrs.json` when the daemon starts).
 *
 * @example
 * await saveListenAddresses(home, host.addresses())
 * const addrs = await knownAddresses(rt)
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { NodeRuntime } from '../runtime.js'

const FILE = 'addrs.json'
const OBSERVED = 'observed.json'

/** Remembers the daemon's listen addresses. */
export async function saveListenAddresses (home: string, addrs: string[]): Promise<void> {
  await writeFile(join(home, FILE), JSON.stringify(addrs) + '\n', { mode: 0o600 })
}

/** The daemon's last listen addresses, or none. */
export async function knownAddresses (rt: NodeRuntime): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(rt.home, FILE), 'utf8'))
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === 'string') : []
  } catch {
    return []
  }
}

/** Remembers the addresses peers observed this node at (its face outside a NAT). */
export async function saveObservedAddresses (home: string, addrs: string[]): Promise<void> {
  await writeFile(join(home, OBSERVED), JSON.stringify(addrs) + '\n', { mode: 0o600 })
}

/** The observed addresses saved by the last daemon, or none. */
export async function loadObservedAddresses (home: string): Promise<string[]> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(home, OBSERVED), 'utf8'))
    return Array.isArray(parsed) ? parsed.filter((a): a is string => typeof a === 'string').slice(-8) : []
  } catch {
    return []
  }
}
