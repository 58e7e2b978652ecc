import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { CONFIG_KEYS, SECTIONS } from '../../node/config.js'

describe('docs/config.md', () => {
  it('lists every key under its section with its default and environment variable', async () => {
    const doc = await readFile(new URL('../../docs/config.md', import.meta.url), 'utf8')
    for (const section of SECTIONS) {
      const start = doc.indexOf(`### \`[${section}]\``)
      expect(start, section).toBeGreaterThan(0)
      const next = doc.indexOf('\n### ', start + 1)
      const body = doc.slice(start, next < 0 ? undefined : next)
      for (const k of CONFIG_KEYS.filter((x) => x.section === section)) {
        const def = typeof k.default === 'function' ? '[^|]+' : `\`${escape(k.kind.toToml(k.default) ?? 'unset')}\``
        expect(body, k.path).toMatch(new RegExp(`^\\| \`${k.name}\` \\| ${def} \\| \`${k.envName}\` \\|`, 'm'))
      }
    }
  })
})

function escape (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}
