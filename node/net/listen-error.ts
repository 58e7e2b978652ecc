/**
 * Start-up failures of the listener, in the operator's terms: an address another process holds
 * becomes `E_ADDRESS_IN_USE` naming the address and where it was set (`--listen`, `[node] listen`
 * at a line of aura.toml, `AURA_NODE_LISTEN`), without libp2p's text or a stack.
 *
 * @example
 * if (isAddressInUse(err)) throw addressInUse(err, ['/ip4/0.0.0.0/tcp/7447'], { kind: 'flag', name: '--listen' })
 */
import { AddressInUseError, type ErrorContext } from '../../crdt/errors.js'
import type { ConfigSource } from '../config.js'

/** Whether a listen failure is an address in use (libp2p wraps node's EADDRINUSE in its own text). */
export function isAddressInUse (err: unknown): boolean {
  return /EADDRINUSE/.test(String((err as Error | undefined)?.message ?? err))
}

/** The `E_ADDRESS_IN_USE` error for a failed listen on `listen`, set by `source`. */
export function addressInUse (
  err: unknown,
  listen: readonly string[],
  source: ConfigSource | undefined
): InstanceType<typeof AddressInUseError> {
  const text = String((err as Error | undefined)?.message ?? err)
  const address = /address already in use (\S+)/.exec(text)?.[1] ?? listen.join(', ')
  const where = describeSource(source)
  const context: ErrorContext = { address, listen: [...listen], key: 'node.listen', ...sourceContext(source) }
  return new AddressInUseError(`${address} is already in use by another process (listen address ${listen.join(', ')}, from ${where})`, {
    ...context,
    hint: source?.kind === 'flag' && source.name === '--listen'
      ? 'stop what holds the port, or pass another --listen, e.g. --listen /ip4/0.0.0.0/tcp/7448 (port 0: any free port)'
      : 'stop what holds the port, or choose another in aura.toml ([node] listen = ["/ip4/0.0.0.0/tcp/7448"]) or with --listen (port 0: any free port)'
  })
}

function describeSource (s: ConfigSource | undefined): string {
  switch (s?.kind) {
    case undefined:
    case 'default': return 'the default of [node] listen'
    case 'file': return `[node] listen in ${s.path}${s.line === null ? '' : `:${s.line}`}`
    case 'env': return `environment variable ${s.name}`
    case 'flag': return s.name === '--listen' ? 'flag --listen' : `flag ${s.name}`
  }
}

function sourceContext (s: ConfigSource | undefined): ErrorContext {
  switch (s?.kind) {
    case 'file': return { file: s.path, line: s.line }
    case 'env': return { env: s.name }
    case 'flag': return { flag: s.name }
    default: return {}
  }
}
