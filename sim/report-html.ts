/**
 * report.html: one self-contained page (inline CSS and SVG, no external assets, no script) with
 * a lane per peer on a time axis (partitions named in a strip above the lanes; cut-off, offline,
 * crashed and stale windows shaded), each peer's revocation arrival marked on its lane, the
 * revocation front (share of peers holding it over the run, and again against the time since
 * the revocation was issued on a log axis, readable at 1,000 peers), forged records accepted,
 * a per-peer table (slowest first) and the metrics tables.
 *
 * @example
 * writeFileSync('report.html', renderReport(result, 'aura sim run sim/scenarios/x.toml --seed 42'))
 */
import type { HostileStats } from './adversary.js'
import type { CpuMetrics, RunResult } from './results.js'
import type { Percentiles } from './metrics.js'

const COLORS = ['#1f6feb', '#8250df', '#bf3989', '#0a7b83']
const SPAN_COLOR: Record<string, [string, number]> = {
  partitioned: ['#f0a020', 0.28],
  offline: ['#8c959f', 0.45],
  crashed: ['#cf222e', 0.30],
  stale: ['#9a6700', 0.2]
}
const SPAN_STYLE = Object.fromEntries(Object.entries(SPAN_COLOR).map(([k, [c, o]]) => [k, `fill:${c};fill-opacity:${o}`]))
const SWATCH = Object.fromEntries(Object.entries(SPAN_COLOR).map(([k, [c, o]]) => [k, `background:${c};opacity:${Math.min(1, o * 2)}`]))

/** Renders the report page of a run. */
export function renderReport (r: RunResult, replay: string): string {
  const m = r.metrics
  const verdict = r.ok ? '<span class="ok">all properties held</span>' : `<span class="bad">${r.violations.length} violation(s)</span>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aura sim: ${esc(r.scenario)} (seed ${r.seed})</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1f2328;max-width:1400px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
code{background:#f6f8fa;padding:1px 5px;border-radius:4px}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}
th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:12px;height:12px;vertical-align:-2px;margin-right:4px;border-radius:2px}
svg text{font:11px system-ui,sans-serif;fill:#57606a}
.note{color:#57606a;font-size:13px}
#peers td{white-space:nowrap}
</style></head><body>
<h1>${esc(r.scenario)} — seed ${r.seed}, ${r.mode} mode</h1>
<div>${verdict}. ${m.honest} honest peers (Mothership included)${m.nodes > m.honest ? ' + adversary node' : ''}; ${fmtMs(m.virtualMs)} simulated in ${fmtMs(m.perf.wallMs)} (${m.perf.speedup}x real time).</div>
<div class="note">Replay: <code>${esc(replay)}</code></div>
${violations(r)}
<h2>Timeline</h2>
<div class="legend">
<span><i class="sw" style="${SWATCH.partitioned}"></i>cut off from the Mothership</span>
<span><i class="sw" style="${SWATCH.offline}"></i>offline</span>
<span><i class="sw" style="${SWATCH.crashed}"></i>crashed</span>
<span><i class="sw" style="${SWATCH.stale}"></i>stale (lower half of the lane; the oracle's reading)</span>
<span><i class="sw" style="background:${COLORS[0]}"></i>revocation held (one colour per revocation)</span>
<span><i class="sw" style="background:#cf222e"></i>forged record accepted</span>
</div>
${timeline(r)}
<h2>Revocation front</h2>
${front(r)}
<h3>Time since the revocation was issued</h3>
${frontZoom(r)}
<h2>Peers</h2>
${peerTable(r)}
<h2>Metrics</h2>
${metricsTables(r)}
<p class="note">Delay: virtual time from the revocation's issue at the Mothership until the peer's chain holds the exact revoke entry.
Hops: relay hops the entry took, against the Mothership's eccentricity (the farthest honest peer, in hops of the dial graph). Delays also in multiples of the median link latency (${fmtMs(m.linkMedianMs)}). Entries are pushed and relayed at once, so no anti-entropy "round" count is given. "Since heal": delay from the latest heal, reconnect or restart that preceded the peer's arrival.
Exposure window: from the first revocation's issue until the last forged record became effective on an honest peer.</p>
</body></html>
`
}

