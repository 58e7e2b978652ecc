/**
 * Record-level checks that look at several units at once: guards dropped from where they are
 * applied (a decorator such as `@login_required`, a route's middleware, a FastAPI
 * `Depends(...)`, `permission_classes`, `@UseGuards`), and tests weakened en masse (assertions
 * replaced by trivially true ones, suites skipped). Both compare the record's old texts with
 * its new ones, so moving a guard to a router-wide `use(...)` or to a mixin is not a removal.
 *
 * @example
 * guardUses('routes/a.js', fragment) // ['requireAuth', 'requireAdmin']
 * testStrength('test/a.test.ts', fragment) // { trivial: 0, skipped: 0, assertions: 4 }
 */
import type { SyntaxNode } from './languages.js'
import { nodesOf, type Fragment } from './review-syntax.js'

/** Names that guard by convention in the common frameworks (decorators, middleware, dependencies, mixins). */
const GUARD_NAME = /^(login_required|permission_required|user_passes_test|staff_member_required|superuser_required|csrf_protect|jwt_required|fresh_jwt_required|roles?_required|roles_accepted|auth_required|requires?_\w+|require[A-Z]\w*|ensure(LoggedIn|Authenticated|Auth\w*|Admin\w*)|is_?authenticated|isAuthenticated|authenticate\w*|authorize\w*|auth(Middleware|Guard|enticated)?|verify[A-Z_]\w*|check[A-Z_]\w*|\w*Guard|LoginRequired\w*|PermissionRequired\w*|UserPassesTest\w*|IsAuthenticated\w*|IsAdminUser|IsOwner\w*|passport\.authenticate|protect\w*|requireAuth\w*|hasRole|hasPermission|admin_required|rate_?limit\w*|csrf\w*)$/
const ROUTE_CALL = /\.(get|post|put|patch|delete|all|use|route|options|head|before_request|before_app_request|addHook|add_middleware|middleware|register_middleware)$/
/** Calls that apply a guard to every request of an app or router (`app.use(auth)`, `app.before_request(check)`). */
const REGISTRATION = /\.(use|before_request|before_app_request|addHook|add_middleware|middleware|register_middleware)$/
const TEST_PATH = /(^|\/)(tests?|__tests__|spec|specs|fixtures?|e2e)\/|\.(test|spec)\.[cm]?[jt]sx?$|(^|\/)test_[^/]*\.py$|_test\.py$|(^|\/)conftest\.py$/

/** Whether a path is a test file or test fixture (one place for the review's rules). */
export function isTestPath (path: string): boolean {
  return TEST_PATH.test(path)
}

/** One place a guard is applied. */
export interface GuardUse { name: string, registration: boolean }

function leadName (n: SyntaxNode): string {
  // `permission_required('x')` → permission_required; `passport.authenticate('jwt')` → passport.authenticate.
  const callee = n.type === 'call' || n.type === 'call_expression' ? n.childForFieldName('function') : n
  return (callee ?? n).text
}

