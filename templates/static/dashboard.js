// Draws the officers' evaluation charts (the dashboard's and the
// comparison's) with ECharts from the figures the page carries in a JSON
// data block (not a script: the CSP allows no inline code). Every chart's
// numbers are also in a table on the page, so nothing depends on this
// file or on ECharts being installed. Amounts, leverage and rates are
// said by format.js, the way the page's KPIs and tables say them.
(function () {
  var data = document.getElementById('dash-data');
  if (!data || typeof echarts === 'undefined' || typeof cqvFormat === 'undefined') return;
  var d = JSON.parse(data.textContent);
  var f = cqvFormat(d.format), L = d.labels;
  var red = '#c8102e', grey = '#5f6368', green = '#137333';
  var esc = echarts.format.encodeHTML;

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    el.hidden = false;
    var c = echarts.init(el, null, { renderer: 'canvas' });
    c.setOption(option);
    window.addEventListener('resize', function () { c.resize(); });
  }
  // grid keeps the plot, its axis labels and names inside the card
  // (outerBoundsMode 'same'), below the legend when there is one: the
  // legend sits in the top 32 px, which the grid leaves free. Bars with
  // labels at their ends (endLabels) get room for them at the right.
  function grid(legend, endLabels) {
    return { top: legend ? 40 : 12, left: 8, right: endLabels ? 64 : 12, bottom: 8, outerBoundsMode: 'same', outerBoundsContain: 'all' };
  }
  function legend(names) { return { data: names, top: 4, left: 'center', itemGap: 16 }; }
  // tip builds a tooltip from the row under the pointer: a title and
  // lines of [label, figure], escaped (names are typed by officers).
  function tip(rows, title, lines) {
    return function (ps) {
      var r = rows[(ps[0] || ps).dataIndex];
      return '<strong>' + esc(title(r)) + '</strong>' + lines(r).map(function (l) {
        return '<br>' + esc(l[0]) + ': ' + esc(l[1]);
      }).join('');
    };
  }
  function max(rows, key) { return rows.reduce(function (m, r) { return Math.max(m, r[key]); }, 0); }
  function lev(r) { return r.leverage_bp / 10000; }
  var leverageAxis = { type: 'value', axisLabel: { formatter: f.leverageAxis } };
  var nameAxis = function (rows) {
    return { type: 'category', inverse: true, data: rows.map(function (r) { return r.label; }),
      axisLabel: { width: 150, overflow: 'truncate' } };
  };
  var countAxis = { type: 'value', minInterval: 1, axisLabel: { formatter: f.count } };

  if (d.days) {
    var funnel = [{ label: L.released, n: d.released, rates: [] },
      { label: L.claimed, n: d.claimed, rates: [[L.claim_rate, f.percent(d.claim_rate_bp, d.released)]] },
      { label: L.redeemed, n: d.redeemed, rates: [[L.redemption_rate, f.percent(d.redemption_rate_bp, d.claimed)]] }];
    chart('chart-funnel', {
      tooltip: { trigger: 'axis', formatter: tip(funnel, function (r) { return r.label; }, function (r) { return [[r.label, f.count(r.n)]].concat(r.rates); }) },
      grid: grid(false),
      xAxis: { type: 'category', data: funnel.map(function (r) { return r.label; }) }, yAxis: countAxis,
      series: [{ type: 'bar', barMaxWidth: 56, data: funnel.map(function (r) { return r.n; }), itemStyle: { color: red },
        label: { show: true, position: 'top', formatter: function (p) { return f.count(p.value); } } }]
    });

    var days = d.days;
    chart('chart-days', {
      tooltip: { trigger: 'axis', formatter: tip(days, function (r) { return r.key; }, function (r) {
        return [[L.subsidy, f.money(r.subsidy_fen)], [L.consumption, f.money(r.consumption_fen)], [L.leverage, f.leverage(r.leverage_bp)]];
      }) },
      legend: legend([L.subsidy, L.consumption, L.leverage]), grid: grid(true),
      // Dates as "11-25": the year is the table's; labels that would touch are skipped.
      xAxis: { type: 'category', data: days.map(function (r) { return r.key.slice(5); }), axisLabel: { hideOverlap: true } },
      yAxis: [{ type: 'value', axisLabel: { formatter: f.moneyAxis(max(days, 'consumption_fen')) } },
        { type: 'value', splitLine: { show: false }, axisLabel: { formatter: f.leverageAxis } }],
      series: [
        { name: L.subsidy, type: 'bar', data: days.map(function (r) { return r.subsidy_fen; }), itemStyle: { color: red } },
        { name: L.consumption, type: 'bar', data: days.map(function (r) { return r.consumption_fen; }), itemStyle: { color: grey } },
        { name: L.leverage, type: 'line', yAxisIndex: 1, data: days.map(function (r) { return r.leverage_bp ? lev(r) : null; }), itemStyle: { color: green } }
      ]
    });

    var hours = d.hours;
    chart('chart-hours', {
      tooltip: { trigger: 'axis', formatter: tip(hours, function (r) { return r.key + ':00–' + r.key + ':59'; }, function (r) {
        return [[L.redeemed, f.count(r.redemptions)], [L.subsidy, f.money(r.subsidy_fen)]];
      }) },
      grid: grid(false),
      // Every other hour is labelled: 24 labels do not fit half a page.
      xAxis: { type: 'category', data: hours.map(function (r) { return r.key; }), axisLabel: { interval: 1 } }, yAxis: countAxis,
      series: [{ name: L.redeemed, type: 'bar', data: hours.map(function (r) { return r.redemptions; }), itemStyle: { color: red } }]
    });

    var districts = d.districts;
    chart('chart-districts', {
      tooltip: { trigger: 'axis', formatter: tip(districts, function (r) { return r.label; }, leverageLines) },
      grid: grid(false, true), xAxis: leverageAxis, yAxis: nameAxis(districts),
      series: [leverageBars(districts)]
    });
  }

  if (d.campaigns) {
    var cs = d.campaigns;
    chart('chart-compare-leverage', {
      tooltip: { trigger: 'axis', formatter: tip(cs, function (r) { return r.label; }, leverageLines) },
      grid: grid(false, true), xAxis: leverageAxis, yAxis: nameAxis(cs),
      series: [leverageBars(cs)]
    });
    chart('chart-compare-redemption', {
      tooltip: { trigger: 'axis', formatter: tip(cs, function (r) { return r.label; }, function (r) {
        return [[L.claimed, f.count(r.claims)], [L.redeemed, f.count(r.redemptions)], [L.redemption_rate, f.percent(r.redemption_rate_bp, r.claims)]];
      }) },
      legend: legend([L.claimed, L.redeemed]), grid: grid(true, true),
      xAxis: { type: 'value', minInterval: 1, axisLabel: { formatter: f.count, hideOverlap: true } }, yAxis: nameAxis(cs),
      series: [
        { name: L.claimed, type: 'bar', barMaxWidth: 20, data: cs.map(function (r) { return r.claims; }), itemStyle: { color: grey } },
        { name: L.redeemed, type: 'bar', barMaxWidth: 20, data: cs.map(function (r) { return r.redemptions; }), itemStyle: { color: red },
          // The redemption rate at the end of the redeemed bar: the figure the comparison is read for.
          label: { show: true, position: 'right', formatter: function (p) { var r = cs[p.dataIndex]; return f.percent(r.redemption_rate_bp, r.claims); } } }
      ]
    });
  }

  function leverageLines(r) {
    return [[L.leverage, f.leverage(r.leverage_bp)], [L.subsidy, f.money(r.subsidy_fen)], [L.consumption, f.money(r.consumption_fen)]];
  }
  function leverageBars(rows) {
    return { name: L.leverage, type: 'bar', barMaxWidth: 28, data: rows.map(lev), itemStyle: { color: green },
      label: { show: true, position: 'right', formatter: function (p) { return f.leverage(rows[p.dataIndex].leverage_bp); } } };
  }
})();
