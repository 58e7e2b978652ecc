/**
 * The node home: the directory holding one node's identity, config and data. It defaults to
 * `~/.aura`; `AURA_HOME` overrides that and `--home` overrides both, so several nodes can run on
 * one machine. `initHome` creates it (mode 0700) with a fresh identity and a commented aura.toml;
 * a home that already exists must already be private (E_PERMISSIONS says how), as every command
 * that opens its keys will insist.
 *
 * @example
 * const home = resolveHome({ flag: opts.home, env: process.env })
 * const { identity } = await initHome(home)    // E_EXISTS if it already has an identity
 */
import { access, chmod, mkdir, stat, writeFile } from 'node:fs/promises'
import { NotInitialisedError, UsageError } from '../crdt/errors.js'
import os from 'node:os'
import path from 'node:path'
import type { SystemInfo } from './config/keys.js'
import type { Identity } from './identity.js'

/** Where the home comes from, highest precedence first. */
export interface HomeInputs {
  /** `--home DIR`. */
  flag?: string
  /** Environment, for `AURA_HOME`. */
  env?: Record<string, string | undefined>
  /** The user's home directory, for the `~/.aura` default. Default: os.homedir(). */
  userHome?: string
  /** Base for a relative `--home` or `AURA_HOME`. Default: process.cwd(). */
  cwd?: string
}

/** The node home's absolute path: `--home`, else `AURA_HOME`, else `~/.aura`. */
export function resolveHome (inputs: HomeInputs = {}): string {
  const cwd = inputs.cwd ?? process.cwd()
  const fromEnv = inputs.env?.AURA_HOME
  if (inputs.flag !== undefined && inputs.flag !== '') return path.resolve(cwd, inputs.flag)
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(cwd, fromEnv)
  return path.join(inputs.userHome ?? os.homedir(), '.aura')
}

/** What `initHome` did. */
export interface InitResult {
  home: string
  identity: Identity
  /** False when an aura.toml was already there and was kept. */
  configWritten: boolean
  configFile: string
}

/** Options for `initHome`. */
export interface InitOptions {
  /** The 32-byte identity seed. Default: fresh random bytes. */
  seed?: Uint8Array
  /** Machine-dependent defaults shown in the aura.toml template. */
  system?: SystemInfo
}

/**
 * Creates the home (mode 0700), its identity key (mode 0600) and a commented aura.toml (kept if
 * one exists). Refuses before writing anything: E_EXISTS if the home has an identity,
 * E_PERMISSIONS if it exists and other users can reach it.
 */
export async function initHome (home: string, opts: InitOptions = {}): Promise<InitResult> {
  // Loaded here, not at the top: every command resolves the home, few create one, and these
  // pull in libp2p's crypto and the config schema.
  const [
    { createIdentity, existsError, identityPath },
    { configPath, configTemplate },
    { thisSystem },
    { assertPrivate }
  ] = await Promise.all([import('./identity.js'), import('./config.js'), import('./config/defaults.js'), import('./key-files.js')])
  const keyFile = identityPath(home)
  if (await exists(keyFile)) throw existsError(keyFile)
  const created = !(await exists(home))
  if (!created) await assertPrivate([{ path: home, kind: 'dir' }])
  await mkdir(home, { recursive: true, mode: 0o700 })
  // mkdir's mode is filtered by the umask; chmod makes it exactly 0700 before any key is written.
  if (created) await chmod(home, 0o700)
  const identity = await createIdentity(home, opts.seed)
  const configFile = configPath(home)
  let configWritten = true
  try {
    await writeFile(configFile, configTemplate(opts.system ?? thisSystem()), { flag: 'wx', mode: 0o600 })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    configWritten = false
  }
  return { home, identity, configWritten, configFile }
}

async function exists (p: string): Promise<boolean> {
  try {
    await access(p)
    return true
  } catch {
    return false
  }
}

/** Refuses a home that exists but is not a directory (a file given as `--home`): E_USAGE. */
export async function checkHomePath (home: string): Promise<void> {
  const st = await stat(home).catch(() => null)
  if (st !== null && !st.isDirectory()) {
    throw new UsageError(`the node home ${home} is not a directory`, { home, hint: 'pass a directory (or a path that does not exist yet, for `aura init` / `aura up`) with --home or AURA_HOME' })
  }
}

/** Requires a home with an identity: E_NOT_INITIALISED (saying how to create one) otherwise. */
export async function requireInitialised (home: string): Promise<void> {
  await checkHomePath(home)
  const { identityPath } = await import('./identity.js')
  if (await exists(identityPath(home))) return
  const what = await exists(home) ? `no identity in the node home ${home}` : `no node home at ${home}`
  throw new NotInitialisedError(what, { home, hint: `run \`aura up --home ${home}\` (or \`aura init\`) to create it` })
}