/** Guards applied in a fragment: decorators, route middleware, `Depends(...)`, permission classes, mixins. */
export function guardUses (f: Fragment, known: (name: string) => boolean): GuardUse[] {
  const out: GuardUse[] = []
  const isGuard = (name: string): boolean => GUARD_NAME.test(name) || GUARD_NAME.test(name.split('.').pop() ?? '') || known(name)
  for (const d of nodesOf(f, 'decorator')) {
    const expr = d.namedChild(0)
    if (expr === null) continue
    const name = leadName(expr)
    if (isGuard(name)) out.push({ name, registration: false })
    for (const arg of expr.descendantsOfType(['identifier', 'attribute', 'member_expression'])) {
      if (arg.parent?.type === 'call' && arg.parent.childForFieldName('function')?.id === arg.id) continue
      if (arg.id !== expr.childForFieldName('function')?.id && isGuard(arg.text) && arg.text !== name) out.push({ name: arg.text, registration: false })
    }
  }
  for (const c of nodesOf(f, ['call', 'call_expression'])) {
    const callee = c.childForFieldName('function')?.text ?? ''
    const args = c.childForFieldName('arguments')?.namedChildren ?? []
    if (callee === 'Depends' || callee.endsWith('.Depends')) {
      const a = args[0]
      if (a !== undefined && c.parent?.parent?.type !== 'decorator') out.push({ name: leadName(a), registration: false })
      continue
    }
    if (!ROUTE_CALL.test(callee) || c.parent?.type === 'decorator') continue
    const registration = REGISTRATION.test(callee) && (args.every((a) => a.type !== 'string') || /addHook$/.test(callee))
    for (const a of args.slice(0, registration ? args.length : -1)) {
      const name = leadName(a)
      if ((a.type === 'identifier' || a.type === 'member_expression' || a.type === 'call_expression') && isGuard(name)) out.push({ name, registration })
    }
  }
  for (const a of nodesOf(f, ['assignment', 'public_field_definition', 'field_definition'])) {
    const left = (a.childForFieldName('left') ?? a.childForFieldName('name') ?? a.childForFieldName('property'))?.text ?? ''
    if (!/permission_classes|authentication_classes|guards/.test(left)) continue
    for (const id of a.descendantsOfType(['identifier', 'attribute'])) if (id.text !== left && isGuard(id.text)) out.push({ name: id.text, registration: false })
  }
  for (const cls of nodesOf(f, 'class_definition')) {
    for (const b of cls.childForFieldName('superclasses')?.namedChildren ?? []) if (isGuard(b.text)) out.push({ name: b.text, registration: false })
  }
  return out
}

/** How strong a test file's checks are. */
export interface TestStrength { assertions: number, trivial: number, skipped: number }

/** Counts assertions, trivially true ones and skipped tests in a test fragment. */
export function testStrength (f: Fragment): TestStrength {
  const s: TestStrength = { assertions: 0, trivial: 0, skipped: 0 }
  if (f.lang === 'python') {
    for (const a of nodesOf(f, 'assert_statement')) {
      s.assertions++
      const e = a.namedChild(0)
      if (e === null) continue
      if (['true', 'integer', 'string'].includes(e.type)) s.trivial++
      else if (e.type === 'comparison_operator' && e.namedChildren.every((x) => ['integer', 'string', 'true', 'false', 'none', 'float'].includes(x.type))) s.trivial++
      else if (e.type === 'boolean_operator' && e.namedChildren.some((x) => x.type === 'true')) s.trivial++
    }
    for (const c of nodesOf(f, 'call')) {
      const callee = c.childForFieldName('function')?.text ?? ''
      if (/^self\.assert/.test(callee)) {
        s.assertions++
        const args = c.childForFieldName('arguments')?.namedChildren ?? []
        if (args.every((x) => ['true', 'integer', 'string', 'false', 'none'].includes(x.type))) s.trivial++
      }
    }
    for (const d of nodesOf(f, 'decorator')) if (/(mark\.skip\b|unittest\.skip\b|@skip\b)/.test(d.text) && !/reason=/.test(d.text)) s.skipped++
    return s
  }
  for (const c of nodesOf(f, 'call_expression')) {
    const fn = c.childForFieldName('function')
    if (fn === null) continue
    if (/^(it|test|describe)\.skip$|^x(it|test|describe)$/.test(fn.text)) s.skipped++
    if (fn.type !== 'member_expression') continue
    // expect(x).matcher(...): find the expect(...) at the root of the chain.
    let obj = fn.childForFieldName('object')
    while (obj !== null && obj.type === 'member_expression') obj = obj.childForFieldName('object')
    if (obj?.type !== 'call_expression' || obj.childForFieldName('function')?.text !== 'expect') continue
    if (fn.childForFieldName('object')?.type === 'call_expression' || fn.childForFieldName('object')?.type === 'member_expression') {
      s.assertions++
      const subject = obj.childForFieldName('arguments')?.namedChild(0)
      const matcher = fn.childForFieldName('property')?.text ?? ''
      if (subject === undefined || subject === null || ['true', 'false', 'number', 'string', 'null'].includes(subject.type) || matcher === 'toBeDefined') s.trivial++
    }
  }
  return s
}
