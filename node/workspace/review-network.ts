/**
 * Network and process calls, found in the syntax tree (never in comments or strings):
 * fetch/http/https/net/dgram/tls/WebSocket/child_process in JavaScript and TypeScript;
 * requests/urllib/http.client/socket/subprocess (and os.system) in Python. A call counts when
 * its callee is one of these modules (seen through this file's imports, or by its usual name),
 * a global such as `fetch`, or a name imported from one of them.
 *
 * @example
 * networkUses(fragment, importBindings(moduleFragment)) // [{ key: 'child_process.exec', ... }]
 */
import type { SyntaxNode } from './languages.js'
import { literalValue, type Fragment } from './review-syntax.js'

/** What a call reaches: another process, a raw socket, or an HTTP(S)/WebSocket endpoint. */
export type NetworkCategory = 'process' | 'socket' | 'http'

/** One network or process call (or an import of such a module) in a fragment. */
export interface NetworkUse {
  /** Stable key for counting: `child_process.exec`, `fetch`, `import:subprocess`. */
  key: string
  category: NetworkCategory
  /** Offset in the fragment's source. */
  index: number
  isImport: boolean
}

const JS_MODULES: Record<string, NetworkCategory> = {
  child_process: 'process',
  net: 'socket',
  dgram: 'socket',
  tls: 'socket',
  http: 'http',
  https: 'http',
  http2: 'http',
  axios: 'http',
  'node-fetch': 'http',
  undici: 'http',
  got: 'http',
  ws: 'http',
  superagent: 'http',
  request: 'http'
}

const PY_MODULES: Record<string, NetworkCategory> = {
  subprocess: 'process',
  socket: 'socket',
  requests: 'http',
  urllib: 'http',
  'urllib.request': 'http',
  urllib3: 'http',
  'http.client': 'http',
  httplib: 'http',
  httpx: 'http',
  aiohttp: 'http',
  ftplib: 'socket',
  smtplib: 'socket',
  telnetlib: 'socket',
  paramiko: 'socket',
  pycurl: 'http'
}

const JS_GLOBALS: Record<string, NetworkCategory> = { fetch: 'http', WebSocket: 'http', XMLHttpRequest: 'http', EventSource: 'http' }
const OS_PROCESS = /^(system|popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?)$/

function pythonCategory (dotted: string): NetworkCategory | null {
  const parts = dotted.split('.')
  for (let i = parts.length; i > 0; i--) {
    const c = PY_MODULES[parts.slice(0, i).join('.')]
    if (c !== undefined) return c
  }
  return null
}

function moduleCategory (f: Fragment, module: string): NetworkCategory | null {
  return f.lang === 'python' ? pythonCategory(module) : JS_MODULES[module.replace(/^node:/, '')] ?? null
}

/** What a local name stands for: a module, or one member imported from it. */
export interface Binding { module: string, member: string | null }

/** Local names bound to modules by the imports in a fragment (usually the module unit). */
export function importBindings (f: Fragment | null): Map<string, Binding> {
  const out = new Map<string, Binding>()
  if (f === null) return out
  if (f.lang === 'python') {
    for (const s of f.tree.rootNode.descendantsOfType(['import_statement', 'import_from_statement'])) {
      const from = s.childForFieldName('module_name')?.text
      for (const n of s.childrenForFieldName('name')) {
        const alias = n.type === 'aliased_import' ? n.childForFieldName('alias')?.text : undefined
        const dotted = n.type === 'aliased_import' ? n.childForFieldName('name')?.text ?? '' : n.text
        if (from !== undefined) out.set(alias ?? dotted, { module: from, member: dotted })
        else if (alias !== undefined) out.set(alias, { module: dotted, member: null })
        else out.set(dotted.split('.')[0], { module: dotted.split('.')[0], member: null })
      }
    }
    return out
  }
  for (const s of f.tree.rootNode.descendantsOfType('import_statement')) {
    const src = s.childForFieldName('source')
    if (src === null) continue
    const module = literalValue(src)
    for (const spec of s.descendantsOfType('import_specifier')) {
      const name = spec.childForFieldName('name')
      const alias = spec.childForFieldName('alias')
      if (name !== null) out.set((alias ?? name).text, { module, member: name.text })
    }
    for (const clause of s.descendantsOfType(['import_clause', 'namespace_import'])) {
      for (const id of clause.namedChildren) if (id.type === 'identifier') out.set(id.text, { module, member: null })
    }
  }
  for (const call of f.tree.rootNode.descendantsOfType('call_expression')) {
    const module = requiredModule(call)
    const decl = call.parent
    if (module === null || decl?.type !== 'variable_declarator') continue
    const name = decl.childForFieldName('name')
    if (name === null) continue
    if (name.type === 'identifier') { out.set(name.text, { module, member: null }); continue }
    for (const p of name.namedChildren) {
      if (p.type === 'shorthand_property_identifier_pattern') out.set(p.text, { module, member: p.text })
      if (p.type === 'pair_pattern') {
        const key = p.childForFieldName('key')
        const value = p.childForFieldName('value')
        if (key !== null && value?.type === 'identifier') out.set(value.text, { module, member: key.text })
      }
    }
  }
  return out
}

