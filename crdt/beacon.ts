/**
 * Mothership beacons: a short signed statement "at ts the chain head was (seq, hash)", sent at
 * an interval and relayed peer to peer. A node that has seen no fresh beacon for longer than
 * `max_staleness` stops accepting new records from others. Domain `beacon`.
 *
 * Freshness is a function of what the beacon says, never of when it arrived: a beacon vouches
 * for its signed `ts` (the Mothership's clock), at most `now + skew`, and only on a node that
 * holds the chain head it names. So beacons stockpiled and fed late buy no time, and a beacon
 * cannot lift a staleness refusal before the revocations it knows of are known here.
 *
 * @example
 * const b = makeBeacon({ team: 'acme', headSeq: 4, headHash, ts }, mothership)
 * verifyBeacon(encodeBeacon(b), mothershipPub)   // the beacon, or E_BAD_SIGNATURE / E_MALFORMED
 * const asOf = vouchedTime(b, now, { maxStalenessMs: 300_000, maxClockSkewMs: 60_000 })
 * isStaleAt(asOf, later, { maxStalenessMs: 300_000, maxClockSkewMs: 60_000 })
 */
import { z } from 'zod'
import { canonicalBytes, fromB64u, parseCanonical, toB64u } from './canonical.js'
import { sign, type KeyPair } from './crypto.js'
import { verifyOnce } from './signature-memo.js'
import { BadSignatureError, MalformedError } from './errors.js'
import { keyIdOf, shortId, type KeyId } from './ids.js'
import { firstIssue, hex64, name, sigB64u, uint } from './chain-schema.js'

/** A signed beacon. */
export interface Beacon {
  readonly v: 1
  readonly team: string
  readonly headSeq: number
  readonly headHash: string
  readonly ts: number
  readonly signer: KeyId
  readonly sig: string
}

const beaconSchema = z.strictObject(
  { v: z.literal(1), team: name, headSeq: uint, headHash: hex64, ts: uint, signer: hex64, sig: sigB64u }
)

/** Signs a beacon for the given head with the Mothership key. */
export function makeBeacon (
  fields: { team: string, headSeq: number, headHash: string, ts: number },
  key: KeyPair
): Beacon {
  const unsigned = {
    v: 1,
    team: fields.team,
    headSeq: fields.headSeq,
    headHash: fields.headHash,
    ts: fields.ts,
    signer: keyIdOf(key.publicKey)
  }
  return parseBeacon({ ...unsigned, sig: toB64u(sign('beacon', canonicalBytes(unsigned), key)) })
}

/** Canonical bytes of a beacon, as sent on the wire. */
export function encodeBeacon (beacon: Beacon): Uint8Array {
  return canonicalBytes(beacon)
}

/** Decodes beacon bytes; E_MALFORMED on non-canonical bytes or a bad shape. */
export function decodeBeacon (bytes: Uint8Array): Beacon {
  return parseBeacon(parseCanonical(bytes))
}

/** Verifies a beacon (bytes or decoded) against the current Mothership key; returns it. */
export function verifyBeacon (input: Uint8Array | Beacon, mothershipPub: Uint8Array): Beacon {
  const beacon = input instanceof Uint8Array ? decodeBeacon(input) : parseBeacon(input)
  const expected = keyIdOf(mothershipPub)
  if (beacon.signer !== expected) {
    throw new BadSignatureError(`beacon is signed by ${shortId(beacon.signer, 'key')}, not the Mothership key ${shortId(expected, 'key')}`, { signer: beacon.signer })
  }
  const { sig, ...unsigned } = beacon
  if (!verifyOnce('beacon', canonicalBytes(unsigned), fromB64u(sig), mothershipPub)) {
    throw new BadSignatureError('beacon has a bad signature', { signer: beacon.signer })
  }
  return beacon
}

/** The freshness bound: `[sync] max_staleness` and `[sync] max_clock_skew`, in ms. */
export interface FreshnessLimits {
  readonly maxStalenessMs: number
  readonly maxClockSkewMs: number
}

/**
 * The Mothership time a beacon received at `now` vouches for: its signed `ts`, but no later than
 * `now + maxClockSkewMs`, so a beacon dated in the future cannot keep a node fresh for ever.
 */
export function vouchedTime (beacon: Pick<Beacon, 'ts'>, now: number, limits: Pick<FreshnessLimits, 'maxClockSkewMs'>): number {
  return Math.min(beacon.ts, now + limits.maxClockSkewMs)
}

/**
 * Whether a node whose newest beacons vouch for `asOf` (null: none) is stale at `now`: more than
 * `maxStalenessMs + maxClockSkewMs` has passed since the Mothership signed the newest of them.
 */
export function isStaleAt (asOf: number | null, now: number, limits: FreshnessLimits): boolean {
  return asOf === null || now - asOf > limits.maxStalenessMs + limits.maxClockSkewMs
}

/** Whether a chain holds the head a beacon names: the same entry hash at its `headSeq`. */
export function holdsBeaconHead (beacon: Pick<Beacon, 'headSeq' | 'headHash'>, chain: { entryHash: (seq: number) => string | undefined }): boolean {
  return chain.entryHash(beacon.headSeq) === beacon.headHash
}

function parseBeacon (value: unknown): Beacon {
  const r = beaconSchema.safeParse(value)
  if (!r.success) throw new MalformedError(`beacon is malformed: ${firstIssue(r.error)}`)
  return r.data as Beacon
}
