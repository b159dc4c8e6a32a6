// The session list and player: one self-contained page (inline CSS and JS, no build step, no
// external resources) that reads GET /api/sessions and GET /api/sessions/:id. Every recorded value
// is put in the page with textContent, never as HTML.
export const SESSIONS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>querygate · sessions</title>
<style>
  :root { --bg:#f7f7f8; --fg:#1d1f23; --muted:#6b7280; --line:#e3e4e8; --ok:#127a3e; --bad:#b42318; --hold:#a15c00; --accent:#2f5bd3; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--fg); }
  header { padding:12px 20px; background:#fff; border-bottom:1px solid var(--line); display:flex; gap:16px; align-items:baseline; }
  header h1 { font-size:16px; margin:0; }
  header .muted { color:var(--muted); }
  main { display:grid; grid-template-columns: minmax(460px, 44%) 1fr; gap:0; height:calc(100vh - 49px); }
  #list { overflow:auto; border-right:1px solid var(--line); background:#fff; }
  #player { overflow:auto; padding:16px 20px; }
  table { border-collapse:collapse; width:100%; }
  th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); white-space:nowrap; }
  th { font-weight:600; color:var(--muted); font-size:12px; position:sticky; top:0; background:#fff; }
  #sessions tbody tr { cursor:pointer; }
  #sessions tbody tr:hover { background:#f0f3fb; }
  #sessions tbody tr.selected { background:#e4ebfb; }
  .badge { display:inline-block; padding:0 6px; border-radius:8px; font-size:12px; font-weight:600; }
  .allow { color:var(--ok); background:#e3f4ea; } .deny { color:var(--bad); background:#fde8e6; } .hold { color:var(--hold); background:#fdf1dc; }
  .live { color:var(--accent); background:#e4ebfb; }
  .controls { display:flex; gap:8px; align-items:center; margin:8px 0 12px; flex-wrap:wrap; }
  button, select { font:inherit; padding:4px 10px; border:1px solid var(--line); border-radius:6px; background:#fff; cursor:pointer; }
  button.primary { background:var(--accent); color:#fff; border-color:var(--accent); }
  input[type=range] { flex:1; min-width:160px; }
  .meta { color:var(--muted); margin:4px 0; }
  .entry { background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px 12px; margin:8px 0; }
  .entry .time { color:var(--muted); font-variant-numeric:tabular-nums; margin-right:8px; font-size:12px; }
  .entry pre { margin:6px 0 0; white-space:pre-wrap; word-break:break-word; font:13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
  .entry table { margin-top:6px; font:12px ui-monospace, SFMono-Regular, Menlo, monospace; }
  .entry td.masked { color:var(--hold); }
  .entry td.null { color:var(--muted); font-style:italic; }
  .error { color:var(--bad); }
  .empty { color:var(--muted); padding:24px; }
  .verify-ok { color:var(--ok); font-weight:600; } .verify-bad { color:var(--bad); font-weight:600; }
</style>
</head>
<body>
<header><h1>querygate · sessions</h1><span class="muted" id="summary">loading…</span></header>
<main>
  <section id="list">
    <table id="sessions"><thead><tr><th>started</th><th>identity</th><th>listener</th><th>db</th><th>stmts</th><th>denied</th><th>duration</th><th></th></tr></thead><tbody></tbody></table>
    <div class="empty" id="list-empty" hidden>No recordings yet.</div>
  </section>
  <section id="player"><div class="empty">Choose a session to replay it.</div></section>
</main>
<script>
(function () {
  'use strict';
  var state = { records: [], index: 0, timer: null, playing: false, speed: 1 };
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'class') node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function ms(n) {
    if (n === undefined || n === null) return '';
    if (n < 1000) return (n < 10 ? Math.round(n * 100) / 100 : Math.round(n)) + ' ms';
    if (n < 60000) return (n / 1000).toFixed(1) + ' s';
    return Math.floor(n / 60000) + ' min ' + Math.round((n % 60000) / 1000) + ' s';
  }
  function when(iso) { var d = new Date(iso); return isNaN(d) ? iso : d.toLocaleString(); }
  function clock(t) {
    var s = Math.floor(t / 1000);
    return String(Math.floor(s / 60)).padStart(2, '0') + ':' + String(s % 60).padStart(2, '0') + '.' + String(t % 1000).padStart(3, '0');
  }
  function getJson(url) {
    return fetch(url, { headers: { accept: 'application/json' } }).then(function (r) {
      return r.json().then(function (body) { if (!r.ok) throw new Error(body.message || r.statusText); return body; });
    });
  }

  function loadList() {
    return getJson('/api/sessions').then(function (body) {
      var tbody = document.querySelector('#sessions tbody');
      tbody.textContent = '';
      document.getElementById('summary').textContent = body.recording
        ? body.sessions.length + ' recorded session' + (body.sessions.length === 1 ? '' : 's') + ' in ' + body.dir
        : 'recording is off (set recording.dir)';
      document.getElementById('list-empty').hidden = body.sessions.length > 0;
      body.sessions.forEach(function (s) {
        var status = s.ended ? el('span', { class: 'badge', text: s.endReason }) : el('span', { class: 'badge live', text: 'live / cut' });
        var row = el('tr', { 'data-id': s.id }, [
          el('td', { text: when(s.startedAt) }), el('td', { text: s.subject }), el('td', { text: s.listener + ' (' + s.protocol + ')' }),
          el('td', { text: s.database }), el('td', { text: s.statements === undefined ? '' : String(s.statements) }),
          el('td', { text: s.denied === undefined ? '' : String(s.denied) }), el('td', { text: ms(s.durationMs) }), el('td', null, [status]),
        ]);
        row.addEventListener('click', function () { location.hash = encodeURIComponent(s.id); });
        tbody.appendChild(row);
      });
      select();
    }).catch(function (err) { document.getElementById('summary').textContent = 'could not list sessions: ' + err.message; });
  }

  function select() {
    var id = decodeURIComponent(location.hash.slice(1));
    document.querySelectorAll('#sessions tbody tr').forEach(function (tr) { tr.classList.toggle('selected', tr.getAttribute('data-id') === id); });
    if (id) openSession(id);
  }

  function openSession(id) {
    stop();
    var player = document.getElementById('player');
    player.textContent = '';
    player.appendChild(el('div', { class: 'empty', text: 'loading ' + id + '…' }));
    getJson('/api/sessions/' + encodeURIComponent(id)).then(function (body) {
      var h = body.header;
      state.records = body.records.slice(1);
      state.index = 0;
      player.textContent = '';
      var verify = body.verify.intact
        ? el('span', { class: 'verify-ok', text: body.verify.complete ? '✓ hash chain intact' : '✓ intact so far (no end record: live or cut short)' })
        : el('span', { class: 'verify-bad', text: '✗ tampered: line ' + body.verify.problems[0].line + ': ' + body.verify.problems[0].message });
      player.appendChild(el('h2', { text: h.identity.subject + ' → ' + h.listener + '/' + h.database, style: 'margin:0;font-size:18px' }));
      player.appendChild(el('div', { class: 'meta', text: 'session ' + h.sessionId + ' · ' + h.protocol + ' · from ' + h.clientAddress + (h.tls ? ' (TLS)' : '') + ' · started ' + when(h.startedAt) + ' · statements recorded ' + h.statementText }));
      player.appendChild(el('div', { class: 'meta' }, [verify]));
      var play = el('button', { class: 'primary', id: 'play', text: '▶ play' });
      var speed = el('select', { id: 'speed' }, [0.5, 1, 2, 4, 10, 0].map(function (v) {
        var o = el('option', { value: String(v), text: v === 0 ? 'no waiting' : v + '×' });
        if (v === state.speed) o.selected = true;
        return o;
      }));
      var all = el('button', { id: 'all', text: 'show all' });
      var range = el('input', { type: 'range', id: 'position', min: '0', max: String(state.records.length), value: '0' });
      var position = el('span', { class: 'meta', id: 'where', text: '' });
      player.appendChild(el('div', { class: 'controls' }, [play, speed, all, range, position]));
      var timeline = el('div', { id: 'timeline' });
      player.appendChild(timeline);
      play.addEventListener('click', function () { state.playing ? stop() : start(); });
      speed.addEventListener('change', function () { state.speed = Number(speed.value); if (state.playing) { stop(); start(); } });
      all.addEventListener('click', function () { stop(); seek(state.records.length); });
      range.addEventListener('input', function () { stop(); seek(Number(range.value)); });
      seek(0);
    }).catch(function (err) {
      player.textContent = '';
      player.appendChild(el('div', { class: 'empty error', text: err.message }));
    });
  }

  function seek(to) {
    var timeline = document.getElementById('timeline');
    timeline.textContent = '';
    state.index = 0;
    while (state.index < to) show(state.records[state.index++]);
    progress();
  }
  function progress() {
    var range = document.getElementById('position');
    if (range) range.value = String(state.index);
    var where = document.getElementById('where');
    var r = state.records[Math.max(0, state.index - 1)];
    if (where) where.textContent = state.index + ' / ' + state.records.length + (r ? ' · ' + clock(r.t) : '');
  }
  function start() {
    if (state.index >= state.records.length) seek(0);
    state.playing = true;
    document.getElementById('play').textContent = '❚❚ pause';
    step();
  }
  function stop() {
    state.playing = false;
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    var play = document.getElementById('play');
    if (play) play.textContent = '▶ play';
  }
  function step() {
    if (!state.playing) return;
    if (state.index >= state.records.length) { stop(); return; }
    var r = state.records[state.index++];
    show(r);
    progress();
    var next = state.records[state.index];
    var gap = next ? Math.max(0, next.t - r.t) : 0;
    // Long idle gaps are capped so a replay never sits still for minutes.
    var wait = state.speed === 0 ? 0 : Math.min(gap / state.speed, 3000);
    state.timer = setTimeout(step, wait);
  }

  function show(r) {
    var timeline = document.getElementById('timeline');
    var entry = el('div', { class: 'entry', 'data-type': r.type }, [el('span', { class: 'time', text: clock(r.t) })]);
    if (r.type === 'statement') {
      entry.appendChild(el('strong', { text: '#' + r.n + ' ' + r.command + (r.parent ? ' (inside #' + r.parent + ')' : '') + ' · ' + r.via }));
      entry.appendChild(el('pre', { text: r.text }));
      if (r.parameters) entry.appendChild(el('div', { class: 'meta', text: 'parameters: ' + JSON.stringify(r.parameters) }));
    } else if (r.type === 'verdict') {
      entry.appendChild(el('span', { class: 'badge ' + r.verdict, text: r.verdict }));
      entry.appendChild(document.createTextNode(' #' + r.n + (r.rule ? ' · rule ' + r.rule : '')));
      if (r.error) entry.appendChild(el('div', { class: 'error', text: r.error.code + ': ' + r.error.message }));
      if (r.notice) entry.appendChild(el('div', { class: 'meta', text: r.notice }));
    } else if (r.type === 'result') {
      entry.appendChild(el('strong', { text: 'result #' + r.n + ' · ' + r.rows.length + ' row' + (r.rows.length === 1 ? '' : 's') + (r.truncated ? ' recorded (more were sent)' : '') + (r.plan ? ' · ' + r.plan : '') }));
      var masked = r.masked || [];
      var head = el('tr', null, r.columns.map(function (c, i) { return el('th', { text: c + (masked.indexOf(i) >= 0 ? ' (masked)' : '') }); }));
      var body = r.rows.map(function (row) {
        return el('tr', null, row.map(function (v, i) {
          return el('td', { class: v === null ? 'null' : masked.indexOf(i) >= 0 ? 'masked' : '', text: v === null ? 'NULL' : v });
        }));
      });
      entry.appendChild(el('table', null, [el('thead', null, [head]), el('tbody', null, body)]));
    } else if (r.type === 'complete') {
      entry.appendChild(el('span', { text: '#' + r.n + ' completed in ' + ms(r.durationMs) + (r.rows !== undefined ? ' · ' + r.rows + ' rows' : '') + (r.masked ? ' · masked ' + r.masked.values + ' values in ' + r.masked.columns.join(', ') : '') }));
      if (r.error) entry.appendChild(el('div', { class: 'error', text: r.error.code + ': ' + r.error.message }));
    } else if (r.type === 'event') {
      entry.appendChild(el('span', { class: r.kind === 'error' ? 'error' : '', text: r.kind + (r.code ? ' ' + r.code : '') + ': ' + r.message }));
    } else if (r.type === 'end') {
      entry.appendChild(el('strong', { text: 'session ended (' + r.reason + ') after ' + ms(r.durationMs) + ': ' + r.statements + ' statements, ' + r.denied + ' denied' + (r.dropped ? ', ' + r.dropped + ' records dropped' : '') }));
    } else {
      entry.appendChild(el('pre', { text: JSON.stringify(r) }));
    }
    timeline.appendChild(entry);
    entry.scrollIntoView({ block: 'nearest' });
  }

  window.addEventListener('hashchange', select);
  loadList();
})();
</script>
</body>
</html>
`;
