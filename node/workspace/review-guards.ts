/**
 * Security logic found by what code does, not what it is called. A function is a guard when
 * it denies (throws or raises an authorization/authentication failure, answers 401/403,
 * `abort(403)`, redirects to a login), calls verification primitives (verify, compare_digest,
 * timingSafeEqual, checkpw, jwt decode...), is middleware (`(req, res, next)`), or implements a
 * framework's guard hook (`canActivate`, `has_permission`). Comparing a guard's two versions
 * finds deny paths removed, deny conditions stripped of a part or narrowed with a new `&&`,
 * new bypass paths keyed on request input or a magic value, and bodies reduced to "allow".
 * In any code: verification options turned off (`verify=False`, `rejectUnauthorized: false`,
 * algorithm `none`, `ignoreExpiration`, `verify_signature: False`, `CERT_NONE`) and comparisons
 * that can no longer fail (a value with itself, two constants, `|| true`).
 *
 * @example
 * const g = guardShape(fragment, 'require_role')   // { isGuard: true, denies: [...], ... }
 * weakenings(beforeFragment, afterFragment, 'require_role', elsewhere) // [{ rule: 'guard-bypass', ... }]
 */
import type { SyntaxNode } from './languages.js'
import { nodesOf, type Fragment } from './review-syntax.js'

/** One place where a guard denies, and the condition under which it does. */
export interface DenySite {
  index: number
  /** The `if` condition leading to it (normalised), `catch` for an exception path, null when unconditional. */
  condition: string | null
  /** The condition's original text (for evidence). */
  conditionText: string | null
  /** Its leaf operands under `&&`/`||`/`and`/`or` (normalised). */
  atoms: string[]
  /** Whether the condition's top operator is `&&`/`and`. */
  conjunction: string[] | null
}

/** What makes a function security logic, if anything. */
export interface GuardShape {
  isGuard: boolean
  denies: DenySite[]
  /** Calls to verification primitives. */
  verifies: number
  /** Why it counts as a guard (for evidence). */
  because: string
  /** Normalised conditions of all its `if`s (to tell new ones). */
  conditions: Set<string>
}

/** A weakening of security logic. */
export interface Weakening {
  rule: 'verification-disabled' | 'tautology' | 'guard-weakened' | 'guard-bypass' | 'security-check-removed' | 'protection-removed'
  index: number
  reason: string
  before: string | null
  after: string | null
}

