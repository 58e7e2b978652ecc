/**
 * Ranking a way out of the process by what flows into it: a simple intra-function data flow on
 * the tree-sitter tree. Each name's definitions in the unit (and in its module) are followed a
 * few steps back from a sink's arguments; when they reach credentials, tokens, sessions,
 * cookies, browser storage, credential files, the whole environment or a secret-named variable,
 * the sink "carries" that source. Credentials sent as credentials (an `Authorization` header,
 * `auth=`) are how APIs are used, not a leak, and are left out. The destination (a literal URL
 * or address) and the command (for processes) decide the rest of the rank.
 *
 * @example
 * rankUse(use, fragment, defsOf(fragment), { knownText: before }) // { severity: 'high', source: 'process.env', ... }
 */
import type { SyntaxNode } from './languages.js'
import type { NetworkUse } from './review-network.js'
import { literalValue, nodesOf, type Fragment } from './review-syntax.js'

/** A name's definitions in a fragment: the texts assigned to it. */
export type Defs = Map<string, string[]>

/** How urgent a use is, and why. */
export interface Ranked {
  severity: 'high' | 'medium' | 'low'
  /** The data source that flows into the sink, if any (`process.env`, `password`, `~/.ssh`). */
  source: string | null
  /** The destination as written (URL, host, address, path, command), if literal. */
  destination: string | null
  /** One line on why this rank. */
  why: string
}

