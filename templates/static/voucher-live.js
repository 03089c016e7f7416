// The resident's voucher page and wallet follow the voucher's state, so
// the screen shows 已使用 at the till without a reload, and flips back
// if the cashier reverses the use.
//
// The voucher page polls its small state feed every 1.5 s while visible
// (a flip shows within 2 s), with If-None-Match so an unchanged state
// costs a bodiless 304; hidden, it does not poll, and asks at once when
// shown again. The wallet redraws its list when it is shown again (back
// from a voucher, the phone unlocked, the tab focused).
// Plain DOM, no library, no inline script (the CSP forbids it).
(function () {
  var INTERVAL = 1500;

  function followVoucher(root) {
    var src = root.getAttribute('data-src');
    var etag = '';
    var timer = null;
    var inFlight = false;
    function setHidden(id, hidden) { var el = document.getElementById(id); if (el) el.hidden = hidden; }
    function setText(id, text) { var el = document.getElementById(id); if (el) el.textContent = text || ''; }
    function show(d) {
      var state = d.state;
      root.className = root.className.replace(/\bstate-\w+/, 'state-' + state);
      root.setAttribute('data-state', state);
      var badge = document.getElementById('voucher-state');
      if (badge) { badge.textContent = d.label; badge.className = 'status status-' + state; }
      setText('used-merchant', d.merchant);
      setText('used-at', d.used_at);
      setText('used-saved', d.saved);
      setHidden('voucher-used', state !== 'redeemed');
      setHidden('voucher-usable', state !== 'claimed');
      var usable = document.getElementById('voucher-usable');
      if (state === 'claimed' && usable && !usable.firstElementChild) fetchUsable(usable);
    }
    // A page opened on a used voucher has no code to present; once the
    // use is reversed, the QR and manual code come from the page itself.
    function fetchUsable(usable) {
      fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('voucher-usable');
          if (fresh && fresh.firstElementChild) usable.replaceChildren.apply(usable, Array.prototype.slice.call(fresh.childNodes));
        })
        .catch(function () {});
    }
    function schedule() {
      clearTimeout(timer);
      // An expired voucher changes no more; a hidden page waits to be shown.
      if (root.getAttribute('data-state') === 'expired' || document.hidden) return;
      timer = setTimeout(poll, INTERVAL);
    }
    function poll() {
      if (inFlight) return;
      inFlight = true;
      var headers = { 'Accept': 'application/json' };
      if (etag) headers['If-None-Match'] = etag;
      // no-store: the page does the revalidation itself, so the 304 reaches it.
      fetch(src, { credentials: 'same-origin', cache: 'no-store', headers: headers })
        .then(function (r) {
          if (r.status === 200) {
            etag = r.headers.get('ETag') || '';
            return r.json();
          }
          return null;
        })
        .then(function (d) { if (d && d.state) show(d); })
        .catch(function () {})
        .then(function () { inFlight = false; schedule(); });
    }
    document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
    window.addEventListener('pageshow', function (ev) { if (ev.persisted) poll(); });
    schedule();
  }

  function followWallet(root) {
    var busy = false;
    function refresh() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(location.href, { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('wallet');
          if (fresh) root.replaceChildren.apply(root, Array.prototype.slice.call(fresh.childNodes));
        })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    document.addEventListener('visibilitychange', refresh);
    window.addEventListener('focus', refresh);
    window.addEventListener('pageshow', function (ev) { if (ev.persisted) refresh(); });
  }

  var voucher = document.getElementById('voucher');
  if (voucher && voucher.getAttribute('data-src')) followVoucher(voucher);
  var wallet = document.getElementById('wallet');
  if (wallet) followWallet(wallet);
})();
