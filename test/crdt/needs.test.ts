// A peer's need that this log cannot meet (a dependency a refused change named, asked of every
// neighbour) must not silence the link: Automerge answers such a need with nothing at all, so
// the log cuts the need to what it holds (intent-log.ts answerableNeeds). Swarm seeds 510 and
// 597 never converged without it.
import { describe, expect, it } from 'vitest'
import * as A from '@automerge/automerge'
import { IntentLog } from '../../crdt/intent-log.js'
import { addNeeds } from '../../crdt/sync-envelope.js'
import { acceptAll, actorOf, appendAs, INVENTED, syncPair, Writer } from './record-fixtures.js'

describe('a need this log cannot meet', () => {
  it('is dropped, and the log still sends the peer what it lacks', () => {
    const alice = new Writer('alice')
    const a = IntentLog.create(actorOf('a'))
    const b = IntentLog.create(actorOf('b'))
    // Enough history that what b lacks is under a third of a's changes: Automerge then sends
    // changes by hash (a whole document past that, which would not show the fault).
    for (let i = 0; i < 9; i++) appendAs(a, [alice.write(`early ${i}`)], 1 + i)
    syncPair(a, b)
    appendAs(a, [alice.write('late')], 20)
    // b asks a for its changes, and for one nobody has.
    let sb = b.initSyncState()
    let sa = a.initSyncState()
    let m: Uint8Array | null
    ;[sb, m] = b.generateSyncMessage(sb)
    const asking = addNeeds(m!, [INVENTED])!
    expect(A.decodeSyncMessage(asking).need).toContain(INVENTED)
    sa = a.receiveSyncMessage(sa, asking, acceptAll, 0).state
    const [, answer] = a.generateSyncMessage(sa)
    expect(answer).not.toBeNull()
    expect(A.decodeSyncMessage(answer!).changes.length).toBeGreaterThan(0)
    b.receiveSyncMessage(sb, answer!, acceptAll, 0)
    expect(b.ids().sort()).toEqual(a.ids().sort())
  })
})
