/**
 * The one key layout of the node store (format 1). docs/storage.md describes it for people;
 * this file is the only code that spells a key. Numbers are zero-padded to 16 digits (every
 * safe integer fits) so that byte order is numeric order; components never contain `/`.
 *
 * | key                                   | value                                            |
 * |---------------------------------------|--------------------------------------------------|
 * | `meta/format`                         | format version, ASCII decimal (`1`)              |
 * | `meta/head/<signer>`                  | canonical JSON `{seq, id}`: that local signer's newest record |
 * | `meta/counter`                        | next event number (audit, joins), ASCII decimal  |
 * | `chain/<seq>`                         | canonical bytes of authority chain entry `seq`   |
 * | `forks/<seq>/<hash>`                  | a second, validly signed entry for `seq` (fork evidence) |
 * | `doc/base`                            | `IntentLog.save()`: the whole log, uncompressed |
 * | `doc/inc/<n>`                         | `saveIncremental()` chunk n, newer than the base |
 * | `doc/orphan/<id>`                     | canonical bytes of a record no signed change carries (see below) |
 * | `rec/<signer>/<seq>/<id>`             | empty: index of records by signer and seq        |
 * | `audit/<ts>/<n>`                      | canonical JSON audit event                       |
 * | `peers/<keyId>`                       | canonical JSON `{addrs, seen}`                   |
 * | `joins/<jti>/<ts>/<n>`                | canonical JSON join attempt                      |
 * | `tokens/<jti>`                        | canonical JSON: a join token the Mothership issued |
 * | `joinsum/<jti>`, `joinsum/unissued`   | canonical JSON: join attempts counted, not stored one by one (see below) |
 * | `ws/baseline`                         | canonical JSON: the workspace's last recorded state |
 * | `ws/done/<id>`                        | canonical JSON: what applying record `id`'s delta here did |
 * | `ws/conflict/<id>`                    | canonical JSON: the conflicts record `id` left here |
 *
 * `doc/orphan/` holds an older store's unsigned changes (docs/architecture.md); `joinsum/` is
 * written by node/mothership/join-audit.ts.
 *
 * @example
 * layout.chain(7)            // 'chain/0000000000000007'
 * parseRecKey(layout.rec(signer, 3, id)) // { signer, seq: 3, id }
 */
import { MalformedError } from '../../crdt/errors.js'
import { parseJti, parseKeyId, parseRecordId, type Jti, type KeyId, type RecordId } from '../../crdt/ids.js'

/** The on-disk format this code writes and reads. Changing the layout means raising it. */
export const FORMAT_VERSION = 1

const WIDTH = 16

/** A non-negative safe integer as a fixed-width decimal, so byte order is numeric order. */
export function pad (n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new MalformedError(`not a storable number: ${n}`, { value: n })
  return String(n).padStart(WIDTH, '0')
}

/** The inverse of `pad`; E_MALFORMED on anything `pad` cannot produce. */
export function unpad (s: string): number {
  if (!/^[0-9]{16}$/.test(s)) throw new MalformedError(`not a padded number: ${s}`, { value: s })
  return Number(s)
}

/** Every key and key prefix of the layout. */
export const layout = {
  format: 'meta/format',
  counter: 'meta/counter',
  head: (signer: KeyId): string => `meta/head/${parseKeyId(signer)}`,
  chainPrefix: 'chain/',
  chain: (seq: number): string => `chain/${pad(seq)}`,
  forksPrefix: 'forks/',
  fork: (seq: number, hash: string): string => `forks/${pad(seq)}/${hex64(hash)}`,
  docBase: 'doc/base',
  docIncPrefix: 'doc/inc/',
  docInc: (n: number): string => `doc/inc/${pad(n)}`,
  docOrphanPrefix: 'doc/orphan/',
  docOrphan: (id: RecordId): string => `doc/orphan/${parseRecordId(id)}`,
  recPrefix: 'rec/',
  recSigner: (signer: KeyId): string => `rec/${parseKeyId(signer)}/`,
  rec: (signer: KeyId, seq: number, id: RecordId): string => `rec/${parseKeyId(signer)}/${pad(seq)}/${parseRecordId(id)}`,
  auditPrefix: 'audit/',
  audit: (ts: number, n: number): string => `audit/${pad(ts)}/${pad(n)}`,
  /** Lower bound of the audit events at or after `ts`. */
  auditFrom: (ts: number): string => `audit/${pad(ts)}/`,
  peersPrefix: 'peers/',
  peer: (key: KeyId): string => `peers/${parseKeyId(key)}`,
  joinsPrefix: 'joins/',
  joinsOf: (jti: Jti): string => `joins/${parseJti(jti)}/`,
  join: (jti: Jti, ts: number, n: number): string => `joins/${parseJti(jti)}/${pad(ts)}/${pad(n)}`,
  joinSummary: (jti: Jti | null): string => `joinsum/${jti === null ? 'unissued' : parseJti(jti)}`,
  tokensPrefix: 'tokens/',
  token: (jti: Jti): string => `tokens/${parseJti(jti)}`,
  wsBaseline: 'ws/baseline',
  wsDonePrefix: 'ws/done/',
  wsDone: (id: RecordId): string => `ws/done/${parseRecordId(id)}`,
  wsConflictPrefix: 'ws/conflict/',
  wsConflict: (id: RecordId): string => `ws/conflict/${parseRecordId(id)}`
} as const

function hex64 (s: string): string {
  if (!/^[0-9a-f]{64}$/.test(s)) throw new MalformedError(`not a hex hash: ${s}`, { value: s })
  return s
}

/** The parts of a `rec/` key. */
export function parseRecKey (key: string): { signer: KeyId, seq: number, id: RecordId } {
  const parts = key.split('/')
  if (parts.length !== 4 || parts[0] !== 'rec') throw new MalformedError(`not a record index key: ${key}`, { key })
  return { signer: parseKeyId(parts[1]), seq: unpad(parts[2]), id: parseRecordId(parts[3]) }
}

/** The number at the end of a `chain/` or `doc/inc/` key. */
export function parseTrailingNumber (key: string): number {
  return unpad(key.slice(key.lastIndexOf('/') + 1))
}
