// The till's copy of the published list of voided vouchers
// (/.well-known/revoked.json, docs/revocation.md): fetched when the page
// opens and every five minutes, and kept in localStorage so that it still
// holds when the shop's network drops. A voucher on it is refused here,
// before the form goes anywhere; the server refuses it too.
(function () {
  var form = document.getElementById('scan-form');
  var field = document.getElementById('voucher');
  var alertBox = document.getElementById('revoked-alert');
  if (!form || !field || !alertBox || !window.crypto || !crypto.subtle || !window.TextEncoder || !window.fetch) return;
  var KEY = 'cqv-revoked';
  var rids = {};
  var count = 0;
  function load(list) {
    rids = {};
    count = 0;
    ((list && list.keys) || []).forEach(function (k) {
      (k.rids || []).forEach(function (r) { rids[r] = true; count++; });
    });
  }
  try { load(JSON.parse(localStorage.getItem(KEY) || '{}')); } catch (e) { /* a damaged copy: wait for the next fetch */ }
  function refresh() {
    fetch('/.well-known/revoked.json', { cache: 'no-cache' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (list) {
      if (!list) return;
      load(list);
      try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* private mode: the list lasts the page */ }
      form.setAttribute('data-revoked', String(count));
    }, function () { /* offline: keep the stored copy */ });
  }
  refresh();
  setInterval(refresh, 5 * 60 * 1000);

  // codeOf is the voucher's code (the token's jti) in what was scanned or
  // typed: a packed QR after /V/ (algorithm, flag, the 8-digit kid, then
  // the 16-digit code), a URL or bare JWS (its payload's jti), or a code.
  function codeOf(text) {
    text = text.trim();
    var packed = /\/V\/(\d+)\s*$/i.exec(text);
    if (packed) return packed[1].substr(10, 16);
    var parts = text.replace(/^.*\/v\//, '').split('.');
    if (parts.length === 3) {
      try {
        return JSON.parse(atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'))).jti || '';
      } catch (e) { return ''; }
    }
    return text.replace(/[\s-]/g, '').toUpperCase();
  }
  // ridOf is the code's revocation id: the first 8 bytes of its SHA-256, base64url.
  function ridOf(code) {
    return crypto.subtle.digest('SHA-256', new TextEncoder().encode(code)).then(function (h) {
      var b = String.fromCharCode.apply(null, Array.prototype.slice.call(new Uint8Array(h), 0, 8));
      return btoa(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    });
  }
  var cleared = false;
  form.addEventListener('submit', function (e) {
    if (cleared) { cleared = false; return; }
    var code = codeOf(field.value);
    if (!code || count === 0) return;
    e.preventDefault();
    ridOf(code).then(function (rid) {
      if (rids[rid]) {
        alertBox.hidden = false;
        field.value = '';
        field.focus();
        return;
      }
      alertBox.hidden = true;
      cleared = true;
      if (typeof form.requestSubmit === 'function') form.requestSubmit(); else form.submit();
    }, function () { cleared = true; form.submit(); });
  });
})();
