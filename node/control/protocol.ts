/**
 * The control protocol between the CLI and a running daemon: newline-delimited JSON over a Unix
 * socket in the node home (mode 0600). A request is `{id, method, params}`; the answer is
 * `{id, result}` or `{id, error: {code, message, ...context}}`.
 *
 * @example
 * {"id":1,"method":"status","params":{}}
 * {"id":1,"result":{"peer":"peer-5f3a", ...}}
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

/** One answer line. */
export type ControlResponse =
  | { id: number, result: unknown }
  | { id: number, error: { code: string, message: string } & Record<string, unknown> }

/** Largest request or answer line accepted (a full trace can be large). */
export const MAX_CONTROL_LINE = 64 * 1024 * 1024