/** `require('m')` or `import('m')` → 'm'. */
function requiredModule (call: SyntaxNode): string | null {
  const fn = call.childForFieldName('function')
  if (fn === null || (fn.text !== 'require' && fn.type !== 'import')) return null
  const arg = call.childForFieldName('arguments')?.namedChild(0)
  return arg?.type === 'string' ? literalValue(arg) : null
}

/** The callee as a chain: `a.b.c` → ['a','b','c']; a `require('m')` root becomes 'require:m'. */
function chain (node: SyntaxNode): string[] | null {
  if (node.type === 'identifier') return [node.text]
  if (node.type === 'member_expression' || node.type === 'attribute') {
    const obj = node.childForFieldName('object')
    const prop = node.childForFieldName(node.type === 'attribute' ? 'attribute' : 'property')
    if (obj === null || prop === null) return null
    const head = obj.type === 'call_expression' && requiredModule(obj) !== null ? [`require:${requiredModule(obj) as string}`] : chain(obj)
    return head === null ? null : [...head, prop.text]
  }
  if (node.type === 'parenthesized_expression') return node.namedChild(0) === null ? null : chain(node.namedChild(0) as SyntaxNode)
  return null
}

function classify (f: Fragment, names: string[], bindings: Map<string, Binding>): { key: string, category: NetworkCategory } | null {
  const [root, ...rest] = names
  if (root.startsWith('require:')) {
    const m = root.slice('require:'.length)
    const c = moduleCategory(f, m)
    return c === null ? null : { key: [m.replace(/^node:/, ''), ...rest].join('.'), category: c }
  }
  const b = bindings.get(root)
  // The full dotted name the call reaches, through this file's imports.
  const target = b === undefined ? names : [b.module.replace(/^node:/, ''), ...(b.member === null ? [] : [b.member]), ...rest]
  const key = target.join('.')
  if (f.lang === 'python') {
    if (target[0] === 'os' && target.length === 2 && OS_PROCESS.test(target[1])) return { key, category: 'process' }
    const c = target.length > 1 || b !== undefined ? pythonCategory(key) : null
    return c === null ? null : { key, category: c }
  }
  if (b !== undefined) {
    const c = moduleCategory(f, b.module)
    return c === null ? null : { key, category: c }
  }
  if (rest.length === 0 && JS_GLOBALS[root] !== undefined) return { key: root, category: JS_GLOBALS[root] }
  if (rest.length === 1 && (root === 'window' || root === 'globalThis' || root === 'self') && JS_GLOBALS[rest[0]] !== undefined) return { key: rest[0], category: JS_GLOBALS[rest[0]] }
  if (rest.length === 1 && root === 'navigator' && rest[0] === 'sendBeacon') return { key: 'navigator.sendBeacon', category: 'http' }
  // Usual module names count even when the import is elsewhere (`http.get(...)`); names that
  // are also common variables (`request`, `ws`) need their import.
  const c = rest.length > 0 && root !== 'request' && root !== 'ws' ? JS_MODULES[root] ?? null : null
  return c === null ? null : { key, category: c }
}

/** Every network or process call and import in a fragment. */
export function networkUses (f: Fragment, bindings: Map<string, Binding>): NetworkUse[] {
  const uses: NetworkUse[] = []
  const root = f.tree.rootNode
  if (f.lang === 'python') {
    for (const call of root.descendantsOfType('call')) {
      const fn = call.childForFieldName('function')
      const names = fn === null ? null : chain(fn)
      const c = names === null ? null : classify(f, names, bindings)
      if (c !== null) uses.push({ ...c, index: call.startIndex, isImport: false })
    }
    for (const s of root.descendantsOfType(['import_statement', 'import_from_statement'])) {
      const modules = s.type === 'import_from_statement'
        ? [s.childForFieldName('module_name')?.text ?? '']
        : s.childrenForFieldName('name').map((n) => (n.type === 'aliased_import' ? n.childForFieldName('name')?.text : n.text) ?? '')
      for (const m of modules) {
        const c = moduleCategory(f, m)
        if (c !== null) uses.push({ key: `import:${m}`, category: c, index: s.startIndex, isImport: true })
      }
    }
    return uses
  }
  for (const call of root.descendantsOfType(['call_expression', 'new_expression'])) {
    const required = call.type === 'call_expression' ? requiredModule(call) : null
    if (required !== null) {
      const c = moduleCategory(f, required)
      if (c !== null) uses.push({ key: `import:${required.replace(/^node:/, '')}`, category: c, index: call.startIndex, isImport: true })
      continue
    }
    const fn = call.childForFieldName(call.type === 'new_expression' ? 'constructor' : 'function')
    const names = fn === null ? null : chain(fn)
    const c = names === null ? null : classify(f, names, bindings)
    if (c !== null) uses.push({ ...c, index: call.startIndex, isImport: false })
  }
  for (const s of root.descendantsOfType('import_statement')) {
    const src = s.childForFieldName('source')
    const m = src === null ? '' : literalValue(src)
    const c = moduleCategory(f, m)
    if (c !== null) uses.push({ key: `import:${m.replace(/^node:/, '')}`, category: c, index: s.startIndex, isImport: true })
  }
  return uses
}
