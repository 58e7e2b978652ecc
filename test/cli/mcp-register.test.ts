/**
 * The `mcpServers` block docs/cli.md tells users to paste into their MCP client works as written:
 * the block is read from the document, its command started as a client starts it (the SDK's stdio
 * transport, a real `aura mcp` process), and the server answers with its real name and version
 * and the agent's tools. Only the paths the block names are pointed at this test's home and
 * workspace, and `aura` at this checkout's bin/aura.js.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aura, ensureBuilt } from '../e2e/helpers.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** The first ```json block of docs/cli.md holding `mcpServers`. */
async function documentedBlock (): Promise<{ command: string, args: string[], env: Record<string, string> }> {
  const doc = await readFile(path.join(ROOT, 'docs/cli.md'), 'utf8')
  const block = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.includes('"mcpServers"'))
  expect(block, 'docs/cli.md has an mcpServers block').toBeDefined()
  return JSON.parse(block!).mcpServers.aura
}

describe('registering aura mcp with an MCP client, as docs/cli.md shows', () => {
  let dir: string
  let home: string
  let ws: string

  beforeAll(async () => {
    await ensureBuilt()
    dir = await mkdtemp(path.join(os.tmpdir(), 'aura-mcp-reg-'))
    home = path.join(dir, 'home')
    ws = path.join(dir, 'app')
    await mkdir(path.join(ws, '.git'), { recursive: true })
    for (const args of [['init'], ['mothership', 'init', '--team', 'acme', '--user', 'ops'], ['agent', 'issue', 'claude', '--role', 'agent']]) {
      const r = await aura([...args, '--home', home], { cwd: dir })
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
    }
  }, 60_000)

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('starts from the documented block and answers with its version and the agent\'s tools', async () => {
    const entry = await documentedBlock()
    expect(entry.command).toBe('aura')
    const docWs = entry.args[entry.args.indexOf('--workspace') + 1]
    const args = entry.args.map((a) => a === docWs ? ws : a)
    const env = Object.fromEntries(Object.entries(entry.env).map(([k, v]) => [k, k === 'AURA_HOME' ? home : v]))
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [path.join(ROOT, 'bin/aura.js'), ...args],
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: dir, NO_COLOR: '1', ...env },
      stderr: 'ignore'
    })
    const client = new Client({ name: 'doc-check', version: '1.0.0' })
    await client.connect(transport)
    try {
      const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'))
      expect(client.getServerVersion()).toEqual({ name: 'aura', version: pkg.version })
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('aura_log_intent')
      const logged = await client.callTool({ name: 'aura_log_intent', arguments: { text: 'registered from the docs' } })
      expect(logged.isError).not.toBe(true)
    } finally {
      await client.close()
    }
  }, 60_000)
})
