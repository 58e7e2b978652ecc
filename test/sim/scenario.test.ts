import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { bundledScenarios, resolveScenarioPath } from '../../sim/bundled.js'
import { loadScenario, parseScenario } from '../../sim/scenario.js'

const base = 'duration = "5m"\n[peers]\ncount = 3\n'

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

  it('bundled scenarios are listed and run by name; an unknown name is E_NOT_FOUND with a suggestion', () => {
    const list = bundledScenarios()
    expect(list.map((b) => b.name)).toEqual(expect.arrayContaining(['attacker-island', 'beacon-relay']))
    expect(list.find((b) => b.name === 'beacon-relay')?.description).toMatch(/beacons/)
    expect(resolveScenarioPath('beacon-relay')).toMatch(/sim\/scenarios\/beacon-relay\.toml$/)
    expect(resolveScenarioPath('sim/scenarios/leaked-token.toml')).toBe('sim/scenarios/leaked-token.toml')
    expect(() => resolveScenarioPath('beacon-rely')).toThrow(expect.objectContaining({ code: 'E_NOT_FOUND', message: expect.stringMatching(/did you mean 'beacon-relay'/) }))
  })
})
