/**
 * The Mothership's book of issued join tokens. Tokens are not chain entries (only their
 * redemptions and revocations are), so the Mothership keeps what it issued under `tokens/<jti>`
 * in its store, for `list-tokens` and `audit-token`.
 *
 * @example
 * await tokenBook(store.kv).put(issued)
 * const all = await tokenBook(store.kv).list()
 */
import { canonicalBytes, parseCanonical } from '../../crdt/canonical.js'
import type { KV } from '../store/kv.js'
import { layout } from '../store/layout.js'
import { parseJti } from '../../crdt/ids.js'

/** What the Mothership remembers of a token it issued (never the token string itself). */
export interface IssuedToken {
  jti: string
  team: string
  user: string
  role: string
  issuedAt: number
  expiresAt: number
  reusable: boolean
  mothershipKeyId: string
}

/** Reads and writes issued tokens in a store. */
export function tokenBook (kv: KV) {
  return {
    async put (t: IssuedToken): Promise<void> {
      await kv.put(layout.token(parseJti(t.jti)), canonicalBytes(t))
    },
    async get (jti: string): Promise<IssuedToken | undefined> {
      const v = await kv.get(layout.token(parseJti(jti)))
      return v === undefined ? undefined : parseCanonical(v) as unknown as IssuedToken
    },
    async list (): Promise<IssuedToken[]> {
      const out: IssuedToken[] = []
      for await (const [, v] of kv.iterator({ prefix: layout.tokensPrefix })) {
        out.push(
          parseCanonical(v) as unknown as IssuedToken
        )
      }
      return out
    }
  }
}
