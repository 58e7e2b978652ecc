/**
 * Small scenarios for sim tests: an attacker island of a few peers over a short run, so a test
 * exercises the whole protocol in a second or two (without receipts, which would multiply the
 * sync work by the team size; test/sim/receipts.test.ts runs them).
 *
 * @example
 * const s = islandScenario({ corrupt: 0.05 })
 */
import { parseScenario, type Scenario } from '../../sim/scenario.js'

/** A short attacker-island scenario; `link` adds `[link]` keys. */
export function islandScenario (link: Record<string, number> = {}): Scenario {
  const linkLines = Object.entries(link).map(([k, v]) => `${k} = ${v}`).join('\n')
  return parseScenario(`name = "small-island"
duration = "4m"
settle = "3m"
compare_freshness = false
[peers]
count = 6
names = ["alice", "bob", "carol"]
[topology]
kind = "random"
degree = 2
[link]
latency = { dist = "constant", ms = 20 }
${linkLines}
[protocol]
anti_entropy = "10s"
beacon = "30s"
receipt = "off"
[workload]
rate = 1
[adversary]
name = "mallory"
victims = ["bob", "carol"]
start = "20s"
forge_every = "5s"
flood = 5
flood_every = "30s"
[[schedule]]
at = "40s"
partition = "attacker-island"
id = "island"
[[schedule]]
at = "60s"
revoke = "mallory"
reason = "test"
[[schedule]]
at = "3m"
heal = "island"
`, 'small-island.toml')
}
