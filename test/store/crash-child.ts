/**
 * The process test/store/crash.test.ts kills: opens the store in `dir`, prints `ready`, then
 * appends signed records forever — one at a time (`single`) or 64 in flight (`concurrent`) —
 * and prints `<seq> <id>` for each one only after its append has resolved (is durable). Its seq
 * high-water mark is in `<dir>.seq/`, so a restart continues past any seq a killed run may have used.
 *
 * @example
 * node --import tsx test/store/crash-child.ts /tmp/store concurrent
 */
import '../../node/compat.js'
import { randomBytes } from 'node:crypto'
import { writerActor } from '../../crdt/change-auth.js'
import { keyIdOf } from '../../crdt/ids.js'
import { IntentWriter } from '../../node/store/intent-writer.js'
import { NodeStore } from '../../node/store/node-store.js'
import { FileSeqReserve } from '../../node/store/seq-reserve.js'
import { intentFields, keyFor } from './helpers.js'

const [dir, mode] = process.argv.slice(2)
const key = keyFor('crash')
// As the runtime opens its store: an actor bound to the writer's key, new for every life.
const store = await NodeStore.open(dir, { actor: writerActor(keyIdOf(key.publicKey), randomBytes(16).toString('hex')) })
// Beside the store, as `<home>/seq` is beside `<home>/store`: it must survive what LevelDB loses.
const seqs = await FileSeqReserve.open(`${dir}.seq`, keyIdOf(key.publicKey))
const writer = await IntentWriter.open({ intent: store.intent, key, clock: { now: () => Date.now() }, seqs }, { host: 'crash-child' })
process.stdout.write('ready\n')

let i = writer.head?.seq ?? 0
async function loop (): Promise<never> {
  for (;;) {
    const { seq, id } = await writer.append(intentFields(i++))
    process.stdout.write(`${seq} ${id}\n`)
  }
}
await Promise.all(Array.from({ length: mode === 'concurrent' ? 64 : 1 }, loop))
