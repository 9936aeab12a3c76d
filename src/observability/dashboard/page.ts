/**
 * The live view's page: one self-contained HTML document (inline CSS and JS, no external resource),
 * fed by Server-Sent Events from `./events`.
 *
 * @example
 * ```ts
 * response.end(DASHBOARD_PAGE);
 * ```
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>session-supervisor · live</title>
<style>
  :root { --bg:#0f1419; --panel:#171d24; --line:#26303b; --text:#d8dee6; --muted:#8593a3;
          --connected:#3fb950; --draining:#d29922; --closed:#6e7681; --running:#58a6ff; --cancelling:#f0883e; --done:#8b949e; --bad:#f85149; }
  * { box-sizing: border-box; }
  body { margin:0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--text); }
  header { display:flex; align-items:center; gap:16px; padding:12px 20px; border-bottom:1px solid var(--line); background:var(--panel); }
  header h1 { font-size:16px; margin:0; font-weight:600; }
  .pill { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; color:#0f1419; background:var(--muted); }
  .pill.running, .pill.connected { background:var(--connected); } .pill.draining { background:var(--draining); }
  .pill.stopped, .pill.closed { background:var(--closed); } .pill.unhealthy { background:var(--bad); } .pill.healthy { background:var(--connected); }
  #link { margin-left:auto; font-size:12px; color:var(--muted); }
  #stats { display:flex; flex-wrap:wrap; gap:8px; padding:12px 20px; }
  .stat { background:var(--panel); border:1px solid var(--line); border-radius:6px; padding:6px 10px; min-width:92px; }
  .stat b { display:block; font-size:18px; } .stat span { font-size:11px; color:var(--muted); text-transform:uppercase; letter-spacing:.04em; }
  #sessions { display:grid; grid-template-columns:repeat(auto-fill, minmax(300px, 1fr)); gap:12px; padding:0 20px 20px; }
  .session { background:var(--panel); border:1px solid var(--line); border-left:4px solid var(--connected); border-radius:6px; padding:10px 12px; }
  .session.draining { border-left-color:var(--draining); } .session.closed { border-left-color:var(--closed); opacity:.75; }
  .session h2 { font-size:14px; margin:0 0 6px; display:flex; gap:8px; align-items:center; }
  .session h2 small { color:var(--muted); font-weight:400; }
  .lifecycle { display:flex; gap:4px; font-size:11px; color:var(--muted); margin-bottom:8px; }
  .lifecycle i { font-style:normal; padding:0 6px; border:1px solid var(--line); border-radius:4px; }
  .lifecycle i.on { color:#0f1419; background:var(--text); border-color:var(--text); }
  .handlers { list-style:none; margin:0; padding:0; }
  .handler { display:flex; gap:8px; align-items:center; padding:3px 0; border-top:1px dashed var(--line); font-family: ui-monospace, monospace; font-size:12px; }
  .handler .st { min-width:78px; text-align:center; border-radius:4px; padding:0 4px; color:#0f1419; font-weight:600; }
  .handler[data-state=running] .st { background:var(--running); } .handler[data-state=cancelling] .st { background:var(--cancelling); }
  .handler[data-state=done] .st { background:var(--done); } .handler[data-state=done] { color:var(--muted); }
  .handler .why { color:var(--muted); margin-left:auto; white-space:nowrap; }
  .empty { color:var(--muted); font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>session-supervisor</h1>
  <span>supervisor <span id="sup" class="pill">…</span></span>
  <span id="health" class="pill">…</span>
  <span id="link">connecting…</span>
</header>
<section id="stats"></section>
<main id="sessions"><p class="empty">No sessions yet.</p></main>
<script>
(() => {
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  };
  const STATS = [
    ['inFlight', 'in flight'], ['cancelling', 'cancelling'], ['requests', 'requests'], ['completed', 'completed'],
    ['failed', 'failed'], ['refused', 'refused'], ['abandoned', 'abandoned'], ['lateAnswers', 'late answers'],
    ['blockedSends', 'blocked sends'], ['sessionFailures', 'session failures'],
  ];
  function render(view) {
    const sup = document.getElementById('sup');
    sup.textContent = view.supervisor.state; sup.className = 'pill ' + view.supervisor.state;
    const health = document.getElementById('health');
    health.textContent = view.stats.healthy ? 'healthy' : 'unhealthy'; health.className = 'pill ' + (view.stats.healthy ? 'healthy' : 'unhealthy');
    const cancelled = Object.values(view.stats.cancelled).reduce((a, b) => a + b, 0);
    const stats = STATS.map(([key, label]) => el('div', { class: 'stat', 'data-stat': key }, el('b', {}, view.stats[key]), el('span', {}, label)));
    stats.splice(4, 0, el('div', { class: 'stat', 'data-stat': 'cancelled' }, el('b', {}, cancelled), el('span', {}, 'cancelled')));
    stats.unshift(el('div', { class: 'stat', 'data-stat': 'sessions' }, el('b', {}, view.stats.sessions.connected + view.stats.sessions.draining), el('span', {}, 'open sessions')));
    document.getElementById('stats').replaceChildren(...stats);
    const cards = view.sessions.map((s) => {
      const lifecycle = el('div', { class: 'lifecycle' }, ...['connected', 'draining', 'closed'].map((st) => el('i', { class: st === s.state ? 'on' : '' }, st)));
      const items = s.handlers.map((h) => el('li', { class: 'handler', 'data-request': h.requestId, 'data-state': h.state },
        el('span', { class: 'st' }, h.state), el('span', {}, '#' + h.requestId), el('span', {}, h.method),
        el('span', { class: 'why' }, h.state === 'done' ? (h.settled + (h.reason ? ' · ' + h.reason : '')) : (h.reason || ''))));
      if (s.hiddenHandlers > 0) items.push(el('li', { class: 'empty' }, '+ ' + s.hiddenHandlers + ' more running'));
      return el('article', { class: 'session ' + s.state, 'data-session': s.id, 'data-state': s.state },
        el('h2', {}, s.id, el('span', { class: 'pill ' + s.state }, s.state), el('small', {}, s.transport + (s.closeReason ? ' · ' + s.closeReason : ''))),
        lifecycle,
        items.length ? el('ul', { class: 'handlers' }, ...items) : el('p', { class: 'empty' }, 'no requests'));
    });
    if (view.hiddenSessions > 0) cards.push(el('p', { class: 'empty' }, '+ ' + view.hiddenSessions + ' more sessions'));
    const main = document.getElementById('sessions');
    if (cards.length) main.replaceChildren(...cards); else main.replaceChildren(el('p', { class: 'empty' }, 'No sessions yet.'));
    document.getElementById('link').textContent = 'live · ' + new Date(view.at).toLocaleTimeString();
  }
  const source = new EventSource('events');
  source.addEventListener('view', (e) => render(JSON.parse(e.data)));
  source.onerror = () => { document.getElementById('link').textContent = 'disconnected — retrying'; };
})();
</script>
</body>
</html>
`;
