// Fuzzing the sync wire: decodeMessage on random and structured input, and a SyncEngine fed
// frames captured from a healthy session, then mutated. The engine must never throw out of a
// frame handler, must keep its other links working, must never lose a stored record and must
// never store a record that does not verify or whose signer is not admitted.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthorityChain } from '../../crdt/authority-chain.js'
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import { AuraError } from '../../crdt/errors.js'
import { keyIdOf, type KeyId, type RecordId } from '../../crdt/ids.js'
import { IntentLog } from '../../crdt/intent-log.js'
import { verifyRecord } from '../../crdt/record.js'
import { memoryLinkPair } from '../../node/sync/memory-link.js'
import { decodeMessage, encodeMessage, type SyncMessage } from '../../node/sync/messages.js'
import { actorNamed, keyNamed, settle, tap, TestTeam, type TestNode, type Wire } from './engine-fixture.js'

/** Decodes, or throws; anything thrown that is not E_MALFORMED is a bug. */
function decodeOrMalformed (frame: Uint8Array): SyncMessage | null {
  try {
    return decodeMessage(frame)
  } catch (err) {
    if (!(err instanceof AuraError) || err.code !== 'E_MALFORMED') throw err
    return null
  }
}

function controlFrame (value: unknown): Uint8Array {
  const body = canonicalBytes(value)
  const out = new Uint8Array(1 + body.length)
  out[0] = 0x01
  out.set(body, 1)
  return out
}

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const b64u = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/)
const head = fc.record({ seq: fc.oneof(fc.nat(), fc.integer()), hash: fc.oneof(hex64, fc.string()) })
// Messages shaped like the real ones, with fields that are sometimes wrong, missing or extra.
const almostMessage = fc.oneof(
  fc.record({ t: fc.constant('hello'), v: fc.integer(), team: fc.string({ maxLength: 220 }), head, beacon: fc.option(b64u) }, { requiredKeys: [] }),
  fc.record({ t: fc.constant('chain'), entries: fc.array(fc.oneof(b64u, fc.integer()), { maxLength: 5 }) }, { requiredKeys: [] }),
  fc.record({ t: fc.constant('heads'), head, beacon: fc.option(b64u) }, { requiredKeys: [] }),
  fc.record({ t: fc.constant('beacon'), beacon: fc.oneof(b64u, fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record({ t: fc.constant('refused'), code: fc.string({ maxLength: 50 }), message: fc.string({ maxLength: 600 }) }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
)

describe('decodeMessage', () => {
  it('decodes any byte string or refuses it with E_MALFORMED', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(
      0x01,
      0x02,
      0x00,
      0x03,
      0xff
    ), (body, tag) => {
      const frame = new Uint8Array(1 + body.length)
      frame[0] = tag
      frame.set(body, 1)
      decodeOrMalformed(frame)
      decodeOrMalformed(body)
    }), { numRuns: 2000 })
  })

  it('accepts a control message only in its one canonical spelling, and re-encodes it byte for byte', () => {
    fc.assert(fc.property(almostMessage, (msg) => {
      let frame: Uint8Array
      try {
        frame = controlFrame(msg)
      } catch {
        // No canonical form (a lone surrogate, an unsafe integer): nothing a peer could send.
        return
      }
      const decoded = decodeOrMalformed(frame)
      if (decoded !== null) expect(encodeMessage(decoded)).toEqual(frame)
      // The same object spelt with whitespace is never accepted.
      const spaced = new TextEncoder().encode(' ' + JSON.stringify(msg))
      const loose = new Uint8Array(1 + spaced.length)
      loose[0] = 0x01
      loose.set(spaced, 1)
      expect(decodeOrMalformed(loose)).toBeNull()
    }), { numRuns: 1000 })
  })
})

// ---------------------------------------------------------------------------------------------
// The engine under mutated frames.

/**
 * The same little world every time (keys, actors, clock and signatures are deterministic):
 * alice is behind by one chain entry, bob holds records and a newer chain, carol is alice's
 * other peer. Frames bob sends alice in one healthy session are valid for any fresh copy.
 * Logs are written once and loaded after that: a fuzz run should spend its time on the fuzz.
 */
function scene (): { team: TestTeam, alice: TestNode, bob: TestNode, carol: TestNode } {
  const team = new TestTeam(['alice', 'bob', 'carol'])
  const [alice, carol] = ['alice', 'carol'].map((n) => team.node(n, { log: cachedLog(n) }))
  team.ms.admit('dave', keyNamed('dave'))
  const bob = team.node('bob', { log: cachedLog('bob') })
  for (const n of [alice, bob, carol]) {
    const template = written.get(n.name)
    if (template !== undefined) { n.lastWritten = template.last; continue }
    const texts = n.name === 'bob' ? ['bob 1', 'bob 2', 'bob 3'] : [`${n.name} 1`]
    for (const t of texts) n.write(t, false)
    written.set(n.name, { saved: n.log.save(), last: n.lastWritten })
  }
  return { team, alice, bob, carol }
}

const written = new Map<string, { saved: Uint8Array, last: TestNode['lastWritten'] }>()

function cachedLog (name: string): IntentLog | undefined {
  const w = written.get(name)
  return w === undefined ? undefined : IntentLog.load(w.saved, actorNamed(name))
}

/** What bob sends alice in one healthy session: hello, chain, records, a live push, heads, a beacon. */
async function captureHealthy (): Promise<{ frames: Uint8Array[], bobIds: RecordId[] }> {
  const { team, alice, bob } = scene()
  const wire = team.connect(bob, alice)
  await settle()
  bob.write('bob live')
  await settle()
  bob.engine.tick()
  await settle()
  bob.engine.localBeacon(team.ms.beacon())
  await settle()
  expect(new Set(alice.log.ids())).toEqual(new Set(bob.log.ids()))
  return { frames: wire.rawAToB, bobIds: bob.log.ids() }
}

type Mutation =
  | { k: 'flip', pos: number, bit: number }
  | { k: 'truncate', len: number }
  | { k: 'insert', pos: number, bytes: Uint8Array }
  | { k: 'delete', pos: number, n: number }
  | { k: 'duplicate' }
  | { k: 'drop' }
  | { k: 'swap', with: number }
  | { k: 'random', bytes: Uint8Array }
  | { k: 'field', pick: number, value: unknown }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ k: fc.constant('truncate' as const), len: fc.nat() }),
  fc.record({ k: fc.constant('insert' as const), pos: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ k: fc.constant('delete' as const), pos: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ k: fc.constant('duplicate' as const) }),
  fc.record({ k: fc.constant('drop' as const) }),
  fc.record({ k: fc.constant('swap' as const), with: fc.nat() }),
  fc.record({ k: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 300 }) }),
  fc.record({ k: fc.constant('field' as const), pick: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.integer(), b64u) })
)

