/**
 * Security review of recorded changes (`aura pr-review --security`): for each record in range
 * (quarantined ones included and marked), flags new ways out of the process (network, sockets,
 * DNS, processes, beacons, writes outside the workspace, install hooks) ranked by the data that
 * flows into them; dynamic code; secrets; weakened security logic (guards found by what they
 * do: deny paths removed or narrowed, bypasses, bodies reduced to "allow", verification turned
 * off, comparisons that cannot fail, guards deleted or no longer applied); tests weakened en
 * masse; and unusually large diffs. Each flag names the record, `file:function`, the rule, its
 * category, a reason, a severity, an excerpt (secrets masked) and evidence (line in the unit,
 * API, condition before/after, and the record to `aura rewind --to`). "New" compares a unit's
 * new text with its previous text, found by its before-hash in earlier records.
 *
 * @example
 * const flags = await securityReview(inRange, { history: earlier, thresholds: { files: 20, lines: 2000 }, blobs })
 */
import { getBlobText, type BlobStore } from './blob-store.js'
import { deltaPaths, type CodeDelta, type DeltaEntry } from './delta.js'
import { rankUse, defsOf, type Defs, type Ranked } from './review-flow.js'
import { bodyShape, isSecurityName } from './review-functions.js'
import { guardShape, newUnsafeLogic, removedProtections, weakenings, type Weakening } from './review-guards.js'
import { importBindings, networkUses, type Binding, type NetworkUse } from './review-network.js'
import { findSecrets, maskSecret } from './review-secrets.js'
import { excerptAt, lineAt, parseFragment, type Fragment } from './review-syntax.js'
import { guardUses, isTestPath, testStrength } from './review-usage.js'

/** How urgent a flag is. `low` is a note for the record, not an alert. */
export type Severity = 'high' | 'medium' | 'low'

/** Which check raised a flag. */
export type ReviewRule =
  | 'network-call' | 'outside-write' | 'install-hook' | 'dynamic-code' | 'secret'
  | 'security-function-deleted' | 'security-function-hollowed' | 'security-check-removed'
  | 'guard-weakened' | 'guard-bypass' | 'guard-removed' | 'verification-disabled' | 'tautology' | 'protection-removed'
  | 'tests-weakened' | 'large-diff' | 'unreviewable'

/** What a flag is about, for triage. */
export type ReviewCategory = 'exfiltration' | 'secrets' | 'weakened-logic' | 'dynamic-code' | 'large-change' | 'unreviewable'

/** The category of each rule (one place). */
export const CATEGORY_OF_RULE: Record<ReviewRule, ReviewCategory> = {
  'network-call': 'exfiltration',
  'outside-write': 'exfiltration',
  'install-hook': 'exfiltration',
  'dynamic-code': 'dynamic-code',
  secret: 'secrets',
  'security-function-deleted': 'weakened-logic',
  'security-function-hollowed': 'weakened-logic',
  'security-check-removed': 'weakened-logic',
  'guard-weakened': 'weakened-logic',
  'guard-bypass': 'weakened-logic',
  'guard-removed': 'weakened-logic',
  'verification-disabled': 'weakened-logic',
  tautology: 'weakened-logic',
  'protection-removed': 'weakened-logic',
  'tests-weakened': 'large-change',
  'large-diff': 'large-change',
  unreviewable: 'unreviewable'
}

/** Why a flag was raised, in parts a responder can act on. */
export interface Evidence {
  /** Line within the unit's text (1-based), when the finding has one. */
  line: number | null
  /** The API, detector or option involved (`requests.post`, `secretlint:github`, `verify=False`). */
  api: string | null
  /** The removed or changed condition as it was, and as it is now (null when not applicable). */
  before: string | null
  after: string | null
  /** The data source, destination or measurement behind the rank. */
  detail: string | null
  /** The record that last set this unit before the flagged one: `aura rewind --function LOCATION --to` it. */
  rewindTo: string | null
}

