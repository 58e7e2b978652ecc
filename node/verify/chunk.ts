/**
 * What the signature pool hands its worker: a chunk of checks packed into one ArrayBuffer
 * (transferred, not copied), and a small SharedArrayBuffer holding who took the chunk and the
 * answers, so the caller can wait for them without an event-loop turn (it waits inside a
 * synchronous sync step). Whoever claims a chunk first verifies it: the worker as chunks
 * arrive, or the caller, which takes back every chunk the worker has not started.
 *
 * @example
 * const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sodium: pathOfSodiumNative } })
 * const chunk = packChunk(checks)
 * worker.postMessage(chunk, [chunk.data])
 * const answers = claim(chunk.status)
 *   ? checks.map(verifyCheck)                    // not started there: verify here
 *   : readAnswers(chunk.status, checks.length)   // once the status word reads DONE
 */
import { verifyRaw } from '../../crdt/crypto.js'
import type { SignatureCheck } from '../../crdt/record.js'

/** Status word values (index 0 of the status array). */
export const OPEN = 0
export const TAKEN = 1
export const DONE = 2
// Answer words (from index 1).
const VALID = 1
const INVALID = 2
const HEADER = 12

/** A packed chunk: per check `u32 message, sig and pub lengths`, then sig, pub and message. */
export interface Chunk {
  readonly status: SharedArrayBuffer
  readonly data: ArrayBuffer
  readonly count: number
}

/** Packs checks into a chunk. */
export function packChunk (checks: readonly SignatureCheck[]): Chunk {
  const size = checks.reduce((n, c) => n + HEADER + c.sig.length + c.pub.length + c.message.length, 0)
  const data = new ArrayBuffer(size)
  const bytes = new Uint8Array(data)
  const view = new DataView(data)
  let at = 0
  for (const c of checks) {
    view.setUint32(at, c.message.length)
    view.setUint32(at + 4, c.sig.length)
    view.setUint32(at + 8, c.pub.length)
    at += HEADER
    for (const part of [c.sig, c.pub, c.message]) {
      bytes.set(part, at)
      at += part.length
    }
  }
  return { status: new SharedArrayBuffer(4 * (1 + checks.length)), data, count: checks.length }
}

/** Claims an open chunk; false if someone else took it first. */
export function claim (status: SharedArrayBuffer): boolean {
  return Atomics.compareExchange(new Int32Array(status), 0, OPEN, TAKEN) === OPEN
}

/** One check, by the rule of crdt/crypto.ts. */
export function verifyCheck (c: SignatureCheck): boolean {
  return verifyRaw(c.message, c.sig, c.pub)
}

/**
 * The worker thread's program: for each chunk posted to it, claim, verify, publish the answers,
 * wake the waiter. Plain CommonJS run with `eval`, so it needs no TypeScript loader whatever
 * started the process (tsx, vitest, dist); `workerData.sodium` is the path of sodium-native.
 * The rule is `verifyRaw`'s: right lengths, then libsodium's crypto_sign_verify_detached
 * (test/verify proves the two agree, edge cases included).
 */
export const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const sodium = require(workerData.sodium)
parentPort.on('message', ({ status, data, count }) => {
  const words = new Int32Array(status)
  if (Atomics.compareExchange(words, 0, ${OPEN}, ${TAKEN}) !== ${OPEN}) return
  const view = new DataView(data)
  let at = 0
  for (let i = 0; i < count; i++) {
    const message = view.getUint32(at), sig = view.getUint32(at + 4), pub = view.getUint32(at + 8)
    at += ${HEADER}
    const s = Buffer.from(data, at, sig), p = Buffer.from(data, at + sig, pub), m = Buffer.from(data, at + sig + pub, message)
    const ok = sig === 64 && pub === 32 && sodium.crypto_sign_verify_detached(s, m, p) === true
    Atomics.store(words, 1 + i, ok ? ${VALID} : ${INVALID})
    at += sig + pub + message
  }
  Atomics.store(words, 0, ${DONE})
  Atomics.notify(words, 0)
})
`

/** The answers of a chunk whose status word reads DONE. */
export function readAnswers (status: SharedArrayBuffer, count: number): boolean[] {
  const words = new Int32Array(status)
  return Array.from({ length: count }, (_, i) => Atomics.load(words, 1 + i) === VALID)
}
