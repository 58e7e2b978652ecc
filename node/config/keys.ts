/**
 * Every aura.toml key, in one table: its section, kind, default and a line of documentation.
 * Defaults, validation, environment variables, the `aura init` template and `aura config show`
 * are all driven from this table, so a key is added in exactly one place.
 *
 * @example
 * CONFIG_KEYS.find((k) => k.path === 'sync.max_staleness')?.envName // 'AURA_SYNC_MAX_STALENESS'
 */
import { ROLES } from '../roles.js'
import { boolean, duration, integer, multiaddrs, oneOf, optionalDuration, optionalText, size, text, type ValueKind } from './values.js'

/** The defaults that depend on the machine: filled in by the caller, never read here. */
export interface SystemInfo {
  /** The user name, default for `[node] name`. */
  username: string
  /** The host name, default for `[node] host`. */
  hostname: string
}

/** One aura.toml key. */
export interface ConfigKey {
  /** Dotted section, as written in the table header: `audit.export`. */
  readonly section: string
  /** Key name inside the section: `enabled`. */
  readonly name: string
  /** `section.name`: the key's identity everywhere (sources, flags, errors). */
  readonly path: string
  /** Environment variable that overrides it: `AURA_` + path with `.` as `_`, upper-cased. */
  readonly envName: string
  /** How values are checked and normalised. */
  readonly kind: ValueKind<any>
  /** The normalised default, or a function of the machine. */
  readonly default: unknown
  /** One line for the template and docs/config.md. */
  readonly doc: string
  /** A TOML value to show in the template when the default is unset (null). */
  readonly example?: string
  /**
   * Whether a running daemon takes a new value when aura.toml changes (read on each use), or
   * keeps the one it started with until restarted (listeners, timers, the sync engine).
   */
  readonly live: boolean
}

/** Default join token lifetime in seconds when neither TTL key is set. */
export const DEFAULT_JOIN_TOKEN_TTL = 3600

// Only roles that exist: a misspelt default role would issue agents that can do nothing.
const ROLE = oneOf(ROLES as unknown as readonly [string, ...string[]])

// Keys a running daemon reads on each use, so a reload of aura.toml takes effect at once; every
// other key is fixed when the daemon starts (listeners, timers, engine options, the exporter).
const LIVE = new Set([
  'node.name',
  'mothership.join_token_ttl',
  'crypto.join_token_ttl',
  'agents.defaults.role',
  'agents.defaults.max_ttl',
  'agents.defaults.require_explicit_role',
  'agents.defaults.deny_capability_escalation',
  'agents.enforcement.log_all_calls',
  'hooks.large_diff_threshold_files',
  'hooks.large_diff_threshold_lines'
])

function key (section: string, name: string, kind: ValueKind<any>, def: unknown, doc: string, example?: string): ConfigKey {
  const path = `${section}.${name}`
  return { section, name, path, envName: `AURA_${path.replace(/\./g, '_').toUpperCase()}`, kind, default: def, doc, example, live: LIVE.has(path) }
}

/** The section names in the order they appear in the template. */
export const SECTIONS = ['node', 'workspace', 'mothership', 'crypto', 'sync', 'audit.export', 'agents.defaults', 'agents.enforcement', 'hooks'] as const

