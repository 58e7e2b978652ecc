/**
 * Runtime compatibility shims, loaded first by every entry point (CLI, daemon, vitest setup).
 *
 * libp2p 3 calls `Promise.withResolvers`, which Node 20 lacks; without it dials fail with a
 * misleading ECONNRESET. Node >= 22 has it natively and this module does nothing there.
 */
if (typeof (Promise as any).withResolvers !== 'function') {
  (Promise as any).withResolvers = function withResolvers<T> () {
    let resolve!: (value: T | PromiseLike<T>) => void
    let reject!: (reason?: unknown) => void
    const promise = new Promise<T>((_resolve, _reject) => { resolve = _resolve; reject = _reject })
    return { promise, resolve, reject }
  }
}
export {}
