// Counts down to the openings on the residents' pages and, at zero, shows
// the stock that opened without a reload.
//
// Each element with data-left-ms counts down from the milliseconds the
// server said were left when it rendered the page: phones' clocks are
// often minutes off, so the phone's own date is never read. When a
// countdown reaches zero, its campaign card (data-stock) asks the server
// what can be claimed now and updates the stock of each tier and its
// button. If the server says the opening has not come yet (the page's
// timer ran ahead), it asks again when the server says, so a resident's
// page never stays on "sold out" after a drop. No library: this must run
// on any cheap phone and in WeChat's browser.
(function () {
  var els = document.querySelectorAll('[data-left-ms]');
  if (!els.length) return;
  var start = now();
  function now() { return window.performance && performance.now ? performance.now() : new Date().getTime(); }
  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function show(el, leftMs) {
    var left = Math.ceil(leftMs / 1000);
    var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
    // The page says how its language writes days ("2 天 ", "2d ").
    var days = (el.getAttribute('data-days') || '{n}d ').replace('{n}', d);
    el.textContent = (d > 0 ? days : '') + pad(h) + ':' + pad(m) + ':' + pad(s);
  }

  // apply shows the server's answer on the card: each tier's stock, its
  // button, and fresh countdowns for the openings still ahead.
  function apply(card, st) {
    var open = st.phase === 'live';
    for (var i = 0; i < st.tiers.length; i++) {
      var t = st.tiers[i];
      var li = card.querySelector('li[data-tier="' + t.id + '"]');
      if (!li) continue;
      var left = li.querySelector('.left');
      if (left && left.getAttribute('data-label')) left.textContent = left.getAttribute('data-label').replace('{n}', t.claimable);
      var btn = li.querySelector('button[data-claim]');
      if (!btn) continue;
      if (open && t.claimable > 0) {
        btn.disabled = false;
        btn.textContent = btn.getAttribute('data-claim');
      } else if (t.claimable === 0) {
        btn.disabled = true;
        btn.textContent = btn.getAttribute('data-sold-out');
      }
    }
    var opens = card.querySelector('.opens .countdown');
    if (opens) rearm(opens, st.opens_in_ms);
    var next = card.querySelector('.next-drop .countdown');
    if (next) rearm(next, st.next_drop_in_ms);
    var when = card.querySelector('.next-drop .when');
    if (when) {
      if (st.next_drop_at) when.textContent = when.getAttribute('data-label').replace('{at}', st.next_drop_at);
      when.parentNode.hidden = !st.next_drop_at;
    }
    // How many answers the card has shown: a page (or a test) can tell a
    // card that asked from one that never did.
    card.setAttribute('data-answers', String(parseInt(card.getAttribute('data-answers') || '0', 10) + 1));
  }

  function rearm(el, ms) {
    if (ms === undefined || ms === null) {
      el.removeAttribute('data-left-ms');
      el.textContent = '';
      return;
    }
    el.setAttribute('data-left-ms', String(ms + (now() - start)));
    el.removeAttribute('data-due');
  }

  // ask fetches the card's stock; while the server still counts down, it
  // asks again after what the server says is left (at most every second),
  // spread a little so that phones do not all ask at the same millisecond.
  function ask(card) {
    if (card.getAttribute('data-asking')) return;
    card.setAttribute('data-asking', '1');
    var xhr = new XMLHttpRequest();
    xhr.open('GET', card.getAttribute('data-stock'));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.onload = function () {
      card.removeAttribute('data-asking');
      var st;
      try { st = JSON.parse(xhr.responseText); } catch (e) { st = null; }
      if (xhr.status !== 200 || !st || !st.tiers) { later(card, 1000); return; }
      apply(card, st);
    };
    xhr.onerror = function () { card.removeAttribute('data-asking'); later(card, 1000); };
    xhr.send();
  }

  function later(card, ms) { setTimeout(function () { ask(card); }, ms + Math.random() * 250); }

  function tick() {
    var elapsed = now() - start;
    var list = document.querySelectorAll('[data-left-ms]');
    for (var i = 0; i < list.length; i++) {
      var el = list[i];
      var left = parseFloat(el.getAttribute('data-left-ms')) - elapsed;
      if (left > 0) { show(el, left); continue; }
      el.textContent = '00:00:00';
      var card = el.closest ? el.closest('[data-stock]') : null;
      // Ask once per second while due: the answer re-arms the countdown
      // (the server's clock is behind ours) or removes it (it opened).
      var due = parseFloat(el.getAttribute('data-due') || '-1e9');
      if (card && elapsed - due >= 1000) {
        el.setAttribute('data-due', String(elapsed));
        ask(card);
      }
    }
  }
  tick();
  setInterval(tick, 200);
})();
