/**
 * Default values of config keys, including the ones that depend on the machine (user name,
 * host name), which are passed in so tests and the template are reproducible.
 *
 * @example
 * defaultValue(configKey('node.name')!, { username: 'alice', hostname: 'laptop' }) // 'alice'
 */
import os from 'node:os'
import type { ConfigKey, SystemInfo } from './keys.js'

/** A key's normalised default on a machine. */
export function defaultValue (key: ConfigKey, system: SystemInfo): unknown {
  const d = key.default
  return typeof d === 'function' ? (d as (s: SystemInfo) => unknown)(system) : structuredClone(d)
}

/** The user and host names of this machine, with fallbacks where the OS cannot tell. */
export function thisSystem (): SystemInfo {
  let username = 'user'
  try {
    username = os.userInfo().username || username
  } catch {
    // os.userInfo throws when the uid has no passwd entry (common in containers).
  }
  return { username, hostname: os.hostname() || 'localhost' }
}
