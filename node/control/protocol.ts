/**
 * The control protocol between the CLI and a running daemon: newline-delimited JSON over a Unix
 * socket in the node home (mode 0600). A request is `{id, method, params}`; the answer is
 * `{id, result}` or `{id, error: {code, message, ...context}}`.
 *
 * Evidence can be larger than any one line should be (`trace`, `audit export` of a large store),
 * so a method may answer with a stream instead: any number of `{id, item}` lines, each one
 * row, then `{id, end: {count}}` — or `{id, error}` if it fails part way, so a reader never
 * mistakes a cut stream for a complete one. No line holds more than one row.
 *
 * @example
 * {"id":1,"method":"status","params":{}}
 * {"id":1,"result":{"peer":"peer-5f3a", ...}}
 * {"id":2,"method":"trace","params":{}}
 * {"id":2,"item":{"id":"3f9a...","status":"effective", ...}}
 * {"id":2,"end":{"count":1}}
 */
import { join } from 'node:path'

/** Where the control socket of a node home lives. */
export function controlSocketPath (home: string): string {
  return join(home, 'aura.sock')
}

/** One request line. */
export interface ControlRequest {
  id: number
  method: string
  params: Record<string, unknown>
}

/** One answer line: a whole result, one item of a streamed result, its end, or an error. */
export type ControlResponse =
  | { id: number, result: unknown }
  | { id: number, item: unknown }
  | { id: number, end: { count: number } }
  | { id: number, error: { code: string, message: string } & Record<string, unknown> }

/** Largest answer line the CLI accepts: one whole result, or one row of a streamed one. */
export const MAX_CONTROL_LINE = 64 * 1024 * 1024

/** Largest request line the daemon accepts (parameters only: text, ids, filters). */
export const MAX_CONTROL_REQUEST = 16 * 1024 * 1024

/**
 * A method's result that goes as a stream of `item` lines. Returned by a control method (the
 * server writes it row by row, waiting for the socket to drain) and consumed by `streamControl`.
 */
export class ControlStream {
  constructor (readonly rows: AsyncIterable<unknown> | Iterable<unknown>) {}
}
