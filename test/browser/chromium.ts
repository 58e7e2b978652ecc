/**
 * Where the browser suite finds Chromium (Debian's package; never a downloaded browser) and puts
 * its screenshots. `$AURA_CHROMIUM`, when set, is the only place looked at, so the loud skip can be
 * seen with `AURA_CHROMIUM=/none`.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const fromEnv = process.env.AURA_CHROMIUM
const LOOKED_AT = fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : ['/usr/bin/chromium', '/usr/bin/chromium-browser']

/** The Chromium binary, or undefined when there is none (the suite is then skipped, out loud). */
export const CHROMIUM = LOOKED_AT.find((p) => existsSync(p))

/** Screenshots and PDFs of the browser suite. */
export const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts')

/** Why the suite is skipped, for the describe's name and stderr. */
export const WHY_SKIPPED = `no Chromium found (looked at ${LOOKED_AT.join(', ')}): install Debian's \`chromium\` package (apt-get install chromium; .ci/run does) to run the browser suite`

if (CHROMIUM === undefined) process.stderr.write(`\n!!! test/browser SKIPPED: ${WHY_SKIPPED}\n\n`)
