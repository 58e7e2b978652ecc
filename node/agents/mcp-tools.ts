/**
 * What an agent may do through `aura mcp`, and the enforcement and audit around every call.
 *
 * Each MCP tool maps to one node operation, run as the agent: writes go through the agent's
 * key with its capability and quota checked (E_REVOKED, E_CAPABILITY, E_QUOTA); reads need the
 * `read` capability and an unrevoked, unexpired credential. Every refused call is an `mcp-call`
 * audit event; with `[agents.enforcement] log_all_calls = true`, every allowed call is one too —
 * "every MCP call the agent made is in the audit log" (Playbook 3, step 3).
 *
 * @example
 * await mcpCall(rt, { agent: 'claude', tool: 'aura_log_intent', args: { text: 'fix login' }, cwd }, run)
 */
import { z } from 'zod'
import type { Json } from '../../crdt/canonical.js'
import { CapabilityError, RevokedError, UsageError, toAuraError } from '../../crdt/errors.js'
import { shortId, type KeyId } from '../../crdt/ids.js'
import { closest } from '../config/suggest.js'
import { parseParams } from '../operation.js'
import type { OperationName, OperationParams } from '../operations.js'
import type { NodeRuntime } from '../runtime.js'
import { resolveAgent } from './agents.js'

/** Where and as whom a tool call runs: the agent's working directory and workspace, and its key. */
export interface ToolCallSite {
  readonly cwd?: string
  readonly workspace?: string
  readonly agent: KeyId
}

/** One tool an agent can call: the operation it runs and the capability it needs. */
export interface McpTool<N extends OperationName = OperationName, S extends z.ZodRawShape = z.ZodRawShape> {
  readonly op: N
  readonly capability: 'read' | 'intent'
  readonly description: string
  /** The tool's arguments, as the MCP client sees them (checked strictly before the call). */
  readonly input: S
  /** MCP tool annotations: hints for the client (what a call may change). */
  readonly annotations: ToolHints
  /** The operation's parameters (checked again by the operation) from the tool's arguments and the call site. */
  readonly params: (args: z.output<z.ZodObject<S>>, at: ToolCallSite) => OperationParams<N>
}

const tool = <N extends OperationName, S extends z.ZodRawShape>(t: McpTool<N, S>): McpTool<N, S> => t

/** MCP's tool annotations (spec 2025-06-18), as this server sets them. */
export interface ToolHints {
  readonly title: string
  readonly readOnlyHint: boolean
  readonly destructiveHint?: boolean
  readonly idempotentHint?: boolean
  readonly openWorldHint: boolean
}

// Reads change nothing; writes add signed records (never delete or overwrite anything), and
// stay inside the team (no open world).
const reads = (title: string): ToolHints => ({ title, readOnlyHint: true, openWorldHint: false })
const writes = (title: string, idempotent = false): ToolHints => ({
  title,
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: idempotent,
  openWorldHint: false
})

