/**
 * The JSON vocabulary's checks (docs/cli.md, "JSON vocabulary" and "JSON shapes"), as plain
 * functions for test/cli/vocabulary.test.ts and the tests that print what it cannot reach.
 */
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/
const TIME_KEY = /^(ts|at)$|At$|^last[A-Z]/
const BANNED: Record<string, string> = { shortId: 'peer', keyId: 'key', state: 'status', expires: 'expiresAt', claimed: 'claimedAt', lastReceipt: 'lastReceiptAt' }
/** Keys whose values are free text or configuration, not the vocabulary's (config show's tree). */
// `record` and `event` in audit export are signed payloads exactly as signed (their `ts` is the
// signed epoch ms a verifier recomputes the signature over), not output to be renamed.
const OPAQUE = new Set(['config', 'sources', 'data', 'text', 'args', 'params', 'record', 'event'])

/** Every breach of the vocabulary in one JSON value, as `path: what`. */
export function vocabularyBreaches (value: unknown, where = '$'): string[] {
  const out: string[] = []
  if (Array.isArray(value)) {
    value.forEach((v, i) => out.push(...vocabularyBreaches(v, `${where}[${i}]`)))
    return out
  }
  if (value === null || typeof value !== 'object') return out
  for (const [k, v] of Object.entries(value)) {
    const at = `${where}.${k}`
    if (BANNED[k] !== undefined) out.push(`${at}: say '${BANNED[k]}'`)
    else if (/.KeyId$/.test(k)) out.push(`${at}: say '${k.slice(0, -2)}'`)
    if (TIME_KEY.test(k) && v !== null && typeof v !== 'object' && !(typeof v === 'string' && ISO.test(v))) out.push(`${at}: a time must be an ISO 8601 string, got ${JSON.stringify(v)}`)
    if (typeof v === 'string' && ISO.test(v) && !TIME_KEY.test(k)) out.push(`${at}: a time under a key that does not say so`)
    if (!OPAQUE.has(k)) out.push(...vocabularyBreaches(v, at))
  }
  return out
}

/** The rows of docs/cli.md's "JSON shapes" table: command words and the fields documented. */
export function documentedShapes (doc: string): Array<{ words: string, fields: string[] }> {
  const table = doc.slice(doc.indexOf('### JSON shapes'))
  return [...table.matchAll(/^\| `aura ([a-z -]+?)(?: --json)?` \|[^|]*\| `([^`]*)` \|$/gm)].map((m) => ({ words: m[1], fields: m[2].split(', ') }))
}

/** Top-level fields of a printed value: an object's keys, or the union of an array's rows' keys. */
export function fieldsOf (value: unknown): string[] {
  const rows = Array.isArray(value) ? value : [value]
  return [...new Set(rows.flatMap((r) => r !== null && typeof r === 'object' ? Object.keys(r) : []))].sort()
}
