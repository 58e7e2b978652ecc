/**
 * A key the team never admitted, on a network endpoint of its own (the adversary's `stranger`):
 * it dials honest peers through the simulated network, whose dials ask each peer's connection
 * gate (node/peer/admission.ts) as libp2p asks the daemon's, and says hello with the team's name
 * and the genesis head. An honest peer owes it nothing but the refusal: its gate refuses it (but
 * once per telling interval, so the protocol can say why), then its engine closes the link with
 * E_NOT_ADMITTED. Whatever an honest peer sends it is read by the oracle (`stranger-admitted`).
 *
 * @example
 * const s = new Stranger(ctx, 'mallory-stranger')
 * s.dial(2, (outcome) => console.log(outcome))   // 'gate', 'E_NOT_ADMITTED', ...
 */
import { hashEntry } from '../crdt/authority-chain.js'
import { keyPairFromSeed, type KeyPair } from '../crdt/crypto.js'
import { keyIdOf, type KeyId } from '../crdt/ids.js'
import { encodeMessage, PROTOCOL_VERSION } from '../node/sync/messages.js'
import { seededBytes } from './random.js'
import type { NodeContext } from './sim-node.js'

/** The stranger's key pair: derived from the seed and its name, as every identity of a run. */
export function strangerKey (seed: number, name: string): KeyPair {
  // No node name holds a slash: no node of the run can have this key.
  return keyPairFromSeed(seededBytes(seed, `key/stranger/${name}`))
}

/** How a dial ended: refused by the gate, unreachable, or the code the link was closed with. */
export type DialOutcome = 'gate' | 'unreachable' | string

/** The stranger's key and endpoint. */
export class Stranger {
  readonly key: KeyPair
  readonly id: KeyId
  /** Its endpoint on the simulated network (after every node's). */
  readonly index: number
  private readonly hello: Uint8Array

  constructor (private readonly ctx: NodeContext, readonly name: string) {
    this.key = strangerKey(ctx.seed, name)
    this.id = keyIdOf(this.key.publicKey)
    // Nobody has reason to dial it: whatever does is hung up on.
    this.index = ctx.net.addEndpoint(this.id, (link) => { link.close() })
    const genesis = { seq: 0, hash: hashEntry(ctx.team.entries[0]) }
    this.hello = encodeMessage({ t: 'hello', v: PROTOCOL_VERSION, team: ctx.team.name, head: genesis, beacon: null })
  }

  /** Dials node `target`, says hello, and reports how the attempt ended. */
  dial (target: number, done: (outcome: DialOutcome) => void): void {
    const net = this.ctx.net
    const reachable = net.reachable(this.index, target)
    net.dial(this.index, target, (link) => {
      if (link === null) { done(reachable ? 'gate' : 'unreachable'); return }
      link.onFrame = () => {}
      link.onClose = (reason) => { done(reason?.code ?? 'closed') }
      link.send(this.hello)
    })
  }
}
