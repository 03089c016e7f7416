// Counts down the sign-in page's resend button: the server says how many
// seconds are left before it will send another code (data-resend-after),
// and the button stays disabled until then. Counted from the page's load,
// never from the phone's date, which is often off. No library.
(function () {
  var btn = document.querySelector('button[data-resend-after]');
  if (!btn) return;
  var now = function () { return window.performance && performance.now ? performance.now() : new Date().getTime(); };
  var start = now(), total = parseInt(btn.getAttribute('data-resend-after'), 10) * 1000;
  function tick() {
    var left = Math.ceil((total - (now() - start)) / 1000);
    if (left <= 0) {
      btn.disabled = false;
      btn.removeAttribute('data-left');
      btn.textContent = btn.getAttribute('data-label');
      clearInterval(timer);
      return;
    }
    btn.setAttribute('data-left', String(left));
    btn.textContent = btn.getAttribute('data-wait').replace('{seconds}', left);
  }
  var timer = setInterval(tick, 250);
  tick();
})();