/** One finding. */
export interface Flag {
  recordId: string
  signer: string
  actor: string
  /** The quarantine reason when the record is not effective (kept as evidence), else null. */
  quarantined: string | null
  path: string
  name: string
  /** `file:function`, or `(record)` for whole-record findings. */
  location: string
  rule: ReviewRule
  category: ReviewCategory
  reason: string
  severity: Severity
  excerpt: string
  evidence: Evidence
}

/** A record to review (or, in `history`, to learn earlier unit texts from). */
export interface ReviewItem {
  recordId: string
  signer: string
  actor: string
  quarantined?: string | null
  delta: CodeDelta | null
}

/** `[hooks] large_diff_threshold_files` and `large_diff_threshold_lines`. */
export interface ReviewThresholds { files: number, lines: number }

/** Options for a review. */
export interface ReviewInit {
  /** From the node's config (`[hooks]`), the one place their defaults live. */
  thresholds: ReviewThresholds
  /** Records before the range, oldest first: where earlier versions of units are found. */
  history?: ReviewItem[]
  /** Where texts over 16 KiB are. */
  blobs?: BlobStore
}

/** Lines removed plus lines added between two texts (as multisets: moves within cost nothing). */
export function changedLines (before: string | null, after: string | null): number {
  const count = new Map<string, number>()
  for (const l of (before ?? '').split('\n')) if (l.trim() !== '') count.set(l.trim(), (count.get(l.trim()) ?? 0) + 1)
  let added = 0
  for (const l of (after ?? '').split('\n')) {
    const k = l.trim()
    if (k === '') continue
    const n = count.get(k) ?? 0
    if (n > 0) count.set(k, n - 1)
    else added++
  }
  let removed = 0
  for (const n of count.values()) removed += n
  return added + removed
}

const SINK_RULE = { process: 'network-call', socket: 'network-call', http: 'network-call', dns: 'network-call', beacon: 'network-call', code: 'dynamic-code', file: 'outside-write' } as const
const SINK_WORDS = { process: 'process execution', socket: 'raw socket', http: 'network call', dns: 'DNS lookup', beacon: 'browser beacon', code: 'dynamic code', file: 'file write' } as const
const INSTALL_HOOKS = ['preinstall', 'install', 'postinstall', 'prepare', 'prepublish', 'preuninstall', 'postuninstall']
const HOOK_TOOLS = /\b(curl|wget|node|sh|bash|powershell|python|start|nc)\b|https?:\/\//
const RANK = { high: 3, medium: 2, low: 1 } as const

function localName (name: string): string {
  return name.split('.').pop() ?? name
}

function scriptsOf (text: string | null): Record<string, string> {
  if (text === null) return {}
  try {
    const j = JSON.parse(text) as { scripts?: Record<string, unknown> }
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(j.scripts ?? {})) if (typeof v === 'string') out[k] = v
    return out
  } catch { return {} }
}

interface Texts {
  entry: DeltaEntry
  after: string | null
  before: string | null
  afterFrag: Fragment | null
  beforeFrag: Fragment | null
}

class Reviewer {
  readonly flags: Flag[] = []
  private readonly byHash = new Map<string, string>()
  /** Unit hash → the record that produced it (for `aura rewind --to`). */
  private readonly recordOfHash = new Map<string, string>()
  private readonly moduleText = new Map<string, string>()

  /** Each file's module unit, parsed once per text: its fragment, import bindings and definitions. */
  private readonly modules = new Map<string, {
    text: string
    frag: Fragment | null
    bindings: Map<string, Binding>
    defs: Defs
  }>()

  constructor (readonly init: ReviewInit) {}

  moduleOf (path: string, text: string): { frag: Fragment | null, bindings: Map<string, Binding>, defs: Defs } {
    const hit = this.modules.get(path)
    if (hit !== undefined && hit.text === text) return hit
    const frag = parseFragment(path, 'module', text)
    const m = { text, frag, bindings: importBindings(frag), defs: defsOf(frag) }
    this.modules.set(path, m)
    return m
  }

