/**
 * The data set of the replication benchmark, the same for every tool: a team (Mothership,
 * the seeded peer alice, the fresh peer bob, and `writers` more members) and `n` signed intent
 * records with ~300 bytes of English-like text each (~750 canonical bytes signed), the writers
 * taking turns. Everything is derived from fixed seeds, so every process rebuilds the same
 * chain, and the records are made once and handed to the peers as a file.
 *
 * @example
 * const team = benchTeam(10)
 * writeRecordFile(file, makeRecords(10_000, team))
 * readRecordFile(file).length   // 10000
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { admitEntry, genesisEntry, headOf, type ChainEntry } from '../../crdt/chain-entry.js'
import { sha256, toB64u, toHex, utf8 } from '../../crdt/canonical.js'
import { keyPairFromSeed, type KeyPair } from '../../crdt/crypto.js'
import { nextRecordFields, recordIdOf, signRecord, type EncodedRecord } from '../../crdt/record.js'

/** Team name used by every benchmark peer. */
export const TEAM = 'bench'
const T0 = 1_767_225_600_000

/** The deterministic key of a benchmark identity. */
export function benchKey (name: string): KeyPair {
  return keyPairFromSeed(sha256(utf8(`bench-replication:${name}`)))
}

/** The benchmark team: its chain entries and the writers' keys. */
export interface BenchTeam {
  readonly entries: ChainEntry[]
  readonly writers: KeyPair[]
}

/** Genesis, then alice, bob and `writers` members admitted. */
export function benchTeam (writers: number): BenchTeam {
  const ms = benchKey('mothership')
  const entries: ChainEntry[] = [genesisEntry(ms, { team: TEAM, ts: T0 })]
  const names = ['alice', 'bob', ...Array.from({ length: writers }, (_, i) => `writer${i}`)]
  for (const [i, user] of names.entries()) {
    const head = headOf(entries[entries.length - 1])
    entries.push(admitEntry(ms, head, { pub: toB64u(benchKey(user).publicKey), user, role: 'contributor', jti: null, ts: T0 + i + 1 }))
  }
  return { entries, writers: names.slice(2).map(benchKey) }
}

/**
 * `n` records, writer `i % writers` signing record `i`, each continuing its writer's chain, one
 * second of claimed time apart (a writer of ten: 360 an hour). Not 1 ms apart, as until
 * 2026-12-08: at 100,000 records each writer then claimed 10,000 records within 100 seconds,
 * past the per-signer quota (7,200 an hour, crdt/write-rules.ts), so a fresh peer rightly refused
 * most of them (E_QUOTA) and the bench waited for ever. A million records span 11.6 days.
 */
export function makeRecords (n: number, team: BenchTeam): EncodedRecord[] {
  const auth = headOf(team.entries[team.entries.length - 1])
  const heads: Array<EncodedRecord | undefined> = []
  const out: EncodedRecord[] = []
  for (let i = 0; i < n; i++) {
    const w = i % team.writers.length
    const r = signRecord({ ...nextRecordFields(heads[w]), kind: 'intent', actor: `writer${w}`, host: `laptop-${w}`, ts: T0 + 60_000 + i * 1000, auth, text: textOf(i) }, team.writers[w])
    heads[w] = r
    out.push(r)
  }
  return out
}

/** Record bytes, each preceded by its length (u32 big-endian). */
export function writeRecordFile (file: string, records: ReadonlyArray<{ bytes: Uint8Array }>): void {
  const total = records.reduce((n, r) => n + 4 + r.bytes.length, 0)
  const out = Buffer.alloc(total)
  let at = 0
  for (const { bytes } of records) {
    out.writeUInt32BE(bytes.length, at)
    out.set(bytes, at + 4)
    at += 4 + bytes.length
  }
  writeFileSync(file, out)
}

/** The record bytes of a file written by `writeRecordFile`. */
export function readRecordFile (file: string): Uint8Array[] {
  const buf = readFileSync(file)
  const out: Uint8Array[] = []
  for (let at = 0; at < buf.length;) {
    const len = buf.readUInt32BE(at)
    out.push(new Uint8Array(buf.subarray(at + 4, at + 4 + len)))
    at += 4 + len
  }
  return out
}

/** One hash naming a set of records, whatever their order: proves two peers hold the same set. */
export function digestOf (records: Iterable<Uint8Array>): string {
  const ids = [...records].map(recordIdOf).sort()
  return toHex(sha256(utf8(ids.join('\n')))).slice(0, 16)
}

const WORDS = ('the a to of and in for on with from by when if not so this that it as at be is are was after before ' +
  'token session login check refusal reason move ahead creation log handler request response cache retry timeout error ' +
  'user peer agent record intent sync merge chain revoke admit lockdown beacon key signature verify decode encode frame ' +
  'link stream buffer queue batch commit store index level doc change actor seq prev hash id bytes json schema parse ' +
  'function class method module import export test fixture bench profile fast slow path loop bound limit size count ' +
  'fix add remove rename refactor split join extract inline guard validate sanitize escape quote trim pad wrap unwrap ' +
  'config option flag default env home dir file path read write open close flush sync fsync lock unlock wait notify ' +
  'because otherwise so that which keeps avoids prevents ensures lets makes stops starts returns throws catches logs').split(' ')

/**
 * ~300 characters of English-like text for record `i`: compression (Automerge deflates its
 * columns) gains what it would on real intents and no more; a repeated sentence would flatter it.
 */
export function textOf (i: number, length = 300): string {
  let a = (i + 1) >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  let s = `#${i} `
  while (s.length < length) s += WORDS[Math.floor(next() * WORDS.length)] + (next() < 0.08 ? '. ' : ' ')
  return s.slice(0, length)
}