function violations (r: RunResult): string {
  if (r.violations.length === 0) return ''
  const rows = r.violations.slice(0, 50).map((v) => `<tr><td>${esc(v.property)}</td><td>${fmtMs(v.atMs)}</td><td>${esc(v.node ?? '')}</td><td style="text-align:left">${esc(v.detail)}</td></tr>`).join('')
  return `<h2 class="bad">Violations</h2><table><tr><th>property</th><th>at</th><th>peer</th><th>detail</th></tr>${rows}</table>`
}

function timeline (r: RunResult): string {
  const d = r.report
  const lanes = d.lanes
  const laneH = Math.max(2, Math.min(18, Math.floor(900 / Math.max(1, lanes.length))))
  const labelW = laneH >= 10 ? 110 : 40
  // One strip row per partition id above the lanes, each time it was on drawn and named.
  const partitions = d.partitions ?? []
  const ids = [...new Set(partitions.map((p) => p.id))]
  const stripH = 15; const stripTop = 46
  const W = 1200; const plotW = W - labelW - 10; const top = stripTop + ids.length * stripH + (ids.length > 0 ? 6 : 0)
  const H = top + lanes.length * laneH + 30
  const x = (ms: number): number => labelW + (Math.max(0, ms) / Math.max(1, d.endMs)) * plotW
  const parts: string[] = []
  partitions.forEach((p) => {
    const row = ids.indexOf(p.id)
    const y = stripTop + row * stripH
    const w = Math.max(1, x(p.toMs) - x(p.fromMs))
    const groups = p.groups === null ? '' : `; groups ${p.groups.join(' | ')}`
    parts.push(`<g class="partition"><rect x="${x(p.fromMs).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${stripH - 3}" style="${SPAN_STYLE.partitioned}" stroke="#bc4c00" stroke-width="0.5"/><text x="${(x(p.fromMs) + 3).toFixed(1)}" y="${y + stripH - 6}" style="fill:#953800">${esc(p.id)} · ${esc(p.shape)}</text><title>partition ${esc(p.id)} (${esc(p.shape)}) ${fmtMs(p.fromMs)} – ${fmtMs(p.toMs)}${esc(groups)}</title></g>`)
  })
  if (ids.length > 0) parts.push(`<text x="${labelW - 6}" y="${stripTop + stripH - 6}" text-anchor="end">partitions</text>`)
  lanes.forEach((l, i) => {
    const y = top + i * laneH
    if (i % 2 === 1) parts.push(`<rect x="${labelW}" y="${y}" width="${plotW}" height="${laneH}" fill="#f6f8fa"/>`)
    if (laneH >= 10) parts.push(`<text x="${labelW - 6}" y="${y + laneH - 4}" text-anchor="end"${l.role !== 'honest' ? ' style="font-weight:600"' : ''}>${esc(l.name)}</text>`)
  })
  for (const s of d.spans) {
    // Stale spans take the lower half of the lane, so a cut-off window under them still shows.
    const half = s.kind === 'stale' ? laneH / 2 : 0
    const y = top + s.node * laneH + half
    parts.push(`<rect${s.kind === 'stale' ? ' class="stale"' : ''} x="${x(s.fromMs).toFixed(1)}" y="${y}" width="${Math.max(1, x(s.toMs) - x(s.fromMs)).toFixed(1)}" height="${laneH - half}" style="${SPAN_STYLE[s.kind]}"><title>${esc(lanes[s.node]?.name ?? '')}: ${s.kind} ${fmtMs(s.fromMs)} – ${fmtMs(s.toMs)}</title></rect>`)
  }
  // Labels of marks alternate between two rows so neighbours do not overprint.
  d.marks.forEach((m, i) => {
    parts.push(`<line x1="${x(m.atMs)}" x2="${x(m.atMs)}" y1="${stripTop - 4}" y2="${H - 26}" stroke="#8c959f" stroke-dasharray="3,3"/><text x="${x(m.atMs) + 3}" y="${stripTop - 8 - (i % 2) * 13}">${esc(m.label)}</text>`)
  })
  d.revocations.forEach((rv, k) => {
    const c = COLORS[k % COLORS.length]
    parts.push(`<line x1="${x(rv.issuedMs)}" x2="${x(rv.issuedMs)}" y1="${top}" y2="${H - 26}" stroke="${c}" stroke-width="2"><title>revocation of ${esc(rv.label)} issued at ${fmtMs(rv.issuedMs)}</title></line>`)
    lanes.forEach((l, i) => {
      const at = l.arrivals[k]
      if (at === null) return
      const y = top + i * laneH + laneH / 2
      parts.push(laneH >= 6
        ? `<circle cx="${x(at).toFixed(1)}" cy="${y}" r="${Math.min(5, laneH / 2 - 1)}" fill="${c}"><title>${esc(l.name)} holds the revocation of ${esc(rv.label)} at ${fmtMs(at)} (+${fmtMs(at - rv.issuedMs)}, ${l.hops[k]} hops)</title></circle>`
        : `<rect x="${x(at).toFixed(1)}" y="${y - laneH / 2}" width="2" height="${laneH}" fill="${c}"/>`)
    })
  })
  for (const f of d.forgedAccepted) {
    const y = top + f.node * laneH + laneH / 2
    parts.push(`<path d="M${(x(f.atMs) - 3).toFixed(1)} ${y - 3}l6 6m0 -6l-6 6" stroke="#cf222e" stroke-width="1.5"><title>forged record accepted by ${esc(lanes[f.node]?.name ?? '')} at ${fmtMs(f.atMs)}</title></path>`)
  }
  parts.push(`<line x1="${x(d.settleMs)}" x2="${x(d.settleMs)}" y1="${top}" y2="${H - 26}" stroke="#1a7f37" stroke-width="1.5"/><text x="${x(d.settleMs) + 3}" y="${H - 14}" style="fill:#1a7f37">settle</text>`)
  for (let i = 0; i <= 10; i++) {
    const ms = d.endMs * i / 10
    parts.push(`<text x="${x(ms)}" y="${H - 4}" text-anchor="middle">${fmtMs(ms)}</text>`)
  }
  return `<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`
}

