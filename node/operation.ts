/**
 * What an operation is: a name in the table of node/operations.ts, strict zod parameters, whether
 * it needs the daemon, and a `run` that receives the parameters already checked. `invokeOperation`
 * is the one path every caller takes — the daemon's control socket, the CLI without a daemon, the
 * MCP tools, the incident page — so a bad parameter is the same E_USAGE naming it wherever it
 * comes from, and an unknown name the same E_USAGE with the nearest names.
 *
 * This module and the table load light (zod, the errors, no Automerge, libp2p or tree-sitter):
 * heavy modules are imported inside `run`.
 *
 * @example
 * const ping = defineOperation({
 *   summary: 'Is the daemon there',
 *   daemon: 'required',
 *   params: z.strictObject({}),
 *   run: async ({ rt }) => ({ ok: true })
 * })
 * await invokeOperation(OPERATIONS, 'ping', {}, { rt, live, daemon })
 */
import type { z } from 'zod'
import { DaemonUnreachableError, UsageError } from '../crdt/errors.js'
import type { KeyId } from '../crdt/ids.js'
import { closest, nearest } from './config/suggest.js'
import type { ConfigState } from './config-reload.js'
import type { AuditStreamStatus } from './evidence/export-stream.js'
import type { ConnectionInfo, Host } from './net/host.js'
import type { NodeRuntime } from './runtime.js'
import type { RefusedChanges } from './sync/engine.js'

/** What a running daemon adds to an operation: live network state. */
export interface LiveState {
  listen: string[]
  connected: KeyId[]
  lastRefusal: { code: string, message: string, peer: string | null, at: string } | null
  stale: boolean
  lastBeacon: number | null
  knownAddresses: Array<{ addr: string, lastError: string | null }>
  /** Open connections: direct or relayed, remote address, round trip (ms). */
  connections: ConnectionInfo[]
  /** Addresses peers observed this node at (identify): its face outside a NAT. */
  observed: string[]
  /** Whether this node serves as a circuit relay for admitted peers now. */
  relay: boolean
  startedAt: number
  /** Continuous audit export (`[audit.export]`), when enabled. */
  auditExport: AuditStreamStatus | null
  /** Intent-log changes refused on sync links, per peer, direction and code (node/sync/engine.ts). */
  refusedChanges?: RefusedChanges[]
  /** aura.toml as the daemon applied it: keys waiting for a restart, the last refused reload. */
  config: Pick<ConfigState, 'restartNeeded' | 'error'> | null
}

/** What only a running daemon can do, for the operations that need it (node/daemon.ts implements it). */
export interface DaemonControls {
  readonly host: Host
  configState: () => ConfigState
  /** Stops the daemon shortly after the answer is sent. */
  stop: () => void
  /** A join went through: start syncing and dial the peers the Mothership named. */
  joined: (peers: readonly string[]) => void
  /** Dials `addr` now (and keeps it in the reconnect loop). */
  dial: (addr: string) => void
  openUi: (
    p: { port?: string | number, actions?: boolean, cwd?: string }
  ) => Promise<{ url: string, port: number, actions: boolean }>
  /** When each revocation took effect here and when the last connection to the key was closed. */
  revocations: () => Array<{ key: KeyId, peer: string, appliedAt: number, closedAt: number | null }>
}

/** Whether an operation needs the daemon: 'required' ones fail with E_DAEMON_UNREACHABLE without one. */
export type DaemonNeed = 'required' | 'optional'

/** What an operation runs with: the node, and the daemon's state and controls when a daemon runs it. */
export interface OperationContext {
  readonly rt: NodeRuntime
  readonly live?: LiveState
  readonly daemon?: DaemonControls
}

/** The context an operation with daemon need `D` is given. */
export type ContextFor<D extends DaemonNeed> = D extends 'required' ? OperationContext & { live: LiveState, daemon: DaemonControls } : OperationContext

/** An operation's parameters: a strict object, so an unknown key is refused, never ignored. */
export type ParamsSchema = z.ZodObject<z.ZodRawShape, z.core.$strict>

/** One operation of the table. */
export interface Operation<S extends ParamsSchema = ParamsSchema, R = unknown, D extends DaemonNeed = DaemonNeed> {
  /** One line: what it does. */
  readonly summary: string
  readonly params: S
  readonly daemon: D
  /** The whole result. */
  readonly run: (ctx: ContextFor<D>, p: z.output<S>) => Promise<R>
  /** For a list that can outgrow any one answer: its rows, produced one at a time (the daemon streams them). */
  readonly rows?: (ctx: ContextFor<D>, p: z.output<S>) => Promise<Iterable<unknown>>
}

