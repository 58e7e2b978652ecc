// The incident page's script: renders the state the daemon pushes (server-sent events on
// /api/events) and asks for evidence on demand. Text from the log is only ever set as text
// (textContent), never parsed as HTML. Actions POST JSON to /api/action with the session cookie.
'use strict'

const $ = (sel) => document.querySelector(sel)
let state = null

function h (tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'class') el.className = v
    else if (k === 'text') el.textContent = v
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else if (k.startsWith('data')) el.setAttribute(k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()).replace(/^data-?/, 'data-'), String(v))
    else el.setAttribute(k, v === true ? '' : String(v))
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue
    el.append(c instanceof Node ? c : document.createTextNode(String(c)))
  }
  return el
}

function time (v) {
  if (v === null || v === undefined) return '—'
  const d = new Date(v)
  return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().replace('T', ' ').replace('Z', ' UTC')
}

function ago (v) {
  if (v === null || v === undefined) return 'never'
  const s = Math.max(0, Math.round((Date.now() - new Date(v).getTime()) / 1000))
  if (s < 60) return s + ' s ago'
  if (s < 3600) return Math.round(s / 60) + ' min ago'
  if (s < 86400) return Math.round(s / 3600) + ' h ago'
  return Math.round(s / 86400) + ' d ago'
}

function idLink (id, label) {
  return h('a', { href: '#identity=' + encodeURIComponent(id), class: 'id', onclick: (e) => { e.preventDefault(); showIdentity(id) } }, label || id)
}

function table (head, rows, attrs) {
  return h('table', attrs || {}, h('thead', {}, h('tr', {}, head.map((x) => h('th', { text: x })))), h('tbody', {}, rows))
}

async function getJson (url) {
  const res = await fetch(url, { credentials: 'same-origin' })
  const body = await res.json()
  if (!res.ok || body.error) throw new Error((body.error && (body.error.code + ': ' + body.error.message)) || ('HTTP ' + res.status))
  return body
}

// Live updates patch a table in place: a row whose key is already shown keeps its element and
// only the cells that changed are replaced, so a link or button under the user's pointer is not
// swapped out by the next push (a click between mousedown and mouseup would be lost).
function patchRows (tbody, rows, key) {
  const old = new Map([...tbody.children].map((tr) => [tr.getAttribute(key), tr]))
  const keep = rows.map((nr) => {
    const er = old.get(nr.getAttribute(key))
    if (!er || er.cells.length !== nr.cells.length) return nr
    old.delete(nr.getAttribute(key))
    for (const a of [...er.attributes]) if (!nr.hasAttribute(a.name)) er.removeAttribute(a.name)
    for (const a of [...nr.attributes]) if (er.getAttribute(a.name) !== a.value) er.setAttribute(a.name, a.value)
    for (let i = 0; i < nr.cells.length; i++) {
      if (er.cells[i].outerHTML !== nr.cells[i].outerHTML) er.replaceChild(nr.cells[i], er.cells[i])
    }
    return er
  })
  for (const tr of old.values()) tr.remove()
  keep.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null) })
}

function fail (where, err) {
  where.replaceChildren(h('p', { class: 'error', text: String(err.message || err) }))
}

// ---- live state

function connect () {
  const es = new EventSource('/api/events')
  es.addEventListener('state', (ev) => {
    const s = JSON.parse(ev.data)
    if (s.error) { setLive('error', s.error.code + ': ' + s.error.message); return }
    state = s
    setLive('live', 'live')
    render()
  })
  es.onerror = () => setLive('lost', 'disconnected, retrying')
}

function setLive (kind, text) {
  $('#live').dataset.state = kind
  $('#live-text').textContent = text
  if (kind === 'live' && state) $('#updated').textContent = 'updated ' + time(state.at)
}

