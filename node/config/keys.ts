/**
 * Every aura.toml key, in one table: its section, kind, default and a line of documentation.
 * Defaults, validation, environment variables, the `aura init` template and `aura config show`
 * are all driven from this table, so a key is added in exactly one place.
 *
 * @example
 * CONFIG_KEYS.find((k) => k.path === 'sync.max_staleness')?.envName // 'AURA_SYNC_MAX_STALENESS'
 */
import { MAX_RECORD_BYTES } from '../../crdt/record.js'
import { DEFAULT_QUOTAS } from '../../crdt/write-rules.js'
import { ROLES } from '../roles.js'
import { boolean, duration, headerMap, integer, multiaddrs, oneOf, optionalDuration, optionalText, size, text, type ValueKind } from './values.js'

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
  'sync.max_staleness',
  'sync.max_clock_skew',
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

function key (
  section: string,
  name: string,
  kind: ValueKind<any>,
  def: unknown,
  doc: string,
  example?: string
): ConfigKey {
  const path = `${section}.${name}`
  return { section, name, path, envName: `AURA_${path.replace(/\./g, '_').toUpperCase()}`, kind, default: def, doc, example, live: LIVE.has(path) }
}

/** The section names in the order they appear in the template. */
export const SECTIONS = ['node', 'workspace', 'mothership', 'crypto', 'sync', 'quotas', 'audit.export', 'agents.defaults', 'agents.enforcement', 'hooks', 'log'] as const

