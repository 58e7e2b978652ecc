import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { buildCli, type Program } from '../../cli/program.js'
import type { CliContext } from '../../cli/context.js'

/** What a CLI run printed and returned. */
export interface RunResult { code: number, stdout: string, stderr: string }

/** A context whose streams collect text, for in-process runs. */
export function captureContext (
  over: Partial<CliContext> & { tty?: boolean } = {}
): { ctx: CliContext, stdout: string[], stderr: string[] } {
  const stdout: string[] = []
  const stderr: string[] = []
  const ctx: CliContext = {
    stdout: { write: (s: string) => stdout.push(s), isTTY: over.tty ?? false },
    stderr: { write: (s: string) => stderr.push(s), isTTY: over.tty ?? false },
    env: {},
    cwd: os.tmpdir(),
    userHome: os.tmpdir(),
    version: '9.9.9-test',
    ...over
  }
  return { ctx, stdout, stderr }
}

/**
 * Runs `aura ...args` in-process with the real command modules,
 * loaded as bin/aura.js loads them (only those `args` name).
 */
export async function runCli (args: string[], over: Partial<CliContext> & { tty?: boolean } = {}): Promise<RunResult> {
  const { ctx, stdout, stderr } = captureContext(over)
  const code = await (await buildCli(ctx, args)).run(args)
  return { code, stdout: stdout.join(''), stderr: stderr.join('') }
}

/** Runs a program built by the caller (for test-only commands). */
export async function runProgram (
  program: Program,
  args: string[],
  out: { stdout: string[], stderr: string[] }
): Promise<RunResult> {
  const code = await program.run(args)
  return { code, stdout: out.stdout.join(''), stderr: out.stderr.join('') }
}

/** A fresh temporary directory and its removal. */
export async function tempDir (prefix = 'aura-cli-'): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: async () => await rm(dir, { recursive: true, force: true }) }
}