/** Applies mutations to a copy of the frame list. */
function mutate (frames: readonly Uint8Array[], muts: Array<{ at: number, m: Mutation }>): Uint8Array[] {
  const out: Uint8Array[] = frames.map((f) => f.slice())
  for (const { at, m } of muts) {
    if (out.length === 0) break
    const i = at % out.length
    const f = out[i]
    switch (m.k) {
      case 'flip': {
        if (f.length === 0) break
        const p = m.pos % f.length
        f[p] ^= 1 << m.bit
        break
      }
      case 'truncate': out[i] = f.slice(0, m.len % (f.length + 1)); break
      case 'insert': { const p = m.pos % (f.length + 1); out[i] = concat(f.slice(0, p), m.bytes, f.slice(p)); break }
      case 'delete': { const p = m.pos % (f.length + 1); out[i] = concat(f.slice(0, p), f.slice(p + m.n)); break }
      case 'duplicate': out.splice(i, 0, f.slice()); break
      case 'drop': out.splice(i, 1); break
      case 'swap': { const j = m.with % out.length; [out[i], out[j]] = [out[j], f]; break }
      case 'random': out.splice(i, 0, m.bytes); break
      case 'field': {
        // Keep the frame canonical so the change reaches the schema and the engine; a frame an
        // earlier mutation broke, or a value with no canonical form, is left as it is.
        try {
          const obj = parseCanonical(f.subarray(1)) as Record<string, unknown>
          const keys = f[0] === 0x01 ? Object.keys(obj).filter((k) => k !== 't') : []
          if (keys.length > 0) out[i] = controlFrame({ ...obj, [keys[m.pick % keys.length]]: m.value })
        } catch {}
        break
      }
    }
  }
  return out
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.length }
  return out
}

/**
 * Sends `frames` to `victim` as `from` over a fresh link: what escaped
 * the handler, how the link closed, whether the victim ran away.
 */
async function feed (
  victim: TestNode,
  from: KeyId,
  frames: Uint8Array[]
): Promise<{ escaped: unknown[], closed: string | undefined | null, runaway: boolean }> {
  const [theirs, mine] = memoryLinkPair(from, victim.id)
  const escaped: unknown[] = []
  let closed: string | undefined | null = null
  let runaway = false
  theirs.onFrame = () => {}
  theirs.onClose = (r) => { closed = r?.code }
  tap(mine, [], [], () => { runaway = true })
  victim.engine.addLink(mine)
  const handler = mine.onFrame!
  mine.onFrame = (f) => {
    try { handler(f) } catch (err) { escaped.push(err); throw err }
  }
  for (const f of frames) theirs.send(f)
  await settle(4)
  return { escaped, closed, runaway }
}