function render () {
  const s = state.status
  $('#whoami').textContent = s.peer + ' ' + (s.user || '') + (s.role ? ' (' + s.role + ')' : '') + (s.mothership ? ' · Mothership' : '') +
    ' · team ' + (s.team || 'none') + ' · authority seq ' + (s.authority ? s.authority.seq : '—')
  const banner = $('#banner')
  banner.hidden = !s.lockdown.locked
  banner.textContent = s.lockdown.locked ? 'LOCKDOWN: ' + (s.lockdown.reason || '') + ' (no new tokens, joins or records anywhere; reads and sync continue)' : ''
  $('#problems').replaceChildren(...s.problems.map((p) => h('li', {}, h('b', { text: p.code }), ' ' + p.message)))
  renderFront()
  renderTeam()
  renderTokens()
  renderActions()
}

function renderFront () {
  const body = $('#front-body')
  if (!state.front || state.front.length === 0) { body.replaceChildren(h('p', { class: 'empty', text: 'No revocation or lockdown yet.' })); return }
  body.replaceChildren(...state.front.map((e) => {
    const all = e.expected > 0 && e.confirmed === e.expected
    const note = e.kind === 'lockdown'
      ? h('p', { class: 'help', text: 'Peers write no receipts during a lockdown: confirmations arrive after the unlock.' })
      : null
    return h('article', { class: 'front-entry', dataSeq: e.seq, dataKind: e.kind, dataComplete: all ? 'yes' : 'no' },
      h('h3', {}, h('span', { class: 'kind ' + e.kind, text: e.kind }), ' ', e.subject, ' ', h('span', { class: 'muted', text: '(entry ' + e.seq + ', ' + time(e.ts) + ')' })),
      h('p', {}, 'Reason: ', h('q', { text: e.reason || '—' })),
      h('p', { class: 'tally ' + (all ? 'ok' : 'waiting') }, all ? 'Confirmed by every peer: ' : 'Confirmed by ', e.confirmed + ' of ' + e.expected),
      note,
      table(['Peer', 'User', 'State', 'Confirmed at', 'After', 'Last receipt', 'Authority'], e.peers.map((p) => h('tr', { dataPeer: p.peer, dataState: p.state },
        h('td', {}, idLink(p.peer)),
        h('td', { text: p.user }),
        h('td', { class: 'state ' + p.state, text: p.state === 'confirmed' ? 'applied' : p.state === 'subject' ? 'revoked (subject)' : 'not yet' }),
        h('td', { text: time(p.confirmedAt) }),
        h('td', { text: p.confirmedAt === null ? '' : '+' + Math.max(0, p.confirmedAt - e.ts) + ' ms' }),
        h('td', { text: p.lastReceiptAt === null ? 'never' : ago(p.lastReceiptAt) }),
        h('td', { text: p.authSeq === null ? '—' : String(p.authSeq) })
      )), { class: 'front-peers' })
    )
  }))
}

function statusCell (m) {
  if (m.status === 'revoked') return h('td', { class: 'state revoked' }, 'revoked', h('br'), h('small', { text: m.reason || '' }))
  if (m.status === 'expired') return h('td', { class: 'state expired', text: 'expired ' + time(m.expires) })
  return h('td', { class: 'state active', text: 'active' })
}

function renderTeam () {
  $('#team-verdict').textContent = state.verdict || ''
  const rows = (state.team || []).map((m) => h('tr', { dataKey: m.key, dataId: m.id, dataStatus: m.status, dataKind: m.human ? 'human' : 'agent' },
    h('td', {}, idLink(m.id)),
    h('td', {}, h('span', { class: 'badge ' + (m.human ? 'human' : 'agent'), text: m.human ? 'human' : 'agent' })),
    h('td', { text: m.name + (m.self ? ' (this node)' : '') }),
    h('td', { text: m.role }),
    statusCell(m),
    h('td', { text: m.human ? (m.lastReceiptAt === null ? 'never' : time(m.lastReceiptAt)) : '—' }),
    h('td', { text: m.authSeq === null ? '—' : String(m.authSeq) }),
    h('td', { class: 'link ' + (m.link || ''), text: m.link || '—' }),
    h('td', { text: m.lastSeen ? ago(m.lastSeen) : '—' }),
    h('td', { class: 'noprint' }, state.actions && m.status === 'active' && !m.self && m.human
      ? h('button', { class: 'danger small', onclick: () => openAction('revoke-peer', { peer: m.id }) }, 'Revoke…')
      : null)
  ))
  patchRows($('#team-table tbody'), rows, 'data-key')
}

