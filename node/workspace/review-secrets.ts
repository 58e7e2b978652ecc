/**
 * Secrets in a unit's text. Three detectors, strongest first: secretlint's recommended rule
 * preset (cloud, VCS, chat, payment, AI and database credentials, private keys); a few formats
 * it does not cover on their own (a bare AWS key id, JWTs, credentials in URLs); and, for what
 * no rule names, an entropy check on string literals (random-looking, or assigned to a name
 * that says secret/token/key/password). Values that are public by design are reported as such
 * instead of flagged: publishable keys (`pk_live_`), public JWK members (an object with `kty`
 * and no `d`), certificates and public keys, subresource-integrity hashes, data URLs, and
 * example or fixture values in tests. Placeholders (`changeme`, `<YOUR_TOKEN>`) are dropped.
 * Every hit says which detector matched and why it was or was not flagged.
 *
 * @example
 * await findSecrets('src/pay.ts', fragment, text)
 * // [{ kind: 'stripe', value: 'sk_live_…', severity: 'high', why: 'secretlint rule stripe: …', ... }]
 */
import { lintSource } from '@secretlint/core'
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend'
import type { SyntaxNode } from './languages.js'
import { literalValue, stringLiterals, type Fragment } from './review-syntax.js'
import { isTestPath } from './review-usage.js'

/** A secret-like value found in a text. */
export interface SecretHit {
  kind: string
  value: string
  /** Offset in the text searched (the fragment's source, or the raw text). */
  index: number
  /** `low` when the value is public by design (then `why` says so). */
  severity: 'high' | 'medium' | 'low'
  /** Which detector matched: `secretlint:<rule>`, `format:<kind>`, `entropy`, `named-credential`. */
  detector: string
  why: string
}

