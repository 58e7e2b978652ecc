/**
 * Security review of recorded changes (`aura pr-review --security`): for each record in range
 * (quarantined ones included and marked), flags newly introduced network and process calls,
 * secret-like values, security-critical functions deleted, hollowed out or stripped of their
 * checks, and unusually large diffs. Each flag names the record, `file:function`, the rule, a
 * reason, a severity and a short excerpt (secrets masked). "Newly introduced" compares a unit's
 * new text with its previous text, found by its before-hash in earlier records.
 *
 * @example
 * const flags = await securityReview(inRange, { history: earlier, thresholds: { files: 20, lines: 2000 }, blobs })
 */
import { getBlobText, type BlobStore } from './blob-store.js'
import { deltaPaths, type CodeDelta, type DeltaEntry } from './delta.js'
import { bodyShape, isSecurityName } from './review-functions.js'
import { importBindings, networkUses, type NetworkUse } from './review-network.js'
import { findSecrets, findSecretsInText, maskSecret, type SecretHit } from './review-secrets.js'
import { excerptAt, parseFragment, type Fragment } from './review-syntax.js'

/** How urgent a flag is. */
export type Severity = 'high' | 'medium' | 'low'

/** Which check raised a flag. */
export type ReviewRule =
  | 'network-call' | 'secret' | 'security-function-deleted' | 'security-function-hollowed'
  | 'security-check-removed' | 'large-diff' | 'unreviewable'

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
  reason: string
  severity: Severity
  excerpt: string
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

const SEVERITY_OF_CATEGORY = { process: 'high', socket: 'high', http: 'medium' } as const

class Reviewer {
  readonly flags: Flag[] = []
  private readonly byHash = new Map<string, string>()
  private readonly moduleText = new Map<string, string>()

  constructor (readonly init: ReviewInit) {}

  async textOf (e: DeltaEntry): Promise<string | null> {
    if (e.text !== null) return e.text
    if (e.blob === null || this.init.blobs === undefined) return null
    return await getBlobText(this.init.blobs, e.blob)
  }

  learn (e: DeltaEntry, text: string | null): void {
    if (text !== null && e.afterHash !== null) this.byHash.set(e.afterHash, text)
    if (e.kind === 'module') {
      if (text !== null) this.moduleText.set(e.path, text)
      else if (e.change === 'deleted') this.moduleText.delete(e.path)
    }
  }

  flag (item: ReviewItem, e: DeltaEntry | null, rule: ReviewRule, severity: Severity, reason: string, excerpt: string): void {
    this.flags.push({
      recordId: item.recordId,
      signer: item.signer,
      actor: item.actor,
      quarantined: item.quarantined ?? null,
      path: e?.path ?? '',
      name: e?.name ?? '',
      location: e === null ? '(record)' : `${e.path}:${e.name}`,
      rule,
      reason,
      severity,
      excerpt
    })
  }

  network (item: ReviewItem, e: DeltaEntry, after: Fragment, before: Fragment | null, beforeKnown: boolean): void {
    const moduleSrc = this.moduleText.get(e.path)
    const moduleFrag = e.kind === 'module' ? after : moduleSrc === undefined ? null : parseFragment(e.path, 'module', moduleSrc)
    const bindings = new Map([...importBindings(moduleFrag), ...importBindings(after)])
    const count = (uses: NetworkUse[]): Map<string, number> => {
      const m = new Map<string, number>()
      for (const u of uses) m.set(u.key, (m.get(u.key) ?? 0) + 1)
      return m
    }
    const now = networkUses(after, bindings)
    const was = count(before === null ? [] : networkUses(before, new Map([...importBindings(moduleFrag), ...importBindings(before)])))
    const seen = new Map<string, number>()
    const flaggedModules = new Set<string>()
    const fresh: NetworkUse[] = []
    for (const u of now) {
      const n = (seen.get(u.key) ?? 0) + 1
      seen.set(u.key, n)
      if (n === (was.get(u.key) ?? 0) + 1) fresh.push(u)
    }
    const unknown = !beforeKnown && e.change !== 'added' ? ' (previous version not available)' : ''
    for (const u of fresh.filter((x) => !x.isImport)) {
      flaggedModules.add(u.key.split('.')[0])
      this.flag(item, e, 'network-call', SEVERITY_OF_CATEGORY[u.category], `new ${u.category === 'process' ? 'process execution' : u.category === 'socket' ? 'raw socket' : 'network'} call ${u.key}${unknown}`, excerptAt(after.source, u.index))
    }
    for (const u of fresh.filter((x) => x.isImport && !flaggedModules.has(x.key.slice('import:'.length).split('.')[0]))) {
      this.flag(item, e, 'network-call', u.category === 'http' ? 'low' : 'medium', `new import of ${u.key.slice('import:'.length)} (${u.category})${unknown}`, excerptAt(after.source, u.index))
    }
  }

