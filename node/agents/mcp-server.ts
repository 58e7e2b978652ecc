/**
 * `aura mcp --agent NAME`: the Model Context Protocol server an AI agent talks to, acting as that
 * agent (its credential must be in this home). Every tool call is one `mcp-call` operation on the
 * node (node/agents/mcp-tools.ts: enforcement and audit), through the daemon when it runs. A
 * refused call is an MCP error result whose text starts with the error code (`E_REVOKED: ...`),
 * so the agent — and whoever reads its transcript — sees why.
 *
 * @example
 * const server = buildMcpServer('claude', async (method, params) => await callNode(io, method, params))
 * await server.connect(new StdioServerTransport())
 */
import { packageVersion } from '../version.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { toAuraError } from '../../crdt/errors.js'
import { MCP_TOOLS } from './mcp-tools.js'
import type { OperationName } from '../operations.js'

/** How the server reaches the node: an operation name and its params. */
export type NodeCall = (method: OperationName, params: Record<string, unknown>) => Promise<unknown>

/**
 * An MCP server offering MCP_TOOLS as `agent`: only the tools its `capabilities` allow (a reader
 * is offered no write tool; the node still checks every call), each with MCP annotations, and
 * every result both as text and as `structuredContent` (an object: a list comes as `{ result }`).
 */
export function buildMcpServer (
  agent: string,
  call: NodeCall,
  opts: { cwd?: string, workspace?: string, version?: string, capabilities?: readonly string[] } = {}
): McpServer {
  const version = opts.version ?? packageVersion() ?? 'unknown'
  const server = new McpServer({ name: 'aura', version })
  for (const [tool, spec] of Object.entries(MCP_TOOLS)) {
    if (opts.capabilities !== undefined && !opts.capabilities.includes(spec.capability)) continue
    server.registerTool(tool, {
      title: spec.annotations.title,
      description: spec.description,
      inputSchema: spec.input,
      annotations: spec.annotations
    }, async (args: Record<string, unknown>) => {
      try {
        const result = await call('mcp-call', { agent, tool, args, cwd: opts.cwd, workspace: opts.workspace })
        const structuredContent = typeof result === 'object' && result !== null && !Array.isArray(result) ? result as Record<string, unknown> : { result }
        return { content: [{ type: 'text' as const, text: JSON.stringify(result) }], structuredContent }
      } catch (err) {
        const e = toAuraError(err)
        return { isError: true, content: [{ type: 'text' as const, text: `${e.code}: ${e.message}` }] }
      }
    })
  }
  return server
}
