/**
 * `aura init`: create the node home with a fresh identity key and a commented aura.toml.
 *
 * @example
 * aura init --home /tmp/alice --json
 */
import type { Program } from '../program.js'

/** Registers `aura init`. */
export function register (program: Program): void {
  program.command('init', 'Create the node home: identity key (mode 0600) and a commented aura.toml', async ({ io }) => {
    const { initHome } = await import('../../node/home.js')
    const home = await io.home()
    const r = await initHome(home)
    const data = {
      home: r.home,
      peer: r.identity.shortId,
      key: r.identity.keyId,
      publicKey: r.identity.publicKey,
      peerId: r.identity.peerId,
      identityFile: r.identity.path,
      configFile: r.configFile,
      configWritten: r.configWritten
    }
    return {
      data,
      text: (c) => [
        `Initialised node home ${c.bold(r.home)}`,
        `  identity  ${c.bold(r.identity.shortId)}  ${c.dim(r.identity.keyId)}`,
        `  peer id   ${r.identity.peerId}`,
        `  key file  ${r.identity.path}`,
        `  config    ${r.configFile}${r.configWritten ? '' : c.dim(' (existing file kept)')}`
      ].join('\n')
    }
  }).example('aura init --home ~/.aura-test')
}
