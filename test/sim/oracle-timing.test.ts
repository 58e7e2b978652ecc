// The oracle judges each effective view by the chain that view was computed on. Its checks (every
// 5 s) fall on instants of its polls (every second) and run before them, so the books' "held
// revocations" can lag the chain by a whole poll. Frank crashes before mallory's revocation and
// restarts holding her genuine seq-1 record; mallory (withholding her revocation) hands him her
// forks at seq 1 below the cut at once, and the honest peers' dial loops bring him the revocation
// at 119.1 s, after the poll at 119 s and before the check at 120 s. The production view rightly
// keeps the genuine record effective (the forks are beyond the cut); the oracle, judging by the
// books, counted the forks and reported `effective-equivocation` (swarm seeds 1515, 3323, 3370,
// 3484, 4691, 4790, each on a peer that had crashed).
import { describe, expect, it } from 'vitest'
import { runScenario } from '../../sim/run.js'
import { parseScenario } from '../../sim/scenario.js'

const SCENARIO = `name = "restart-before-check"
duration = "150s"
settle = "2m"
compare_freshness = false
[peers]
count = 4
names = ["alice", "bob", "carol", "frank"]
[topology]
kind = "mesh"
[link]
latency = { dist = "constant", ms = 20 }
[protocol]
anti_entropy = "10s"
beacon = "30s"
receipt = "off"
reconnect = "7s"
[workload]
rate = 2
[adversary]
name = "mallory"
victims = ["alice"]
start = "20s"
forge_every = "5s"
equivocate = false
withhold = true
fork_below_cut = true
backdate = "0s"
[[schedule]]
at = "10s"
crash = "frank"
[[schedule]]
at = "60s"
revoke = "mallory"
reason = "test"
[[schedule]]
at = "118500ms"
restart = "frank"
`

describe('the oracle judges a view by the chain it was computed on', () => {
  it('a restarted peer that gets a revocation and forks below its cut between a poll and a check is not reported', () => {
    const r = runScenario(parseScenario(SCENARIO, 'restart-before-check.toml'), { seed: 1 })
    // The situation arose: frank's chain took the revocation between the poll at 119 s and the
    // check at 120 s, and he holds mallory's forks at seq 1 besides her genuine record.
    const held = r.trace.lines().map((l) => JSON.parse(l) as { ev: string, peer?: string, t: number })
      .find((e) => e.ev === 'revocation-held' && e.peer === 'frank')
    expect(held?.t).toBeGreaterThan(119_000)
    expect(held?.t).toBeLessThan(120_000)
    expect(r.metrics.forged.attempted).toBeGreaterThan(0)
    expect(r.violations).toEqual([])
  })
})
