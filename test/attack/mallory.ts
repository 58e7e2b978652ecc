/**
 * A hostile member for the attack tests, written with the project's own modules: it opens a
 * member's home offline (its daemon stopped), dials an honest daemon over libp2p
 * (node/net/host.ts) with the member's own key, runs a real sync session (node/sync/engine.ts)
 * so hello and the chain pass as they would for the member, and for `seconds` sends crafted
 * Automerge sync messages on every session it gets, redialling whenever the target drops it.
 *
 * Attacks:
 * - `invented-dep`: a change of the member's own, validly signed, that depends on a change
 *   nobody has (Automerge would queue it, and its queue stops its sync with everyone).
 * - `claimed-actor`: changes under the victim's Automerge actor (its next seq, and a fork of its
 *   last one), signed by the member, or carrying the victim's own last signature.
 *
 * Prints one JSON line: `{ sent, sessions, closedWith }` (the codes the target closed with).
 *
 * @example
 * node --import tsx test/attack/mallory.ts <home> <target multiaddr> invented-dep 8 [victim key id]
 */
import '../../node/compat.js'
import * as A from '@automerge/automerge'
import { canonicalString, sha256, toB64u } from '../../crdt/canonical.js'
import { changeBody, writerActor } from '../../crdt/change-auth.js'
import { sign, type KeyPair } from '../../crdt/crypto.js'
import { type KeyId } from '../../crdt/ids.js'
import { GENESIS_HASH, genesisDoc, RECORDS_OBJ, type IntentDoc } from '../../crdt/intent-doc.js'
import { signRecord, type EncodedRecord } from '../../crdt/record.js'
import { createHost } from '../../node/net/host.js'
import { SYNC_PROTOCOL } from '../../node/net/protocols.js'
import { NodeRuntime } from '../../node/runtime.js'
import { SyncEngine } from '../../node/sync/engine.js'
import type { Link } from '../../node/sync/link.js'
import { encodeMessage } from '../../node/sync/messages.js'

const [home, target, attack, seconds, victim] = process.argv.slice(2)
const INVENTED = 'ab'.repeat(32)

const rt = await NodeRuntime.open(home)
const chain = rt.requireChain()
const key = rt.identity.keyPair
let n = 0

function record (text: string): EncodedRecord {
  // Never appended anywhere: seq 1 every time is harmless, the change carrying it is refused.
  return signRecord({ kind: 'intent', actor: 'mallory', host: 'mallory-box', seq: 1, prev: null, ts: Date.now(), auth: { ...chain.head }, text }, key)
}

function message (change: Uint8Array): Uint8Array {
  return A.encodeSyncMessage({ heads: [A.decodeChange(change).hash], need: [], have: [], changes: [change] })
}

function signedBy (signer: KeyPair): (h: Parameters<typeof changeBody>[0], ids: string[]) => string {
  return (h, ids) => canonicalString({ pub: toB64u(signer.publicKey), sig: toB64u(sign('change', changeBody(h, ids), signer)) })
}

// A change put on `doc` under `actor`, with the message `sign` makes over its header.
function craft (
  doc: A.Doc<IntentDoc>,
  actor: string,
  r: EncodedRecord,
  makeMessage: (h: Parameters<typeof changeBody>[0], ids: string[]) => string | null,
  deps?: string[]
): Uint8Array {
  const d = A.load<IntentDoc>(A.save(doc), { actor })
  const be = A.getBackend(d)
  const heads = be.getHeads()
  const seq = be.getChangesMeta([]).filter((m) => m.actor === actor).length + 1
  const startOp = Math.max(0, ...heads.map((h) => be.getChangeMetaByHash(h)?.maxOp ?? 0)) + 1
  const header = { actor, seq, startOp, time: 0, deps: deps ?? heads }
  be.put(RECORDS_OBJ, r.id, r.bytes, 'bytes')
  be.commit(makeMessage(header, [r.id]), 0)
  return Uint8Array.from(be.getChangeByHash(be.getHeads()[0]) as Uint8Array)
}

/** The next crafted sync message of this attack. */
function next (): Uint8Array {
  n++
  const r = record(`${attack} ${n} ${Date.now()}`)
  if (attack === 'invented-dep') {
    // Signed over the invented dependency, then the real one (genesis) swapped for it.
    const chunk = craft(genesisDoc(writerActor(rt.key, 'ee'.repeat(16))), writerActor(rt.key, 'ee'.repeat(16)), r, signedBy(key), [INVENTED])
    const at = Buffer.from(chunk).indexOf(Buffer.from(GENESIS_HASH, 'hex'))
    chunk.set(Buffer.from(INVENTED, 'hex'), at)
    chunk.set(sha256(chunk.subarray(8)).subarray(0, 4), 4)
    return message(chunk)
  }
  // claimed-actor: the victim's newest actor as this member's log holds it.
  const doc = A.load<IntentDoc>(rt.store.intent.log.save())
  const theirs = A.getChangesMetaSince(doc, []).filter((m) => m.actor.startsWith((victim as KeyId).slice(0, 32)))
  const last = theirs.sort((a, b) => b.seq - a.seq)[0]
  if (last === undefined) throw new Error(`no change of ${victim} held`)
  // Alternately: signed by this member; or carrying the victim's own last signature.
  return message(craft(doc, last.actor, r, n % 2 === 0 ? signedBy(key) : () => last.message))
}

const host = await createHost({ seed: key.seed })
const engine = new SyncEngine({
  chain,
  log: rt.store.intent.log,
  localKey: rt.key,
  clock: () => Date.now(),
  random: Math.random
}, { team: chain.team }, {
  sessionOpened: () => { opened++ }
})
let sent = 0
let opened = 0
const closedWith: Record<string, number> = {}
const until = Date.now() + Number(seconds) * 1000
while (Date.now() < until) {
  let link: Link
  try {
    link = await host.openLink(target, SYNC_PROTOCOL)
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 200))
    continue
  }
  const closed = new Promise<void>((resolve) => {
    engine.addLink(link)
    const onClose = link.onClose
    link.onClose = (reason) => { closedWith[reason?.code ?? 'none'] = (closedWith[reason?.code ?? 'none'] ?? 0) + 1; onClose?.(reason); resolve() }
  })
  const before = opened
  while (Date.now() < until && !link.closed) {
    if (opened > before) { link.send(encodeMessage({ t: 'am', data: next() })); sent++ }
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 100))])
  }
  if (!link.closed) link.close()
}
process.stdout.write(JSON.stringify({ sent, sessions: opened, closedWith }) + '\n')
await host.stop()
await rt.close()