  async textOf (e: DeltaEntry): Promise<string | null> {
    if (e.text !== null) return e.text
    if (e.blob === null || this.init.blobs === undefined) return null
    return await getBlobText(this.init.blobs, e.blob)
  }

  learn (recordId: string, e: DeltaEntry, text: string | null): void {
    if (text !== null && e.afterHash !== null) this.byHash.set(e.afterHash, text)
    if (e.afterHash !== null) this.recordOfHash.set(e.afterHash, recordId)
    if (e.kind === 'module') {
      if (text !== null) this.moduleText.set(e.path, text)
      else if (e.change === 'deleted') this.moduleText.delete(e.path)
    }
  }

  flag (
    item: ReviewItem,
    e: DeltaEntry | null,
    rule: ReviewRule,
    severity: Severity,
    reason: string,
    excerpt: string,
    ev: Partial<Evidence> = {}
  ): void {
    this.flags.push({
      recordId: item.recordId,
      signer: item.signer,
      actor: item.actor,
      quarantined: item.quarantined ?? null,
      path: e?.path ?? '',
      name: e?.name ?? '',
      location: e === null ? '(record)' : `${e.path}:${e.name}`,
      rule,
      category: CATEGORY_OF_RULE[rule],
      reason,
      severity,
      excerpt,
      evidence: {
        line: ev.line ?? null,
        api: ev.api ?? null,
        before: ev.before ?? null,
        after: ev.after ?? null,
        detail: ev.detail ?? null,
        rewindTo: e?.beforeHash == null ? null : this.recordOfHash.get(e.beforeHash) ?? null
      }
    })
  }