const FUNCTIONS = ['function_declaration', 'generator_function_declaration', 'function_definition', 'method_definition', 'arrow_function', 'function_expression', 'function']
const AUTH_DENY = /unauthori[sz]ed|forbidden|permission|access ?denied|not ?authenticated|auth\w*(error|exception|failed)|invalid ?(token|signature|credentials?|code|session|otp)|csrf|bad ?(signature|token|mac)|signature|expired|revoked|denied|login|\b40[13]\b|\babort\b|Navigate|Redirect|suspended|not allowed|cross-tenant|NotFound|AuthError|TokenError|BadPassword/i
const DENY_CALL = /^(abort|HttpResponseForbidden|HttpResponseRedirect|redirect|PermissionDenied|HTTPException|Forbidden|Unauthorized)$|\.(status|sendStatus)$/
const DENY_STATUS = /\b40[13]\b|status_code\s*=\s*40[13]|login/i
const VERIFY_CALL = /(verify|compare_digest|timingSafeEqual|checkpw|check_password|\bcompare(Sync)?$|jwtVerify|createHmac|hmac\.new|validate|has_?perm|is_?authenticated|authenticate|authori[sz]e|jwt\.decode|\.decode$|checkValidity)/i
const GUARD_HOOK = /^(canActivate|has_permission|has_object_permission|check_permissions|check_object_permissions|authorize|dispatch|test_func|get_permissions|canLoad|canMatch|beforeEnter)$/
const BYPASS_INPUT = /headers|query|cookies?|params|search|location|URLSearchParams|environ|process\.env|getenv|debug|args\.get|GET\[|request\.(args|values|form)|preview|bypass|override|backdoor/i
const COMPARE_CALL = /(compare_digest|timingSafeEqual|secure_compare|constantTimeCompare|safeCompare|\.equals|checkpw)$/
const VERIFY_OFF: RegExp[] = [
  /^(?:[\w.]+\.)?['"]?(rejectUnauthorized|strictSSL|verify|verify_ssl|ssl|verifySignature|verify_signature|verify_exp|verify_aud|verify_iat|verify_nbf|verify_iss|check_hostname|verifyExpiration)['"]?\s*[:=]\s*(false|False|0|'0'|"0")$/,
  /^(?:[\w.]+\.)?['"]?(ignoreExpiration|ignoreNotBefore|insecure|allowInsecure|insecureSkipVerify|disableSignatureCheck)['"]?\s*[:=]\s*(true|True)$/,
  /^['"]?algorithms?['"]?\s*[:=]\s*.*['"]none['"]/i,
  /(verify_mode|cert_reqs)['"]?\s*[:=]\s*(ssl\.)?CERT_NONE/,
  /NODE_TLS_REJECT_UNAUTHORIZED['"]?\]?\s*=\s*['"]?0/,
  /_create_unverified_context/
]
const LOOPBACK_TEXT = /127\.0\.0\.1|localhost|::1/
/** Calls that make a value safe to output or to pass on (escapers, sanitisers, quoting). */
const PROTECT_CALL = /(sanitiz|escape|purify|bleach\.clean|clean_html|strip_tags|xss|htmlspecialchars|quote_plus|shlex\.quote|encodeURIComponent)/i
const ARGUMENT_LISTS = new Set(['arguments', 'argument_list'])
const LITERALS = new Set(['number', 'integer', 'float', 'string', 'true', 'false', 'none', 'null', 'undefined'])

const norm = (s: string): string => s.replace(/\s+/g, '').replace(/^\((.*)\)$/, '$1')

/** The first (outermost) function of a fragment. */
export function firstFunction (f: Fragment): SyntaxNode | null {
  return nodesOf(f, FUNCTIONS).find((n) => n.childForFieldName('body') !== null) ?? null
}

function unwrap (n: SyntaxNode): SyntaxNode {
  let x = n
  while (x.type === 'parenthesized_expression' && x.namedChild(0) !== null) x = x.namedChild(0) as SyntaxNode
  return x
}

function operatorOf (n: SyntaxNode): string | null {
  if (n.type !== 'binary_expression' && n.type !== 'boolean_operator') return null
  const op = n.childForFieldName('operator')?.text ?? n.children.find((c) => !c.isNamed)?.text ?? null
  return op
}

function splitOn (n: SyntaxNode, ops: string[]): SyntaxNode[] {
  const x = unwrap(n)
  const op = operatorOf(x)
  if (op !== null && ops.includes(op)) {
    const l = x.childForFieldName('left')
    const r = x.childForFieldName('right')
    if (l !== null && r !== null) return [...splitOn(l, ops), ...splitOn(r, ops)]
  }
  return [x]
}

/** The condition an enclosing `if` puts on a node (when the node is in its consequence). */
function guardingCondition (node: SyntaxNode, fn: SyntaxNode): { cond: SyntaxNode | null, inCatch: boolean } {
  let n: SyntaxNode | null = node
  while (n !== null && n.id !== fn.id) {
    const p: SyntaxNode | null = n.parent
    if (p === null) break
    if (p.type === 'if_statement') {
      const cons = p.childForFieldName('consequence')
      if (cons !== null && cons.id === n.id) return { cond: p.childForFieldName('condition'), inCatch: false }
    }
    if (p.type === 'catch_clause' || p.type === 'except_clause') return { cond: null, inCatch: true }
    n = p
  }
  return { cond: null, inCatch: false }
}

function calleeText (call: SyntaxNode): string {
  return call.childForFieldName('function')?.text ?? call.childForFieldName('constructor')?.text ?? ''
}

function denySites (f: Fragment, fn: SyntaxNode, python: boolean): SyntaxNode[] {
  const out: SyntaxNode[] = []
  for (const t of nodesOf(f, ['throw_statement', 'raise_statement'], fn)) out.push(t)
  for (const c of nodesOf(f, python ? ['call'] : ['call_expression', 'new_expression'], fn)) {
    const callee = calleeText(c)
    if (DENY_CALL.test(callee) && (!/\.(status|sendStatus)$|^(abort|HTTPException|redirect)$/.test(callee) || DENY_STATUS.test(c.text))) out.push(c)
  }
  for (const j of nodesOf(f, ['jsx_self_closing_element', 'jsx_opening_element'], fn)) {
    if (/^<(Navigate|Redirect)\b/.test(j.text)) out.push(j)
  }
  for (const r of nodesOf(f, 'return_statement', fn)) {
    const v = r.namedChild(0)?.type
    if (v === 'false') out.push(r)
  }
  // A deny call inside a thrown expression is one deny.
  return out.filter((n) => !out.some((o) => o.id !== n.id && o.startIndex <= n.startIndex && n.endIndex <= o.endIndex))
}

const SHAPES = new WeakMap<Fragment, GuardShape | null>()

/** The shape of the first function in a fragment as security logic; null when it has no function. */
export function guardShape (f: Fragment, name: string): GuardShape | null {
  if (SHAPES.has(f)) return SHAPES.get(f) ?? null
  const shape = computeShape(f, name)
  SHAPES.set(f, shape)
  return shape
}

function computeShape (f: Fragment, name: string): GuardShape | null {
  const fn = firstFunction(f)
  if (fn === null) return null
  const python = f.lang === 'python'
  const denies: DenySite[] = []
  let authDeny = false
  for (const d of denySites(f, fn, python)) {
    if (AUTH_DENY.test(d.text) || d.type === 'return_statement') authDeny ||= AUTH_DENY.test(d.text)
    const { cond, inCatch } = guardingCondition(d, fn)
    const atoms = cond === null ? [] : splitOn(cond, ['&&', '||', 'and', 'or']).map((a) => norm(a.text))
    const conj = cond === null ? null : splitOn(cond, ['&&', 'and'])
    denies.push({ index: d.startIndex, condition: cond === null ? (inCatch ? 'catch' : null) : norm(cond.text), conditionText: cond === null ? null : unwrap(cond).text, atoms, conjunction: conj !== null && conj.length > 1 ? conj.map((c) => norm(c.text)) : null })
  }
  let verifies = 0
  for (const c of nodesOf(f, python ? ['call'] : ['call_expression', 'new_expression'], fn)) if (VERIFY_CALL.test(calleeText(c))) verifies++
  const params = fn.childForFieldName('parameters')?.namedChildren.map((p) => p.text.replace(/[:=].*$/, '').trim()) ?? []
  const middleware = params.length >= 3 && params[params.length - 1] === 'next'
  const local = name.split('.').pop() ?? name
  const conditions = new Set(nodesOf(f, 'if_statement', fn).map((i) => norm(i.childForFieldName('condition')?.text ?? '')))
  let because = ''
  if (authDeny) because = 'it denies access (401/403, an authorization error)'
  else if (verifies > 0 && denies.length > 0) because = 'it calls verification primitives and denies on failure'
  else if (middleware && denies.length > 0) because = 'it is middleware that can stop a request'
  else if (GUARD_HOOK.test(local)) because = `${local} is a framework guard hook`
  else if (verifies > 0 && /return/.test(fn.text)) because = 'it returns the result of verification primitives'
  return { isGuard: because !== '', denies, verifies, because, conditions }
}

function isAllow (stmt: SyntaxNode): boolean {
  const v = stmt.type === 'return_statement' ? stmt.namedChild(0) : stmt.type === 'expression_statement' ? stmt.namedChild(0) : null
  if (stmt.type === 'return_statement' && v === null) return true
  if (v === null) return false
  if (v.type === 'true') return true
  if (v.type === 'call' || v.type === 'call_expression') {
    const callee = calleeText(v)
    return callee === 'next' || /^(view|func|fn|f|handler|wrapped)$/.test(callee)
  }
  return v.type === 'identifier' && /^(children|user|view)$/.test(v.text)
}

/** Whether a new `if` that returns "allow" before any deny is keyed on request input or a magic value. */
function bypasses (
  f: Fragment,
  fn: SyntaxNode,
  before: GuardShape,
  firstDeny: number
): Array<{ node: SyntaxNode, cond: string }> {
  const out: Array<{ node: SyntaxNode, cond: string }> = []
  for (const i of nodesOf(f, 'if_statement', fn)) {
    if (i.startIndex > firstDeny) continue
    const cond = i.childForFieldName('condition')
    const cons = i.childForFieldName('consequence')
    if (cond === null || cons === null || before.conditions.has(norm(cond.text))) continue
    const stmts = cons.type === 'statement_block' || cons.type === 'block' ? cons.namedChildren : [cons]
    if (stmts.length === 0 || !isAllow(stmts[0])) continue
    const magic = cond.descendantsOfType('string').some((s) => { const v = s.text.replace(/^['"`]|['"`]$/g, ''); return v.length >= 6 && /\d/.test(v) && /[a-z]/i.test(v) })
    if (BYPASS_INPUT.test(cond.text) || magic) out.push({ node: i, cond: cond.text })
  }
  return out
}

/**
 * How a guard's new version is weaker than its old one. `elsewhere`
 * is the rest of the record's new text (helpers checks moved to).
 */
export function weakenings (before: Fragment, after: Fragment, name: string, elsewhere: string): Weakening[] {
  const was = guardShape(before, name)
  const now = guardShape(after, name)
  const fn = firstFunction(after)
  if (was === null || now === null || fn === null || !was.isGuard) return []
  const out: Weakening[] = []
  const elsewhereNorm = norm(elsewhere)
  const kept = (c: string): boolean => elsewhereNorm.includes(c)
  const afterConds = new Set(now.denies.map((d) => d.condition))
  const removedSites = was.denies.filter((d) => d.condition !== null && d.condition !== 'catch' && !afterConds.has(d.condition) && !kept(d.condition))
  const beforeAtoms = new Set(was.denies.flatMap((d) => d.atoms))
  const afterAtoms = new Set(now.denies.flatMap((d) => d.atoms))
  const removedAtoms = [...beforeAtoms].filter((a) => !afterAtoms.has(a) && !kept(a))
  const addedAtoms = [...afterAtoms].filter((a) => !beforeAtoms.has(a))
  if (now.denies.length < was.denies.length && removedSites.length > 0) {
    const d = removedSites[0]
    out.push({ rule: 'security-check-removed', index: fn.startIndex, reason: `${was.denies.length - now.denies.length} of its ${was.denies.length} deny paths removed (it is a guard: ${was.because})`, before: `if ${d.conditionText ?? d.condition ?? ''} → deny`, after: null })
  } else if (removedAtoms.length > 0 && addedAtoms.length === 0 && now.denies.length <= was.denies.length) {
    const b = was.denies.find((d) => d.atoms.some((a) => removedAtoms.includes(a)))
    const a = now.denies.find((d) => b !== undefined && d.atoms.some((x) => b.atoms.includes(x)))
    out.push({ rule: 'guard-weakened', index: a?.index ?? fn.startIndex, reason: `deny condition lost ${removedAtoms.length === 1 ? 'a check' : `${removedAtoms.length} checks`}: ${removedAtoms.join(', ')} (it is a guard: ${was.because})`, before: b?.conditionText ?? null, after: a?.conditionText ?? null })
  }
  const beforeConds = new Set(was.denies.map((d) => d.condition))
  for (const d of now.denies) {
    const extra = d.conjunction?.filter((c) => !beforeConds.has(c)) ?? []
    if (d.conjunction !== null && extra.length > 0 && d.conjunction.some((c) => beforeConds.has(c))) {
      const old = was.denies.find((x) => d.conjunction?.includes(x.condition ?? ''))
      out.push({ rule: 'guard-weakened', index: d.index, reason: `deny condition narrowed: it now also requires ${extra.join(' && ')}`, before: old?.conditionText ?? null, after: d.conditionText })
    }
  }
  const firstDeny = Math.min(...now.denies.map((d) => d.index), fn.endIndex)
  for (const b of bypasses(after, fn, was, firstDeny)) {
    out.push({ rule: 'guard-bypass', index: b.node.startIndex, reason: `new path that allows before any check, keyed on ${BYPASS_INPUT.test(b.cond) ? 'request input or the environment' : 'a magic value'} (it is a guard: ${was.because})`, before: null, after: b.cond })
  }
  if (out.length === 0 && now.verifies < was.verifies && was.denies.length === 0) {
    out.push({ rule: 'security-check-removed', index: fn.startIndex, reason: `makes ${was.verifies - now.verifies} fewer verification calls (${was.verifies} → ${now.verifies}; it is a guard: ${was.because})`, before: null, after: null })
  }
  return out
}

function tautologies (f: Fragment): Array<{ node: SyntaxNode, why: string }> {
  const out: Array<{ node: SyntaxNode, why: string }> = []
  const python = f.lang === 'python'
  for (const n of nodesOf(f, python ? ['comparison_operator', 'boolean_operator'] : ['binary_expression'])) {
    const op = operatorOf(n) ?? n.children.find((c) => !c.isNamed)?.text ?? ''
    const l = n.namedChild(0)
    const r = n.namedChild(1)
    if (l === null || r === null) continue
    if (['==', '===', '!=', '!==', '<=', '>=', 'is', 'is not'].includes(op) || (python && n.type === 'comparison_operator')) {
      if (norm(l.text) === norm(r.text)) out.push({ node: n, why: `compares ${l.text} with itself` })
      else if (LITERALS.has(unwrap(l).type) && LITERALS.has(unwrap(r).type)) out.push({ node: n, why: `compares two constants (${n.text})` })
    } else if (['||', 'or'].includes(op) && (r.type === 'true' || l.type === 'true')) out.push({ node: n, why: `'${op} true' makes the condition always true` })
    else if (['&&', 'and'].includes(op) && (r.type === 'false' || l.type === 'false')) out.push({ node: n, why: `'${op} false' makes the condition always false` })
  }
  for (const c of nodesOf(f, python ? ['call'] : ['call_expression'])) {
    if (!COMPARE_CALL.test(calleeText(c))) continue
    const args = c.childForFieldName('arguments')?.namedChildren ?? []
    if (args.length >= 2 && norm(args[0].text) === norm(args[1].text)) out.push({ node: c, why: `${calleeText(c)} compares ${args[0].text} with itself` })
  }
  return out
}

/** Words every VERIFY_OFF pattern contains one of: a cheap test before walking the tree. */
const VERIFY_OFF_WORDS = /verify|reject|strictSSL|ssl|hostname|ignoreExpiration|ignoreNotBefore|insecure|SignatureCheck|algorithm|CERT_NONE|NODE_TLS|unverified/i

function verificationOff (f: Fragment, inTest: boolean): Array<{ node: SyntaxNode, what: string }> {
  const out: Array<{ node: SyntaxNode, what: string }> = []
  if (!VERIFY_OFF_WORDS.test(f.source)) return out
  for (const n of nodesOf(f, ['pair', 'keyword_argument', 'assignment', 'assignment_expression', 'attribute', 'member_expression'])) {
    const t = n.text.replace(/\s+/g, ' ')
    if (t.length > 200) continue
    const re = VERIFY_OFF.find((r) => r.test(t))
    if (re === undefined) continue
    if ((n.type === 'attribute' || n.type === 'member_expression') && !/_create_unverified_context$/.test(t)) continue
    // A test talking to its own server on this machine may skip verification.
    let call: SyntaxNode | null = n.parent
    while (call !== null && !['call', 'call_expression', 'new_expression'].includes(call.type)) call = call.parent
    if (inTest && (call === null || LOOPBACK_TEXT.test(call.text))) continue
    if (inTest && LOOPBACK_TEXT.test(call?.text ?? '')) continue
    out.push({ node: n, what: t })
  }
  return out
}

/** Verification turned off and comparisons that cannot fail, new in `after` (anywhere, not only in guards). */
export function newUnsafeLogic (before: Fragment | null, after: Fragment, inTest: boolean): Weakening[] {
  const out: Weakening[] = []
  const count = (xs: string[]): Map<string, number> => {
    const m = new Map<string, number>()
    for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
    return m
  }
  const wasOff = count(before === null ? [] : verificationOff(before, inTest).map((x) => x.what))
  for (const v of verificationOff(after, inTest)) {
    const n = wasOff.get(v.what) ?? 0
    if (n > 0) { wasOff.set(v.what, n - 1); continue }
    out.push({ rule: 'verification-disabled', index: v.node.startIndex, reason: `verification turned off: ${v.what}`, before: null, after: v.what })
  }
  if (!inTest) {
    const wasTaut = count(before === null ? [] : tautologies(before).map((x) => norm(x.node.text)))
    for (const t of tautologies(after)) {
      const k = norm(t.node.text)
      const n = wasTaut.get(k) ?? 0
      if (n > 0) { wasTaut.set(k, n - 1); continue }
      out.push({ rule: 'tautology', index: t.node.startIndex, reason: `a comparison that cannot fail: ${t.why}`, before: null, after: t.node.text })
    }
  }
  return out
}

/** How often each text is used bare (not as a call argument) in a fragment. */
function bareUses (f: Fragment, text: string): number {
  let n = 0
  for (const node of nodesOf(f, ['identifier', 'member_expression', 'attribute'])) {
    if (norm(node.text) === text && !ARGUMENT_LISTS.has(node.parent?.type ?? '') && node.parent?.type !== 'member_expression' && node.parent?.type !== 'attribute') n++
  }
  return n
}

/**
 * Escapers and sanitisers taken off a value that is still used: `escape(q)` → `q`,
 * `DOMPurify.sanitize(html)` → `html`. Moving the call into a helper (`cell(q)`) keeps the value
 * an argument and is not flagged; neither is a call that reappears elsewhere in the change.
 */
export function removedProtections (before: Fragment, after: Fragment, elsewhere: string): Weakening[] {
  if (!PROTECT_CALL.test(before.source)) return []
  const python = after.lang === 'python'
  const calls = (f: Fragment): SyntaxNode[] => nodesOf(f, python ? ['call'] : ['call_expression']).filter((c) => PROTECT_CALL.test(calleeText(c)))
  const now = new Set(calls(after).map((c) => norm(c.text)))
  const elsewhereNorm = norm(elsewhere)
  const out: Weakening[] = []
  const seen = new Set<string>()
  for (const c of calls(before)) {
    const k = norm(c.text)
    if (now.has(k) || elsewhereNorm.includes(k) || seen.has(k)) continue
    seen.add(k)
    const arg = c.childForFieldName('arguments')?.namedChildren[0]
    if (arg === undefined || !['identifier', 'member_expression', 'attribute'].includes(arg.type)) continue
    const a = norm(arg.text)
    if (bareUses(after, a) <= bareUses(before, a)) continue
    const use = nodesOf(after, ['identifier', 'member_expression', 'attribute']).find((n) => norm(n.text) === a && !ARGUMENT_LISTS.has(n.parent?.type ?? ''))
    out.push({ rule: 'protection-removed', index: use?.startIndex ?? 0, reason: `${calleeText(c)}(...) taken off ${arg.text}, which is still used without it`, before: c.text, after: use?.parent?.text.slice(0, 160) ?? arg.text })
  }
  return out
}