/** Every key aura.toml understands. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  key('node', 'listen', multiaddrs(), ['/ip4/0.0.0.0/tcp/7447'], 'Multiaddrs this node listens on.'),
  key('node', 'peers', multiaddrs(), [], 'Multiaddrs of peers to dial at start, e.g. "/ip4/10.0.0.5/tcp/7447/p2p/12D3KooW...".'),
  key('node', 'name', text(), (s: SystemInfo) => s.username, 'The human this node acts for (the `actor` of its records). Default: your user name.'),
  key('node', 'host', text(), (s: SystemInfo) => s.hostname, 'Host name recorded in records. Default: this machine\'s host name.'),
  key('workspace', 'path', optionalText(), null, 'The code checkout this node watches. Unset: the current directory. Relative paths resolve against the node home.', '"~/src/project"'),
  key('workspace', 'apply', oneOf(['auto', 'manual']), 'manual', 'Whether verified remote changes are written to the workspace at once ("auto") or wait for `aura apply` ("manual").'),
  key('mothership', 'join_token_ttl', duration({ min: 1 }), null, `Lifetime of join tokens (seconds or "10m"). Unset: ${DEFAULT_JOIN_TOKEN_TTL}. If [crypto] join_token_ttl is also set, the shorter wins.`, '600'),
  key('mothership', 'beacon_interval', duration({ min: 0.01 }), 30, 'How often the Mothership signs a freshness beacon.'),
  key('crypto', 'join_token_ttl', duration({ min: 1 }), null, 'The same setting as [mothership] join_token_ttl (the operator docs use both); if both are set, the shorter wins.', '600'),
  key('sync', 'anti_entropy_interval', duration({ min: 0.01 }), 10, 'How often to push-pull with a random peer.'),
  key('sync', 'receipt_interval', duration({ min: 0.01 }), 60, 'How often this node signs a receipt of what it holds.'),
  key('sync', 'max_staleness', optionalDuration({ min: 1 }), null, 'Stop accepting new records from others when no Mothership beacon was seen for this long. "off" by default.'),
  key('sync', 'max_frame_bytes', size({ min: 65536 }), 16 * 1048576, 'Largest sync frame accepted (bytes or "16MiB"; at least 64KiB). Larger Automerge messages travel in 60 KiB pieces.'),
  key('sync', 'max_message_bytes', size({ min: 65536 }), 256 * 1048576, 'Largest Automerge sync message accepted in pieces (bytes or "256MiB"). A fresh peer receives the whole intent log as one message: about 8.9 MB per 10,000 records (3.4 MB on the wire). An admitted peer can make this node buffer up to this much per connection.'),
  key('audit.export', 'enabled', boolean(), false, 'While the daemon runs, send every record and audit event (the lines of `aura audit export`) to `endpoint`, once each.'),
  key('audit.export', 'format', oneOf(['jsonl', 'otlp']), 'jsonl', '"jsonl" (one JSON object per line to `endpoint`, a file path) or "otlp" (OTLP/HTTP logs to `endpoint`, a URL).'),
  key('audit.export', 'endpoint', optionalText(), null, 'Where to export: an http(s) URL for "otlp", a file path for "jsonl".', '"https://collector.internal:4318"'),
  key('audit.export', 'on_failure', oneOf(['buffer', 'drop']), 'buffer', 'When the endpoint fails: keep the lines pending and retry every second ("buffer"; they are in the node store) or drop them with one `export-dropped` audit event ("drop").'),
  key('audit.export', 'buffer_path', text(), 'audit-buffer', 'Directory for the exporter\'s state (what was sent); relative paths resolve against the node home.'),
  key('agents.defaults', 'role', ROLE, 'reader', 'Role given to an agent credential issued without --role.'),
  key('agents.defaults', 'max_ttl', duration({ min: 1 }), 86400, 'Longest lifetime an agent credential may have.'),
  key('agents.defaults', 'require_explicit_role', boolean(), false, 'Refuse to issue agent credentials without an explicit --role.'),
  key('agents.defaults', 'deny_capability_escalation', boolean(), true, 'Refuse agent capabilities beyond those of the issuing role.'),
  key('agents.enforcement', 'log_all_calls', boolean(), false, 'Write an audit event for every MCP tool call, allowed or not.'),
  key('hooks', 'large_diff_threshold_files', integer({ min: 1 }), 50, 'Flag a change touching more files than this.'),
  key('hooks', 'large_diff_threshold_lines', integer({ min: 1 }), 5000, 'Flag a change touching more lines than this.')
]

/** The key at a dotted path, if there is one. */
export function configKey (path: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.path === path)
}
