/**
 * `aura doctor`: checks what a node needs, each with what to do when it fails — the home and key
 * file modes, the config, the daemon and its problems, a dial to the Mothership, the audit export
 * endpoint, and this clock against the Mothership's beacons. Every check runs; none stops the
 * others. A check that cannot apply says why it was skipped.
 *
 * @example
 * const checks = await runDoctor(home, { env: process.env, flags: {}, cwd: process.cwd() })
 * checks.filter((c) => c.status === 'fail')   // [{ name: 'keys', code: 'E_PERMISSIONS', fix: 'chmod 600 …' }]
 */
import { randomBytes } from 'node:crypto'
import { access, constants, readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { toAuraError, type ErrorCode } from '../crdt/errors.js'
import { shortId, type KeyId } from '../crdt/ids.js'
import type { LoadedConfig } from './config.js'

/** One check's outcome. */
export interface Check {
  name: string
  status: 'ok' | 'fail' | 'warn' | 'skip'
  detail: string
  /** The error code a failure stands for (decides the exit code). */
  code?: ErrorCode
  /** What to do about a failure or warning. */
  fix?: string
}

/** Inputs of runDoctor besides the home. */
export interface DoctorInit {
  env: Record<string, string | undefined>
  flags: Record<string, string>
  cwd: string
  /** How long a dial or HTTP request may take. Default 5 s. */
  timeoutMs?: number
}

/** Runs every check on `home`. */
export async function runDoctor (home: string, init: DoctorInit): Promise<Check[]> {
  const checks: Check[] = []
  const homeCheck = await checkHome(home)
  checks.push(homeCheck)
  if (homeCheck.status === 'fail') return checks
  checks.push(await checkKeys(home))
  const { check: configCheck, loaded } = await checkConfig(home, init)
  checks.push(configCheck)
  const { check: daemonCheck, status } = await checkDaemon(home)
  checks.push(daemonCheck)
  const team = await teamView(home, status, loaded)
  checks.push(await checkMothership(team, init.timeoutMs ?? 5000))
  checks.push(await checkExport(loaded, init.env, init.timeoutMs ?? 5000))
  checks.push(checkClock(status, loaded, team))
  return checks
}

async function checkHome (home: string): Promise<Check> {
  const st = await stat(home).catch(() => null)
  if (st === null) return { name: 'home', status: 'fail', code: 'E_NOT_INITIALISED', detail: `no node home at ${home}`, fix: `aura up --home ${home}` }
  if (!st.isDirectory()) return { name: 'home', status: 'fail', code: 'E_USAGE', detail: `${home} is not a directory`, fix: 'point --home or AURA_HOME at a directory' }
  const { identityPath } = await import('./identity.js')
  if (await access(identityPath(home)).then(() => false, () => true)) return { name: 'home', status: 'fail', code: 'E_NOT_INITIALISED', detail: `no identity in ${home}`, fix: `aura up --home ${home}` }
  return { name: 'home', status: 'ok', detail: `${home} (mode ${(st.mode & 0o777).toString(8)})` }
}

async function checkKeys (home: string): Promise<Check> {
  const { assertPrivate } = await import('./key-files.js')
  const names = (await readdir(home)).filter((n) => n.endsWith('.key'))
  const agents = await readdir(path.join(home, 'agents')).then((ns) => ns.filter((n) => n.endsWith('.key')).map((n) => path.join('agents', n)), () => [] as string[])
  const files = [...names, ...agents]
  try {
    await assertPrivate([{ path: home, kind: 'dir' }, ...files.map((n) => ({ path: path.join(home, n), kind: 'file' as const }))])
    return { name: 'keys', status: 'ok', detail: `${files.join(', ')}: mode 0600, home 0700, yours` }
  } catch (err) {
    const e = toAuraError(err)
    return { name: 'keys', status: 'fail', code: e.code, detail: e.message.replace(/\. Fix: .*$/, ''), fix: String(e.context.hint ?? '') }
  }
}

async function checkConfig (home: string, init: DoctorInit): Promise<{ check: Check, loaded: LoadedConfig | null }> {
  const { loadConfig } = await import('./config.js')
  try {
    const loaded = await loadConfig(home, { env: init.env, flags: init.flags, cwd: init.cwd })
    if (loaded.warnings.length > 0) return { loaded, check: { name: 'config', status: 'warn', detail: loaded.warnings.join('; '), fix: `edit ${loaded.file}; \`aura config show\` prints what is in effect` } }
    return { loaded, check: { name: 'config', status: 'ok', detail: loaded.fileExists ? loaded.file : 'no aura.toml: defaults' } }
  } catch (err) {
    const e = toAuraError(err)
    return { loaded: null, check: { name: 'config', status: 'fail', code: e.code, detail: e.message, fix: 'fix the key named (docs/config.md lists every key and its values)' } }
  }
}

async function checkDaemon (home: string): Promise<{ check: Check, status: any }> {
  const { callControl, noDaemon } = await import('./control/client.js')
  try {
    const s = await callControl(home, 'status', {}, 10_000) as any
    const problems = s.problems as Array<{ code: ErrorCode, message: string }>
    if (problems.length > 0) return { status: s, check: { name: 'daemon', status: 'fail', code: problems[0].code, detail: `running (pid ${String(s.pid)}) with problems: ${problems.map((p) => `${p.code}: ${p.message}`).join('; ')}`, fix: 'see `aura status` and `aura node logs --level warn`' } }
    return { status: s, check: { name: 'daemon', status: 'ok', detail: `running (pid ${String(s.pid)}) on ${(s.listen as string[]).join(', ')}` } }
  } catch (err) {
    if (noDaemon(err)) return { status: null, check: { name: 'daemon', status: 'fail', code: 'E_DAEMON_UNREACHABLE', detail: 'not running', fix: `aura up --home ${home}` } }
    const e = toAuraError(err)
    return { status: null, check: { name: 'daemon', status: 'fail', code: e.code, detail: `does not answer: ${e.message}`, fix: '`aura node logs --level warn`; restart with `aura node stop` then `aura up`' } }
  }
}

interface TeamView {
  team: string | null
  isMothership: boolean
  mothershipNode: KeyId | null
  addrs: string[]
  beaconInterval: number
}

// What the checks need of the chain and address book: the same operations, from the daemon when
// it runs (it holds the store), else from the store.
async function teamView (home: string, status: any, loaded: LoadedConfig | null): Promise<TeamView> {
  const beaconInterval = loaded?.config.mothership.beacon_interval ?? 30
  const none: TeamView = { team: null, isMothership: false, mothershipNode: null, addrs: [], beaconInterval }
  if (loaded === null) return none
  const facts = async (call: (method: string) => Promise<any>): Promise<TeamView> => {
    const s = status ?? await call('status')
    if (s.team === null) return none
    // The Mothership node is the member `aura mothership init` admitted: the admission without a token.
    const members = await call('list-peers') as Array<{ key: KeyId, jti: string | null }>
    const node = members.find((m) => m.jti === null)?.key ?? null
    const book = await call('peer-list') as Array<{ key: KeyId, addrs: string[] }>
    return {
      team: s.team,
      isMothership: s.mothership === true,
      mothershipNode: node,
      addrs: book.find((p) => p.key === node)?.addrs ?? [],
      beaconInterval
    }
  }
  try {
    if (status !== null) {
      const { callControl } = await import('./control/client.js')
      return await facts(async (m) => await callControl(home, m, {}, 10_000))
    }
    const [{ NodeRuntime }, { runOperation }] = await Promise.all([import('./runtime.js'), import('./operations.js')])
    const rt = await NodeRuntime.open(home, { loaded })
    try {
      return await facts(async (m) => await runOperation(m, {}, { rt }))
    } finally {
      await rt.close()
    }
  } catch {
    return none
  }
}

async function checkMothership (team: TeamView, timeoutMs: number): Promise<Check> {
  const name = 'mothership'
  if (team.team === null) return { name, status: 'skip', detail: 'not part of a team yet', fix: '`aura up TOKEN` with a token from your Mothership' }
  if (team.isMothership) return { name, status: 'skip', detail: 'this node is the Mothership' }
  if (team.addrs.length === 0) return { name, status: 'fail', code: 'E_UNREACHABLE', detail: 'no address known for the Mothership', fix: '`aura peer add <its address from its `aura status`>`' }
  const { createHost } = await import('./net/host.js')
  // A throwaway key: the check must not be one more session of this node's own key.
  const host = await createHost({ seed: randomBytes(32), listen: [] })
  const errors: string[] = []
  try {
    for (const addr of team.addrs) {
      try {
        const key = await withTimeout(host.dial(addr), timeoutMs)
        if (team.mothershipNode !== null && key !== team.mothershipNode) { errors.push(`${addr}: answered as ${shortId(key)}, not the Mothership`); continue }
        return { name, status: 'ok', detail: `dialled ${addr}` }
      } catch (err) {
        errors.push(`${addr}: ${toAuraError(err).message}`)
      }
    }
  } finally {
    await host.stop().catch(() => {})
  }
  return { name, status: 'fail', code: 'E_UNREACHABLE', detail: `cannot dial the Mothership: ${errors.join('; ')}`, fix: 'check the network path to it (firewall, VPN); a node behind NAT is reached through a relay once any peer is' }
}

async function checkExport (
  loaded: LoadedConfig | null,
  env: Record<string, string | undefined>,
  timeoutMs: number
): Promise<Check> {
  const name = 'audit export'
  const cfg = loaded?.config.audit.export
  if (cfg === undefined || !cfg.enabled) return { name, status: 'skip', detail: '[audit.export] enabled = false' }
  const { otlpRequest, otlpTarget, failureCause } = await import('./evidence/export-stream.js')
  const target = otlpTarget(cfg, env)
  if (target.endpoint === '') return { name, status: 'fail', code: 'E_CONFIG', detail: 'enabled without an endpoint', fix: 'set [audit.export] endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT for otlp)' }
  if (cfg.format === 'jsonl' && cfg.endpoint !== null) {
    const dir = path.dirname(cfg.endpoint)
    const ok = await access(dir, constants.W_OK).then(() => true, () => false)
    return ok ? { name, status: 'ok', detail: `${cfg.endpoint} writable` } : { name, status: 'fail', code: 'E_UNREACHABLE', detail: `cannot write in ${dir}`, fix: `mkdir -p ${dir} (writable by this user)` }
  }
  try {
    // An empty batch: a collector answers it like any other, and nothing is exported.
    const req = otlpRequest(target, { resourceLogs: [] })
    const res = await fetch(req.url, { ...req.init, signal: AbortSignal.timeout(timeoutMs) })
    await res.arrayBuffer().catch(() => undefined)
    if (res.ok) return { name, status: 'ok', detail: `${req.url} answered HTTP ${res.status}` }
    return { name, status: 'fail', code: 'E_UNREACHABLE', detail: `${req.url} answered HTTP ${res.status} ${res.statusText}`, fix: res.status === 401 || res.status === 403 ? 'check the credentials in [audit.export] headers' : 'check the collector and its /v1/logs route' }
  } catch (err) {
    return { name, status: 'fail', code: 'E_UNREACHABLE', detail: `${target.endpoint}: ${failureCause(err)}`, fix: 'check the URL, DNS, TLS certificate and that the collector runs' }
  }
}

function checkClock (status: any, loaded: LoadedConfig | null, team: TeamView): Check {
  const name = 'clock'
  if (team.team === null) return { name, status: 'skip', detail: 'not part of a team yet' }
  if (team.isMothership) return { name, status: 'skip', detail: 'this node signs the beacons' }
  if (status === null) return { name, status: 'skip', detail: 'the daemon is not running (beacons arrive through it)' }
  const last = status.stale?.lastBeacon as string | null
  if (last === null || last === undefined) return { name, status: 'warn', detail: 'no Mothership beacon received yet', fix: 'wait a beacon interval; if it persists, see the mothership check' }
  const skew = loaded?.config.sync.max_clock_skew ?? 60
  const age = (Date.now() - Date.parse(last)) / 1000
  if (age < -skew) return { name, status: 'fail', code: 'E_STALE', detail: `the last beacon is signed ${Math.round(-age)} s in the future by this clock: it runs behind the Mothership's`, fix: 'enable time sync (timedatectl set-ntp true / sntp)' }
  if (age > 3 * team.beaconInterval + skew) return { name, status: 'warn', detail: `the last beacon is ${Math.round(age)} s old by this clock (beacons every ${team.beaconInterval} s): this clock runs ahead, or no beacon arrives`, fix: 'check time sync, then the mothership check' }
  return { name, status: 'ok', detail: `last beacon ${Math.round(age)} s ago (beacons every ${team.beaconInterval} s, max skew ${skew} s)` }
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}