/** Declares an operation; `run` gets its parameters typed and checked. */
export function defineOperation<S extends ParamsSchema, R, D extends DaemonNeed> (
  op: Operation<S, R, D> & { rows?: undefined }
): Operation<S, R, D> {
  return op
}

/** Declares a list-valued operation by its rows; `run` collects them (for callers that want one array). */
export function defineStreamOperation<S extends ParamsSchema, Row, D extends DaemonNeed> (
  op: { summary: string, params: S, daemon: D, rows: (ctx: ContextFor<D>, p: z.output<S>) => Promise<Iterable<Row>> }
): Operation<S, Row[], D> {
  return { ...op, run: async (ctx, p) => Array.from(await op.rows(ctx, p)) }
}

/** A table of operations by name. */
export type OperationTable = Record<string, Operation<any, any, any>>

/** Parameters as a caller writes them (before defaults and transforms). */
export type ParamsOf<O> = O extends Operation<infer S, any, any> ? z.input<S> : never

/** What an operation resolves to. */
export type ResultOf<O> = O extends Operation<any, infer R, any> ? R : never

/** The operation called `name`, or E_USAGE naming the nearest ones. */
export function findOperation (table: OperationTable, name: string): Operation<any, any, any> {
  if (Object.hasOwn(table, name)) return table[name]
  const names = Object.keys(table)
  const near = closest(name, names)
  const hint = near === undefined ? `nearest: ${nearest(name, names, 3).join(', ')}` : `did you mean '${near}'?`
  throw new UsageError(`no operation '${name}' (${hint})`, { operation: name, nearest: near === undefined ? nearest(name, names, 3) : [near] })
}

/**
 * `raw` checked against a strict schema (an operation's, a tool's arguments); E_USAGE naming the first bad parameter.
 */
export function parseParams<S extends ParamsSchema> (name: string, schema: S, raw: unknown): z.output<S> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${name}: parameters must be an object`, { operation: name })
  const r = schema.safeParse(raw)
  if (r.success) return r.data
  const issue = r.error.issues[0]
  const allowed = Object.keys(schema.shape)
  if (issue.code === 'unrecognized_keys') {
    const param = issue.keys[0]
    const near = closest(param, allowed)
    throw new UsageError(`${name}: unknown parameter '${param}'${near === undefined ? '' : ` (did you mean '${near}'?)`}; it takes ${allowed.length === 0 ? 'none' : allowed.join(', ')}`, { operation: name, param, allowed })
  }
  const param = issue.path.join('.')
  const given = issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], raw)
  if (given === undefined && issue.path.length > 0) throw new UsageError(`${name}: missing parameter '${param}'`, { operation: name, param })
  throw new UsageError(`${name}: parameter '${param}': ${issue.message}`, { operation: name, param })
}

// 'required' operations need the daemon's state and controls; a direct call has none.
function contextFor (name: string, op: Operation<any, any, any>, ctx: OperationContext): OperationContext {
  if (op.daemon === 'required' && (ctx.daemon === undefined || ctx.live === undefined)) {
    throw new DaemonUnreachableError(`'${name}' needs the running daemon`, { operation: name, running: false, hint: 'start one with `aura node start`' })
  }
  return ctx
}

/** Runs operation `name` with `raw` parameters, checked first: the one path of every caller. */
export async function invokeOperation (
  table: OperationTable,
  name: string,
  raw: unknown,
  ctx: OperationContext
): Promise<unknown> {
  const op = findOperation(table, name)
  const p = parseParams(name, op.params, raw)
  return await op.run(contextFor(name, op, ctx), p)
}

/** The rows of a list-valued operation (`defineStreamOperation`), its parameters checked the same way. */
export async function invokeRows (
  table: OperationTable,
  name: string,
  raw: unknown,
  ctx: OperationContext
): Promise<Iterable<unknown>> {
  const op = findOperation(table, name)
  const p = parseParams(name, op.params, raw)
  if (op.rows === undefined) throw new UsageError(`'${name}' is not answered row by row: call it whole`, { operation: name })
  return await op.rows(contextFor(name, op, ctx), p)
}