function renderTokens () {
  const tbody = $('#tokens-table tbody')
  if (state.tokens === null) { tbody.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: 'Tokens are held by the Mothership: open the page there.' }))); return }
  if (state.tokens.length === 0) { tbody.replaceChildren(h('tr', {}, h('td', { colspan: 8, class: 'empty', text: 'No tokens issued.' }))); return }
  patchRows(tbody, state.tokens.map((t) => h('tr', { dataJti: t.jti, dataState: t.status },
    h('td', {}, h('a', { href: '#token=' + t.jti, class: 'id', onclick: (e) => { e.preventDefault(); showToken(t.jti) } }, t.jti)),
    h('td', { text: t.user }),
    h('td', { text: t.role }),
    h('td', { class: 'state ' + t.status }, t.status, t.revokedReason ? h('small', { text: ' ' + t.revokedReason }) : null),
    h('td', { text: time(t.issuedAt) }),
    h('td', { text: time(t.expiresAt) }),
    h('td', {}, ...t.usedBy.map((p) => [idLink(p), ' '])),
    h('td', { class: 'noprint' }, state.actions && t.status !== 'revoked' ? h('button', { class: 'danger small', onclick: () => openAction('revoke-token', { jti: t.jti }) }, 'Revoke…') : null)
  )), 'data-jti')
}

// ---- evidence on demand

async function showToken (jti) {
  const body = $('#token-body')
  history.replaceState(null, '', '#token=' + encodeURIComponent(jti))
  body.replaceChildren(h('p', { class: 'muted', text: 'loading audit of ' + jti + '…' }))
  try {
    const a = await getJson('/api/token?jti=' + encodeURIComponent(jti))
    body.replaceChildren(h('article', { id: 'token-audit', dataJti: a.jti },
      h('h3', {}, 'Audit of ', h('code', { text: a.jti }), a.user ? ' (' + a.user + ', ' + a.role + ')' : ''),
      a.revoked ? h('p', { class: 'state revoked', text: 'revoked at entry ' + a.revoked.entry + ': ' + a.revoked.reason }) : null,
      h('p', {}, 'Bound to: ', a.boundTo.length === 0 ? 'nobody' : a.boundTo.map((b) => [idLink(b.peer), b.revoked ? ' (revoked) ' : ' '])),
      a.attempts.length === 0
        ? h('p', { class: 'empty', text: 'No join attempt with this token.' })
        : table(['Time', 'Source', 'Key', 'Outcome', 'Reason'], a.attempts.map((x) => h('tr', { class: 'attempt', dataOutcome: x.outcome },
          h('td', { text: time(x.ts) }), h('td', { text: x.source }), h('td', {}, x.peer ? idLink(x.peer) : '—'),
          h('td', { class: 'state ' + x.outcome, text: x.outcome }), h('td', { text: x.reason || '' })))),
      a.summarised ? h('p', { class: 'help', text: a.summarised.count + ' further attempts counted, not stored one by one (' + time(a.summarised.first) + ' to ' + time(a.summarised.last) + ')' }) : null,
      h('p', { class: 'cli' }, h('code', { text: 'aura mothership audit-token ' + a.jti }))
    ))
  } catch (err) { fail(body, err) }
}

