/**
 * The one error module of Aura node. Every failure a user or peer can see is an `AuraError`
 * with a stable `code`; the CLI maps codes to exit codes, `--json` prints
 * `{error: {code, message, ...context}}`, and the MCP server returns the same codes.
 *
 * @example
 * throw new RevokedError('peer peer-5f3a is revoked', { peer: 'peer-5f3a' })
 */

/** Every stable error code, with the CLI exit code it maps to. */
export const ERROR_CODES = {
  E_INTERNAL: 1,
  E_USAGE: 2,
  E_CONFIG: 3,
  E_NOT_FOUND: 4,
  E_AMBIGUOUS: 5,
  E_EXISTS: 6,
  E_CONFLICT: 7,
  E_DAEMON_UNREACHABLE: 8,
  E_DAEMON_RUNNING: 9,
  E_NOT_INITIALISED: 10,
  E_NOT_MOTHERSHIP: 11,
  E_ADDRESS_IN_USE: 12,
  E_REVOKED: 20,
  E_NOT_ADMITTED: 21,
  E_TOKEN_EXPIRED: 22,
  E_TOKEN_USED: 23,
  E_BAD_SIGNATURE: 24,
  E_LOCKDOWN: 25,
  E_STALE: 26,
  E_CAPABILITY: 27,
  E_QUOTA: 28,
  E_FORK: 29,
  E_BAD_CHAIN: 30,
  E_MISSING_DEPS: 31,
  E_ZONE: 32,
  E_WRONG_TEAM: 33,
  E_MALFORMED: 40,
  E_FRAME_TOO_LARGE: 41,
  E_PROTOCOL: 42,
  E_UNREACHABLE: 43,
  E_TIMEOUT: 44,
  E_RATE_LIMITED: 45,
  E_BUSY: 46,
  E_BACKUP_CORRUPT: 47,
  E_PARSE: 50,
  E_WORKSPACE: 51,
  E_PERMISSIONS: 60,
  E_KEY_MISMATCH: 61,
  E_STORE_CORRUPT: 62,
  /** `aura sim run` / `sim swarm`: a run broke a safety or liveness property (not a failure of the tool). */
  E_SIM_VIOLATION: 70
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** Context a person needs to act on an error: which peer, token, key, file, line. */
export type ErrorContext = Record<string, string | number | boolean | null | string[] | undefined>

/** Base class: a message for people, a stable code for machines, and context for both. */
export class AuraError extends Error {
  readonly code: ErrorCode
  readonly context: ErrorContext

  constructor (code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(message)
    this.name = 'AuraError'
    this.code = code
    this.context = context
  }

  /** The `{code, message, ...context}` object printed under `--json` and sent over the wire. */
  toJSON (): { code: ErrorCode, message: string } & ErrorContext {
    return { ...this.context, code: this.code, message: this.message }
  }
}

function errorClass (code: ErrorCode, name: string) {
  const cls = class extends AuraError {
    constructor (message: string, context: ErrorContext = {}) {
      super(code, message, context)
      this.name = name
    }
  }
  Object.defineProperty(cls, 'name', { value: name })
  return cls
}

export const ConfigError = errorClass('E_CONFIG', 'ConfigError')
export const NotFoundError = errorClass('E_NOT_FOUND', 'NotFoundError')
export const AmbiguousError = errorClass('E_AMBIGUOUS', 'AmbiguousError')
export const ExistsError = errorClass('E_EXISTS', 'ExistsError')
export const ConflictError = errorClass('E_CONFLICT', 'ConflictError')
export const UsageError = errorClass('E_USAGE', 'UsageError')
export const DaemonUnreachableError = errorClass('E_DAEMON_UNREACHABLE', 'DaemonUnreachableError')
export const DaemonRunningError = errorClass('E_DAEMON_RUNNING', 'DaemonRunningError')
export const NotInitialisedError = errorClass('E_NOT_INITIALISED', 'NotInitialisedError')
export const NotMothershipError = errorClass('E_NOT_MOTHERSHIP', 'NotMothershipError')
/** A listen address another process holds; the context names the address and where it was set. */
export const AddressInUseError = errorClass('E_ADDRESS_IN_USE', 'AddressInUseError')
export const RevokedError = errorClass('E_REVOKED', 'RevokedError')
export const NotAdmittedError = errorClass('E_NOT_ADMITTED', 'NotAdmittedError')
export const TokenExpiredError = errorClass('E_TOKEN_EXPIRED', 'TokenExpiredError')
export const TokenUsedError = errorClass('E_TOKEN_USED', 'TokenUsedError')
export const BadSignatureError = errorClass('E_BAD_SIGNATURE', 'BadSignatureError')
export const LockdownError = errorClass('E_LOCKDOWN', 'LockdownError')
export const StaleError = errorClass('E_STALE', 'StaleError')
export const CapabilityError = errorClass('E_CAPABILITY', 'CapabilityError')
export const QuotaError = errorClass('E_QUOTA', 'QuotaError')
export const ForkError = errorClass('E_FORK', 'ForkError')
/** An intent-log change depends on changes neither held nor sent with it: refused, never queued. */
export const MissingDepsError = errorClass('E_MISSING_DEPS', 'MissingDepsError')
export const BadChainError = errorClass('E_BAD_CHAIN', 'BadChainError')
/** A write inside another identity's zone, or a zone claim or release that is not allowed. */
export const ZoneError = errorClass('E_ZONE', 'ZoneError')
/** A backup (or chain) of another team than this node's. */
export const WrongTeamError = errorClass('E_WRONG_TEAM', 'WrongTeamError')
/** A backup file that is damaged, truncated or not a backup. */
export const BackupCorruptError = errorClass('E_BACKUP_CORRUPT', 'BackupCorruptError')
export const MalformedError = errorClass('E_MALFORMED', 'MalformedError')
export const FrameTooLargeError = errorClass('E_FRAME_TOO_LARGE', 'FrameTooLargeError')
export const ProtocolError = errorClass('E_PROTOCOL', 'ProtocolError')
export const UnreachableError = errorClass('E_UNREACHABLE', 'UnreachableError')
export const TimeoutError = errorClass('E_TIMEOUT', 'TimeoutError')
export const RateLimitedError = errorClass('E_RATE_LIMITED', 'RateLimitedError')
export const BusyError = errorClass('E_BUSY', 'BusyError')
export const ParseError = errorClass('E_PARSE', 'ParseError')
export const WorkspaceError = errorClass('E_WORKSPACE', 'WorkspaceError')
/** A key file or node home other users can read or write, or owned by another user. */
export const PermissionsError = errorClass('E_PERMISSIONS', 'PermissionsError')
/** A key file that is damaged or does not match the public key it must hold. */
export const KeyMismatchError = errorClass('E_KEY_MISMATCH', 'KeyMismatchError')
/** The node's store on disk is damaged; the context names the path and how to recover. */
export const StoreCorruptError = errorClass('E_STORE_CORRUPT', 'StoreCorruptError')

/** Wraps anything thrown into an AuraError, keeping AuraErrors as they are. */
export function toAuraError (err: unknown): AuraError {
  if (err instanceof AuraError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new AuraError('E_INTERNAL', message)
}

/** Rebuilds an AuraError from its JSON form (control socket, wire). */
export function fromJSON (json: { code?: unknown, message?: unknown } & Record<string, unknown>): AuraError {
  const code = typeof json.code === 'string' && Object.hasOwn(ERROR_CODES, json.code) ? json.code as ErrorCode : 'E_INTERNAL'
  const { code: _c, message, ...context } = json
  return new AuraError(code, typeof message === 'string' ? message : 'unknown error', context as ErrorContext)
}

/** The process exit code for an error code. */
export function exitCodeFor (code: ErrorCode): number {
  return ERROR_CODES[code] ?? 1
}
