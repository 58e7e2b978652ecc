import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadScenario, parseScenario } from '../../sim/scenario.js'

const base = `duration = "5m"\n[peers]\ncount = 3\n`

describe('scenario files', () => {
  it('every shipped scenario validates', () => {
    const files = readdirSync('sim/scenarios').filter((f) => f.endsWith('.toml'))
    expect(files).toEqual(expect.arrayContaining(['attacker-island.toml', 'compromised-peer.toml', 'leaked-token.toml', 'rogue-agent.toml']))
    for (const f of files) expect(loadScenario(`sim/scenarios/${f}`).name.length).toBeGreaterThan(0)
  })

  it('names the key and the line of a bad value', () => {
    expect(() => parseScenario(`${base}[link]\nloss = 2\n`, 'x.toml')).toThrow(/x\.toml:5: link\.loss/)
    expect(() => parseScenario(`${base}[[schedule]]\nat = "soon"\nheal = "all"\n`, 'x.toml')).toThrow(/x\.toml:5: schedule\[0\]\.at: expected a duration/)
  })

  it('refuses steps with no action, two actions, or unknown peers', () => {
    expect(() => parseScenario(`${base}[[schedule]]\nat = "1m"\n`, 'x.toml')).toThrow(/schedule\[0\]: a step needs exactly one action/)
    expect(() => parseScenario(`${base}[[schedule]]\nat = "1m"\nheal = "all"\ncrash = "peer-000"\n`, 'x.toml')).toThrow(/exactly one action/)
    expect(() => parseScenario(`${base}[[schedule]]\nat = "1m"\ncrash = "zed"\n`, 'x.toml')).toThrow(/schedule\[0\]\.crash: unknown node 'zed'/)
    expect(() => parseScenario(`${base}[topology]\nkind = "hypercube"\n`, 'x.toml')).toThrow(/topology\.kind/)
    expect(() => parseScenario(`${base}bogus = 1\n`, 'x.toml')).toThrow(/bogus/)
  })

  it('reports TOML syntax errors with the line', () => {
    expect(() => parseScenario('duration = \n', 'x.toml')).toThrow(/x\.toml:1: TOML syntax error/)
  })
})
