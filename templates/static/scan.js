// After a result (a receipt or a refusal) the voucher field must be empty
// and focused, so a scanner gun's next QR text and Enter start a new code
// instead of being glued onto the last one. The server renders it so; this
// holds it when the browser restores the page from its back/forward cache
// with the old field contents, and where autofocus was not honoured.
(function () {
  'use strict';
  function ready() {
    var voucher = document.getElementById('voucher');
    if (!voucher || !(document.getElementById('receipt') || document.getElementById('rejection'))) return;
    voucher.value = '';
    voucher.focus();
  }
  window.addEventListener('pageshow', ready);
  ready();

  // On the confirm step the confirm button has the focus, so a scanner
  // gun's next scan would type into nothing and its Enter would confirm
  // the redemption shown without the cashier deciding. A scan is a burst
  // of characters before its Enter; a cashier's confirmation is Enter or
  // a tap alone. So an Enter that follows typed characters does not send.
  var confirmForm = document.getElementById('confirm-form');
  if (!confirmForm) return;
  var typed = false;
  document.addEventListener('keydown', function (e) {
    // Space presses a focused button like Enter does; codes carry no
    // meaning in it, so it does not count as typing.
    if (e.key && e.key.length === 1 && e.key !== ' ' && !e.ctrlKey && !e.metaKey && !e.altKey) typed = true;
  });
  confirmForm.addEventListener('submit', function (e) {
    if (!typed) return;
    typed = false;
    e.preventDefault();
  });
  // A tap is the cashier's own decision (Enter on a button fires a click
  // too, but no pointerdown).
  confirmForm.addEventListener('pointerdown', function () { typed = false; }, true);
})();

// The code field opens the phone's digit keyboard, since codes are digits
// now; one tap on the toggle switches to letters for the older codes that
// have them (and back). It is only a keyboard hint: a scanner gun types
// into the field whatever the hint, and a pasted QR text goes in as it is.
(function () {
  'use strict';
  var voucher = document.getElementById('voucher');
  var toggle = document.getElementById('keypad-toggle');
  if (!voucher || !toggle) return;
  function set(digits) {
    voucher.inputMode = digits ? 'numeric' : 'text';
    toggle.textContent = digits ? toggle.dataset.letters : toggle.dataset.digits;
  }
  set(true);
  toggle.hidden = false;
  toggle.addEventListener('click', function () {
    set(voucher.inputMode !== 'numeric');
    voucher.focus();
  });
})();

// Camera scanning on the cashier page. Where the browser has a camera API
// and the decoder (jsQR, /static/vendor/jsQR.js, installed by `make assets`)
// loaded, a button opens the rear camera; each ~150 ms a frame is drawn to a
// canvas and jsQR reads the whole frame. The first QR read goes into the
// voucher field, exactly as a scanner gun would type it; the camera stops,
// and the bill field gets the focus (or, with the bill already typed, the
// form is sent). Without camera or decoder the button stays hidden and the
// scanner gun and typing work as before. No inline script: CSP-safe.
(function () {
  'use strict';
  var box = document.getElementById('camera');
  var form = document.getElementById('scan-form');
  if (!box || !form) return;
  var voucher = document.getElementById('voucher');
  var bill = document.getElementById('bill');
  var startBtn = document.getElementById('camera-start');
  var stopBtn = document.getElementById('camera-stop');
  var view = document.getElementById('camera-view');
  var video = document.getElementById('camera-video');
  var status = document.getElementById('camera-status');
  var md = navigator.mediaDevices;
  if (!voucher || !bill || !startBtn || !stopBtn || !view || !video || !status ||
      typeof window.jsQR !== 'function' || !md || typeof md.getUserMedia !== 'function') {
    return;
  }
  var canvas = document.createElement('canvas');
  var ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return;

  var INTERVAL = 150;   // ms between decoded frames
  var MAX_SIDE = 1280;  // larger frames are scaled down: jsQR's cost grows with the pixels
  var stream = null;
  var timer = null;
  var opening = false;  // getUserMedia asked, not answered yet

  // Big and plain for a counter; styles set through the CSSOM, which the
  // page's CSP (style-src 'self', no inline style attributes) allows.
  startBtn.style.width = '100%';
  startBtn.style.padding = '1rem';
  stopBtn.style.width = '100%';
  video.style.display = 'block';
  video.style.width = '100%';
  video.style.maxHeight = '60vh';
  video.style.marginTop = '.6rem';
  video.style.background = '#000';
  video.style.borderRadius = '8px';
  video.muted = true;
  video.setAttribute('playsinline', '');  // iPhone: play in the page, not full screen
  box.hidden = false;

  function say(key) { status.textContent = key ? (box.getAttribute('data-' + key) || '') : ''; }

  // Buttons carry display: inline-block in app.css, which beats [hidden].
  function showStart(on) { startBtn.style.display = on ? '' : 'none'; startBtn.disabled = !on; }

  function stop() {
    opening = false;
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (stream) {
      var tracks = stream.getTracks();
      for (var i = 0; i < tracks.length; i++) tracks[i].stop();
      stream = null;
    }
    video.pause();
    video.srcObject = null;
    view.hidden = true;
    showStart(true);
  }

  function found(text) {
    stop();
    voucher.value = text;
    if (bill.value.replace(/\s+/g, '') !== '') {
      say('checking');
      if (typeof form.requestSubmit === 'function') form.requestSubmit(); else form.submit();
      return;
    }
    say('found');
    bill.focus();
  }

  function tick() {
    timer = null;
    if (!stream) return;
    var w = video.videoWidth, h = video.videoHeight;
    if (video.readyState >= 2 && w > 0 && h > 0) {
      var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      w = Math.round(w * scale);
      h = Math.round(h * scale);
      if (canvas.width !== w) canvas.width = w;
      if (canvas.height !== h) canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      var img = ctx.getImageData(0, 0, w, h);
      // A voucher QR is dark on light: skip the inverted pass, twice as fast.
      var code = window.jsQR(img.data, w, h, { inversionAttempts: 'dontInvert' });
      if (code && code.data) {
        found(code.data);
        return;
      }
    }
    timer = setTimeout(tick, INTERVAL);
  }

  function failed(err) {
    if (!opening) return;  // stopped meanwhile
    stop();
    var name = err && err.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') say('denied');
    else if (name === 'NotFoundError' || name === 'OverconstrainedError') say('missing');
    else say('failed');
    voucher.focus();
  }

  function start() {
    if (stream || opening) return;
    opening = true;
    startBtn.disabled = true;
    say('starting');
    md.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } }
    }).then(function (s) {
      if (!opening) {  // stopped (page hidden or left) while the camera opened
        var t = s.getTracks();
        for (var i = 0; i < t.length; i++) t[i].stop();
        return;
      }
      opening = false;
      stream = s;
      video.srcObject = s;
      showStart(false);
      view.hidden = false;
      say('aim');
      var p = video.play();
      if (p && typeof p.then === 'function') p.then(null, function () { /* autoplay refusal: frames still arrive once shown */ });
      timer = setTimeout(tick, INTERVAL);
    }, failed);
  }

  startBtn.addEventListener('click', start);
  stopBtn.addEventListener('click', function () { stop(); say(''); voucher.focus(); });
  // Give the camera back when the page goes away or into the background.
  window.addEventListener('pagehide', stop);
  document.addEventListener('visibilitychange', function () {
    if (document.hidden && (stream || opening)) { stop(); say(''); }
  });
})();
