/**
 * Mothership beacons: a short signed statement "at ts the chain head was (seq, hash)", sent at
 * an interval and relayed peer to peer. A node that has seen no fresh beacon for longer than
 * `max_staleness` stops accepting new records from others. Domain `beacon`.
 *
 * @example
 * const b = makeBeacon({ team: 'acme', headSeq: 4, headHash, ts }, mothership)
 * verifyBeacon(encodeBeacon(b), mothershipPub)   // the beacon, or E_BAD_SIGNATURE / E_MALFORMED
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

const beaconSchema = z.strictObject({ v: z.literal(1), team: name, headSeq: uint, headHash: hex64, ts: uint, signer: hex64, sig: sigB64u })

/** Signs a beacon for the given head with the Mothership key. */
export function makeBeacon (fields: { team: string, headSeq: number, headHash: string, ts: number }, key: KeyPair): Beacon {
  const unsigned = { v: 1, team: fields.team, headSeq: fields.headSeq, headHash: fields.headHash, ts: fields.ts, signer: keyIdOf(key.publicKey) }
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

function parseBeacon (value: unknown): Beacon {
  const r = beaconSchema.safeParse(value)
  if (!r.success) throw new MalformedError(`beacon is malformed: ${firstIssue(r.error)}`)
  return r.data as Beacon
}