const FORMATS: Array<{ kind: string, re: RegExp }> = [
  { kind: 'private-key', re: /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/ },
  { kind: 'aws-access-key', re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/ },
  { kind: 'github-token', re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/ },
  { kind: 'slack-token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { kind: 'slack-webhook', re: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/]{20,}/ },
  { kind: 'stripe-key', re: /\b[sr]k_live_[A-Za-z0-9]{16,}/ },
  { kind: 'google-api-key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'npm-token', re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'jwt', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: 'url-credentials', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/'"]+:[^\s@/'"$]{6,}@[^\s'"]+/ }
]

const SECRET_NAME = /(secret|token|passw|pwd|api_?key|apikey|access_?key|private_?key|credential|auth|signing|webhook_?key|x-vendor|x-api)/i
const PLACEHOLDER = /(x{4,}|\*{3,}|change_?me|your[_-]|<[^>]*>|\$\{|\{\{|dummy|placeholder|redacted|^todo)/i
const EXAMPLE = /(example|test|fake|sample|fixture|mock)/i
/** Detectors whose rule is about the file, not a value in it. */
const IGNORED_RULES = /filter-comments|no-dotenv|no-homedir/

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

/** The name a literal is assigned to (variable, property, keyword argument, `get(name, default)`), if any. */
function assignedName (node: SyntaxNode): string | null {
  let p = node.parent
  // A default in `os.environ.get("NAME", "value")` / `process.env.NAME ?? 'value'` belongs to NAME.
  if (p?.type === 'argument_list' && p.namedChildren.indexOf(node) === 1 && p.namedChild(0)?.type === 'string') return literalValue(p.namedChild(0) as SyntaxNode)
  if (p?.type === 'binary_expression' || p?.type === 'boolean_operator') return p.childForFieldName('left')?.text ?? null
  if (p?.type === 'parenthesized_expression') p = p.parent
  if (p === null) return null
  switch (p.type) {
    case 'variable_declarator': return p.childForFieldName('name')?.text ?? null
    case 'pair': return p.childForFieldName('value')?.id === node.id ? p.childForFieldName('key')?.text ?? null : null
    case 'assignment':
    case 'assignment_expression':
    case 'augmented_assignment': return p.childForFieldName('left')?.text ?? null
    case 'keyword_argument': return p.childForFieldName('value')?.id === node.id ? p.childForFieldName('name')?.text ?? null : null
    case 'public_field_definition':
    case 'field_definition': return (p.childForFieldName('name') ?? p.childForFieldName('property'))?.text ?? null
    default: return null
  }
}

/** Why a literal in its context is public by design, or null. */
function publicReason (v: string, node: SyntaxNode | null, path: string): string | null {
  if (/^pk_(live|test)_/.test(v)) return 'a Stripe publishable key, public by design'
  if (/^sha(256|384|512)-[A-Za-z0-9+/=]+$/.test(v)) return 'a subresource-integrity hash'
  if (/^data:[a-z]+\/[\w.+-]+;base64,/.test(v)) return 'a data URL'
  if (/-----BEGIN (CERTIFICATE|PUBLIC KEY|RSA PUBLIC KEY|PGP PUBLIC KEY BLOCK)-----/.test(v)) return 'a certificate or public key'
  if (node !== null) {
    const pair = node.parent
    const obj = pair?.parent
    if (pair?.type === 'pair' && obj !== null && obj !== undefined && (obj.type === 'object' || obj.type === 'dictionary')) {
      const keys = obj.namedChildren.filter((c) => c.type === 'pair').map((c) => (c.childForFieldName('key')?.text ?? '').replace(/['"]/g, ''))
      if (keys.includes('kty') && !keys.includes('d') && !keys.includes('k')) return 'a member of a public JWK (no private part)'
    }
  }
  if (isTestPath(path) && EXAMPLE.test(v)) return 'an example value in a test'
  if (/AKIAIOSFODNN7EXAMPLE|wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY/.test(v)) return "AWS's documented example key"
  return null
}

function formatHits (text: string, base: number): Array<{ kind: string, value: string, index: number }> {
  const hits: Array<{ kind: string, value: string, index: number }> = []
  for (const { kind, re } of FORMATS) {
    const m = re.exec(text)
    if (m !== null) hits.push({ kind, value: m[0], index: base + m.index })
  }
  return hits
}

/** Whether a text has anything secretlint could match: a long mixed token, a key block or URL credentials. */
function worthLinting (text: string): boolean {
  if (/PRIVATE KEY|:\/\/[^\s/@]+:[^\s/@]+@/.test(text)) return true
  for (const m of text.matchAll(/[A-Za-z0-9_+/=.-]{20,}/g)) if (/\d/.test(m[0]) && /[A-Za-z]/.test(m[0])) return true
  return false
}

async function secretlintHits (
  path: string,
  text: string
): Promise<Array<{ kind: string, value: string, index: number, message: string }>> {
  if (!worthLinting(text)) return []
  const r = await lintSource({
    source: { filePath: `/review/${path}`, content: text, contentType: 'text' },
    options: { config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] }, noPhysicFilePath: true }
  })
  return r.messages
    .filter((m) => !IGNORED_RULES.test(m.ruleId))
    .map((m) => ({ kind: m.ruleId.replace(/^@secretlint\/secretlint-rule-/, ''), value: text.slice(m.range[0], m.range[1]), index: m.range[0], message: m.message.replace(/:[\s\S]*$/, '') }))
}

/** The string literal node that contains an offset, if any. */
function literalAt (lits: SyntaxNode[], index: number): SyntaxNode | null {
  return lits.find((l) => l.startIndex <= index && index < l.endIndex) ?? null
}

/** Secret-like values in a unit's text (parsed as `f` when it has a grammar); see the module comment. */
export async function findSecrets (path: string, f: Fragment | null, text: string): Promise<SecretHit[]> {
  const source = f?.source ?? text
  const lits = f === null ? [] : stringLiterals(f)
  const hits: SecretHit[] = []
  const seen = new Set<string>()
  const inTest = isTestPath(path)
  const add = (kind: string, value: string, index: number, severity: 'high' | 'medium', detector: string, why: string): void => {
    if (value === '' || seen.has(value) || hits.some((h) => index >= h.index && index < h.index + h.value.length)) return
    seen.add(value)
    const lit = literalAt(lits, index)
    if (PLACEHOLDER.test(value)) return
    const pub = publicReason(value, lit, path) ?? (inTest && (kind === 'jwt' || detector !== 'secretlint') ? 'a fixture value in a test file' : null)
    if (pub !== null) hits.push({ kind, value, index, severity: 'low', detector, why: `not flagged: ${pub}` })
    else hits.push({ kind, value, index, severity, detector, why })
  }
  for (const h of await secretlintHits(path, source)) {
    // The whole literal a match falls in is the secret (a rule's range may cover only part of it).
    const lit = literalAt(lits, h.index) ?? literalAt(lits, h.index + h.value.length - 1)
    const value = lit === null ? h.value : literalValue(lit)
    const index = lit === null ? h.index : lit.startIndex + Math.max(0, lit.text.indexOf(value))
    add(h.kind, value, index, 'high', 'secretlint', `secretlint rule ${h.kind}: ${h.message}`)
  }
  const candidates: Array<{ value: string, index: number, node: SyntaxNode | null }> = f !== null
    ? lits.map((l) => {
      const value = literalValue(l)
      return { value, index: l.startIndex + Math.max(0, l.text.indexOf(value)), node: l }
    })
    : source.split('\n').map((line, i, all) => ({ value: line, index: all.slice(0, i).join('\n').length + (i > 0 ? 1 : 0), node: null }))
  for (const c of candidates) {
    const known = formatHits(c.value, c.index)
    for (const k of known) add(k.kind, k.value, k.index, 'high', 'format', `matches the ${k.kind.replaceAll('-', ' ')} format`)
    if (known.length > 0) continue
    let value = c.value
    let name = c.node === null ? null : assignedName(c.node)
    if (c.node === null) {
      const m = /^\s*["']?([A-Za-z0-9_.-]+)["']?\s*[:=]\s*["']?([^\s"'#]+)/.exec(c.value)
      if (m === null) continue
      name = m[1]
      value = m[2]
    }
    const random = looksRandom(value)
    if (!random && (name === null || !SECRET_NAME.test(name))) continue
    if (!random && publicReason(value, c.node, path) !== null) continue
    if (random) {
      add('high-entropy-string', value, c.index, 'medium', 'entropy', `random-looking literal: ${value.length} characters, ${entropy(value).toFixed(1)} bits/character, no known format`)
    } else if (name !== null && SECRET_NAME.test(name) && value.length >= 12 && !/\s/.test(value) && entropy(value) >= 3.0 && !/^[a-z][a-z0-9+.-]*:\/\/[^@]*$/i.test(value)) {
      add('hardcoded-credential', value, c.index, 'medium', 'named-credential', `literal assigned to ${name}: ${value.length} characters, ${entropy(value).toFixed(1)} bits/character`)
    }
  }
  return hits
}

/** A secret shown without revealing it: its first 4 and last 2 characters. */
export function maskSecret (v: string): string {
  return v.length <= 8 ? '*'.repeat(v.length) : `${v.slice(0, 4)}…${v.slice(-2)} (${v.length} chars)`
}