/** Every key aura.toml understands. */
export const CONFIG_KEYS: readonly ConfigKey[] = [
  key('node', 'listen', multiaddrs(), ['/ip4/0.0.0.0/tcp/7447'], 'Multiaddrs this node listens on.'),
  key('node', 'peers', multiaddrs(), [], 'Multiaddrs of peers to dial at start, e.g. "/ip4/10.0.0.5/tcp/7447/p2p/12D3KooW...".'),
  key('node', 'announce', multiaddrs(), [], 'Extra addresses to tell peers, e.g. a port your NAT forwards: "/ip4/203.0.113.7/tcp/7447".'),
  key('node', 'discover', boolean(), true, 'Learn admitted peers\' addresses from identify and from other peers, share ours, and dial them. Off: only [node] peers, `aura peer add` and the join\'s addresses.'),
  key('node', 'mdns', boolean(), true, 'Find peers on the local network with mDNS (admitted peers only are dialled). Off by itself when every listen address is loopback.'),
  key('node', 'relay', oneOf(['auto', 'on', 'off']), 'auto', 'Serve as a circuit relay for admitted peers behind NAT: "auto" on the Mothership and on a node AutoNAT finds publicly reachable.'),
  key('node', 'name', text(), (s: SystemInfo) => s.username, 'The human this node acts for (the `actor` of its records). Default: your user name.'),
  key('node', 'host', text(), (s: SystemInfo) => s.hostname, 'Host name recorded in records. Default: this machine\'s host name.'),
  key('workspace', 'path', optionalText(), null, 'The code checkout this node watches. Unset: the current directory. Relative paths resolve against the node home.', '"~/src/project"'),
  key('workspace', 'apply', oneOf(['auto', 'manual']), 'manual', 'Whether verified remote changes are written to the workspace at once ("auto") or wait for `aura apply` ("manual").'),
  key('mothership', 'join_token_ttl', duration({ min: 1 }), null, `Lifetime of join tokens (seconds or "10m"). Unset: ${DEFAULT_JOIN_TOKEN_TTL}. If [crypto] join_token_ttl is also set, the shorter wins.`, '600'),
  key('mothership', 'beacon_interval', duration({ min: 0.01 }), 30, 'How often the Mothership signs a freshness beacon.'),
  key('mothership', 'join_attempts_per_source', integer({ min: 1 }), 60, 'Join attempts one source address may make per minute (and at once); more are refused with E_RATE_LIMITED.'),
  key('mothership', 'join_attempts_per_token', integer({ min: 1 }), 30, 'Join attempts with one token per minute, from anywhere; more are refused with E_RATE_LIMITED.'),
  key('mothership', 'join_audit_per_token', integer({ min: 1 }), 100, 'Join attempts stored one by one per token; further ones are counted in a summary that `aura mothership audit-token` shows (with tokens never issued here: 1,000 stored in all).'),
  key('crypto', 'join_token_ttl', duration({ min: 1 }), null, 'The same setting as [mothership] join_token_ttl (the operator docs use both); if both are set, the shorter wins.', '600'),
  key('sync', 'anti_entropy_interval', duration({ min: 0.01 }), 10, 'How often to push-pull with a random peer.'),
  key('sync', 'receipt_interval', duration({ min: 0.01 }), 60, 'How often this node signs a receipt of what it holds.'),
  key('sync', 'max_staleness', optionalDuration({ min: 1 }), null, 'Stop accepting new records from others when no Mothership beacon was seen for this long. "off" by default.'),
  key('sync', 'max_clock_skew', duration({ min: 0 }), 60, 'How far this node\'s clock and the Mothership\'s may disagree. With max_staleness on, a beacon counts from the time the Mothership signed it (never from when it arrived) for max_staleness plus this, and none counts as signed later than now plus this. A node whose clock runs ahead of the Mothership\'s by more than max_staleness plus this is always stale.'),
  key('sync', 'max_frame_bytes', size({ min: 65536 }), 16 * 1048576, 'Largest sync frame accepted (bytes or "16MiB"; at least 64KiB). Larger Automerge messages travel in 60 KiB pieces.'),
  key('sync', 'max_message_bytes', size({ min: 65536 }), 256 * 1048576, 'Largest Automerge sync message accepted in pieces (bytes or "256MiB"). A fresh peer receives the whole intent log as one message: about 8.9 MB per 10,000 records (3.4 MB on the wire). An admitted peer can make this node buffer up to this much per connection.'),
  key('sync', 'max_buffered_message_bytes', size({ min: 65536 }), 256 * 1048576, 'Most bytes of Automerge messages held in pieces across all connections together; a message that would pass it is dropped and its sender told E_BUSY (it retries on its next anti-entropy round).'),
  key('sync', 'handshake_timeout', duration({ min: 0.1 }), 10, 'A connection\'s stream that is not admitted within this long (a hello from an unknown key, a join request) is closed with E_TIMEOUT.'),
  key('sync', 'idle_timeout', duration({ min: 1 }), 120, 'A stream that receives nothing for this long is closed with E_TIMEOUT; sessions send heads at a quarter of it, so only dead or silent peers hit it.'),
  key('sync', 'unadmitted_bytes', size({ min: 4096 }), 1048576, 'Most bytes a stream may send before it is admitted (a hello and the chain entries of its own admission); more closes it with E_FRAME_TOO_LARGE. Join requests get 64 KiB.'),
  key('sync', 'max_sessions_per_key', integer({ min: 1 }), 8, 'Most streams one key may hold open to this node at once (sync and join together); more are refused with E_BUSY.'),
  key('sync', 'max_unadmitted_sessions', integer({ min: 1 }), 64, 'Most streams not yet admitted, from all keys together; more are refused with E_BUSY until one is admitted or times out.'),
  key('quotas', 'records_per_hour', integer({ min: 1 }), DEFAULT_QUOTAS.records_per_hour, 'Team-wide: records one member (peer or agent key) may sign in any hour of its own record times. Fixed in the genesis entry by `aura mothership init`; every peer enforces the genesis value, not its own config.'),
  key('quotas', 'bytes_per_hour', size({ min: 65536 }), DEFAULT_QUOTAS.bytes_per_hour, 'Team-wide: record bytes one member may sign in any hour of its own record times (bytes or "64MiB"). Fixed in the genesis entry by `aura mothership init`.'),
  key('quotas', 'max_record_bytes', size({ min: 65536, max: MAX_RECORD_BYTES }), DEFAULT_QUOTAS.max_record_bytes, `Team-wide: the largest record a member may sign (bytes or "2MiB"; at most ${MAX_RECORD_BYTES / 1048576}MiB). Fixed in the genesis entry by \`aura mothership init\`.`),
  key('audit.export', 'enabled', boolean(), false, 'While the daemon runs, send every record and audit event (the lines of `aura audit export`) to `endpoint`, once each.'),
  key('audit.export', 'format', oneOf(['jsonl', 'otlp']), 'jsonl', '"jsonl" (one JSON object per line to `endpoint`, a file path) or "otlp" (OTLP/HTTP logs to `endpoint`, a URL).'),
  key('audit.export', 'endpoint', optionalText(), null, 'Where to export: an http(s) URL for "otlp" (unset: OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT), a file path for "jsonl".', '"https://collector.internal:4318"'),
  key('audit.export', 'headers', headerMap(), {}, 'HTTP headers sent with every OTLP request, e.g. { authorization = "Bearer ..." }; OTEL_EXPORTER_OTLP_HEADERS ("name=value,...") adds to them (these win).'),
  key('audit.export', 'compression', oneOf(['gzip', 'none']), 'gzip', 'Compress OTLP request bodies ("gzip", sent with content-encoding: gzip) or not ("none").'),
  key('audit.export', 'on_failure', oneOf(['buffer', 'drop']), 'buffer', 'When the endpoint fails: keep the lines pending and retry with exponential backoff and jitter from 1 s to 5 min, or when a 429/503 answer\'s Retry-After says ("buffer"; they are in the node store) or drop them with one `export-dropped` audit event ("drop").'),
  key('audit.export', 'buffer_path', text(), 'audit-buffer', 'Directory for the exporter\'s state (what was sent); relative paths resolve against the node home.'),
  key('agents.defaults', 'role', ROLE, 'reader', 'Role given to an agent credential issued without --role.'),
  key('agents.defaults', 'max_ttl', duration({ min: 1 }), 86400, 'Longest lifetime an agent credential may have.'),
  key('agents.defaults', 'require_explicit_role', boolean(), false, 'Refuse to issue agent credentials without an explicit --role.'),
  key('agents.defaults', 'max_commits_per_hour', integer({ min: 1 }), 120, 'Records an agent credential issued without --max-commits-per-hour may sign in any hour (written into the credential; the team\'s [quotas] still bind it).'),
  key('agents.defaults', 'deny_capability_escalation', boolean(), true, 'Refuse agent capabilities beyond those of the issuing role.'),
  key('agents.enforcement', 'log_all_calls', boolean(), false, 'Write an audit event for every MCP tool call, allowed or not.'),
  key('hooks', 'large_diff_threshold_files', integer({ min: 1 }), 50, 'Flag a change touching more files than this.'),
  key('hooks', 'large_diff_threshold_lines', integer({ min: 1 }), 5000, 'Flag a change touching more lines than this.'),
  key('log', 'level', oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']), 'info', 'Least severe level the daemon writes to its log (`<home>/logs/daemon.log`, read with `aura node logs`). Warnings and errors also go to stderr.'),
  key('log', 'max_size', size({ min: 65536 }), 10 * 1048576, 'Rotate the daemon log when it would pass this size (bytes or "10MiB"): daemon.log becomes daemon.log.1, .1 becomes .2, and so on.'),
  key('log', 'keep', integer({ min: 0 }), 5, 'Rotated daemon log files kept besides the current one; the oldest is deleted.')
]

/** The key at a dotted path, if there is one. */
export function configKey (path: string): ConfigKey | undefined {
  return CONFIG_KEYS.find((k) => k.path === path)
}