async function showIdentity (id, since) {
  $('#identity-id').value = id
  if (since !== undefined) $('#identity-since').value = since
  since = $('#identity-since').value.trim()
  history.replaceState(null, '', '#identity=' + encodeURIComponent(id))
  $('#evidence').scrollIntoView()
  const body = $('#identity-body')
  body.replaceChildren(h('p', { class: 'muted', text: 'loading…' }))
  try {
    const r = await getJson('/api/identity?id=' + encodeURIComponent(id) + (since ? '&since=' + encodeURIComponent(since) : ''))
    const member = ((state && state.team) || []).find((m) => m.id === id || m.key.startsWith(id.replace(/^[a-z.]+-/, '')))
    body.replaceChildren(h('article', { id: 'identity-evidence', dataId: id },
      h('h3', {}, 'Records of ', h('code', { text: id }), since ? ' since ' + since : ''),
      member
        ? h('p', {}, 'Status: ', h('b', { class: 'state ' + member.status, text: member.status }),
          member.status === 'revoked' ? ' (' + (member.reason || '') + '): records past the cut are quarantined, kept as evidence' : member.status === 'expired' ? ' (' + time(member.expires) + ')' : '')
        : null,
      h('p', { text: r.records.length + ' records, ' + r.quarantined + ' quarantined' }),
      h('p', { class: 'cli' }, h('code', { text: 'aura trace --actor ' + id + (since ? ' --since ' + since : '') })),
      r.records.length === 0
        ? null
        : table(['Time', 'Record', 'Kind', 'Signer', 'Actor', 'Status', 'Text'], r.records.map((x) => h('tr', { class: 'record', dataStatus: x.status },
          h('td', { text: time(x.ts) }), h('td', {}, h('code', { text: x.id.slice(0, 12) })), h('td', { text: x.kind }),
          h('td', { text: x.signer }), h('td', { text: x.actor }),
          h('td', { class: 'state ' + x.status }, x.status, x.reason ? h('small', { text: ' ' + x.reason }) : null),
          h('td', { class: 'text', text: x.text })))),
      h('h4', { text: 'Zone claims' }),
      r.zones.length === 0
        ? h('p', { class: 'empty', text: 'No zone claims.' })
        : table(['Zone', 'Patterns', 'Mode', 'Status'], r.zones.map((z) => h('tr', { class: 'zone' },
          h('td', {}, h('code', { text: String(z.id).slice(0, 12) })), h('td', { text: (z.patterns || []).join(', ') }), h('td', { text: z.mode || '' }), h('td', { text: z.status || '' }))))
    ))
  } catch (err) { fail(body, err) }
}

