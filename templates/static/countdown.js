// Counts down to drop times on the residents' pages: each element with
// data-until="<RFC 3339>" shows the time left, and at zero a reload shows
// the stock just released. No library: this must run on any cheap phone.
(function () {
  var els = document.querySelectorAll('[data-until]');
  if (!els.length) return;
  var reloaded = false;
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function tick() {
    var now = Date.now();
    for (var i = 0; i < els.length; i++) {
      var left = Math.floor((Date.parse(els[i].getAttribute('data-until')) - now) / 1000);
      if (left <= 0) {
        els[i].textContent = '';
        // Reload once, a moment after the drop, rather than every phone at the same millisecond.
        if (!reloaded && left > -5) { reloaded = true; setTimeout(function () { location.reload(); }, 300 + Math.random() * 1200); }
        continue;
      }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      els[i].textContent = (d > 0 ? d + 'd ' : '') + pad(h) + ':' + pad(m) + ':' + pad(s);
    }
  }
  tick();
  setInterval(tick, 1000);
})();
