/**
 * The page's actions (Mothership only, `aura ui --actions`): each is one operation of
 * node/operations.ts, the one its CLI line runs, and the page shows that exact line before it
 * asks to confirm. Parameters are checked here, at the HTTP edge, before any operation runs.
 *
 * @example
 * actionCli('revoke-peer', { peer: 'peer-5f3a', reason: 'laptop stolen' })
 * // aura mothership revoke-peer peer-5f3a --reason 'laptop stolen'
 */
import { z } from 'zod'
import { UsageError } from '../../crdt/errors.js'

const text = z.string().trim().min(1).max(1000)
const id = z.string().trim().regex(/^[A-Za-z0-9_.-]{4,100}$/, 'expected an id such as peer-5f3a or tk_01J...')

/** Action name -> the operation it runs, its parameters and its CLI line. */
export const ACTIONS = {
  'revoke-peer': { operation: 'revoke-peer', schema: z.strictObject({ peer: id, reason: text }), cli: (p: any) => ['mothership', 'revoke-peer', p.peer, '--reason', p.reason] },
  'revoke-token': { operation: 'revoke-token', schema: z.strictObject({ jti: id, reason: text }), cli: (p: any) => ['mothership', 'revoke-token', p.jti, '--reason', p.reason] },
  'agent-revoke-all': { operation: 'agent-revoke-all', schema: z.strictObject({ role: id, reason: text }), cli: (p: any) => ['agent', 'revoke-all', '--role', p.role, '--reason', p.reason] },
  lockdown: { operation: 'lockdown', schema: z.strictObject({ reason: text }), cli: (p: any) => ['mothership', 'lockdown', '--reason', p.reason] },
  unlock: { operation: 'unlock', schema: z.strictObject({ reason: text }), cli: (p: any) => ['mothership', 'unlock', '--reason', p.reason] }
} as const satisfies Record<string, { operation: string, schema: z.ZodType, cli: (p: any) => string[] }>

/** One of the page's actions. */
export type ActionName = keyof typeof ACTIONS

/** The action's parameters, checked; a bad one is E_USAGE naming the field. */
export function actionParams (name: ActionName, raw: unknown): Record<string, string> {
  const r = ACTIONS[name].schema.safeParse(raw)
  if (!r.success) {
    const issue = r.error.issues[0]
    throw new UsageError(`${name}: ${issue.path.join('.') || 'parameters'}: ${issue.message}`)
  }
  return r.data as Record<string, string>
}

/** The exact `aura` command line that does what the action does (shell-quoted). */
export function actionCli (name: ActionName, params: Record<string, string>): string {
  return ['aura', ...ACTIONS[name].cli(params)].map(shellQuote).join(' ')
}

function shellQuote (s: string): string {
  return /^[A-Za-z0-9_./:=@-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`
}
