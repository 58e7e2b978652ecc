/**
 * The scenarios shipped in sim/scenarios: listed by `aura sim list`, and run by name with
 * `aura sim run NAME` (a path that exists is always taken as a path first).
 *
 * @example
 * bundledScenarios()               // [{ name: 'attacker-island', description: '...', file }]
 * resolveScenarioPath('beacon-relay') // '/…/sim/scenarios/beacon-relay.toml'
 */
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NotFoundError } from '../crdt/errors.js'
import { closest } from '../node/config/suggest.js'
import { loadScenario } from './scenario.js'

/** One bundled scenario. */
export interface BundledScenario { name: string, description: string, file: string }

// sim/ in the sources, dist/sim/ when built: the scenarios stay in the sources' sim/scenarios.
function scenariosDir (): string {
  const here = fileURLToPath(new URL('.', import.meta.url))
  const fromDist = resolve(here, '../../sim/scenarios')
  return existsSync(fromDist) ? fromDist : resolve(here, 'scenarios')
}

/** Every bundled scenario, by name. */
export function bundledScenarios (): BundledScenario[] {
  const dir = scenariosDir()
  return readdirSync(dir).filter((f) => f.endsWith('.toml')).sort().map((f) => {
    const file = join(dir, f)
    return { name: f.replace(/\.toml$/, ''), description: loadScenario(file).description, file }
  })
}

/** A scenario argument as a file path: an existing path, or a bundled scenario's name. */
export function resolveScenarioPath (arg: string): string {
  if (existsSync(arg)) return arg
  const dir = scenariosDir()
  const names = readdirSync(dir).filter((f) => f.endsWith('.toml')).map((f) => f.replace(/\.toml$/, ''))
  const name = arg.replace(/\.toml$/, '')
  if (names.includes(name)) return join(dir, `${name}.toml`)
  const guess = closest(name, names)
  throw new NotFoundError(`no scenario file '${arg}' and no bundled scenario of that name; ${guess === undefined ? `bundled: ${names.join(', ')}` : `did you mean '${guess}'? (aura sim list shows them all)`}`, { scenario: arg })
}