  sinks (item: ReviewItem, t: Texts, after: Fragment, before: Fragment | null): void {
    const e = t.entry
    const moduleSrc = this.moduleText.get(e.path)
    const mod = e.kind === 'module' || moduleSrc === undefined ? null : this.moduleOf(e.path, moduleSrc)
    const moduleFrag = e.kind === 'module' ? after : mod?.frag ?? null
    const bindings = new Map([...(mod?.bindings ?? []), ...importBindings(after)])
    const count = (uses: NetworkUse[]): Map<string, number> => {
      const m = new Map<string, number>()
      for (const u of uses) m.set(u.key, (m.get(u.key) ?? 0) + 1)
      return m
    }
    const now = networkUses(after, bindings)
    const wasUses = before === null
      ? []
      : networkUses(before, new Map([...(mod?.bindings ?? importBindings(moduleFrag)), ...importBindings(before)]))
    const was = count(wasUses)
    const seen = new Map<string, number>()
    const fresh: NetworkUse[] = []
    for (const u of now) {
      const n = (seen.get(u.key) ?? 0) + 1
      seen.set(u.key, n)
      if (n === (was.get(u.key) ?? 0) + 1) fresh.push(u)
    }
    const unknown = t.before === null && e.change !== 'added' ? ' (previous version not available)' : ''
    const defs = defsOf(after)
    for (const [k, v] of mod?.defs ?? []) if (!defs.has(k)) defs.set(k, v)
    const knownText = (t.before ?? '') + '\n' + (e.kind === 'module' ? '' : moduleSrc ?? '')
    // Calls on an object made by a use raise that use's rank (`x = new XMLHttpRequest(); x.send(card)`).
    const ranked = new Map<NetworkUse, Ranked>()
    for (const u of now.filter((x) => !x.isImport)) {
      const r = rankUse(u, after, defs, { knownText })
      if (r !== null) ranked.set(u, r)
    }
    const flaggedModules = new Set<string>()
    for (const u of fresh.filter((x) => !x.isImport && x.via === null)) {
      let r = ranked.get(u)
      if (r === undefined) continue
      for (const d of now.filter((x) => x.via !== null && x.via === u.boundTo)) {
        const dr = ranked.get(d)
        if (dr !== undefined && RANK[dr.severity] > RANK[r.severity]) r = dr
      }
      flaggedModules.add(u.key.split('.')[0])
      this.flag(item, e, SINK_RULE[u.category], r.severity, `new ${SINK_WORDS[u.category]} ${u.key}: ${r.why}${unknown}`, excerptAt(after.source, u.index), { line: lineAt(after, u.index), api: u.key, detail: r.source === null ? r.destination : `carries ${r.source}` })
    }
    // The same call as before, now carrying a secret or sent somewhere new (`fetch(url)` → `fetch(evil + token)`).
    if (before !== null) {
      const beforeDefs = defsOf(before)
      for (const [k, v] of mod?.defs ?? []) if (!beforeDefs.has(k)) beforeDefs.set(k, v)
      const sig = (u: NetworkUse, r: Ranked): string => `${u.key}|${r.severity}|${r.source ?? ''}|${r.destination ?? ''}`
      const old = new Map<string, number>()
      for (const u of wasUses.filter((x) => !x.isImport)) {
        const r = rankUse(u, before, beforeDefs, { knownText })
        if (r !== null) old.set(sig(u, r), (old.get(sig(u, r)) ?? 0) + 1)
      }
      for (const u of now.filter((x) => !x.isImport && x.via === null && !fresh.includes(x))) {
        const r = ranked.get(u)
        if (r === undefined || r.severity === 'low') continue
        const n = old.get(sig(u, r)) ?? 0
        if (n > 0) { old.set(sig(u, r), n - 1); continue }
        this.flag(item, e, SINK_RULE[u.category], r.severity, `changed ${SINK_WORDS[u.category]} ${u.key}: ${r.why}`, excerptAt(after.source, u.index), { line: lineAt(after, u.index), api: u.key, detail: r.source === null ? r.destination : `carries ${r.source}` })
      }
    }
    // Calls on objects that existed before (a known socket now sending secrets) count on their own.
    for (const u of fresh.filter(
      (x) => x.via !== null && !now.some((o) => fresh.includes(o) && o.boundTo === x.via && o.via === null)
    )) {
      const r = ranked.get(u)
      if (r === undefined || r.source === null) continue
      this.flag(item, e, SINK_RULE[u.category], r.severity, `new ${SINK_WORDS[u.category]} ${u.key}: ${r.why}${unknown}`, excerptAt(after.source, u.index), { line: lineAt(after, u.index), api: u.key, detail: `carries ${r.source}` })
    }
    for (const u of fresh.filter((x) => x.isImport && !flaggedModules.has(x.key.slice('import:'.length).split('.')[0]))) {
      this.flag(item, e, SINK_RULE[u.category], 'low', `new import of ${u.key.slice('import:'.length)} (${SINK_WORDS[u.category]})${unknown}`, excerptAt(after.source, u.index), { line: lineAt(after, u.index), api: u.key.slice('import:'.length) })
    }
  }

  async secrets (item: ReviewItem, t: Texts): Promise<void> {
    const e = t.entry
    if (t.after === null) return
    const hits = await findSecrets(e.path, t.afterFrag, t.after)
    if (hits.length === 0) return
    const old = new Set(
      t.before === null ? [] : (await findSecrets(e.fromPath ?? e.path, t.beforeFrag, t.before)).map((h) => h.value)
    )
    const source = t.afterFrag?.source ?? t.after
    for (const h of hits) {
      if (old.has(h.value)) continue
      const line = excerptAt(source, h.index).replaceAll(h.value, maskSecret(h.value))
      const where = t.afterFrag === null ? source.slice(0, h.index).split('\n').length : lineAt(t.afterFrag, h.index)
      const reason = h.severity === 'low' ? `secret-like ${h.kind.replaceAll('-', ' ')} ${h.why}` : `${h.kind.replaceAll('-', ' ')} introduced (${h.why})`
      this.flag(item, e, 'secret', h.severity, reason, line, { line: where, api: h.detector === 'secretlint' ? `secretlint:${h.kind}` : h.detector, detail: maskSecret(h.value) })
    }
  }