const ENV_DUMP = /process\.env\s*(?:[),}\]]|$)|\.\.\.process\.env|Object\.(?:entries|keys|values|assign)\([^)]*process\.env|os\.environ\.(?:items|copy|keys|values)\(|dict\(\s*os\.environ\s*\)|\$\(env\)|\bprintenv\b/
const ENV_SECRET = /(?:process\.env|os\.environ|os\.getenv|getenv|\benv)\s*[.[(]\s*(?:get\(\s*)?['"]?([A-Za-z0-9_]*(?:TOKEN|SECRET|KEY|PASS|PWD|CREDENTIAL|AUTH|DATABASE_URL|DSN|PRIVATE|SESSION|COOKIE)[A-Za-z0-9_]*)/
const FILE_SOURCE = /\.ssh\b|id_rsa|id_ed25519|\.aws\/credentials|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.docker\/config|\/etc\/passwd|\/etc\/shadow|\.kube\/config|Login Data|wallet\.dat/
const BROWSER_SOURCE = /document\.cookie|localStorage|sessionStorage|indexedDB/
const SECRET_WORD = /^(?:.*[_.])?(?:token|secret|passw\w*|pwd|credentials?|api_?key|apikey|private_?key|session(?:id)?|sid|cookies?|cvv|cvc|card_?number|cardnumber|mnemonic|otp)$|(?:Token|Secret|Password|Passwd|Credential|ApiKey|PrivateKey|Session|Cookie|Cvv)s?$/
/** Keys whose value is a credential used as one (sent to the service it belongs to). */
const CREDENTIAL_USE = /^['"]?(?:headers|authorization|auth|x-api-key|cert|proxy_auth)['"]?$/i
const NET_TOOLS = /\b(?:curl|wget|nc|ncat|netcat|bash|sh|zsh|powershell(?:\.exe)?|pwsh|mshta|certutil|bitsadmin|Invoke-\w+|chmod\s+\+x|base64|python[23]?\s+-c|perl\s+-e|\/dev\/tcp)\b/i
const OUTSIDE = /homedir\(\)|os\.homedir|expanduser|~\/|\$HOME|process\.env\.HOME|['"`]\/(?:etc|usr|bin|sbin|home|root|var\/spool|Library)\/|\.bashrc|\.zshrc|\.profile|\.bash_profile|authorized_keys|crontab|LaunchAgents|AppData|\\Startup/
const URL_RE = /\b(?:https?|wss?|ftp):\/\/([^/\s'"`:?#$]+)/i
const IP_RE = /\b(\d{1,3}(?:\.\d{1,3}){3})\b/
const LOOPBACK = /^(?:127\.|0\.0\.0\.0$|localhost$|\[?::1\]?$)/
/** Official API hosts of common services: a call there is the service being used. */
const WELL_KNOWN = /(?:^|\.)(?:api\.github\.com|github\.com|registry\.npmjs\.org|pypi\.org|googleapis\.com|amazonaws\.com|api\.stripe\.com|slack\.com|api\.openai\.com|login\.microsoftonline\.com)$/
const WRITE_MODE = /^[rbt]*[wax+]/

/**
 * Definitions of the names in a fragment: declarations, assignments (including `x[k] = v`),
 * loop and `with` targets.
 */
export function defsOf (f: Fragment | null): Defs {
  const defs: Defs = new Map()
  if (f === null) return defs
  const add = (name: SyntaxNode | null, value: SyntaxNode | null): void => {
    if (name === null || value === null) return
    let n: SyntaxNode | null = name
    while (n !== null && (n.type === 'subscript' || n.type === 'subscript_expression')) n = n.childForFieldName(n.type === 'subscript' ? 'value' : 'object')
    if (n === null) return
    const names = n.type === 'identifier' ? [n.text] : n.descendantsOfType(['identifier', 'shorthand_property_identifier_pattern']).map((x) => x.text)
    for (const id of names) defs.set(id, [...(defs.get(id) ?? []), value.text.slice(0, 2000)])
  }
  for (const n of nodesOf(f, ['variable_declarator', 'assignment', 'assignment_expression', 'augmented_assignment', 'augmented_assignment_expression', 'for_statement', 'for_in_statement', 'as_pattern'])) {
    switch (n.type) {
      case 'variable_declarator': add(n.childForFieldName('name'), n.childForFieldName('value')); break
      case 'for_statement': if (f.lang === 'python') add(n.childForFieldName('left'), n.childForFieldName('right')); break
      case 'for_in_statement': add(n.childForFieldName('left'), n.childForFieldName('right')); break
      case 'as_pattern': add(n.namedChildren[1] ?? null, n.namedChildren[0] ?? null); break
      default: add(n.childForFieldName('left'), n.childForFieldName('right'))
    }
  }
  return defs
}

/** A text plus the definitions of the names in it, followed up to four steps (bounded). */
export function expand (text: string, defs: Defs): string {
  let out = text
  let frontier = text
  const seen = new Set<string>()
  for (let step = 0; step < 4 && out.length < 20000; step++) {
    let next = ''
    for (const m of frontier.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)) {
      const id = m[0]
      if (seen.has(id)) continue
      seen.add(id)
      for (const d of defs.get(id) ?? []) next += '\n' + d
    }
    if (next === '') break
    out += next
    frontier = next
  }
  return out
}

/** A node's text without the parts that pass credentials as credentials (headers, `auth=`). */
function payloadText (node: SyntaxNode): string {
  const cut: Array<[number, number]> = []
  for (const p of node.descendantsOfType(['pair', 'keyword_argument'])) {
    const key = p.childForFieldName(p.type === 'pair' ? 'key' : 'name')
    if (key !== null && CREDENTIAL_USE.test(key.text)) cut.push([p.startIndex, p.endIndex])
  }
  // `headers: { Authorization: ... }` nested in an options object is cut once, at the outer pair.
  let text = ''
  let at = node.startIndex
  for (const [s, e] of cut.sort((a, b) => a[0] - b[0])) {
    if (s < at) continue
    text += node.text.slice(at - node.startIndex, s - node.startIndex)
    at = e
  }
  return text + node.text.slice(at - node.startIndex)
}

/** The data source a text reaches, if it reaches one. */
export function secretSource (text: string): string | null {
  const env = ENV_DUMP.exec(text)
  if (env !== null) return 'the whole environment'
  const envVar = ENV_SECRET.exec(text)
  if (envVar !== null) return `environment variable ${envVar[1]}`
  const file = FILE_SOURCE.exec(text)
  if (file !== null) return `credential file ${file[0]}`
  const browser = BROWSER_SOURCE.exec(text)
  if (browser !== null) return browser[0]
  for (const m of text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)*/g)) {
    const last = m[0].split('.').pop() as string
    if (SECRET_WORD.test(last) && !/^(?:get|set|has|is|create|new)/.test(last)) return m[0]
  }
  return null
}

function argumentsOf (u: NetworkUse): SyntaxNode[] {
  const n = u.node
  if (n === null) return []
  if (n.type === 'assignment_expression') return [n.childForFieldName('right') as SyntaxNode]
  const args = n.childForFieldName('arguments')
  return args === null ? [] : args.namedChildren
}

function destinationOf (text: string): { dest: string, host: string | null } | null {
  const url = URL_RE.exec(text)
  if (url !== null) return { dest: url[0], host: url[1].toLowerCase() }
  const ip = IP_RE.exec(text)
  if (ip !== null) return { dest: ip[1], host: ip[1] }
  return null
}

/** What a reviewer already knew: the unit's and module's previous texts, to tell a new host from a known one. */
export interface RankContext { knownText: string }

/** The rank of a use; null when the use is harmless by construction (a read, a write inside the workspace). */
export function rankUse (u: NetworkUse, f: Fragment, defs: Defs, ctx: RankContext): Ranked | null {
  const args = argumentsOf(u)
  const literalArgs = args.map((a) => a.text).join(' ')
  const flow = expand(args.map(payloadText).join('\n'), defs)
  const source = u.category === 'code' || u.category === 'file' ? null : secretSource(flow)
  const d = destinationOf(expand(literalArgs, defs))
  const host = d?.host ?? null
  const loopback = host !== null && LOOPBACK.test(host)
  const dest = d?.dest ?? null
  if (u.category === 'file') {
    if (u.key === 'open') {
      const mode = args[1] ?? args.find((a) => a.type === 'keyword_argument' && a.childForFieldName('name')?.text === 'mode')?.childForFieldName('value')
      if (mode === undefined || mode === null || mode.type !== 'string' || !WRITE_MODE.test(literalValue(mode))) return null
    }
    const target = expand(args[u.key.startsWith('shutil') ? 1 : 0]?.text ?? '', defs)
    const outside = OUTSIDE.exec(target)
    if (outside === null) return null
    return { severity: 'high', source: null, destination: outside[0], why: `writes to ${outside[0]}, outside the workspace` }
  }
  if (source !== null && !loopback) return { severity: 'high', source, destination: dest, why: `sends ${source}${dest === null ? '' : ` to ${dest}`}` }
  switch (u.category) {
    case 'process': {
      const tool = NET_TOOLS.exec(expand(literalArgs, defs))
      if (tool !== null) return { severity: 'high', source: null, destination: literalArgs.slice(0, 120), why: `runs ${tool[0]}` }
      const first = args[0]
      const shell = /shell\s*=\s*True/.test(literalArgs) || /\.(?:exec|execSync|system|popen|getoutput)$/.test(u.key) || u.key.endsWith('create_subprocess_shell')
      const fixed = first !== undefined && (first.type === 'string' || ((first.type === 'list' || first.type === 'array') && first.namedChild(0)?.type === 'string'))
      if (shell && !fixed) return { severity: 'medium', source: null, destination: null, why: 'runs a shell command built at run time' }
      if (!fixed) return { severity: 'medium', source: null, destination: null, why: 'runs a program whose name is computed' }
      return { severity: 'low', source: null, destination: first.text.slice(0, 80), why: 'runs a fixed local program' }
    }
    case 'code': {
      const first = args[0]
      // `compile` only prepares what `eval`/`exec` run (flagged there).
      if (u.key === 'compile') return null
      if (u.key.endsWith('import_module') || u.key === '__import__') {
        if (first !== undefined && first.type === 'string' && !/^\{/.test(literalValue(first))) return null
        return { severity: 'high', source: null, destination: null, why: 'imports a module whose name is computed at run time' }
      }
      if (u.key.startsWith('import(') || u.key.startsWith('require(')) return { severity: 'high', source: null, destination: null, why: 'loads a module whose name is computed at run time' }
      if (/^yaml\./.test(u.key)) {
        if (/SafeLoader|CSafeLoader|BaseLoader/.test(literalArgs)) return null
        return { severity: 'high', source: null, destination: null, why: 'loads YAML with a loader that can construct arbitrary objects (code execution)' }
      }
      const literal = args.length > 0 && args.every((a) => a.type === 'string' && !a.namedChildren.some((c) => c.type === 'interpolation' || c.type === 'template_substitution'))
      return literal
        ? { severity: 'medium', source: null, destination: null, why: 'evaluates code from a string' }
        : { severity: 'high', source: null, destination: null, why: 'evaluates code built or fetched at run time' }
    }
    case 'socket':
      if (host !== null && IP_RE.test(host) && !loopback) return { severity: 'high', source: null, destination: dest, why: `opens a raw connection to the literal address ${host}` }
      if (loopback) return { severity: 'low', source: null, destination: dest, why: 'connects to this machine' }
      return { severity: 'medium', source: null, destination: dest, why: 'opens a raw socket' }
    case 'dns':
      if (host !== null && !loopback && /\$\{|\{|\+/.test(literalArgs)) return { severity: 'medium', source: null, destination: dest, why: `looks up a name built from data under ${host}` }
      if (args[0]?.type === 'template_string' && args[0].namedChildren.some((c) => c.type === 'template_substitution')) return { severity: 'medium', source: null, destination: null, why: 'looks up a name built from data' }
      return { severity: 'low', source: null, destination: dest, why: 'resolves a configured name' }
    default: {
      if (host === null) return { severity: 'low', source: null, destination: dest, why: 'calls an address given at run time or on this origin' }
      if (loopback) return { severity: 'low', source: null, destination: dest, why: 'calls this machine' }
      if (IP_RE.test(host)) return { severity: 'high', source: null, destination: dest, why: `calls the literal address ${host}` }
      if (ctx.knownText.includes(host)) return { severity: 'low', source: null, destination: dest, why: `calls ${host}, already called here before` }
      if (WELL_KNOWN.test(host)) return { severity: 'low', source: null, destination: dest, why: `calls the official API ${host}` }
      return { severity: 'medium', source: null, destination: dest, why: `calls a new external host ${host}` }
    }
  }
}