  secrets (item: ReviewItem, e: DeltaEntry, afterText: string, after: Fragment | null, beforeText: string | null, before: Fragment | null): void {
    const hits: SecretHit[] = after === null ? findSecretsInText(afterText) : findSecrets(after)
    const old = new Set((beforeText === null ? [] : before === null ? findSecretsInText(beforeText) : findSecrets(before)).map((h) => h.value))
    for (const h of hits) {
      if (old.has(h.value)) continue
      const line = excerptAt(after?.source ?? afterText, h.index)
      this.flag(item, e, 'secret', h.severity, `${h.kind.replaceAll('-', ' ')} introduced`, line.replaceAll(h.value, maskSecret(h.value)))
    }
  }

  functions (item: ReviewItem, e: DeltaEntry, after: Fragment | null, before: Fragment | null, beforeText: string | null): void {
    if (!isSecurityName(e.name) || e.kind === 'module' || e.kind === 'file') return
    if (e.change === 'deleted') {
      this.flag(item, e, 'security-function-deleted', 'high', `security-critical ${e.kind} ${e.name} deleted`, beforeText?.split('\n')[0].trim().slice(0, 160) ?? '')
      return
    }
    if (after === null || e.kind === 'class') return
    const now = bodyShape(after)
    const was = before === null ? null : bodyShape(before)
    if (now === null) return
    if (now.hollow !== null && (was === null || was.hollow === null)) {
      const how = now.hollow === 'early-return' ? 'an unconditional return before its checks' : now.hollow === 'return-constant' ? 'an unconditional return' : 'an empty body'
      this.flag(item, e, 'security-function-hollowed', 'high', `security-critical ${e.kind} ${e.name} reduced to ${how}`, excerptAt(after.source, now.index))
      return
    }
    if (was !== null && now.guards < was.guards) {
      this.flag(item, e, 'security-check-removed', 'medium', `security-critical ${e.kind} ${e.name} makes ${was.guards - now.guards} fewer checks (${was.guards} → ${now.guards}: throw/raise, return false, verify/validate calls)`, excerptAt(after.source, now.index))
    }
  }

  async record (item: ReviewItem): Promise<void> {
    const entries = item.delta?.entries ?? []
    const texts = new Map<DeltaEntry, string | null>()
    for (const e of entries) texts.set(e, await this.textOf(e))
    // The record's own imports count for its functions' calls.
    for (const e of entries) if (e.kind === 'module' && e.change !== 'deleted' && texts.get(e) != null) this.moduleText.set(e.path, texts.get(e) as string)
    let lines = 0
    for (const e of entries) {
      const afterText = texts.get(e) ?? null
      const beforeText = e.beforeHash === null ? null : this.byHash.get(e.beforeHash) ?? null
      lines += changedLines(beforeText, afterText)
      if (e.change !== 'deleted' && afterText === null) {
        this.flag(item, e, 'unreviewable', 'low', `the text of ${e.name} is in blob ${e.blob ?? '?'}, which this node does not hold`, '')
        continue
      }
      const after = afterText === null ? null : parseFragment(e.path, e.kind, afterText)
      const before = beforeText === null ? null : parseFragment(e.fromPath ?? e.path, e.kind, beforeText)
      if (after !== null) this.network(item, e, after, before, beforeText !== null)
      if (afterText !== null) this.secrets(item, e, afterText, after, beforeText, before)
      this.functions(item, e, after, before, beforeText)
    }
    const t = this.init.thresholds
    const paths = item.delta === null ? [] : deltaPaths(item.delta)
    if (paths.length > t.files || lines > t.lines) {
      this.flag(item, null, 'large-diff', 'medium', `large change: ${paths.length} files, ${lines} lines changed (thresholds ${t.files} files, ${t.lines} lines)`, paths.slice(0, 5).join(', ') + (paths.length > 5 ? ', …' : ''))
    }
    for (const e of entries) this.learn(e, texts.get(e) ?? null)
  }
}

/** Reviews records in order; see the module comment. */
export async function securityReview (items: ReviewItem[], init: ReviewInit): Promise<Flag[]> {
  const r = new Reviewer(init)
  for (const h of init.history ?? []) {
    for (const e of h.delta?.entries ?? []) r.learn(e, await r.textOf(e))
  }
  for (const item of items) await r.record(item)
  return r.flags
}
