import { describe, expect, it } from 'vitest'
import { keyLines, lineOf } from '../../node/config/toml-lines.js'
import { parseDuration, parseSize } from '../../node/config.js'

describe('keyLines', () => {
  it('finds tables, plain, dotted and quoted keys', () => {
    const lines = keyLines([
      '# top',                           // 1
      'title = "x"',                      // 2
      '[audit.export]',                   // 3
      'enabled = true # trailing',        // 4
      '[ agents . "defaults" ]',          // 5
      '"role" = "reader"',                // 6
      "'max_ttl' = 7200",                 // 7
      '[sync]',                           // 8
      'a.b = 1'                           // 9
    ].join('\n'))
    expect(Object.fromEntries(lines)).toEqual({
      title: 2,
      'audit.export': 3,
      'audit.export.enabled': 4,
      'agents.defaults': 5,
      'agents.defaults.role': 6,
      'agents.defaults.max_ttl': 7,
      sync: 8,
      'sync.a.b': 9
    })
  })

  it('ignores the inside of multi-line strings and arrays', () => {
    const lines = keyLines([
      '[node]',                           // 1
      'name = """',                       // 2
      'fake = 1',                         // 3
      '[not.a.table]',                    // 4
      '"""',                              // 5
      'listen = [',                       // 6
      '  "/ip4/0.0.0.0/tcp/1",',          // 7
      '  [1, 2]',                         // 8
      ']',                                // 9
      'host = "h"'                        // 10
    ].join('\n'))
    expect(Object.fromEntries(lines)).toEqual({ node: 1, 'node.name': 2, 'node.listen': 6, 'node.host': 10 })
  })

  it('lineOf falls back to the nearest enclosing key', () => {
    const lines = keyLines('[agents]\ndefaults = { role = 1 }\n')
    expect(lineOf(lines, 'agents.defaults.role')).toBe(2)
    expect(lineOf(lines, 'hooks.x')).toBeUndefined()
  })
})

describe('durations and sizes', () => {
  it('parse the documented forms', () => {
    expect(parseDuration('90')).toBe(90)
    expect(parseDuration('90s')).toBe(90)
    expect(parseDuration('10m')).toBe(600)
    expect(parseDuration('1h30m')).toBe(5400)
    expect(parseDuration('1w')).toBe(604800)
    expect(parseDuration('1.5h')).toBe(5400)
    expect(parseDuration('ten minutes')).toBeUndefined()
    expect(parseDuration('10 m')).toBeUndefined()
    expect(parseDuration('-5s')).toBeUndefined()
    expect(parseSize('4MiB')).toBe(4194304)
    expect(parseSize('1kb')).toBe(1000)
    expect(parseSize('lots')).toBeUndefined()
  })
})