  logic (item: ReviewItem, t: Texts, record: Texts[]): void {
    const e = t.entry
    const after = t.afterFrag
    const before = t.beforeFrag
    const weak: Weakening[] = []
    if (after !== null) weak.push(...newUnsafeLogic(before, after, isTestPath(e.path)))
    const elsewhere = record.filter((x) => x !== t).map((x) => x.after ?? '').join('\n')
    if (after !== null && before !== null) weak.push(...removedProtections(before, after, elsewhere))
    if (e.kind === 'function' || e.kind === 'method') {
      if (e.change === 'deleted') {
        if (before === null) return
        const g = guardShape(before, e.name)
        const named = isSecurityName(e.name) && (bodyShape(before)?.guards ?? 0) > 0
        const moved = record.some((x) => x.entry.change !== 'deleted' && x.entry.kind !== 'module' && localName(x.entry.name) === localName(e.name))
        // A security-named helper deleted together with its calls (a sanitiser dropped from rendering).
        const callRe = new RegExp(`\\b${localName(e.name).replace(/[$]/g, '\\$')}\\s*\\(`)
        const callsDropped = record.filter(
          (x) => x !== t && x.before !== null && callRe.test(x.before) && (x.after === null || !callRe.test(x.after))
        )
        if (g?.isGuard !== true && !named && isSecurityName(e.name) && callsDropped.length > 0 && !moved) {
          this.flag(item, e, 'security-function-deleted', 'medium', `${e.kind} ${e.name} deleted and its calls removed from ${callsDropped.map((x) => x.entry.name).join(', ')}`, t.before?.split('\n')[0].trim().slice(0, 160) ?? '', { api: localName(e.name) })
          return
        }
        if (g?.isGuard !== true && !named) return
        const conds = (g?.denies ?? []).map((d) => d.condition).filter((c): c is string => c !== null && c !== 'catch')
        const keptConds = conds.filter((c) => elsewhere.replace(/\s+/g, '').includes(c))
        if (moved || (conds.length > 0 && keptConds.length * 2 >= conds.length)) return
        this.flag(item, e, 'security-function-deleted', g?.isGuard === true ? 'high' : 'medium', `${e.kind} ${e.name} deleted; it ${g?.isGuard === true ? `was a guard: ${g.because}` : 'had security checks'}, and its checks are not found elsewhere in the change`, t.before?.split('\n')[0].trim().slice(0, 160) ?? '', { before: conds.slice(0, 3).join(' ; ') || null })
      } else if (after !== null && before !== null) {
        const g = guardShape(before, e.name)
        const named = isSecurityName(e.name) && (bodyShape(before)?.guards ?? 0) > 0
        if (g?.isGuard === true || named) {
          const nowShape = bodyShape(after)
          const wasShape = bodyShape(before)
          if (nowShape?.hollow != null && wasShape?.hollow == null) {
            const how = nowShape.hollow === 'early-return' ? 'an unconditional allow before its checks' : nowShape.hollow === 'return-constant' ? 'an unconditional return' : 'an empty body'
            this.flag(item, e, 'security-function-hollowed', 'high', `${e.kind} ${e.name} reduced to ${how} (${g?.isGuard === true ? `it is a guard: ${g.because}` : 'it had security checks'})`, excerptAt(after.source, nowShape.index), { line: lineAt(after, nowShape.index) })
            return this.pushWeak(item, t, weak)
          }
          if (g?.isGuard === true) weak.push(...weakenings(before, after, e.name, elsewhere))
          else if (nowShape !== null && wasShape !== null && nowShape.guards < wasShape.guards) {
            // Named for security and returning failures, without denying by itself (`checkSession`): fewer checks.
            this.flag(item, e, 'security-check-removed', 'medium', `${e.kind} ${e.name} makes ${wasShape.guards - nowShape.guards} fewer checks (${wasShape.guards} → ${nowShape.guards}: throw/raise, return false, verify/validate calls)`, excerptAt(after.source, nowShape.index), { line: lineAt(after, nowShape.index), before: `${wasShape.guards} checks`, after: `${nowShape.guards} checks` })
          }
        }
      }
    }
    this.pushWeak(item, t, weak)
  }

