/**
 * What every Link frame carries: one kind byte, then the body. Both Link implementations
 * (libp2p streams and the in-memory pair) speak it, so the acceptance suite covers both.
 *
 *   0x00 data   the owner's frame, untouched
 *   0x01 error  canonical JSON `{code, message}`; the sender closes right after it, and the
 *               receiver's `onClose` gets an AuraError with that code (marked `remote: true`)
 *   0x02 deflated  the owner's frame, DEFLATE-compressed (node/net/frame-deflate.ts); only
 *               links that agreed on it (the libp2p sync protocol) send or accept it
 *
 * The error kind exists because a transport close carries no reason: without it a refused or
 * revoked peer would see only a dropped connection, never `E_REVOKED`. Pure.
 *
 * @example
 * decodeEnvelope(encodeError(new RevokedError('key revoked')))
 * // { kind: 'error', error: AuraError { code: 'E_REVOKED', ... } }
 */
import { AuraError, ERROR_CODES, type ErrorCode, MalformedError } from '../../crdt/errors.js'
import { canonicalBytes } from '../../crdt/canonical.js'

/** A decoded Link frame. */
export type Envelope =
  | { readonly kind: 'data', readonly payload: Uint8Array }
  | { readonly kind: 'deflated', readonly payload: Uint8Array }
  | { readonly kind: 'error', readonly error: AuraError }

/** Bytes an envelope adds to the owner's frame. */
export const ENVELOPE_OVERHEAD = 1

/** Longest message (in code points) an error envelope carries; longer ones are cut. */
export const ERROR_MESSAGE_MAX = 512

/** Upper bound on an encoded error envelope, whatever the message (escapes included). */
export const MAX_ERROR_ENVELOPE_BYTES = 4096

const DATA = 0x00
const ERROR = 0x01
const DEFLATED = 0x02
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** A data envelope around a copy of `payload` (with `deflated`, a compressed payload). */
export function encodeData (payload: Uint8Array, deflated = false): Uint8Array {
  const out = new Uint8Array(ENVELOPE_OVERHEAD + payload.length)
  out[0] = deflated ? DEFLATED : DATA
  out.set(payload, ENVELOPE_OVERHEAD)
  return out
}

/** An error envelope: only the code and a bounded message cross the wire, never the context. */
export function encodeError (err: AuraError): Uint8Array {
  const points = Array.from(err.message)
  const message = points.length > ERROR_MESSAGE_MAX ? `${points.slice(0, ERROR_MESSAGE_MAX).join('')}…` : err.message
  const body = canonicalBytes({ code: err.code, message })
  const out = new Uint8Array(ENVELOPE_OVERHEAD + body.length)
  out[0] = ERROR
  out.set(body, ENVELOPE_OVERHEAD)
  return out
}

/** Decodes one envelope; throws E_MALFORMED on an unknown kind or a bad error body. */
export function decodeEnvelope (bytes: Uint8Array): Envelope {
  if (bytes.length < ENVELOPE_OVERHEAD) throw new MalformedError('empty link frame')
  const body = bytes.subarray(ENVELOPE_OVERHEAD)
  if (bytes[0] === DATA) return { kind: 'data', payload: body }
  if (bytes[0] === DEFLATED) return { kind: 'deflated', payload: body }
  if (bytes[0] === ERROR) return { kind: 'error', error: decodeErrorBody(body) }
  throw new MalformedError(`unknown link frame kind ${bytes[0]}`, { kind: bytes[0] })
}

function decodeErrorBody (body: Uint8Array): AuraError {
  if (body.length > MAX_ERROR_ENVELOPE_BYTES) throw new MalformedError('error frame too long', { length: body.length })
  let json: unknown
  try {
    json = JSON.parse(utf8.decode(body))
  } catch {
    throw new MalformedError('error frame is not UTF-8 JSON')
  }
  const { code, message } = (typeof json === 'object' && json !== null ? json : {}) as { code?: unknown, message?: unknown }
  if (typeof code !== 'string' || typeof message !== 'string') {
    throw new MalformedError('error frame lacks a string code and message')
  }
  // A code this version does not know (a newer peer) still closes the link, as a protocol error.
  if (!Object.hasOwn(ERROR_CODES, code)) return new AuraError('E_PROTOCOL', `${code}: ${message}`, { remote: true })
  return new AuraError(code as ErrorCode, message, { remote: true })
}