/** The invariants every fuzz run must keep on alice; `genuine` is every record an honest node wrote. */
async function checkAlice (
  s: ReturnType<typeof scene>,
  before: { ids: Set<RecordId>, head: number },
  genuine: Set<RecordId>,
  other: Wire
): Promise<void> {
  const { alice, carol, team } = s
  for (const id of before.ids) expect(alice.log.has(id)).toBe(true)
  for (const { id, record } of alice.log.records()) {
    expect(genuine.has(id)).toBe(true)
    expect(verifyRecord(record)).toBe(true)
    expect(alice.chain.member(record.signer)).toBeDefined()
  }
  expect(alice.log.unreadable()).toEqual([])
  expect(alice.chain.head.seq).toBeGreaterThanOrEqual(before.head)
  expect(AuthorityChain.fromEntries(alice.chain.entries()).head).toEqual(alice.chain.head)
  expect(IntentLog.load(alice.log.save(), actorNamed('alice-reloaded')).size).toBe(alice.log.size)
  // Her other link still works both ways.
  expect(alice.engine.connectedPeers()).toContain(carol.id)
  const fromCarol = carol.write('carol after the fuzz')
  await settle()
  expect(alice.holds(fromCarol)).toBe(true)
  const fromAlice = alice.write('alice after the fuzz')
  await settle()
  expect(carol.holds(fromAlice)).toBe(true)
  // And the real bob, on a fresh link, still gets everything through.
  const fresh = team.connect(s.bob, alice)
  await settle()
  for (const id of s.bob.log.ids()) expect(alice.log.has(id)).toBe(true)
  expect(other.runaway || fresh.runaway).toBe(false)
}

// A passing run takes seconds; a failing one needs time to shrink its counterexample.
const SHRINK_TIMEOUT_MS = 180_000
// FUZZ_SEED replays a reported failure; FUZZ_SCALE=10 fuzzes ten times longer.
const SEED = Number(process.env.FUZZ_SEED ?? Date.now())
const SCALE = Math.max(1, Number(process.env.FUZZ_SCALE ?? 1))

describe('SyncEngine under mutated frames', () => {
  it('replaying a captured healthy session unchanged delivers everything (the baseline the mutations start from)', async () => {
    const { frames, bobIds } = await captureHealthy()
    expect(new Set(frames.map((f) => decodeMessage(f).t))).toEqual(new Set(['hello', 'chain', 'am', 'heads', 'beacon']))
    const s = scene()
    s.team.connect(s.alice, s.carol)
    await settle()
    const out = await feed(s.alice, s.bob.id, frames)
    expect(out.escaped).toEqual([])
    for (const id of bobIds) expect(s.alice.log.has(id)).toBe(true)
  })

  it('from an admitted peer: no exception escapes, nothing stored is lost, nothing bad is stored, other links keep working', async () => {
    const { frames, bobIds } = await captureHealthy()
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ at: fc.nat(), m: mutation }), { minLength: 1, maxLength: 4 }),
      async (muts) => {
        const s = scene()
        const other = s.team.connect(s.alice, s.carol)
        await settle()
        const before = { ids: new Set(s.alice.log.ids()), head: s.alice.chain.head.seq }
        const genuine = new Set([...s.alice.log.ids(), ...s.carol.log.ids(), ...bobIds])
        const out = await feed(s.alice, s.bob.id, mutate(frames, muts))
        expect(out.escaped).toEqual([])
        expect(out.runaway || other.runaway).toBe(false)
        await checkAlice(s, before, genuine, other)
      }
    ), { numRuns: 40 * SCALE, seed: SEED })
  }, SHRINK_TIMEOUT_MS)

  it('from a key that was never admitted: nothing it sends is stored, however it is mangled', async () => {
    const { frames } = await captureHealthy()
    const malloryId = keyIdOf(keyNamed('mallory').publicKey)
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({ at: fc.nat(), m: mutation }), { maxLength: 4 }),
      async (muts) => {
        const s = scene()
        const other = s.team.connect(s.alice, s.carol)
        await settle()
        const before = new Set(s.alice.log.ids())
        const out = await feed(s.alice, malloryId, mutate(frames, muts))
        expect(out.escaped).toEqual([])
        expect(out.runaway || other.runaway).toBe(false)
        expect(new Set(s.alice.log.ids())).toEqual(before)
        expect(s.alice.engine.connectedPeers()).not.toContain(malloryId)
      }
    ), { numRuns: 25 * SCALE, seed: SEED })
  }, SHRINK_TIMEOUT_MS)
})