  private pushWeak (item: ReviewItem, t: Texts, weak: Weakening[]): void {
    const f = t.afterFrag
    for (const w of weak) {
      this.flag(item, t.entry, w.rule, w.rule === 'security-check-removed' && w.before === null ? 'medium' : 'high', w.reason, f === null ? '' : excerptAt(f.source, w.index), { line: f === null ? null : lineAt(f, w.index), before: w.before, after: w.after, api: w.rule === 'verification-disabled' ? w.after : null })
    }
  }

  installHooks (item: ReviewItem, t: Texts): void {
    if (!/(^|\/)package\.json$/.test(t.entry.path) || t.after === null) return
    const was = scriptsOf(t.before)
    const now = scriptsOf(t.after)
    for (const h of INSTALL_HOOKS) {
      const cmd = now[h]
      if (cmd === undefined || cmd === was[h]) continue
      const idx = t.after.indexOf(`"${h}"`)
      this.flag(item, t.entry, 'install-hook', HOOK_TOOLS.test(cmd) ? 'high' : 'medium', `${was[h] === undefined ? 'new' : 'changed'} npm ${h} script: runs at every install of this package`, `"${h}": "${cmd.slice(0, 120)}"`, { line: idx < 0 ? null : t.after.slice(0, idx).split('\n').length, api: `scripts.${h}`, before: was[h] ?? null, after: cmd })
    }
  }

  /** Guards no longer applied, and tests weakened, across the whole record. */
  recordLevel (item: ReviewItem, record: Texts[]): void {
    // A name is a known guard when a unit of this change by that name guards (asked only for names in guard positions).
    const knownCache = new Map<string, boolean>()
    const known = (name: string): boolean => {
      let k = knownCache.get(name)
      if (k === undefined) {
        k = record.some((t) => t.entry.kind !== 'module' && localName(t.entry.name) === name && [t.beforeFrag, t.afterFrag].some((f) => f !== null && guardShape(f, t.entry.name)?.isGuard === true))
        knownCache.set(name, k)
      }
      return k
    }
    const uses = (side: 'before' | 'after'): Map<string, { n: number, where: Texts, registration: boolean }> => {
      const m = new Map<string, { n: number, where: Texts, registration: boolean }>()
      for (const t of record) {
        const f = side === 'before' ? t.beforeFrag : t.afterFrag
        if (f === null) continue
        for (const u of guardUses(f, known)) {
          const cur = m.get(u.name) ?? { n: 0, where: t, registration: false }
          m.set(
            u.name,
            { n: cur.n + 1, where: cur.n === 0 ? t : cur.where, registration: cur.registration || u.registration }
          )
        }
      }
      return m
    }
    const was = uses('before')
    const now = uses('after')
    const registeredNow = [...now.entries()].filter(
      ([k, v]) => v.registration && was.get(k)?.registration !== true
    ).map(([k]) => k)
    for (const [name, w] of was) {
      const n = now.get(name)?.n ?? 0
      if (n >= w.n || registeredNow.length > 0) continue
      // A guard replaced by another (a decorator by a mixin) keeps the count of guards applied.
      const totalWas = [...was.values()].reduce((a, x) => a + x.n, 0)
      const totalNow = [...now.values()].reduce((a, x) => a + x.n, 0)
      if (totalNow >= totalWas) continue
      const usesOf = (f: Fragment): number => guardUses(f, known).filter((u) => u.name === name).length
      const fewer = (t: Texts): boolean =>
        t.afterFrag !== null && t.beforeFrag !== null && usesOf(t.beforeFrag) > usesOf(t.afterFrag)
      const where = record.find(fewer) ?? w.where
      this.flag(item, where.entry, 'guard-removed', 'high', `guard ${name} no longer applied here (${w.n} → ${n} uses as decorator, middleware or dependency)`, where.after === null ? '' : (where.after.split('\n').find((l) => /def |function |router\.|app\.|@/.test(l)) ?? '').trim().slice(0, 160), { api: name, before: `${w.n} uses`, after: `${n} uses` })
    }
    let lost = 0
    let first: Texts | null = null
    for (const t of record) {
      if (!isTestPath(t.entry.path) || t.afterFrag === null) continue
      const a = testStrength(t.afterFrag)
      const b = t.beforeFrag === null ? { assertions: 0, trivial: 0, skipped: 0 } : testStrength(t.beforeFrag)
      const d = Math.max(0, a.trivial - b.trivial) + Math.max(0, a.skipped - b.skipped)
      if (d > 0 && first === null) first = t
      lost += d
    }
    if (lost >= 2 && first !== null) {
      this.flag(item, first.entry, 'tests-weakened', lost >= 4 ? 'high' : 'medium', `${lost} test assertions made trivially true or tests skipped in this change`, '', { detail: `${lost} weakened` })
    }
  }