/** The tools `aura mcp` offers, by name. */
export const MCP_TOOLS = {
  aura_log_intent: tool({
    op: 'log-intent',
    capability: 'intent',
    annotations: writes('Record an intent'),
    description: 'Record an intent (what you are changing and why), signed as you, with the delta of every function changed in the workspace since the last record. The recorded versions of the files you changed are saved first as a pre-edit snapshot (unless your own snapshot since your last intent holds them).',
    input: { text: z.string().min(1).describe('What and why') },
    params: (a, at) => ({ text: a.text, cwd: at.cwd, workspace: at.workspace, agent: at.agent })
  }),
  aura_zone_claim: tool({
    op: 'zone-claim',
    capability: 'intent',
    annotations: writes('Claim a zone'),
    description: 'Claim a zone (paths, globs or PATH:NAME functions) so others are warned or blocked from changing it while you work; it expires after ttl. You cannot claim over a person\'s zone, and you may not change code inside one.',
    input: {
      patterns: z.array(z.string()).min(1).describe('e.g. src/auth/** or src/auth/verify.py:verify_token'),
      mode: z.enum(['warn', 'block']).optional().describe('block (default) refuses others\' changes; warn reports them'),
      ttl: z.string().optional().describe('Lifetime, e.g. 30m, 2h (default 8h)')
    },
    params: (a, at) => ({ patterns: a.patterns, mode: a.mode, ttl: a.ttl, agent: at.agent })
  }),
  aura_snapshot: tool({
    op: 'snapshot',
    capability: 'intent',
    annotations: writes('Snapshot files before editing', true),
    description: 'Snapshot workspace files (all, or the paths given) before you edit them, so any edit can be rewound.',
    input: { paths: z.array(z.string()).optional().describe('Files or directories, relative to the workspace'), reason: z.string().optional() },
    // Paths are relative to the workspace, whatever directory `aura mcp` runs in.
    params: (a, at) => ({ paths: a.paths, reason: a.reason ?? 'before agent edit', cwd: at.cwd, workspace: at.workspace, pathsFrom: 'workspace', agent: at.agent })
  }),
  aura_trace: tool({
    op: 'trace',
    capability: 'read',
    annotations: reads('Read the team\'s records'),
    description: 'The team\'s signed records, oldest first, with their status (effective or quarantined).',
    input: { since: z.string().optional().describe('e.g. 6h, 30d'), kind: z.string().optional(), actor: z.string().optional() },
    params: (a) => ({ since: a.since, kind: a.kind, actor: a.actor })
  }),
  aura_send_message: tool({
    op: 'sentinel-send',
    capability: 'intent',
    annotations: writes('Send a message'),
    description: 'Send a message to other agents or peers: a signed record, shown by `aura sentinel inbox`.',
    input: { to: z.array(z.string()).min(1).describe('Agent names or ids, peer ids'), text: z.string().min(1) },
    params: (a, at) => ({ text: a.text, to: a.to, agent: at.agent })
  }),
  aura_inbox: tool({
    op: 'sentinel-inbox',
    capability: 'read',
    annotations: reads('Read your messages'),
    description: 'Messages from and to you.',
    input: {},
    params: (_a, at) => ({ agent: at.agent })
  })
}

const TOOLS: Readonly<Record<string, McpTool<any, any>>> = MCP_TOOLS

/**
 * Runs one tool call as `agent` through `run` (the node's operation table), with enforcement
 * and audit. The tool's arguments are checked strictly (E_USAGE naming a bad one), and the
 * operation checks its parameters again. Throws the operation's error (after auditing it).
 */
export async function mcpCall (
  rt: NodeRuntime,
  p: { agent: string, tool: string, args?: Record<string, unknown>, cwd?: string, workspace?: string },
  run: (op: OperationName, params: Record<string, unknown>) => Promise<unknown>
): Promise<unknown> {
  const agent = resolveAgent(rt, p.agent)
  const name = p.tool
  const audit = async (outcome: 'allowed' | 'refused', code: string | null, message: string | null): Promise<void> => {
    await rt.audit('mcp-call', { agent: agent.key, name: agent.name, tool: name, outcome, code, message } as Record<string, Json>)
  }
  try {
    const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined
    if (tool === undefined) {
      const near = closest(name, Object.keys(MCP_TOOLS))
      throw new UsageError(`no tool '${name}'${near === undefined ? '' : ` (did you mean '${near}'?)`} (tools: ${Object.keys(MCP_TOOLS).join(', ')})`, { tool: name })
    }
    const chain = rt.requireChain()
    const id = shortId(agent.key, agent.name)
    const rev = chain.revocation(agent.key)
    if (rev !== undefined) throw new RevokedError(`${id} is revoked: ${rev.reason}`, { agent: id })
    if (agent.expires !== null && agent.expires <= rt.now()) throw new CapabilityError(`${id}'s credential expired at ${new Date(agent.expires).toISOString()}`, { agent: id })
    if (!agent.capabilities.includes(tool.capability)) throw new CapabilityError(`${id} lacks the '${tool.capability}' capability (has: ${agent.capabilities.join(', ')})`, { agent: id })
    const args = parseParams(`tool ${name}`, z.strictObject(tool.input), p.args ?? {})
    // Writes check again, with the quota, where the record is signed.
    const result = await run(tool.op, tool.params(args, { cwd: p.cwd, workspace: p.workspace, agent: agent.key }))
    if (rt.config.agents.enforcement.log_all_calls) await audit('allowed', null, null)
    return result
  } catch (err) {
    const e = toAuraError(err)
    await audit('refused', e.code, e.message).catch(() => {})
    throw e
  }
}
