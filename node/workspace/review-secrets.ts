/**
 * Secret-like values: well-known key formats (cloud, VCS, chat and payment tokens, JWTs,
 * credentials in URLs), private key blocks, and high-entropy string literals. Literals come from
 * the syntax tree; files without a grammar are searched line by line. A random-looking literal
 * counts on its own when it mixes letter cases and digits; hex strings (digests, ids) count only
 * when assigned to a name that says secret, token, key or password.
 *
 * @example
 * findSecrets(fragment) // [{ kind: 'aws-access-key', value: 'AKIA…', index: 42, severity: 'high' }]
 */
import type { SyntaxNode } from './languages.js'
import { literalValue, stringLiterals, type Fragment } from './review-syntax.js'

/** A secret-like value found in a text. */
export interface SecretHit {
  kind: string
  value: string
  index: number
  severity: 'high' | 'medium'
}

const FORMATS: Array<{ kind: string, re: RegExp }> = [
  { kind: 'private-key', re: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/ },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/ },
  { kind: 'gitlab-token', re: /\bglpat-[A-Za-z0-9_-]{20,}/ },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'slack-webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]{20,}/ },
  { kind: 'stripe-key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/ },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'openai-key', re: /\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}/ },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: 'url-credentials', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"]+:[^\s@/'"$]{6,}@[^\s'"]+/ }
]

const SECRET_NAME = /(secret|token|passw|pwd|api_?key|apikey|access_?key|private_?key|credential|auth)/i
const PLACEHOLDER = /(x{4,}|\*{3,}|change_?me|example|your[_-]|<[^>]*>|\$\{|\{\{|dummy|placeholder|redacted|test|fake|sample|todo)/i

/** Shannon entropy of a string in bits per character. */
export function entropy (s: string): number {
  const counts = new Map<string, number>()
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) { const p = n / s.length; h -= p * Math.log2(p) }
  return h
}

/** Whether a literal looks like a random key rather than words, paths, ids or digests. */
function looksRandom (v: string): boolean {
  if (v.length < 24 || v.length > 512 || /\s/.test(v) || PLACEHOLDER.test(v)) return false
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || v.startsWith('data:')) return false
  if (/^[0-9a-f-]+$/i.test(v)) return false
  if (!/^[A-Za-z0-9+/=_\-.]+$/.test(v)) return false
  const classes = Number(/[a-z]/.test(v)) + Number(/[A-Z]/.test(v)) + Number(/[0-9]/.test(v))
  return classes === 3 && entropy(v) >= 4.2
}

/** The name a literal is assigned to (variable, property, keyword argument), if any. */
function assignedName (node: SyntaxNode): string | null {
  const p = node.parent
  if (p === null) return null
  switch (p.type) {
    case 'variable_declarator': return p.childForFieldName('name')?.text ?? null
    case 'pair': return p.childForFieldName('key')?.text ?? null
    case 'assignment':
    case 'assignment_expression':
    case 'augmented_assignment': return p.childForFieldName('left')?.text ?? null
    case 'keyword_argument': return p.childForFieldName('name')?.text ?? null
    case 'public_field_definition':
    case 'field_definition': return (p.childForFieldName('name') ?? p.childForFieldName('property'))?.text ?? null
    default: return null
  }
}

function formatHits (text: string, base: number): SecretHit[] {
  const hits: SecretHit[] = []
  for (const { kind, re } of FORMATS) {
    const m = re.exec(text)
    if (m !== null) hits.push({ kind, value: m[0], index: base + m.index, severity: 'high' })
  }
  return hits
}

/** Secret-like values in the string literals of a fragment. */
export function findSecrets (f: Fragment): SecretHit[] {
  const hits: SecretHit[] = []
  for (const lit of stringLiterals(f)) {
    const v = literalValue(lit)
    const known = formatHits(v, lit.startIndex)
    if (known.length > 0) { hits.push(...known); continue }
    if (looksRandom(v)) { hits.push({ kind: 'high-entropy-string', value: v, index: lit.startIndex, severity: 'medium' }); continue }
    const name = assignedName(lit)
    if (name !== null && SECRET_NAME.test(name) && v.length >= 12 && !/\s/.test(v) && !PLACEHOLDER.test(v) && entropy(v) >= 3.0) {
      hits.push({ kind: 'hardcoded-credential', value: v, index: lit.startIndex, severity: 'medium' })
    }
  }
  return hits
}

/** Secret-like values in a text without a grammar (config files, .env, keys), line by line. */
export function findSecretsInText (text: string): SecretHit[] {
  const hits: SecretHit[] = []
  let offset = 0
  for (const line of text.split('\n')) {
    const known = formatHits(line, offset)
    hits.push(...known)
    if (known.length === 0) {
      const m = /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^\s"'#]+)/.exec(line)
      if (m !== null && ((SECRET_NAME.test(m[1]) && m[2].length >= 12 && !PLACEHOLDER.test(m[2]) && entropy(m[2]) >= 3.0) || looksRandom(m[2]))) {
        hits.push({ kind: SECRET_NAME.test(m[1]) ? 'hardcoded-credential' : 'high-entropy-string', value: m[2], index: offset + line.indexOf(m[2]), severity: 'medium' })
      }
    }
    offset += line.length + 1
  }
  return hits
}

/** A secret shown without revealing it: its first 4 and last 2 characters. */
export function maskSecret (v: string): string {
  return v.length <= 8 ? '*'.repeat(v.length) : `${v.slice(0, 4)}…${v.slice(-2)} (${v.length} chars)`
}
