// Every CLI command that calls an operation sends parameters that operation's schema accepts:
// each command below runs in-process with every option it has, against a "daemon" that only
// records what it was asked (node/control/client.js mocked), and each request is checked against
// the registry (node/operations.ts) as the daemon's control socket checks it. Every operation of
// the registry is either called by a command here or named with the caller that does call it.
// The MCP tools are checked the same way: each tool's parameters, built from its arguments.
import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import type { KeyId } from '../../crdt/ids.js'
import { MCP_TOOLS, type ToolCallSite } from '../../node/agents/mcp-tools.js'
import { findOperation, parseParams } from '../../node/operation.js'
import { OPERATIONS } from '../../node/operations.js'
import { runCli, tempDir } from './helpers.js'

const recorded = vi.hoisted(() => [] as Array<{ method: string, params: Record<string, unknown> }>)

vi.mock('../../node/control/client.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../node/control/client.js')>()
  const { DaemonUnreachableError } = await import('../../crdt/errors.js')
  const record = async (_home: string, method: string, params: Record<string, unknown>): Promise<never> => {
    // What the socket carries: JSON, so undefined values are gone.
    recorded.push({ method, params: JSON.parse(JSON.stringify(params)) })
    throw new DaemonUnreachableError('recorded, not answered', { running: true })
  }
  return { ...real, callControl: record, streamControl: record, pingControl: async () => true }
})

// Operations no command below calls, and who calls them.
const ELSEWHERE: Record<string, string> = {
  'mcp-call': '`aura mcp` (node/agents/mcp-server.ts), per tool call: test/cli/mcp.test.ts',
  ping: 'pingControl (node/control/client.ts), mocked here',
  revocations: 'tests and bench/revocation.ts'
}

describe('CLI commands and MCP tools send parameters the registry accepts', () => {
  let dir: { dir: string, cleanup: () => Promise<void> }
  let home: string
  let ws: string

  beforeAll(async () => {
    dir = await tempDir('aura-op-params-')
    home = path.join(dir.dir, 'home')
    ws = path.join(dir.dir, 'ws')
    await mkdir(ws)
  })
  afterAll(async () => { await dir.cleanup() })

  const COMMANDS = (): string[][] => [
    ['status'],
    ['node', 'start'],
    ['node', 'stop'],
    ['join', 'tk_token'],
    ['up'],
    ['doctor'],
    ['config', 'show'],
    ['ui', '--port', '8080', '--actions'],
    ['log-intent', 'fix login', '--agent', 'claude', '--workspace', ws],
    ['trace', '--actor', 'peer-5f3a', '--signer', 'peer-5f3a', '--since', '30d', '--kind', 'intent', '--receipts', '--jsonl'],
    ['audit', 'export', '--actor', 'peer-5f3a', '--signer', 'peer-5f3a', '--since', '30d', '--format', 'jsonl'],
    ['mothership', 'init', '--team', 'acme', '--user', 'ops'],
    ['mothership', 'issue-peer', 'alice', '--role', 'contributor', '--ttl', '1h', '--reusable'],
    ['mothership', 'list-peers'],
    ['mothership', 'list-tokens', '--active'],
    ['mothership', 'revoke-peer', 'peer-5f3a', '--reason', 'laptop theft'],
    ['mothership', 'revoke-token', 'tk_01', '--reason', 'leaked'],
    ['mothership', 'audit-token', 'tk_01'],
    ['mothership', 'lockdown', '--reason', 'incident'],
    ['mothership', 'unlock', '--reason', 'contained'],
    ['mothership', 'rotate-key'],
    ['agent', 'issue', 'claude', '--role', 'agent', '--capabilities', 'read,intent', '--ttl', '8h', '--max-commits-per-hour', '5'],
    ['agent', 'list', '--filter', 'kind=all'],
    ['agent', 'revoke', 'claude', '--reason', 'rogue'],
    ['agent', 'revoke-all', '--role', 'agent', '--reason', 'pause'],
    ['sentinel', 'send', 'hello', '--to', 'claude', '--to', 'peer-5f3a', '--agent', 'claude'],
    ['sentinel', 'inbox', '--agent', 'claude', '--since', '1h'],
    ['mcp', '--agent', 'claude', '--workspace', ws],
    ['backup', 'create', 'b.aura', '--since', '30d'],
    ['backup', 'import', 'b.aura'],
    ['peer', 'add', '/ip4/127.0.0.1/tcp/7447/p2p/12D3KooWabc'],
    ['peer', 'list'],
    ['sync', 'status', '--intent', '3f9a12'],
    ['snapshot', 'src/a.py', 'src/b.py', '--reason', 'before edit', '--agent', 'claude', '--workspace', ws],
    ['snapshot-list', '--author', 'claude', '--path', 'src/a.py', '--since', '1h'],
    ['rewind', '--function', 'src/a.py:f', '--to', '3f9a12', '--dry-run', '--agent', 'claude', '--workspace', ws],
    ['rewind', '--to-before-session', 'claude', '--workspace', ws],
    ['apply', '--dry-run', '--workspace', ws],
    ['conflicts', '--clear'],
    ['conflicts', '--clear', '3f9a12'],
    ['pr-review', '--actor', 'claude', '--signer', 'claude', '--since', '1d', '--security'],
    ['zone', 'claim', 'src/auth/**', 'src/a.py:f', '--mode', 'warn', '--ttl', '2h', '--agent', 'claude'],
    ['zone', 'list', '--owner', 'claude', '--all'],
    ['zone', 'release', '3f9a12', '--agent', 'claude']
  ]

  it('every command\'s request passes its operation\'s schema, and every operation is called', async () => {
    for (const argv of COMMANDS()) {
      const before = recorded.length
      await runCli([...argv, '--home', home, '--json'], { cwd: ws })
      expect(recorded.length, `aura ${argv.join(' ')} sent no request`).toBeGreaterThan(before)
    }
    for (const { method, params } of recorded) {
      expect(() => parseParams(method, findOperation(OPERATIONS, method).params, params), `${method} ${JSON.stringify(params)}`).not.toThrow()
    }
    const called = new Set(recorded.map((r) => r.method))
    expect(Object.keys(OPERATIONS).filter((name) => !called.has(name) && !Object.hasOwn(ELSEWHERE, name))).toEqual([])
  }, 120_000)

  it('every MCP tool builds parameters its operation accepts', () => {
    const samples: Record<keyof typeof MCP_TOOLS, Record<string, unknown>> = {
      aura_log_intent: { text: 'tighten the session check' },
      aura_zone_claim: { patterns: ['src/auth/**'], mode: 'warn', ttl: '2h' },
      aura_snapshot: { paths: ['src/a.py'], reason: 'before edit' },
      aura_trace: { since: '6h', kind: 'intent', actor: 'claude' },
      aura_send_message: { to: ['watcher'], text: 'please review' },
      aura_inbox: {}
    }
    expect(Object.keys(samples).sort()).toEqual(Object.keys(MCP_TOOLS).sort())
    for (const [name, tool] of Object.entries(MCP_TOOLS)) {
      // As mcpCall does: the arguments checked against the tool's input, then turned into the operation's parameters.
      const args = parseParams(`tool ${name}`, z.strictObject(tool.input), samples[name as keyof typeof MCP_TOOLS])
      const params = (tool.params as (a: unknown, at: ToolCallSite) => unknown)(args, { cwd: '/w', workspace: '/w', agent: 'a'.repeat(64) as KeyId })
      expect(() => parseParams(tool.op, findOperation(OPERATIONS, tool.op).params, params), name).not.toThrow()
    }
  })
})