function front (r: RunResult): string {
  const d = r.report
  if (d.revocations.length === 0) return '<p class="note">No revocation in this run.</p>'
  const W = 1200; const H = 220; const left = 50; const plotW = W - left - 20; const top = 10; const plotH = H - 40
  const x = (ms: number): number => left + (Math.max(0, ms) / Math.max(1, d.endMs)) * plotW
  const y = (f: number): number => top + plotH * (1 - f)
  const honest = d.lanes.filter((l) => l.role !== 'adversary')
  const parts: string[] = [`<line x1="${left}" x2="${left + plotW}" y1="${y(0)}" y2="${y(0)}" stroke="#d0d7de"/>`]
  for (const f of [0, 0.5, 1]) parts.push(`<text x="${left - 6}" y="${y(f) + 4}" text-anchor="end">${f * 100}%</text>`)
  d.revocations.forEach((rv, k) => {
    const times = honest.map((l) => l.arrivals[k]).filter((t): t is number => t !== null).sort((a, b) => a - b)
    let path = `M${x(rv.issuedMs).toFixed(1)} ${y(0)}`
    times.forEach((t, i) => { path += `H${x(t).toFixed(1)}V${y((i + 1) / honest.length).toFixed(1)}` })
    path += `H${x(d.endMs).toFixed(1)}`
    parts.push(`<path d="${path}" fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2"><title>${esc(rv.label)}</title></path>`)
  })
  for (let i = 0; i <= 10; i++) parts.push(`<text x="${x(d.endMs * i / 10)}" y="${H - 6}" text-anchor="middle">${fmtMs(d.endMs * i / 10)}</text>`)
  return `<svg id="front" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`
}

