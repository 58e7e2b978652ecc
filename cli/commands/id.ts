/**
 * `aura id`: this node's identity — short id, key id, public key and libp2p PeerId.
 * Also the smallest example of a command module: register, load node/ lazily, return data
 * plus a text renderer.
 *
 * @example
 * aura id --json   # {"shortId":"peer-5f3a","keyId":"5f3a…","publicKey":"…","peerId":"12D3KooW…",…}
 */
import type { Program } from '../program.js'

/** Registers `aura id`. */
export function register (program: Program): void {
  program.command('id', 'Show this node\'s identity: short id, key id, public key, libp2p PeerId', async ({ io }) => {
    const id = await io.identity()
    const data = { peer: id.shortId, key: id.keyId, publicKey: id.publicKey, peerId: id.peerId, home: await io.home() }
    return {
      data,
      text: (c) => [
        c.bold(id.shortId),
        `key id      ${id.keyId}`,
        `public key  ${id.publicKey}`,
        `peer id     ${id.peerId}`
      ].join('\n')
    }
  })
    .example('aura id')
    .example('aura id --json')
}