async function showReview () {
  const since = $('#review-since').value.trim()
  const body = $('#review-body')
  body.replaceChildren(h('p', { class: 'muted', text: 'reviewing…' }))
  try {
    const r = await getJson('/api/review?since=' + encodeURIComponent(since))
    const flagged = r.records.filter((x) => x.flags > 0)
    let n = 0
    body.replaceChildren(
      h('p', { text: r.summary.records + ' records, ' + r.summary.flagged + ' flagged: ' + r.summary.high + ' high, ' + r.summary.medium + ' medium, ' + r.summary.low + ' notes' }),
      h('p', { class: 'cli' }, h('code', { text: 'aura pr-review --since ' + r.since + ' --security' })),
      ...flagged.map((x) => h('article', { class: 'flagged-intent', dataRecord: x.id },
        h('h3', {}, h('code', { text: x.id.slice(0, 12) }), ' ', x.kind, ' by ', idLink(x.signer), ' as ' + x.actor, ' ', h('span', { class: 'muted', text: time(x.ts) }),
          x.status === 'quarantined' ? h('span', { class: 'state quarantined', text: ' QUARANTINED (' + x.reason + ')' }) : null),
        h('p', { class: 'text', text: x.text }),
        h('ul', { class: 'flags' }, r.flags.filter((f) => f.recordId === x.id).map((f) => {
          const i = n++
          const ev = f.evidence || {}
          return h('li', { class: 'flag ' + f.severity, dataRule: f.rule },
            h('b', { text: f.severity.toUpperCase() }), ' ', f.rule, ' ', h('code', { text: f.location }), ': ', f.reason,
            f.excerpt ? h('div', { class: 'evidence' }, ev.line == null ? '' : 'line ' + ev.line + ': ', h('code', { text: f.excerpt })) : null,
            ev.before != null || ev.after != null ? h('div', { class: 'evidence' }, 'before: ', h('code', { text: ev.before || '—' }), ' after: ', h('code', { text: ev.after || '—' })) : null,
            ev.detail ? h('div', { class: 'evidence', text: ev.detail }) : null,
            f.rewind ? h('div', { class: 'undo' }, h('a', { class: 'rewind-link', href: '#rewind-' + i }, 'Undo with rewind →'), ' ', h('code', { class: 'rewind-cmd', id: 'rewind-' + i, text: f.rewind })) : null)
        }))
      )),
      h('h3', { text: 'Rewinds made' }),
      r.rewinds.length === 0
        ? h('p', { class: 'empty', text: 'No rewind in range.' })
        : table(['Time', 'Rewind', 'By', 'Text', ''], r.rewinds.map((x) => h('tr', { class: 'rewind-record' },
          h('td', { text: time(x.ts) }), h('td', {}, h('code', { text: x.id.slice(0, 12) })), h('td', {}, idLink(x.signer)), h('td', { text: x.text }),
          h('td', {}, h('button', { class: 'small', onclick: () => showIntent(x.id) }, 'Who has it?')))))
    )
  } catch (err) { fail(body, err) }
}

async function showIntent (id) {
  const body = $('#intent-body')
  body.replaceChildren(h('p', { class: 'muted', text: 'loading…' }))
  try {
    const r = await getJson('/api/intent?id=' + encodeURIComponent(id))
    body.replaceChildren(h('article', { id: 'intent-status', dataIntent: r.intent },
      h('h3', {}, 'Sync status of ', h('code', { text: String(r.intent).slice(0, 12) })),
      h('p', { text: r.verdict }),
      h('p', { class: 'cli' }, h('code', { text: 'aura sync status --intent ' + String(r.intent).slice(0, 12) })),
      table(['Peer', 'User', 'Holds', 'Applied', 'Last receipt'], r.peers.map((p) => h('tr', { dataPeer: p.peer },
        h('td', {}, idLink(p.peer)), h('td', { text: p.user + (p.revoked ? ' (revoked)' : '') }),
        h('td', { text: p.holdsIntent === null ? '—' : p.holdsIntent ? 'yes' : 'no' }),
        h('td', { text: p.appliedIntent === null ? 'unknown' : p.appliedIntent ? 'yes' : 'NO (apply = ' + (p.apply || '?') + ')' }),
        h('td', { text: p.lastReceiptAt === null ? 'never' : time(p.lastReceiptAt) }))))
    ))
  } catch (err) { fail(body, err) }
}

// ---- actions

const ACTION_FORMS = {
  'revoke-peer': { title: 'Revoke a peer everywhere', fields: ['peer', 'reason'] },
  'revoke-token': { title: 'Revoke a join token', fields: ['jti', 'reason'] },
  'agent-revoke-all': { title: 'Revoke AI agents (hard pause)', fields: ['role', 'reason'] },
  lockdown: { title: 'Lockdown: no new tokens, joins or records anywhere', fields: ['reason'] },
  unlock: { title: 'End the lockdown', fields: ['reason'] }
}

