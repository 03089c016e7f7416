// The officer's live view of a drop: polls the campaign's live JSON every
// two seconds and redraws claims per second, stock left and refusals by
// reason. Plain DOM, no chart library, no inline script (the CSP forbids it).
(function () {
  var root = document.getElementById('live');
  if (!root) return;
  // Counts are grouped as the dashboard groups them (format.js).
  var count = window.cqvFormat ? cqvFormat.count : String;
  function cell(tr, text, cls) { var td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); }
  function rows(id, list) {
    var body = document.getElementById(id);
    while (body.firstChild) body.removeChild(body.firstChild);
    list.forEach(function (r) { var tr = document.createElement('tr'); cell(tr, r[0]); cell(tr, r[1], 'num'); body.appendChild(tr); });
  }
  // The API answers [] for an empty list; the fallbacks keep one odd
  // answer from stopping the redraw for good (a throw here used to leave
  // the page on its "connecting" line forever).
  function draw(d) {
    var live = d.live || {};
    var per = live.claims_per_second || [];
    var refused = live.refusals_by_reason || {};
    var labels = d.reason_labels || {};
    document.getElementById('live-rate').textContent = ((live.claims_last_10s || 0) / 10).toFixed(1) + ' /s';
    var spark = document.getElementById('live-spark');
    var max = Math.max.apply(null, per.concat([1]));
    while (spark.firstChild) spark.removeChild(spark.firstChild);
    per.forEach(function (n) { var b = document.createElement('span'); b.style.height = Math.round(40 * n / max) + 'px'; spark.appendChild(b); });
    rows('live-stock', (d.tiers || []).map(function (t) { return [t.rule, count(t.remaining) + ' / ' + count(t.released)]; }));
    document.getElementById('live-reminders').textContent = count(live.reminders_sent_today || 0);
    rows('live-refusals', (live.reasons || []).map(function (r) { return [labels[r] || r, refused[r] || 0]; }));
    document.getElementById('live-updated').textContent = new Date().toLocaleTimeString();
  }
  function poll() {
    fetch(root.getAttribute('data-src'), { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (d) draw(d); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
