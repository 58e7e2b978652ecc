/**
 * Ways out of the process, found in the syntax tree (never in comments or strings): HTTP
 * clients, raw and TLS sockets, WebSockets, DNS, UDP, subprocesses and shells, browser beacons
 * (`fetch`, `XMLHttpRequest`, `navigator.sendBeacon`, an image or script whose `src` is built
 * from data), dynamic code (`eval`, `new Function`, `vm`, `exec`, `import`/`require` of a
 * computed name, unpickling) and writes to paths outside the workspace, in TypeScript, TSX,
 * JavaScript and Python. A call counts when its callee reaches one of the known modules (through
 * this file's imports, or by its usual name with a known member), a global, or an object made by
 * such a call (`s = socket.socket(); s.sendto(...)` belongs to the socket). Each use carries
 * what `review-flow.ts` needs to rank it: its argument nodes and, for calls on such objects,
 * the variable they came from.
 *
 * @example
 * networkUses(fragment, importBindings(moduleFragment)) // [{ key: 'child_process.exec', category: 'process', ... }]
 */
import type { SyntaxNode } from './languages.js'
import { literalValue, nodesOf, type Fragment } from './review-syntax.js'

/** What a use reaches. */
export type NetworkCategory = 'process' | 'socket' | 'http' | 'dns' | 'beacon' | 'code' | 'file'

/** One network, process, code or file use (or an import of such a module) in a fragment. */
export interface NetworkUse {
  /** Stable key for counting: `child_process.exec`, `fetch`, `import:subprocess`. */
  key: string
  category: NetworkCategory
  /** Offset in the fragment's source. */
  index: number
  isImport: boolean
  /** The call (or assignment) node, for data-flow ranking; null for imports. */
  node: SyntaxNode | null
  /** For a call on an object made by another use: that object's variable. */
  via: string | null
  /** The variable this use's result is assigned to, if any (`s = socket.socket()`). */
  boundTo: string | null
}

interface ModuleSpec { category: NetworkCategory, members?: RegExp, byCategory?: Array<[RegExp, NetworkCategory]> }

const JS_MODULES: Record<string, ModuleSpec> = {
  child_process: { category: 'process', members: /^(exec|execSync|execFile|execFileSync|spawn|spawnSync|fork)$/ },
  execa: { category: 'process' },
  shelljs: { category: 'process', members: /^(exec)$/ },
  'cross-spawn': { category: 'process' },
  zx: { category: 'process' },
  'node-pty': { category: 'process', members: /^spawn$/ },
  net: { category: 'socket', members: /^(connect|createConnection|Socket)$/ },
  tls: { category: 'socket', members: /^(connect|TLSSocket)$/ },
  dgram: { category: 'socket', members: /^createSocket$/ },
  dns: { category: 'dns', members: /^(resolve\w*|lookup\w*|reverse)$/ },
  'dns/promises': { category: 'dns', members: /^(resolve\w*|lookup\w*|reverse)$/ },
  http: { category: 'http', members: /^(get|request)$/ },
  https: { category: 'http', members: /^(get|request|Agent)$/ },
  http2: { category: 'http', members: /^connect$/ },
  axios: { category: 'http' },
  'node-fetch': { category: 'http' },
  'cross-fetch': { category: 'http' },
  'isomorphic-fetch': { category: 'http' },
  undici: { category: 'http', members: /^(fetch|request|stream|Client|Pool|Agent|WebSocket)$/ },
  got: { category: 'http' },
  ky: { category: 'http' },
  needle: { category: 'http' },
  phin: { category: 'http' },
  bent: { category: 'http' },
  superagent: { category: 'http' },
  request: { category: 'http' },
  ws: { category: 'http' },
  'isomorphic-ws': { category: 'http' },
  'socket.io-client': { category: 'http' },
  vm: { category: 'code', members: /^(runIn\w+|Script|compileFunction|SourceTextModule)$/ },
  'node-serialize': { category: 'code', members: /^unserialize$/ },
  fs: { category: 'file', members: /^(writeFile|writeFileSync|appendFile|appendFileSync|createWriteStream|copyFile|copyFileSync|symlink|symlinkSync)$/ },
  'fs/promises': { category: 'file', members: /^(writeFile|appendFile|copyFile|symlink)$/ },
  'fs-extra': { category: 'file', members: /^(writeFile|writeFileSync|appendFile|appendFileSync|outputFile|outputFileSync|copy|copySync)$/ }
}

