// The swarm's draws of the world's capacity (bandwidth, CPU cost per frame) come after every
// earlier draw, so what a seed drew before they existed is what it draws now; most seeds keep an
// unlimited, free world, and the constrained ones reach the scenario that runs.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { NO_CPU } from '../../sim/cpu-model.js'
import { parseScenario } from '../../sim/scenario.js'
import { drawScenario } from '../../sim/swarm.js'

// SHA-256 of each seed's TOML (full mode, without its comment line) before the world was drawn.
const BEFORE: Record<number, string> = {
  1: '8988b8116f4eb30d1f9666234931aff23b227e9aa49372256888bf68e979c6e3',
  2: '04da59b2e5ba0035097e89714636907a0d34680fee6263109fa19a2fba7bf543',
  3: '5a3ade217ed298a07348827e7640eb291d8402f4e2ad1c81ff26ff2de702ad6c',
  8: '68ca1b9578c5d52c59be507cd0626933f84aea1dbfe96d646a47ca964d7160b7',
  510: 'aa965eed0458b5faebc780c9b878734dc8ab4ca738345066bbaf15a9d193d8e7',
  597: 'b5d0960d493dadfafff72a8667bd01fb4d575a3ad63f8f819b23f1ba76207db3'
}

// A drawn scenario's TOML without its comment line and without the world's keys.
function withoutWorld (toml: string): string {
  return toml.split('\n').slice(1).join('\n')
    .replace(/^bandwidth = .*\n/m, '')
    .replace(/\n\[node\]\ncpu_per_message = .*\ncpu_per_kib = .*\n/, '')
}

describe('swarm draws of the world', () => {
  it('leave every earlier draw of a seed as it was', () => {
    for (const [seed, sha] of Object.entries(BEFORE)) {
      const toml = withoutWorld(drawScenario(Number(seed)).toml)
      expect(createHash('sha256').update(toml).digest('hex'), `seed ${seed}`).toBe(sha)
    }
  })

  it('reach the scenario that runs, and the summary line', () => {
    const s = (seed: number) => parseScenario(drawScenario(seed).toml)
    expect(s(1).link.bandwidth).toBeNull()
    expect(s(1).node).toEqual(NO_CPU)
    expect(s(510).link.bandwidth).toBe(125_000)
    expect(s(3).node).toEqual({ perMessageUs: 200, perKibUs: 40 })
    expect(s(8).link.bandwidth).toBe(1_000_000)
    expect(s(8).node).toEqual({ perMessageUs: 50, perKibUs: 10 })
    expect(drawScenario(8).params).toMatch(/ world\(bandwidth=1MB\/s cpu=50us\+10us\/KiB\)$/)
    expect(drawScenario(1).params).toMatch(/ world\(bandwidth=unlimited cpu=0us\+0us\/KiB\)$/)
  })

  it('leave about half the seeds an unlimited link and half free processing', () => {
    const drawn = Array.from({ length: 400 }, (_, i) => parseScenario(drawScenario(i).toml))
    const unlimited = drawn.filter((s) => s.link.bandwidth === null).length / drawn.length
    const free = drawn.filter((s) => s.node.perMessageUs === 0).length / drawn.length
    expect(unlimited).toBeGreaterThan(0.4)
    expect(unlimited).toBeLessThan(0.6)
    expect(free).toBeGreaterThan(0.4)
    expect(free).toBeLessThan(0.6)
  })
})