function renderActions () {
  const body = $('#actions-body')
  if (!state.actions) {
    body.replaceChildren(h('p', { class: 'empty' }, state.mothership ? 'Actions are off: start the page with ' : 'Actions run only on the Mothership, with ', h('code', { text: 'aura ui --actions' }), '.'))
    return
  }
  if (body.dataset.on === 'yes') return
  body.dataset.on = 'yes'
  body.replaceChildren(
    h('p', { class: 'help', text: 'Each action shows the exact CLI line and runs the same operation. Revocations are never undone.' }),
    h('div', { class: 'buttons' },
      h('button', { class: 'danger', id: 'act-lockdown', onclick: () => openAction('lockdown', {}) }, 'Lockdown…'),
      h('button', { id: 'act-unlock', onclick: () => openAction('unlock', {}) }, 'Unlock…'),
      h('button', { class: 'danger', id: 'act-revoke-all', onclick: () => openAction('agent-revoke-all', { role: 'agent' }) }, 'Revoke all agents…'),
      h('button', { class: 'danger', id: 'act-revoke-peer', onclick: () => openAction('revoke-peer', {}) }, 'Revoke a peer…'),
      h('button', { class: 'danger', id: 'act-revoke-token', onclick: () => openAction('revoke-token', {}) }, 'Revoke a token…')),
    h('div', { id: 'action-result' }))
}

let pending = null

async function postAction (action, params, preview) {
  const res = await fetch('/api/action', { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action, params, preview }) })
  const body = await res.json()
  if (!res.ok || body.error) throw new Error((body.error && (body.error.code + ': ' + body.error.message)) || ('HTTP ' + res.status))
  return body
}

function openAction (action, preset) {
  const form = ACTION_FORMS[action]
  pending = { action, seq: 0 }
  $('#confirm-title').textContent = form.title
  $('#confirm-fields').replaceChildren(...form.fields.map((f) => h('label', {}, f, h('input', { name: f, value: preset[f] || '', required: true, oninput: preview }))))
  $('#confirm-error').hidden = true
  $('#confirm-cli').textContent = ''
  $('#confirm-run').disabled = true
  $('#confirm').showModal()
  preview()
}

function formParams () {
  const out = {}
  for (const input of $('#confirm-fields').querySelectorAll('input')) out[input.name] = input.value
  return out
}

async function preview () {
  const seq = ++pending.seq
  const run = $('#confirm-run')
  run.disabled = true
  const params = formParams()
  if (Object.values(params).some((v) => v.trim() === '')) { $('#confirm-cli').textContent = '(fill in every field)'; return }
  try {
    const r = await postAction(pending.action, params, true)
    if (seq !== pending.seq) return
    $('#confirm-cli').textContent = r.cli
    $('#confirm-error').hidden = true
    run.disabled = false
  } catch (err) {
    if (seq !== pending.seq) return
    $('#confirm-error').hidden = false
    $('#confirm-error').textContent = err.message
  }
}

async function confirmAction () {
  const run = $('#confirm-run')
  run.disabled = true
  try {
    const r = await postAction(pending.action, formParams(), false)
    $('#confirm').close()
    $('#action-result').replaceChildren(h('p', { class: 'ok' }, 'Done: ', h('code', { text: r.cli })))
  } catch (err) {
    $('#confirm-error').hidden = false
    $('#confirm-error').textContent = err.message
  }
}

// ---- start

document.addEventListener('DOMContentLoaded', () => {
  $('#identity-form').addEventListener('submit', (e) => { e.preventDefault(); showIdentity($('#identity-id').value.trim()) })
  $('#review-form').addEventListener('submit', (e) => { e.preventDefault(); showReview() })
  $('#confirm-cancel').addEventListener('click', () => $('#confirm').close())
  $('#confirm-run').addEventListener('click', confirmAction)
  connect()
  const m = /^#(identity|token|intent)=(.+)$/.exec(location.hash)
  if (m) {
    const v = decodeURIComponent(m[2])
    if (m[1] === 'identity') showIdentity(v)
    else if (m[1] === 'token') showToken(v)
    else showIntent(v)
  }
})