const PY_MODULES: Record<string, ModuleSpec> = {
  subprocess: { category: 'process', members: /^(run|call|check_call|check_output|Popen|getoutput|getstatusoutput)$/ },
  os: { category: 'process', members: /^(system|popen|exec[lv]p?e?|spawn[lv]p?e?|posix_spawnp?|startfile)$/ },
  pty: { category: 'process', members: /^spawn$/ },
  commands: { category: 'process' },
  pexpect: { category: 'process', members: /^(spawn|run)$/ },
  asyncio: { category: 'process', members: /^(create_subprocess_exec|create_subprocess_shell|open_connection)$/, byCategory: [[/open_connection/, 'socket']] },
  socket: { category: 'socket', members: /^(socket|create_connection|socketpair|gethostbyname\w*|getaddrinfo|gethostbyaddr)$/, byCategory: [[/^(gethost|getaddrinfo)/, 'dns']] },
  ssl: { category: 'socket', members: /^(wrap_socket|create_connection)$/ },
  ftplib: { category: 'socket' },
  smtplib: { category: 'socket' },
  telnetlib: { category: 'socket' },
  paramiko: { category: 'socket' },
  requests: { category: 'http' },
  urllib: { category: 'http', members: /^(urlopen|urlretrieve|Request|build_opener)$/ },
  'urllib.request': { category: 'http', members: /^(urlopen|urlretrieve|Request|build_opener)$/ },
  urllib3: { category: 'http' },
  'http.client': { category: 'http' },
  httplib: { category: 'http' },
  httpx: { category: 'http' },
  aiohttp: { category: 'http' },
  pycurl: { category: 'http' },
  websocket: { category: 'http' },
  websockets: { category: 'http' },
  'xmlrpc.client': { category: 'http' },
  'dns.resolver': { category: 'dns' },
  importlib: { category: 'code', members: /^import_module$/ },
  pickle: { category: 'code', members: /^(loads?|Unpickler)$/ },
  marshal: { category: 'code', members: /^loads?$/ },
  dill: { category: 'code', members: /^loads?$/ },
  jsonpickle: { category: 'code', members: /^decode$/ },
  yaml: { category: 'code', members: /^(load|load_all|unsafe_load|unsafe_load_all|full_load|full_load_all)$/ },
  runpy: { category: 'code' },
  shutil: { category: 'file', members: /^(copy\w*|move)$/ }
}

const JS_GLOBALS: Record<string, NetworkCategory> = { fetch: 'http', WebSocket: 'http', XMLHttpRequest: 'http', EventSource: 'http', eval: 'code', Function: 'code' }
const PY_BUILTINS: Record<string, NetworkCategory> = { eval: 'code', exec: 'code', compile: 'code', __import__: 'code', open: 'file' }
/** Calls on an object made by a use that move data (the object's own category applies). */
const OBJECT_METHODS = /^(send|sendto|sendall|write|end|open|emit|post|get|put|patch|request|connect|urlopen|fetch|send_json|send_str|send_bytes)$/

function pySpec (dotted: string): { spec: ModuleSpec, rest: string[] } | null {
  const parts = dotted.split('.')
  for (let i = parts.length; i > 0; i--) {
    const spec = PY_MODULES[parts.slice(0, i).join('.')]
    if (spec !== undefined) return { spec, rest: parts.slice(i) }
  }
  return null
}

function jsSpec (module: string): ModuleSpec | null {
  return JS_MODULES[module.replace(/^node:/, '')] ?? null
}

/** What a local name stands for: a module, or one member imported from it. */
export interface Binding { module: string, member: string | null }

