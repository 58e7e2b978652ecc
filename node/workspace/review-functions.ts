/**
 * The shape of a security-critical function's body: whether it was reduced to an unconditional
 * return (`return True`, `return input`, `pass`, `{}`, or a return before the real checks),
 * and how many checks it makes (throw/raise, `return false`, calls to verify/validate/compare
 * functions, asserts). Names decide what is security-critical: auth, verify, token, password,
 * crypto, permission, sanitise and their kin.
 *
 * @example
 * isSecurityName('Auth.verify_token') // true
 * bodyShape(parseFragment('a.py', 'function', 'def verify(t):\n    return True')!)?.hollow // 'return-constant'
 */
import type { SyntaxNode } from './languages.js'
import type { Fragment } from './review-syntax.js'

const SECURITY_NAME = /(auth|verif|token|passw|pwd|crypt|cipher|permission|permit|sanitiz|sanitis|escape|csrf|xss|signature|^sign|_sign|hmac|acl|access|login|session|credential|secret|validat|guard|polic|role|admin|allowed|jwt|otp|mfa|nonce|integrity|trust)/i
const FUNCTIONS = ['function_declaration', 'generator_function_declaration', 'function_definition', 'method_definition', 'arrow_function', 'function_expression', 'function']
const CONSTANTS = new Set(['true', 'false', 'null', 'undefined', 'none', 'number', 'integer', 'float', 'string', 'identifier', 'object', 'dictionary', 'this', 'self'])
const CHECK_CALL = /(verif|validat|check|compare_digest|timingsafeequal|hmac|authori[sz]|assert|escape|sanitiz|is_?valid|has_?perm|ensure|require_|bcrypt|argon|scrypt)/i

/** How a function body lost its logic, if it did. */
export type Hollow = 'empty' | 'pass' | 'return-constant' | 'early-return'

/** What review needs to know about a function body. */
export interface BodyShape {
  statements: number
  hollow: Hollow | null
  guards: number
  /** Offset of the statement that makes it hollow (or of the body). */
  index: number
}

/** Whether a unit's own name (the last part of a qualified name) marks it security-critical. */
export function isSecurityName (qualified: string): boolean {
  const local = qualified.split('.').pop() ?? qualified
  return SECURITY_NAME.test(local)
}

function statementsOf (body: SyntaxNode, python: boolean): SyntaxNode[] {
  const list = body.namedChildren.filter((n) => n.type !== 'comment' && n.type !== 'empty_statement')
  // A leading docstring documents; it does not check anything.
  if (python && list[0]?.type === 'expression_statement' && list[0].namedChild(0)?.type === 'string') return list.slice(1)
  return list
}

function isConstant (n: SyntaxNode | null): boolean {
  if (n === null) return true
  if (n.type === 'parenthesized_expression') return isConstant(n.namedChild(0))
  if (n.type === 'object' || n.type === 'dictionary') return n.namedChildren.every((p) => p.type === 'comment' || isConstant(p.childForFieldName('value')))
  return CONSTANTS.has(n.type)
}

function returnsConstant (stmt: SyntaxNode): boolean {
  return stmt.type === 'return_statement' && isConstant(stmt.namedChildren.find((c) => c.type !== 'comment') ?? null)
}

/** `return next()` or `next()` as a statement: middleware that lets the request through. */
function callsNext (stmt: SyntaxNode): boolean {
  const v = stmt.namedChildren.find((c) => c.type !== 'comment')
  return (stmt.type === 'return_statement' || stmt.type === 'expression_statement') && v?.type === 'call_expression' && v.childForFieldName('function')?.text === 'next'
}

function guardsIn (body: SyntaxNode): number {
  let n = body.descendantsOfType(['throw_statement', 'raise_statement', 'assert_statement']).length
  for (const r of body.descendantsOfType('return_statement')) {
    const v = r.namedChild(0)?.type
    if (v === 'false' || v === 'none' || v === 'null') n++
  }
  for (const call of body.descendantsOfType(['call_expression', 'call'])) {
    const fn = call.childForFieldName('function')
    if (fn !== null && CHECK_CALL.test(fn.text)) n++
  }
  return n
}

/** The shape of the first (outermost) function in a fragment, or null if it has none. */
export function bodyShape (f: Fragment): BodyShape | null {
  const fn = f.tree.rootNode.descendantsOfType(FUNCTIONS).find((n) => n.childForFieldName('body') !== null)
  const body = fn?.childForFieldName('body') ?? null
  if (body === null) return null
  const python = f.lang === 'python'
  if (body.type !== 'statement_block' && body.type !== 'block') {
    // An arrow function with an expression body returns that expression.
    return { statements: 1, hollow: isConstant(body) ? 'return-constant' : null, guards: guardsIn(body), index: body.startIndex }
  }
  const stmts = statementsOf(body, python)
  const first = stmts[0]
  let hollow: Hollow | null = null
  if (first === undefined) hollow = 'empty'
  else if (stmts.every((s) => s.type === 'pass_statement' || (s.type === 'expression_statement' && s.namedChild(0)?.type === 'ellipsis'))) hollow = 'pass'
  else if (returnsConstant(first)) hollow = stmts.length === 1 ? 'return-constant' : 'early-return'
  else if (stmts.length > 1 && callsNext(first)) hollow = 'early-return'
  return { statements: stmts.length, hollow, guards: guardsIn(body), index: first?.startIndex ?? body.startIndex }
}