  async record (item: ReviewItem): Promise<void> {
    const entries = item.delta?.entries ?? []
    const record: Texts[] = []
    for (const e of entries) {
      const after = await this.textOf(e)
      const before = e.beforeHash === null ? null : this.byHash.get(e.beforeHash) ?? null
      record.push({ entry: e, after, before, afterFrag: null, beforeFrag: null })
    }
    // The record's own imports count for its functions' calls.
    for (const t of record) if (t.entry.kind === 'module' && t.entry.change !== 'deleted' && t.after !== null) this.moduleText.set(t.entry.path, t.after)
    let lines = 0
    for (const t of record) {
      const e = t.entry
      lines += changedLines(t.before, t.after)
      if (e.change !== 'deleted' && t.after === null) {
        this.flag(item, e, 'unreviewable', 'low', `the text of ${e.name} is in blob ${e.blob ?? '?'}, which this node does not hold`, '')
        continue
      }
      t.afterFrag = t.after === null ? null : parseFragment(e.path, e.kind, t.after)
      t.beforeFrag = t.before === null ? null : parseFragment(e.fromPath ?? e.path, e.kind, t.before)
    }
    for (const t of record) {
      if (t.entry.change !== 'deleted' && t.after === null) continue
      if (t.afterFrag !== null) this.sinks(item, t, t.afterFrag, t.beforeFrag)
      await this.secrets(item, t)
      this.logic(item, t, record)
      this.installHooks(item, t)
    }
    this.recordLevel(item, record)
    const th = this.init.thresholds
    const paths = item.delta === null ? [] : deltaPaths(item.delta)
    if (paths.length > th.files || lines > th.lines) {
      this.flag(item, null, 'large-diff', 'medium', `large change: ${paths.length} files, ${lines} lines changed (thresholds ${th.files} files, ${th.lines} lines)`, paths.slice(0, 5).join(', ') + (paths.length > 5 ? ', …' : ''), { detail: `${paths.length} files, ${lines} lines` })
    }
    for (const t of record) this.learn(item.recordId, t.entry, t.after)
  }
}

/** Reviews records in order; see the module comment. */
export async function securityReview (items: ReviewItem[], init: ReviewInit): Promise<Flag[]> {
  const r = new Reviewer(init)
  for (const h of init.history ?? []) {
    for (const e of h.delta?.entries ?? []) r.learn(h.recordId, e, await r.textOf(e))
  }
  for (const item of items) await r.record(item)
  return r.flags
}