/** Local names bound to modules by the imports in a fragment (usually the module unit). */
export function importBindings (f: Fragment | null): Map<string, Binding> {
  const out = new Map<string, Binding>()
  if (f === null) return out
  if (f.lang === 'python') {
    for (const s of nodesOf(f, ['import_statement', 'import_from_statement'])) {
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
  for (const s of nodesOf(f, 'import_statement')) {
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
  for (const call of nodesOf(f, 'call_expression')) {
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
  if (node.type === 'parenthesized_expression' || node.type === 'await_expression') return node.namedChild(0) === null ? null : chain(node.namedChild(0) as SyntaxNode)
  return null
}

function fromSpec (spec: ModuleSpec, key: string, rest: string[]): { key: string, category: NetworkCategory } | null {
  const member = rest[0]
  if (spec.members !== undefined && (member === undefined || !spec.members.test(member))) {
    // `axios(...)`-style callable modules have no member list; others need a known member.
    return null
  }
  const special = member === undefined ? undefined : spec.byCategory?.find(([re]) => re.test(member))
  return { key, category: special?.[1] ?? spec.category }
}

function classify (
  f: Fragment,
  names: string[],
  bindings: Map<string, Binding>
): { key: string, category: NetworkCategory } | null {
  const [root, ...rest] = names
  if (root.startsWith('require:')) {
    const m = root.slice('require:'.length)
    const spec = f.lang === 'python' ? null : jsSpec(m)
    return spec === null ? null : fromSpec(spec, [m.replace(/^node:/, ''), ...rest].join('.'), rest)
  }
  const b = bindings.get(root)
  const target = b === undefined ? names : [b.module.replace(/^node:/, ''), ...(b.member === null ? [] : [b.member]), ...rest]
  const key = target.join('.')
  if (f.lang === 'python') {
    if (b === undefined && rest.length === 0) {
      const c = PY_BUILTINS[root]
      return c === undefined ? null : { key: root, category: c }
    }
    const found = pySpec(key)
    if (found === null) return null
    if (b === undefined && found.rest.length === 0) return null
    return fromSpec(found.spec, key, found.rest)
  }
  if (b !== undefined) {
    const spec = jsSpec(b.module)
    return spec === null ? null : fromSpec(spec, key, b.member === null ? rest : [b.member, ...rest])
  }
  if (rest.length === 0 && JS_GLOBALS[root] !== undefined) return { key: root, category: JS_GLOBALS[root] }
  if (rest.length === 1 && (root === 'window' || root === 'globalThis' || root === 'self') && JS_GLOBALS[rest[0]] !== undefined) return { key: rest[0], category: JS_GLOBALS[rest[0]] }
  if (rest.length === 1 && root === 'navigator' && rest[0] === 'sendBeacon') return { key: 'navigator.sendBeacon', category: 'beacon' }
  if (rest.length === 1 && rest[0] === '_compile') return { key: `${root}._compile`, category: 'code' }
  // Usual module names count without their import only with a member of that module's API
  // (`http.get(...)`, not a local `http.interceptors.use(...)`).
  const spec = rest.length > 0 && root !== 'request' && root !== 'ws' ? JS_MODULES[root] : undefined
  if (spec === undefined || spec.members === undefined) return null
  return fromSpec(spec, key, rest)
}

/** The variable a call's value is stored in (`x = call()`, `const x = await call()`, `with call() as x`). */
function boundName (call: SyntaxNode): string | null {
  let n: SyntaxNode = call
  while (n.parent !== null && ['await_expression', 'await', 'parenthesized_expression'].includes(n.parent.type)) n = n.parent
  const p = n.parent
  if (p === null) return null
  if (p.type === 'variable_declarator') { const id = p.childForFieldName('name'); return id?.type === 'identifier' ? id.text : null }
  if (p.type === 'assignment' || p.type === 'assignment_expression') { const id = p.childForFieldName('left'); return id?.type === 'identifier' ? id.text : null }
  if (p.type === 'as_pattern') { const t = p.namedChildren[1]; return t?.text ?? null }
  return null
}

const STATIC_PATH = /^\.{1,2}\//

/**
 * Whether an `import(x)` / `require(x)` argument is computed
 * (not a literal, nor a template under a relative directory).
 */
function computedModuleArg (arg: SyntaxNode | null): boolean {
  if (arg === null || arg.type === 'string') return false
  if (arg.type === 'template_string') return !STATIC_PATH.test(literalValue(arg))
  return true
}

/** Modules worth hiding, by their letters only: `['child', 'process'].join('_')` still spells one. */
const HIDDEN_MODULES: Array<[string, NetworkCategory, string]> = [['childprocess', 'process', 'child_process'], ['dgram', 'socket', 'dgram'], ['https', 'http', 'https'], ['nodenet', 'socket', 'net']]

function dynamicImports (f: Fragment, defs: Map<string, string>): NetworkUse[] {
  const uses: NetworkUse[] = []
  for (const call of nodesOf(f, 'call_expression')) {
    const fn = call.childForFieldName('function')
    if (fn === null || (fn.text !== 'require' && fn.type !== 'import')) continue
    const arg = call.childForFieldName('arguments')?.namedChild(0) ?? null
    if (!computedModuleArg(arg)) continue
    const kind = fn.type === 'import' ? 'import' : 'require'
    uses.push({ key: `${kind}(computed)`, category: 'code', index: call.startIndex, isImport: false, node: call, via: null, boundTo: boundName(call) })
    // What the computed name spells, from its own text and the definitions of the names in it.
    const letters = ((arg?.text ?? '') + ' ' + (arg?.type === 'identifier' ? defs.get(arg.text) ?? '' : '')).toLowerCase().replace(/[^a-z]/g, '')
    const hidden = HIDDEN_MODULES.find(([spelled]) => letters.includes(spelled))
    if (hidden !== undefined) uses.push({ key: `${kind}(computed:${hidden[2]})`, category: hidden[1], index: call.startIndex, isImport: false, node: call.parent?.type === 'member_expression' && call.parent.parent?.type === 'call_expression' ? call.parent.parent : call, via: null, boundTo: null })
  }
  return uses
}

function simpleDefs (f: Fragment): Map<string, string> {
  const out = new Map<string, string>()
  for (const d of nodesOf(f, 'variable_declarator')) {
    const n = d.childForFieldName('name')
    const v = d.childForFieldName('value')
    if (n?.type === 'identifier' && v !== null) out.set(n.text, v.text.slice(0, 500))
  }
  return out
}

/** `img.src = ...`, `script.src = ...`, `location.href = ...` with a value built from data. */
function beacons (f: Fragment): NetworkUse[] {
  const uses: NetworkUse[] = []
  for (const a of nodesOf(f, 'assignment_expression')) {
    const left = a.childForFieldName('left')
    const right = a.childForFieldName('right')
    if (left?.type !== 'member_expression' || right === null) continue
    const prop = left.childForFieldName('property')?.text
    if (prop !== 'src' && prop !== 'href') continue
    const built = right.type === 'binary_expression' || (right.type === 'template_string' && right.namedChildren.some((c) => c.type === 'template_substitution'))
    if (built) uses.push({ key: `${prop === 'src' ? 'element.src' : 'location.href'}`, category: 'beacon', index: a.startIndex, isImport: false, node: a, via: null, boundTo: null })
  }
  return uses
}

/** Every network, process, code and file use and import in a fragment. */
export function networkUses (f: Fragment, bindings: Map<string, Binding>): NetworkUse[] {
  const uses: NetworkUse[] = []
  const python = f.lang === 'python'
  const made = new Map<string, NetworkUse>()
  const calls = nodesOf(f, python ? ['call'] : ['call_expression', 'new_expression'])
  for (const call of calls) {
    const required = !python && call.type === 'call_expression' ? requiredModule(call) : null
    if (required !== null) {
      const spec = jsSpec(required)
      if (spec !== null && spec.category !== 'file') uses.push({ key: `import:${required.replace(/^node:/, '')}`, category: spec.category, index: call.startIndex, isImport: true, node: null, via: null, boundTo: null })
      continue
    }
    const fn = call.childForFieldName(call.type === 'new_expression' ? 'constructor' : 'function')
    const names = fn === null ? null : chain(fn)
    if (names === null) continue
    const c = classify(f, names, bindings)
    if (c !== null) {
      // `setTimeout('code')` aside, timers are not code; `compile` with a literal is a regex-like use.
      const u: NetworkUse = {
        ...c,
        index: call.startIndex,
        isImport: false,
        node: call,
        via: null,
        boundTo: boundName(call)
      }
      uses.push(u)
      if (u.boundTo !== null) made.set(u.boundTo, u)
      continue
    }
    if (!python && names.length === 1 && (names[0] === 'setTimeout' || names[0] === 'setInterval')) {
      const first = call.childForFieldName('arguments')?.namedChild(0)
      if (first !== undefined && first !== null && ['string', 'template_string', 'binary_expression'].includes(first.type)) {
        uses.push({ key: `${names[0]}(string)`, category: 'code', index: call.startIndex, isImport: false, node: call, via: null, boundTo: null })
      }
    }
  }
  // Calls on objects made above: `s.sendto(...)`, `x.open('POST', url)`, `c.post(...)`.
  for (const call of calls) {
    const fn = call.childForFieldName('function')
    const names = fn === null ? null : chain(fn)
    if (names === null || names.length !== 2 || !OBJECT_METHODS.test(names[1])) continue
    const origin = made.get(names[0])
    if (origin !== undefined) uses.push({ key: `${origin.key}→${names[1]}`, category: origin.category, index: call.startIndex, isImport: false, node: call, via: names[0], boundTo: null })
  }
  if (!python) uses.push(...dynamicImports(f, simpleDefs(f)), ...beacons(f))
  if (python) {
    for (const s of nodesOf(f, ['import_statement', 'import_from_statement'])) {
      const modules = s.type === 'import_from_statement'
        ? [s.childForFieldName('module_name')?.text ?? '']
        : s.childrenForFieldName('name').map((n) => (n.type === 'aliased_import' ? n.childForFieldName('name')?.text : n.text) ?? '')
      for (const m of modules) {
        const spec = PY_MODULES[m]
        if (spec !== undefined && spec.category !== 'file' && !['os', 'asyncio', 'ssl', 'yaml', 'shutil'].includes(m)) uses.push({ key: `import:${m}`, category: spec.category, index: s.startIndex, isImport: true, node: null, via: null, boundTo: null })
      }
    }
    return uses
  }
  for (const s of nodesOf(f, 'import_statement')) {
    const src = s.childForFieldName('source')
    const m = src === null ? '' : literalValue(src)
    const spec = jsSpec(m)
    if (spec !== null && spec.category !== 'file') uses.push({ key: `import:${m.replace(/^node:/, '')}`, category: spec.category, index: s.startIndex, isImport: true, node: null, via: null, boundTo: null })
  }
  return uses
}
