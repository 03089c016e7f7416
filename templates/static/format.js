// How the officers' charts say amounts, leverage, rates and counts: the
// same rules as the server's (app/web/format.go), from the spec the page
// carries in its data block (Locale.ChartFormat), so a chart's axis and
// tooltip say a figure the way its KPI does. The browser test checks the
// two agree. window.cqvFormat(spec) returns the formatters.
(function () {
  // group writes hundredths as "1,234.56" (app.GroupHundredths).
  function group(h) {
    var sign = h < 0 ? '-' : '';
    h = Math.abs(h);
    var whole = String(Math.floor(h / 100)), frac = String(h % 100);
    return sign + whole.replace(/\B(?=(\d{3})+$)/g, ',') + '.' + (frac.length < 2 ? '0' + frac : frac);
  }
  // hundredths is n in hundredths of unit, rounded half up (roundHundredths).
  function hundredths(n, unit) {
    var step = unit / 100, q = Math.floor(n / step);
    return 2 * (n % step) >= step ? q + 1 : q;
  }
  function fill(text, n) { return text.replace('{n}', n); }

  window.cqvFormat = function (spec) {
    var scales = spec.money || [];
    // scaleOf picks the scale an amount is said in (Locale.Money), with
    // the amount in its hundredths; null below the first.
    function scaleOf(fen) {
      var n = Math.abs(fen), pick = null, h = 0;
      for (var i = 0; i < scales.length; i++) {
        var s = scales[i];
        if (n < s.from && (!pick || h < s.from / (pick.unit / 100))) break;
        pick = s; h = hundredths(n, s.unit);
      }
      return pick && { scale: pick, h: fen < 0 ? -h : h };
    }
    function money(fen) {
      var p = scaleOf(fen);
      return p ? fill(p.scale.text, group(p.h)) : '¥' + group(fen);
    }
    // moneyAxis says every tick of an axis in the unit of its largest
    // amount, so the ticks read "0, 0.5 万元, 1 万元" rather than changing
    // unit halfway; trailing zeros go (ticks are round numbers).
    function moneyAxis(maxFen) {
      var p = scaleOf(maxFen);
      return function (fen) {
        var s = p ? group(hundredths(Math.abs(fen), p.scale.unit) * (fen < 0 ? -1 : 1)) : group(Math.round(fen));
        s = s.replace(/\.?0+$/, '');
        if (fen === 0) return '0'; // the origin needs no unit
        return p ? fill(p.scale.text, s) : '¥' + s;
      };
    }
    // leverage says basis points of consumption ÷ subsidy as "1:4.28" (Locale.Leverage).
    function leverage(bp) {
      if (!(bp > 0)) return '—';
      return fill(spec.leverage, group(Math.floor((bp + 50) / 100)).replace(/,/g, ''));
    }
    return {
      money: money,
      moneyAxis: moneyAxis,
      leverage: leverage,
      // leverageAxis says an axis value in leverage units (4.28 = 1:4.28).
      leverageAxis: function (v) { return v === 0 ? '0' : fill(spec.leverage, String(Math.round(v * 100) / 100)); },
      // percent says basis points as "25.00%" (app.FormatPercentBP);
      // "—" for a rate of nothing (no claims, no releases).
      percent: function (bp, of) { return of === 0 ? '—' : group(bp) + '%'; },
      count: count
    };
  };
  // count groups thousands: 12345 → "12,345"; it needs no spec.
  function count(n) { return String(n).replace(/\B(?=(\d{3})+$)/g, ','); }
  window.cqvFormat.count = count;
})();
