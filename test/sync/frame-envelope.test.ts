import { describe, expect, it } from 'vitest'
import { AuraError, MalformedError, RevokedError } from '../../crdt/errors.js'
import { toHex } from '../../crdt/canonical.js'
import { decodeEnvelope, encodeData, encodeError, ERROR_MESSAGE_MAX, MAX_ERROR_ENVELOPE_BYTES } from '../../node/sync/link-envelope.js'

function decodeErrorOf (bytes: Uint8Array): AuraError {
  const env = decodeEnvelope(bytes)
  if (env.kind !== 'error') throw new MalformedError('expected an error envelope')
  return env.error
}

describe('link envelope', () => {
  it('wraps data in kind 0 (golden)', () => {
    expect(toHex(encodeData(Uint8Array.of(1, 2)))).toBe('000102')
    expect(decodeEnvelope(Uint8Array.of(0, 1, 2))).toEqual({ kind: 'data', payload: Uint8Array.of(1, 2) })
    expect(decodeEnvelope(Uint8Array.of(0))).toEqual({ kind: 'data', payload: new Uint8Array(0) })
    expect(toHex(encodeData(Uint8Array.of(1, 2), true))).toBe('020102')
    expect(decodeEnvelope(Uint8Array.of(2, 1, 2))).toEqual({ kind: 'deflated', payload: Uint8Array.of(1, 2) })
  })

  it('carries an error as kind 1 + canonical {code, message}, without its context (golden)', () => {
    const bytes = encodeError(new RevokedError('key revoked', { peer: 'peer-5f3a', secret: 'x' }))
    expect(bytes[0]).toBe(1)
    expect(new TextDecoder().decode(bytes.subarray(1))).toBe('{"code":"E_REVOKED","message":"key revoked"}')
    const err = decodeErrorOf(bytes)
    expect(err).toBeInstanceOf(AuraError)
    expect(err.code).toBe('E_REVOKED')
    expect(err.message).toBe('key revoked')
    expect(err.context).toEqual({ remote: true })
  })

  it('cuts long messages so an error envelope stays small', () => {
    const worst = '\u0001'.repeat(ERROR_MESSAGE_MAX * 3)
    const bytes = encodeError(new AuraError('E_INTERNAL', worst))
    expect(bytes.length).toBeLessThanOrEqual(MAX_ERROR_ENVELOPE_BYTES)
    expect(Array.from(decodeErrorOf(bytes).message).length).toBe(ERROR_MESSAGE_MAX + 1)
  })

  it('maps a code this version does not know to E_PROTOCOL, keeping the text', () => {
    const body = new TextEncoder().encode('{"code":"E_FUTURE","message":"m"}')
    const err = decodeErrorOf(Uint8Array.of(1, ...body))
    expect(err.code).toBe('E_PROTOCOL')
    expect(err.message).toBe('E_FUTURE: m')
    const inherited = new TextEncoder().encode('{"code":"toString","message":"m"}')
    expect(decodeErrorOf(Uint8Array.of(1, ...inherited)).code).toBe('E_PROTOCOL')
  })

  it('refuses empty frames, unknown kinds and bad error bodies with E_MALFORMED', () => {
    const bad = [
      new Uint8Array(0),
      Uint8Array.of(3),
      Uint8Array.of(1),
      Uint8Array.of(1, 0xff),
      Uint8Array.of(1, ...new TextEncoder().encode('[1]')),
      Uint8Array.of(1, ...new TextEncoder().encode('{"code":1,"message":"m"}'))
    ]
    for (const b of bad) {
      expect(() => decodeEnvelope(b)).toThrowError(expect.objectContaining({ code: 'E_MALFORMED' }) as Error)
    }
  })
})
