// The approvals console: one self-contained page (inline CSS and JS, no build step, no framework)
// that talks to the JSON API and the event stream with the credentials the approver types in.
// Statement text is untrusted: every value reaches the DOM through textContent or escapeHtml.
// The script avoids backquotes and dollar-brace so it can live in this template literal.

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>querygate — approvals</title>
<style>
  :root { --bg:#f6f7f9; --panel:#fff; --ink:#1d2330; --muted:#667085; --line:#e3e6ec; --accent:#2456d6; --ok:#12794a; --bad:#b42318; --warn:#b54708; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--ink); background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#151a26; color:#fff; }
  header h1 { font-size:16px; margin:0; font-weight:600; }
  header .who { margin-left:auto; font-size:13px; color:#c9d1e3; }
  header button { background:transparent; color:#c9d1e3; border:1px solid #3a4256; }
  main { display:grid; grid-template-columns: 360px 1fr; gap:16px; padding:16px 20px; }
  .panel { background:var(--panel); border:1px solid var(--line); border-radius:8px; }
  .panel h2 { font-size:13px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); margin:0; padding:12px 14px; border-bottom:1px solid var(--line); display:flex; align-items:center; gap:8px; }
  .panel h2 select { margin-left:auto; }
  #queue { list-style:none; margin:0; padding:0; max-height: calc(100vh - 140px); overflow:auto; }
  .queue-item { padding:10px 14px; border-bottom:1px solid var(--line); cursor:pointer; }
  .queue-item:hover { background:#f2f5fb; }
  .queue-item.selected { background:#e8efff; border-left:3px solid var(--accent); padding-left:11px; }
  .queue-item .top { display:flex; gap:8px; align-items:baseline; }
  .queue-item .sql { font:12px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; color:#344054; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; margin-top:3px; }
  .queue-item .meta { color:var(--muted); font-size:12px; }
  .empty { padding:24px 14px; color:var(--muted); }
  .badge { font-size:11px; padding:1px 7px; border-radius:10px; font-weight:600; text-transform:uppercase; }
  .st-pending { background:#fff4e5; color:var(--warn); } .st-approved { background:#e7f6ee; color:var(--ok); }
  .st-denied { background:#fdecea; color:var(--bad); } .st-expired, .st-cancelled { background:#eef0f3; color:var(--muted); }
  #detail { padding:16px 18px; }
  #detail h3 { margin:0 0 4px; font-size:18px; }
  dl { display:grid; grid-template-columns: 140px 1fr; gap:6px 12px; margin:14px 0; }
  dt { color:var(--muted); } dd { margin:0; word-break:break-word; }
  pre.sql { background:#0f1420; color:#e6e9f0; padding:14px; border-radius:6px; overflow:auto; font:13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; white-space:pre-wrap; }
  .kw { color:#7cb7ff; font-weight:600; } .str { color:#b5e48c; } .num { color:#f9c74f; } .cmt { color:#8d96a8; font-style:italic; } .danger { color:#ff6b6b; font-weight:700; }
  .decide { display:grid; gap:10px; margin-top:14px; padding-top:14px; border-top:1px solid var(--line); }
  textarea, input, select { font:inherit; padding:7px 9px; border:1px solid #cfd4dc; border-radius:6px; background:#fff; }
  textarea { min-height:60px; resize:vertical; }
  .row { display:flex; gap:10px; align-items:center; flex-wrap:wrap; }
  button { font:inherit; padding:7px 14px; border-radius:6px; border:1px solid #cfd4dc; background:#fff; cursor:pointer; }
  button.approve { background:var(--ok); border-color:var(--ok); color:#fff; }
  button.deny { background:var(--bad); border-color:var(--bad); color:#fff; }
  button:disabled { opacity:.5; cursor:default; }
  .msg { padding:8px 10px; border-radius:6px; display:none; } .msg.show { display:block; }
  .msg.error { background:#fdecea; color:var(--bad); } .msg.info { background:#e7f6ee; color:var(--ok); }
  #login { max-width:420px; margin:60px auto; padding:22px; }
  #login h2 { border:0; padding:0 0 12px; }
  #login label { display:block; margin:10px 0 4px; color:var(--muted); }
  #login input { width:100%; }
  .or { text-align:center; color:var(--muted); margin:14px 0 0; }
  .live { font-size:12px; color:#9aa4b8; } .live.on::before { content:"\\25CF "; color:#4ade80; }
  .votes li { margin:2px 0; }
</style>
</head>
<body>
<header>
  <h1>querygate · approvals</h1>
  <span id="live" class="live">offline</span>
  <span class="who" id="who"></span>
  <button id="logout" hidden>Sign out</button>
</header>

<section id="login" class="panel" hidden>
  <h2>Sign in to approve</h2>
  <form id="login-form">
    <label for="login-user">User</label><input id="login-user" autocomplete="username">
    <label for="login-password">Password</label><input id="login-password" type="password" autocomplete="current-password">
    <p class="or">or</p>
    <label for="login-token">OIDC / JWT bearer token</label><input id="login-token" autocomplete="off">
    <div class="row" style="margin-top:14px"><button id="login-submit" type="submit" class="approve">Sign in</button></div>
    <p id="login-error" class="msg error"></p>
  </form>
</section>

<main id="app" hidden>
  <section class="panel">
    <h2>Queue <select id="filter" aria-label="filter"><option value="pending">pending</option><option value="all">recent</option></select></h2>
    <ul id="queue"></ul>
  </section>
  <section class="panel" id="detail"><p class="empty">Select a request.</p></section>
</main>

<script>
(function () {
  'use strict';
  var API = '/api/approvals';
  var state = { auth: sessionStorage.getItem('qg-auth'), who: sessionStorage.getItem('qg-who'), requests: {}, selected: null, filter: 'pending', stream: null };
  var $ = function (id) { return document.getElementById(id); };

  function escapeHtml(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
  }

  var KEYWORDS = ('select from where and or not in is null like ilike between insert into values update set delete ' +
    'create alter drop truncate table index view schema database grant revoke to on as join left right inner outer full ' +
    'cross using group by order having limit offset union all distinct case when then else end returning with begin commit ' +
    'rollback primary key foreign references default constraint unique check cascade restrict if exists column add rename ' +
    'function procedure trigger execute do call copy vacuum analyze explain role user password replace merge matched ' +
    'lock share exclusive mode nowait for desc asc true false').split(' ');
  var DANGER = { drop: 1, truncate: 1, delete: 1, alter: 1, grant: 1, revoke: 1 };
  var KW = {}; KEYWORDS.forEach(function (k) { KW[k] = 1; });
  var TOKEN = /(--[^\\n]*|\\/\\*[\\s\\S]*?(?:\\*\\/|$))|('(?:[^']|'')*'?|"(?:[^"]|"")*"?)|(\\$[A-Za-z_]*\\$[\\s\\S]*?(?:\\$[A-Za-z_]*\\$|$))|(\\b\\d+(?:\\.\\d+)?\\b)|([A-Za-z_][A-Za-z0-9_]*)/g;

  /** SQL to HTML with simple keyword highlighting; every piece of the text is escaped. */
  function highlight(sql) {
    var out = '', last = 0, m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(sql)) !== null) {
      if (m[0] === '') { TOKEN.lastIndex++; continue; }
      out += escapeHtml(sql.slice(last, m.index));
      var t = escapeHtml(m[0]);
      if (m[1]) out += '<span class="cmt">' + t + '</span>';
      else if (m[2] && m[2][0] === "'") out += '<span class="str">' + t + '</span>';
      else if (m[2]) out += t;
      else if (m[3]) out += '<span class="str">' + t + '</span>';
      else if (m[4]) out += '<span class="num">' + t + '</span>';
      else if (KW[m[5].toLowerCase()]) out += '<span class="' + (DANGER[m[5].toLowerCase()] ? 'kw danger' : 'kw') + '">' + t + '</span>';
      else out += t;
      last = m.index + m[0].length;
    }
    return out + escapeHtml(sql.slice(last));
  }
  window.__highlightSql = highlight;

  function api(method, path, body) {
    var headers = { 'authorization': state.auth, 'x-querygate-console': '1' };
    if (body) headers['content-type'] = 'application/json';
    return fetch(API + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined }).then(function (res) {
      return res.text().then(function (text) {
        var data = null; try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
        if (res.status === 401) { signOut('Signed out: ' + ((data && data.message) || 'authentication required')); }
        if (!res.ok) { var err = new Error((data && data.message) || ('HTTP ' + res.status)); err.status = res.status; throw err; }
        return data;
      });
    });
  }

  function ago(iso) {
    var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (s < 60) return s + 's ago'; if (s < 3600) return Math.floor(s / 60) + 'm ago'; return Math.floor(s / 3600) + 'h ago';
  }
  function left(iso) {
    var s = Math.round((Date.parse(iso) - Date.now()) / 1000);
    if (s <= 0) return 'now'; if (s < 60) return s + 's'; if (s < 3600) return Math.floor(s / 60) + 'm ' + (s % 60) + 's'; return Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm';
  }

  function renderQueue() {
    var list = Object.keys(state.requests).map(function (k) { return state.requests[k]; })
      .filter(function (r) { return state.filter === 'all' || r.status === 'pending'; })
      .sort(function (a, b) { return a.createdAt < b.createdAt ? 1 : -1; });
    var ul = $('queue'); ul.textContent = '';
    if (list.length === 0) { var p = document.createElement('li'); p.className = 'empty'; p.textContent = state.filter === 'pending' ? 'Nothing waits for a decision.' : 'No requests.'; ul.appendChild(p); return; }
    list.forEach(function (r) {
      var li = document.createElement('li');
      li.className = 'queue-item' + (r.id === state.selected ? ' selected' : '');
      li.setAttribute('data-id', r.id);
      li.innerHTML = '<div class="top"><span class="badge st-' + escapeHtml(r.status) + '">' + escapeHtml(r.status) + '</span><strong>' + escapeHtml(r.requester.subject) + '</strong><span class="meta">' + escapeHtml(ago(r.createdAt)) + '</span></div>' +
        '<div class="sql">' + escapeHtml(r.statement.text) + '</div><div class="meta">' + escapeHtml(r.listener + '/' + r.database + ' · rule ' + r.rule) + '</div>';
      li.addEventListener('click', function () { location.hash = r.id; });
      ul.appendChild(li);
    });
  }

  function dd(dl, label, value, html) {
    var t = document.createElement('dt'); t.textContent = label; dl.appendChild(t);
    var d = document.createElement('dd'); if (html) d.innerHTML = value; else d.textContent = value; dl.appendChild(d);
    return d;
  }

  function renderDetail() {
    var box = $('detail');
    var r = state.selected && state.requests[state.selected];
    if (!r) { box.innerHTML = '<p class="empty">' + (state.selected ? 'Loading ' + escapeHtml(state.selected) + '…' : 'Select a request.') + '</p>'; return; }
    var keep = { reason: $('reason') ? $('reason').value : '', window: $('window') ? $('window').value : '' };
    box.innerHTML = '';
    var h = document.createElement('h3'); h.innerHTML = 'Request <code>' + escapeHtml(r.id) + '</code> <span id="status" class="badge st-' + escapeHtml(r.status) + '">' + escapeHtml(r.status) + '</span>'; box.appendChild(h);
    var pre = document.createElement('pre'); pre.className = 'sql'; pre.id = 'statement'; pre.innerHTML = highlight(r.statement.text); box.appendChild(pre);
    var dl = document.createElement('dl'); box.appendChild(dl);
    dd(dl, 'Asked by', r.requester.subject + (r.requester.groups.length ? '  (' + r.requester.groups.join(', ') + ')' : '')).id = 'requester';
    dd(dl, 'Rule', r.rule + (r.message ? ' — ' + r.message : '')).id = 'rule';
    dd(dl, 'Where', r.protocol + ' listener ' + r.listener + ', database ' + r.database + (r.clientAddress ? ', from ' + r.clientAddress : ''));
    if (r.statement.parameters) dd(dl, 'Parameters', JSON.stringify(r.statement.parameters));
    dd(dl, 'Mode', r.mode === 'hold' ? 'the session is waiting' : 'the client retries after approval');
    dd(dl, 'Asked', new Date(r.createdAt).toLocaleString() + ' (' + ago(r.createdAt) + ')');
    if (r.status === 'pending') dd(dl, 'Expires in', left(r.expiresAt)).id = 'expires';
    dd(dl, 'Approvals', r.votes.length + ' of ' + r.required + (r.votes.length ? ': ' + r.votes.map(function (v) { return v.approver + (v.reason ? ' (' + v.reason + ')' : ''); }).join(', ') : ''));
    if (r.status !== 'pending') {
      dd(dl, 'Decided', (r.decidedBy || []).join(', ') + (r.decidedAt ? ' at ' + new Date(r.decidedAt).toLocaleString() : '') + (r.reason ? ' — ' + r.reason : '')).id = 'decision';
      if (r.grant) dd(dl, 'Grant', (r.grant.scope === 'window' ? 'same statement by the same identity until ' : 'one retry until ') + new Date(r.grant.until).toLocaleString() + (r.grant.consumedAt ? ' (used)' : ''));
    }
    if (r.status === 'pending') {
      var form = document.createElement('div'); form.className = 'decide';
      form.innerHTML = '<textarea id="reason" placeholder="Reason (required to deny; the client sees it)"></textarea>' +
        '<div class="row"><label for="window">Allow</label><select id="window"><option value="">this statement only</option><option value="15m">same statement for 15 minutes</option>' +
        '<option value="30m">same statement for 30 minutes</option><option value="1h">same statement for 1 hour</option><option value="4h">same statement for 4 hours</option></select>' +
        '<button id="approve" class="approve">Approve</button><button id="deny" class="deny">Deny</button></div><p id="decide-msg" class="msg"></p>';
      box.appendChild(form);
      $('reason').value = keep.reason; $('window').value = keep.window;
      $('approve').addEventListener('click', function () { decide('approve'); });
      $('deny').addEventListener('click', function () { decide('deny'); });
    }
  }

  function say(text, kind) { var m = $('decide-msg'); if (!m) return; m.textContent = text; m.className = 'msg show ' + kind; }

  function decide(action) {
    var r = state.requests[state.selected]; if (!r) return;
    var reason = $('reason').value.trim();
    if (action === 'deny' && !reason) { say('Give a reason: the client sees it.', 'error'); $('reason').focus(); return; }
    var body = { reason: reason || undefined };
    if (action === 'approve' && $('window').value) body.window = $('window').value;
    $('approve').disabled = true; $('deny').disabled = true;
    api('POST', '/' + encodeURIComponent(r.id) + '/' + action, body).then(function (updated) {
      upsert(updated);
      say(updated.status === 'pending' ? 'Your approval is recorded; ' + (updated.required - updated.votes.length) + ' more needed.' : 'Request ' + updated.status + '.', 'info');
    }).catch(function (err) {
      say(err.message, 'error');
      if ($('approve')) { $('approve').disabled = false; $('deny').disabled = false; }
      refreshOne(r.id);
    });
  }

  function upsert(r) {
    var before = state.requests[r.id];
    if (before && before.version > r.version) return;
    state.requests[r.id] = r;
    renderQueue();
    if (r.id === state.selected) {
      var typing = document.activeElement && (document.activeElement.id === 'reason' || document.activeElement.id === 'window');
      if (!(typing && before && before.status === r.status && r.status === 'pending')) renderDetail();
      if (!typing || r.status !== 'pending') { if (before && before.status === 'pending' && r.status !== 'pending') say('Request ' + r.status + '.', r.status === 'approved' ? 'info' : 'error'); }
    }
  }

  function refreshOne(id) {
    return api('GET', '/' + encodeURIComponent(id)).then(upsert).catch(function (err) {
      if (id === state.selected) $('detail').innerHTML = '<p class="msg show error">' + escapeHtml(err.message) + '</p>';
    });
  }

  function load() {
    return api('GET', state.filter === 'pending' ? '?status=pending&limit=200' : '?status=all&limit=200').then(function (data) {
      data.requests.forEach(upsert);
      renderQueue();
      if (state.selected && !state.requests[state.selected]) refreshOne(state.selected);
    });
  }

  /** The event stream over fetch (EventSource cannot send an Authorization header). */
  function connect() {
    if (state.stream) state.stream.abort();
    var ctrl = new AbortController(); state.stream = ctrl;
    fetch(API + '/events', { headers: { authorization: state.auth, 'x-querygate-console': '1' }, signal: ctrl.signal }).then(function (res) {
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      $('live').textContent = 'live'; $('live').className = 'live on';
      var reader = res.body.getReader(), decoder = new TextDecoder(), buf = '';
      load();
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) throw new Error('stream ended');
          buf += decoder.decode(chunk.value, { stream: true });
          var i;
          while ((i = buf.indexOf('\\n\\n')) >= 0) {
            var block = buf.slice(0, i); buf = buf.slice(i + 2);
            var data = block.split('\\n').filter(function (l) { return l.indexOf('data: ') === 0; }).map(function (l) { return l.slice(6); }).join('\\n');
            if (data) { try { upsert(JSON.parse(data)); } catch (e) { /* a torn event; the next load repairs it */ } }
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      if (ctrl.signal.aborted || !state.auth) return;
      $('live').textContent = 'reconnecting'; $('live').className = 'live';
      setTimeout(function () { if (state.stream === ctrl) connect(); }, 2000);
    });
  }

  function signOut(why) {
    state.auth = null; sessionStorage.removeItem('qg-auth'); sessionStorage.removeItem('qg-who');
    if (state.stream) state.stream.abort();
    show();
    if (why) { $('login-error').textContent = why; $('login-error').className = 'msg error show'; }
  }

  function show() {
    var signedIn = !!state.auth;
    $('login').hidden = signedIn; $('app').hidden = !signedIn; $('logout').hidden = !signedIn;
    $('who').textContent = signedIn ? 'signed in as ' + (state.who || 'token holder') : '';
    if (signedIn) { load().catch(function (err) { $('queue').innerHTML = '<li class="empty">' + escapeHtml(err.message) + '</li>'; }); connect(); }
  }

  $('login-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var user = $('login-user').value, pw = $('login-password').value, token = $('login-token').value.trim();
    if (token) { state.auth = 'Bearer ' + token; state.who = 'token holder'; }
    else if (user) { state.auth = 'Basic ' + btoa(unescape(encodeURIComponent(user + ':' + pw))); state.who = user; }
    else return;
    api('GET', '?status=pending&limit=1').then(function () {
      sessionStorage.setItem('qg-auth', state.auth); sessionStorage.setItem('qg-who', state.who);
      $('login-error').className = 'msg error'; show();
    }).catch(function (err) { state.auth = null; $('login-error').textContent = err.message; $('login-error').className = 'msg error show'; });
  });
  $('logout').addEventListener('click', function () { signOut(); });
  $('filter').addEventListener('change', function () { state.filter = $('filter').value; load(); renderQueue(); });
  window.addEventListener('hashchange', select);
  function select() {
    state.selected = decodeURIComponent(location.hash.slice(1)) || null;
    renderQueue(); renderDetail();
    if (state.selected && state.auth && !state.requests[state.selected]) refreshOne(state.selected);
  }
  setInterval(function () { var e = $('expires'); var r = state.requests[state.selected]; if (e && r) e.textContent = left(r.expiresAt); }, 1000);
  select();
  show();
})();
</script>
</body>
</html>
`;

export function consolePage(): string {
  return PAGE;
}
