import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../crdt/errors.js'

describe('docs/cli.md exit code table', () => {
  it('lists exactly ERROR_CODES with the same exit codes', async () => {
    const doc = await readFile(new URL('../../docs/cli.md', import.meta.url), 'utf8')
    const rows = [...doc.matchAll(/^\| `(E_[A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2])] as const)
    expect(rows.length).toBeGreaterThan(0)
    expect(new Set(rows.map(([code]) => code)).size).toBe(rows.length)
    expect(Object.fromEntries(rows)).toEqual(ERROR_CODES)
  })
})
