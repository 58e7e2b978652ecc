/**
 * Test helpers for the workspace: a throwaway workspace directory with files, cleaned up by
 * the test that made it.
 *
 * @example
 * const ws = await makeWorkspace({ 'src/a.py': 'def f():\n    return 1\n' })
 * await ws.write('src/a.py', '...'); await ws.cleanup()
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/** A workspace directory on disk for one test. */
export interface TestWorkspace {
  root: string
  write: (path: string, text: string | Uint8Array) => Promise<void>
  read: (path: string) => Promise<string>
  cleanup: () => Promise<void>
}

/** Creates a temporary workspace holding the given files. */
export async function makeWorkspace (files: Record<string, string | Uint8Array> = {}): Promise<TestWorkspace> {
  const root = await mkdtemp(join(tmpdir(), 'aura-ws-'))
  const write = async (path: string, text: string | Uint8Array): Promise<void> => {
    const abs = join(root, ...path.split('/'))
    await mkdir(dirname(abs), { recursive: true })
    await writeFile(abs, text)
  }
  for (const [p, t] of Object.entries(files)) await write(p, t)
  return {
    root,
    write,
    read: async (path) => await readFile(join(root, ...path.split('/')), 'utf8'),
    cleanup: async () => { await rm(root, { recursive: true, force: true }) }
  }
}
