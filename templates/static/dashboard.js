// Draws the officer's dashboard charts with ECharts from the figures the
// page carries in a JSON data block (not a script: the CSP allows no inline
// code). Every chart's numbers are also in the table below it, so nothing
// depends on this file or on ECharts being installed.
(function () {
  var data = document.getElementById('dash-data');
  if (!data || typeof echarts === 'undefined') return;
  var d = JSON.parse(data.textContent);
  var yuan = function (fen) { return Math.round(fen) / 100; };
  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    el.hidden = false;
    var c = echarts.init(el, null, { renderer: 'canvas' });
    c.setOption(option);
    window.addEventListener('resize', function () { c.resize(); });
  }
  var L = d.labels;
  chart('chart-funnel', {
    tooltip: {}, grid: { left: 60, right: 20, top: 20, bottom: 30 },
    xAxis: { type: 'category', data: [L.released, L.claimed, L.redeemed] }, yAxis: { type: 'value' },
    series: [{ type: 'bar', data: [d.released, d.claimed, d.redeemed], itemStyle: { color: '#c8102e' } }]
  });
  chart('chart-days', {
    tooltip: { trigger: 'axis' }, legend: { data: [L.subsidy, L.consumption, L.leverage] }, grid: { left: 70, right: 50, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: d.days.map(function (r) { return r.key; }) },
    yAxis: [{ type: 'value', name: '¥' }, { type: 'value', name: '×' }],
    series: [
      { name: L.subsidy, type: 'bar', data: d.days.map(function (r) { return yuan(r.subsidy_fen); }), itemStyle: { color: '#c8102e' } },
      { name: L.consumption, type: 'bar', data: d.days.map(function (r) { return yuan(r.consumption_fen); }), itemStyle: { color: '#5f6368' } },
      { name: L.leverage, type: 'line', yAxisIndex: 1, data: d.days.map(function (r) { return r.subsidy_fen ? (r.consumption_fen / r.subsidy_fen).toFixed(2) : null; }) }
    ]
  });
  chart('chart-hours', {
    tooltip: { trigger: 'axis' }, grid: { left: 50, right: 20, top: 20, bottom: 30 },
    xAxis: { type: 'category', data: d.hours.map(function (r) { return r.key; }) }, yAxis: { type: 'value' },
    series: [{ name: L.redeemed, type: 'bar', data: d.hours.map(function (r) { return r.redemptions; }), itemStyle: { color: '#c8102e' } }]
  });
  chart('chart-districts', {
    tooltip: { trigger: 'axis' }, grid: { left: 110, right: 30, top: 20, bottom: 30 },
    xAxis: { type: 'value', name: L.leverage }, yAxis: { type: 'category', data: d.districts.map(function (r) { return r.label; }) },
    series: [{ name: L.leverage, type: 'bar', data: d.districts.map(function (r) { return r.subsidy_fen ? (r.consumption_fen / r.subsidy_fen).toFixed(2) : 0; }), itemStyle: { color: '#137333' } }]
  });
})();