/**
 * The front against the time since each revocation was issued, on a log axis from the decade
 * below the fastest peer to the decade above the slowest: the first milliseconds (one hop after
 * another) and the minutes of a cut-off island both stay readable. Peers besides the Mothership;
 * dashed lines at each revocation's p50, p90 and max delay (the metrics table's figures).
 */
function frontZoom (r: RunResult): string {
  const d = r.report
  const others = (d.peers ?? []).filter((p) => d.lanes[p.node].role !== 'mothership')
  const rows = d.revocations.map((rv, k) => ({
    rv,
    k,
    delays: others.map((p) => d.lanes[p.node].arrivals[k]).filter((t): t is number => t !== null).map((t) => Math.max(
      0.001,
      t - rv.issuedMs
    )).sort((a, b) => a - b)
  }))
  const all = rows.flatMap((x) => x.delays)
  if (all.length === 0) return '<p class="note">No peer besides the Mothership holds a revocation.</p>'
  const n = Math.max(1, others.length)
  const lo = 10 ** Math.floor(Math.log10(Math.min(...all)))
  const hi = Math.max(lo * 10, 10 ** Math.ceil(Math.log10(Math.max(...all) * 1.0001)))
  const W = 1200; const H = 320; const left = 60; const plotW = W - left - 20; const top = 14; const plotH = H - 60
  const x = (ms: number): number => left + (Math.log10(Math.max(lo, ms) / lo) / Math.log10(hi / lo)) * plotW
  const y = (count: number): number => top + plotH * (1 - count / n)
  const parts: string[] = [`<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="#fbfcfd" stroke="#d0d7de"/>`]
  for (let t = lo; t <= hi * 1.0001; t *= 10) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#d0d7de"/><text x="${x(t).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle">${fmtMs(t)}</text>`)
    for (const m of [2, 5]) if (t * m < hi) parts.push(`<line x1="${x(t * m).toFixed(1)}" x2="${x(t * m).toFixed(1)}" y1="${top}" y2="${top + plotH}" stroke="#eaeef2"/><text x="${x(t * m).toFixed(1)}" y="${top + plotH + 14}" text-anchor="middle" style="fill:#8c959f">${m}</text>`)
  }
  for (const f of [0, 0.25, 0.5, 0.75, 1]) parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(f * n).toFixed(1)}" y2="${y(f * n).toFixed(1)}" stroke="#eaeef2"/><text x="${left - 6}" y="${(y(f * n) + 4).toFixed(1)}" text-anchor="end">${f * 100}%</text>`)
  parts.push(`<text x="${left + plotW / 2}" y="${H - 14}" text-anchor="middle">time since the revocation was issued (log scale)</text><text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">peers holding it (of ${n})</text>`)
  for (const { rv, k, delays } of rows) {
    const c = COLORS[k % COLORS.length]
    let path = `M${x(lo).toFixed(1)} ${y(0).toFixed(1)}`
    delays.forEach((t, i) => { path += `H${x(t).toFixed(1)}V${y(i + 1).toFixed(1)}` })
    path += `H${x(hi).toFixed(1)}`
    parts.push(`<path class="front-step" d="${path}" fill="none" stroke="${c}" stroke-width="2"><title>${esc(rv.label)}: ${delays.length} of ${n} peers</title></path>`)
    const m = r.metrics.revocations[k]
    if (m === undefined || m.delayMs.n === 0) continue
    ;([['p50', m.delayMs.p50], ['p90', m.delayMs.p90], ['max', m.delayMs.max]] as const).forEach(([name, v], j) => {
      const xv = x(Math.max(lo, v)).toFixed(1)
      // Near the right edge the label goes to the left of its line.
      const right = Number(xv) > left + plotW * 0.75
      parts.push(`<line x1="${xv}" x2="${xv}" y1="${top}" y2="${top + plotH}" stroke="${c}" stroke-dasharray="4,3"/><text x="${(Number(xv) + (right ? -3 : 3)).toFixed(1)}" y="${top + 12 + (j + k * 3) * 12}"${right ? ' text-anchor="end"' : ''} style="fill:${c};paint-order:stroke;stroke:#fbfcfd;stroke-width:3px">${name} ${fmtMs(v)}${d.revocations.length > 1 ? ` (${esc(rv.label)})` : ''}</text>`)
    })
  }
  return `<svg id="front-zoom" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join('')}</svg>`
}

/**
 * One row per honest node, the Mothership included (it issues the revocations, and can have
 * accepted forged records before), the slowest first (by its latest arrival after issue over the
 * revocations; peers that never held one on top), so the totals are the run's exposure figures. Arrival, hops and the
 * relaying peer are the observer's (the exact moment the peer's chain held the entry); forged
 * records are the oracle's classes (stored before the issue / before the oracle's poll saw the
 * peer hold the revocation / after it, or after a beacon naming it), and "quarantined" those of
 * them the production effective view no longer counts on that peer at the last check.
 */
function peerTable (r: RunResult): string {
  const d = r.report
  const peers = d.peers
  if (peers === undefined) return '<p class="note">This result has no per-peer data.</p>'
  const revs = d.revocations
  const lag = (p: typeof peers[number]): number => revs.length === 0
    ? 0
    : Math.max(
      ...revs.map((rv, k) => { const a = d.lanes[p.node].arrivals[k]; return a === null ? Infinity : a - rv.issuedMs })
    )
  const sorted = peers.map((p) => ({ p, lag: lag(p) })).sort(
    (a, b) => b.lag - a.lag || d.lanes[a.p.node].name.localeCompare(d.lanes[b.p.node].name)
  ).map((x) => x.p)
  const multi = revs.length > 1
  const revHead = revs.map((rv) => `<th>learned at${multi ? `<br>(${esc(rv.label)})` : ''}</th><th>since issue</th><th>hops</th><th>relayed by</th>`).join('')
  const head = `<tr><th>peer</th>${revHead}<th>forged accepted before the issue</th><th>… after the issue, before it knew</th><th>… after it knew</th><th>of those, quarantined at the end</th></tr>`
  const body = sorted.map((p) => {
    const lane = d.lanes[p.node]
    const cells = revs.map((rv, k) => {
      const a = lane.arrivals[k]
      if (a === null) return '<td class="bad">never</td><td>—</td><td>—</td><td>—</td>'
      if (lane.role === 'mothership') return `<td>${(a / 1000).toFixed(3)} s</td><td>issued it</td><td>0</td><td>—</td>`
      const polled = p.heldAtMs[k]
      return `<td title="the oracle's poll saw it held at ${polled === null ? '—' : fmtMs(polled)}">${(a / 1000).toFixed(3)} s</td><td>+${fmtMs(a - rv.issuedMs)}</td><td>${lane.hops[k] ?? '—'}</td><td>${esc(p.relayedBy[k] ?? '—')}</td>`
    }).join('')
    const f = p.forged
    const total = f.beforeIssue + f.beforeKnown + f.afterKnown + f.afterBeacon
    const after = f.afterKnown + f.afterBeacon
    return `<tr><td>${esc(lane.name)}</td>${cells}<td>${f.beforeIssue}</td><td>${f.beforeKnown}</td><td${after > 0 ? ' class="bad"' : ''}>${after}</td><td>${total - f.effectiveAtEnd} of ${total}</td></tr>`
  }).join('\n')
  return `<p class="note">${peers.length} honest peers (the Mothership included), the slowest to learn a revocation first. "Forged accepted": forged records the production effective view counted on that peer at some check, by when the peer stored them (the oracle's classes; "after it knew" includes after a beacon naming the revocation, and must be 0). "Quarantined": of those, the ones it no longer counts at the end.</p>
<table id="peers"><thead>${head}</thead><tbody>
${body}
</tbody></table>`
}

function metricsTables (r: RunResult): string {
  const m = r.metrics
  const pRow = (name: string, p: Percentiles, f: (v: number) => string = String): string =>
    `<tr><td>${name}</td><td>${p.n}</td><td>${f(p.p50)}</td><td>${f(p.p90)}</td><td>${f(p.p99)}</td><td>${f(p.max)}</td></tr>`
  const head = '<tr><th></th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>'
  const rev = m.revocations.map((v) => `<h3>Revocation of ${esc(v.label)} (chain seq ${v.chainSeq}, issued ${fmtMs(v.issuedMs)})</h3>
<table>${head}${pRow('delay', v.delayMs, fmtMs)}${pRow('delay / median link latency', v.delayInLinkMedians)}${pRow('relay hops', v.hops)}${pRow('since heal', v.sinceHealMs, fmtMs)}</table>
<table><tr><td>coverage (end / end of schedule)</td><td>${pct(v.coverage)} / ${pct(v.coverageAtScheduleEnd)}</td></tr>
<tr><td>eccentricity of the Mothership (hops)</td><td>${v.eccentricity}</td></tr><tr><td>max hops / eccentricity</td><td>${v.hopsOverEccentricity}</td></tr><tr><td>chain messages carrying it, per peer</td><td>${v.messagesPerPeer}</td></tr></table>`).join('')
  const t = m.traffic
  const traffic = `<table>${head}${pRow('frames sent per peer', t.framesPerPeer)}${pRow('bytes sent per peer', t.bytesPerPeer)}</table>
<table><tr><td>total frames / bytes</td><td>${t.totalFrames} / ${t.totalBytes}</td></tr><tr><td>duplicate chain entries received</td><td>${t.duplicateChainEntries}</td></tr>
<tr><td>transport duplicates / retransmits / corrupted frames</td><td>${t.duplicateFrames} / ${t.retransmits} / ${t.corrupted}</td></tr></table>`
  const f = m.forged
  const forged = f === null
    ? '<p class="note">No adversary in this scenario.</p>'
    : `<table><tr><td>forged records attempted</td><td>${f.attempted}</td></tr><tr><td>bad-signature injections</td><td>${f.badSignatureAttempts}</td></tr>
<tr><td>equivocations / replays / floods</td><td>${f.equivocations} / ${f.replays} / ${f.floods}</td></tr><tr><td>revocation entries withheld</td><td>${f.withheldEntries}</td></tr>
<tr><td>intent frames sent to honest peers</td><td>${f.framesToHonest}</td></tr><tr><td>agent writes refused by host</td><td>${f.refusedByHost}</td></tr><tr><td>beacons fed to peers</td><td>${f.beaconsFed}</td></tr>
<tr><td>forged records stored by an honest peer before the heal</td><td>${f.storedBeforeHeal}</td></tr>
<tr><td>taken (effective by crdt/effective-view.ts) before the revocation was issued (peer, record)</td><td>${f.exposure.beforeIssue}</td></tr>
<tr><td>… after the issue, before that peer knew of it: the operator's triage (trace, pr-review, rewind)</td><td>${f.exposure.beforeKnown}</td></tr>
<tr><td><b>… after the peer held the revocation or a beacon naming it (must be 0)</b></td><td><b>${f.exposure.afterKnown + f.exposure.afterBeacon}</b></td></tr>
<tr><td>forged records still effective at the end (within the cut the Mothership chose)</td><td>${f.effectiveAfterHeal}</td></tr><tr><td>honest peers that ever accepted one</td><td>${f.honestPeersExposed}</td></tr>
<tr><td>exposure window</td><td>${m.exposureWindowMs === null ? '—' : fmtMs(m.exposureWindowMs)}</td></tr>${hostileRows(f.hostile)}</table>`
  const live = `<table><tr><td>converged after the final heal</td><td>${m.liveness.converged ? fmtMs(m.liveness.convergedAfterMs ?? 0) : '<span class="bad">no</span>'} (bound ${fmtMs(m.liveness.boundMs)})</td></tr>
<tr><td>anti-entropy / beacon / max staleness</td><td>${fmtMs(m.antiEntropyMs)} / ${fmtMs(m.beaconMs)} / ${m.maxStalenessMs === null ? 'off' : fmtMs(m.maxStalenessMs)}</td></tr>
<tr><td>median link latency</td><td>${fmtMs(m.linkMedianMs)}</td></tr><tr><td>sessions opened / closed</td><td>${m.sessions.opened} / ${m.sessions.closed}</td></tr>
<tr><td>events / wall time / speed</td><td>${m.perf.events} / ${fmtMs(m.perf.wallMs)} / ${m.perf.speedup}x</td></tr></table>`
  const audits = Object.keys(m.audits).length === 0 ? '' : `<h3>Audit events (all peers)</h3><table>${Object.entries(m.audits).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${v}</td></tr>`).join('')}</table>`
  const fresh = r.freshness === undefined ? '' : `<h3>With and without the freshness bound</h3><table><tr><th></th><th>max staleness</th><th>forged effective before heal</th><th>peers exposed</th><th>exposure window</th><th>violations</th></tr>${r.freshness.map((v) => `<tr><td>${esc(v.label)}</td><td>${v.maxStalenessMs === null ? 'off' : fmtMs(v.maxStalenessMs)}</td><td>${v.effectiveBeforeHeal}</td><td>${v.honestPeersExposed}</td><td>${v.exposureWindowMs === null ? '—' : fmtMs(v.exposureWindowMs)}</td><td>${v.violations}</td></tr>`).join('')}</table>`
  return `${rev}<h3>Traffic (honest peers)</h3>${traffic}${cpuTables(m.cpu, pRow, head)}<h3>Adversary</h3>${forged}${fresh}<h3>Liveness and run</h3>${live}${audits}`
}

// The CPU model's queueing (scenario `[node]`), when the scenario has one.
function cpuTables (
  c: CpuMetrics | null | undefined,
  pRow: (name: string, p: Percentiles, f?: (v: number) => string) => string,
  head: string
): string {
  if (c == null) return ''
  const rows = c.busiest.map((b) => pRow(`waits at ${esc(b.node)} (busy ${fmtMs(b.busyMs)}, ${(b.busyFraction * 100).toFixed(3)}%)`, b.queueDelayMs, fmtMs)).join('')
  return `<h3>Processing (honest nodes: ${c.perMessageUs} µs per frame + ${c.perKibUs} µs per KiB)</h3>
<table>${head}${pRow('queue delay, every frame', c.queueDelayMs, fmtMs)}${rows}</table>`
}

// The wider adversary's attempts and its victims' refusals, when it tried any.
function hostileRows (h: HostileStats): string {
  const { refusals, ...counts } = h
  if (Object.values(counts).every((n) => n === 0)) return ''
  const tried = Object.entries(counts).map(([k, v]) => `${esc(k)} ${v}`).join(', ')
  const refused = Object.entries(refusals).map(([k, v]) => `${esc(k)} ${v}`).join(', ')
  return `<tr><td>wider adversary: attempts</td><td>${tried}</td></tr><tr><td>… refusals that answered them</td><td>${refused || '—'}</td></tr>`
}

function fmtMs (ms: number): string {
  if (ms < 1000) return `${Math.round(ms * 10) / 10} ms`
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`
  if (ms < 7_200_000) return `${Math.round(ms / 6000) / 10} min`
  if (ms < 172_800_000) return `${Math.round(ms / 360_000) / 10} h`
  return `${Math.round(ms / 8_640_000) / 10} d`
}

function pct (f: number): string {
  return `${Math.round(f * 1000) / 10}%`
}

function esc (s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
