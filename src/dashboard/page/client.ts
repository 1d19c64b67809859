/**
 * The page's script (plain browser JavaScript, no framework, uPlot for the
 * charts). It reads its configuration from the `#lookout-config` JSON block,
 * polls the data endpoint, and renders tiles, the route table and one uPlot
 * chart per panel. Each chart card carries `data-points` (non-null values
 * drawn) and each route row `data-total`, which the browser test reads.
 *
 * Kept free of backticks and template placeholders: it lives in a template
 * literal. The browser test runs it; a unit test compiles it.
 *
 * @example
 * ```ts
 * const html = `<script>${PAGE_SCRIPT}</script>`;
 * ```
 */
export const PAGE_SCRIPT = String.raw`
'use strict';
(function () {
  var config = JSON.parse(document.getElementById('lookout-config').textContent);
  // Whole numbers on the y axis of counts (no 0.25 requests in flight).
  var COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8];
  // Powers of two on a bytes axis (256 MiB, 512 MiB rather than 238 MiB, 477 MiB).
  var BYTE_STEPS = [];
  for (var power = 0; power < 50; power++) BYTE_STEPS.push(Math.pow(2, power));
  var PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#a371f7', '#39c5cf', '#f778ba', '#8d96a3'];
  var $ = function (selector, root) { return (root || document).querySelector(selector); };
  var make = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };
  var css = function (name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); };
  var state = { range: config.defaultRange, source: config.sources[0], live: true, timer: 0, busy: false };
  var hash = new URLSearchParams(location.hash.slice(1));
  if (config.ranges.some(function (r) { return String(r[0]) === hash.get('range'); })) state.range = Number(hash.get('range'));
  if (config.sources.indexOf(hash.get('source')) >= 0) state.source = hash.get('source');

  function num(value) {
    var abs = Math.abs(value);
    if (abs >= 1e9) return +(value / 1e9).toPrecision(3) + 'G';
    if (abs >= 1e6) return +(value / 1e6).toPrecision(3) + 'M';
    if (abs >= 1e4) return +(value / 1e3).toPrecision(3) + 'k';
    if (abs >= 100) return String(Math.round(value));
    return String(+value.toPrecision(3));
  }
  function format(unit, value) {
    if (value === null || value === undefined || !isFinite(value)) return '–';
    switch (unit) {
      case 'reqps': return num(value) + ' req/s';
      case 'perSecond': return num(value) + '/s';
      case 'ratio': return +(value * 100).toPrecision(3) + '%';
      case 'seconds':
        if (value === 0) return '0 s';
        if (Math.abs(value) < 1e-3) return +(value * 1e6).toPrecision(3) + ' µs';
        if (Math.abs(value) < 1) return +(value * 1e3).toPrecision(3) + ' ms';
        if (Math.abs(value) < 120) return +value.toPrecision(3) + ' s';
        if (Math.abs(value) < 7200) return +(value / 60).toPrecision(3) + ' min';
        return +(value / 3600).toPrecision(3) + ' h';
      case 'bytes':
        var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
        var index = 0;
        while (Math.abs(value) >= 1024 && index < units.length - 1) { value /= 1024; index++; }
        return +value.toPrecision(3) + ' ' + units[index];
      default: return num(value);
    }
  }

  // --- header controls --------------------------------------------------
  function segmented(root, options, current, onPick) {
    root.textContent = '';
    options.forEach(function (option) {
      var button = make('button', '', option[1]);
      button.type = 'button';
      button.setAttribute('aria-pressed', String(option[0] === current));
      button.dataset.value = String(option[0]);
      button.addEventListener('click', function () {
        Array.prototype.forEach.call(root.children, function (child) { child.setAttribute('aria-pressed', String(child === button)); });
        onPick(option[0]);
      });
      root.appendChild(button);
    });
  }
  function remember() { history.replaceState(null, '', '#range=' + state.range + '&source=' + state.source); }
  segmented($('#ranges'), config.ranges, state.range, function (range) { state.range = range; remember(); refresh(); });
  if (config.sources.length > 1) {
    segmented($('#sources'), config.sources.map(function (s) { return [s, s === 'memory' ? 'in-process' : s]; }), state.source, function (source) { state.source = source; remember(); refresh(); });
  } else $('#sources').hidden = true;
  var liveButton = $('#live');
  liveButton.addEventListener('click', function () {
    state.live = !state.live;
    liveButton.setAttribute('aria-pressed', String(state.live));
    liveButton.textContent = state.live ? 'Live' : 'Paused';
    if (state.live) refresh(); else clearTimeout(state.timer);
  });

  // --- cards, built once in panel order -----------------------------------
  var sections = {};
  var cards = {};
  var main = $('main');
  config.panels.forEach(function (panel) {
    var section = sections[panel.section];
    if (!section) {
      section = sections[panel.section] = { title: make('h2', '', panel.section), grid: make('div', 'grid'), ids: [] };
      section.title.hidden = true;
      main.appendChild(section.title);
      main.appendChild(section.grid);
      if (panel.section === 'Model and KPI events') main.insertBefore(routesCard(), section.title);
    }
    var card = make('div', panel.wide ? 'card wide' : 'card');
    card.dataset.chart = panel.id;
    card.hidden = true;
    var title = make('h3', '', panel.title);
    title.title = panel.description;
    card.appendChild(title);
    var plot = make('div', 'plot');
    card.appendChild(plot);
    section.grid.appendChild(card);
    section.ids.push(panel.id);
    cards[panel.id] = { panel: panel, card: card, plot: plot, chart: null, key: '' };
  });
  function routesCard() {
    var wrap = make('div');
    wrap.appendChild(make('h2', '', 'Routes'));
    var card = make('div', 'card');
    card.id = 'routes';
    card.innerHTML = '<table><thead><tr><th>Route</th><th>Req/s</th><th>Errors (5xx)</th><th>p95</th><th>Total</th></tr></thead><tbody></tbody></table><div class="foot"></div>';
    wrap.appendChild(card);
    return wrap;
  }

  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var holder = cards[entry.target.parentNode.dataset.chart];
      if (holder && holder.chart) holder.chart.setSize({ width: Math.floor(entry.contentRect.width), height: 180 });
    });
  });

  // Without a cursor on the chart, the legend shows each line's latest value.
  function lastOf(values) {
    for (var i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
    return null;
  }
  // The x axis spans the range asked for, or the in-process history when it is shorter (a minute at least).
  function xRange(holder, chart, time, data) {
    var end = data.now / 1000;
    var first = time.length > 0 ? time[0] : end;
    holder.x0 = chart.time ? Math.min(first, end - data.range) : Math.max(end - data.range, Math.min(first, end - 60));
    holder.x1 = end;
  }
  function chartFor(holder, chart, time) {
    var unit = holder.panel.unit;
    var names = chart.series.map(function (s) { return s.name; });
    var key = names.join('\u0000');
    var data = [time].concat(chart.series.map(function (s) { return s.values; }));
    if (holder.chart && holder.key === key) { holder.chart.setData(data); return; }
    if (holder.chart) holder.chart.destroy();
    holder.key = key;
    var muted = css('--muted');
    var grid = css('--grid');
    var axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1, size: 4 }, font: '11px system-ui, sans-serif' };
    holder.chart = new uPlot({
      width: Math.max(200, holder.plot.clientWidth),
      height: 180,
      padding: [6, 8, 0, 0],
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: { x: { time: true, range: function () { return [holder.x0, holder.x1]; } }, y: { range: function (u, min, max) { var top = holder.panel.max || (max > 0 ? max * 1.12 : 1); return [Math.min(0, min), top]; } } },
      axes: [
        Object.assign({}, axis),
        Object.assign({}, axis, { size: 58, values: function (u, splits) { return splits.map(function (v) { return format(unit, v); }); } }, unit === 'count' ? { incrs: COUNT_STEPS } : unit === 'bytes' ? { incrs: BYTE_STEPS } : {}),
      ],
      series: [{}].concat(names.map(function (name, index) {
        var color = PALETTE[index % PALETTE.length];
        // A light fill under a few lines; under many it turns to mud.
        return {
          label: name, stroke: color, width: 1.6, fill: names.length <= 3 ? color + '14' : undefined,
          points: { show: function (u) { return u.data[0].length <= 12; } },
          value: function (u, v, si, idx) { return format(unit, idx === null ? lastOf(u.data[si]) : v); },
        };
      })),
      legend: { live: true },
    }, data, holder.plot);
  }

  function renderTiles(stats) {
    var root = $('#tiles');
    root.textContent = '';
    stats.forEach(function (stat) {
      var spec = config.stats.filter(function (s) { return s.id === stat.id; })[0];
      if (!spec) return;
      var tile = make('div', 'tile ' + stat.level);
      tile.dataset.stat = stat.id;
      tile.appendChild(make('div', 'k', spec.label));
      tile.appendChild(make('div', 'v', format(spec.unit, stat.value)));
      root.appendChild(tile);
    });
  }

  function level(value, warn, bad) { return value === null ? '' : value >= bad ? 'bad' : value >= warn ? 'warn' : ''; }
  function renderRoutes(data) {
    var body = $('#routes tbody');
    body.textContent = '';
    var top = Math.max.apply(null, data.routes.map(function (r) { return r.rate; }).concat([0]));
    data.routes.forEach(function (route) {
      var row = make('tr');
      row.dataset.route = route.route;
      row.dataset.total = String(route.total);
      var name = make('td');
      var bar = make('i');
      bar.style.width = (top > 0 ? Math.max(1, 100 * route.rate / top) : 0) + '%';
      name.appendChild(bar);
      name.appendChild(make('span', '', route.route));
      row.appendChild(name);
      row.appendChild(make('td', '', format('reqps', route.rate)));
      row.appendChild(make('td', level(route.errorRatio, 0.001, 0.01), format('ratio', route.errorRatio)));
      row.appendChild(make('td', level(route.p95, 0.5, 1), format('seconds', route.p95)));
      row.appendChild(make('td', 'total', route.total.toLocaleString('en-US')));
      body.appendChild(row);
    });
    if (data.routes.length === 0) body.innerHTML = '<tr><td colspan="5" class="empty">No requests yet</td></tr>';
    $('#routes .foot').textContent = data.routesOmitted > 0 ? data.routesOmitted + ' more routes are summed as (other routes).' : '';
  }

  function render(data) {
    var notice = $('#notice');
    notice.hidden = !data.notice;
    notice.textContent = data.notice || '';
    renderTiles(data.stats);
    renderRoutes(data);
    var byId = {};
    data.charts.forEach(function (chart) { byId[chart.id] = chart; });
    Object.keys(cards).forEach(function (id) {
      var holder = cards[id];
      var chart = byId[id];
      holder.card.hidden = !chart;
      if (!chart) return;
      xRange(holder, chart, chart.time || data.time, data);
      chartFor(holder, chart, chart.time || data.time);
      if (!holder.observed) { observer.observe(holder.plot); holder.observed = true; }
      var points = 0;
      chart.series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null) points++; }); });
      holder.card.dataset.points = String(points);
    });
    Object.keys(sections).forEach(function (name) {
      var section = sections[name];
      section.title.hidden = section.ids.every(function (id) { return cards[id].card.hidden; });
    });
    var origin = data.source === 'memory' ? 'in-process' + (data.since ? ' since ' + new Date(data.since).toLocaleTimeString() : '') : 'Prometheus';
    $('#updated').textContent = origin + ' · ' + new Date(data.now).toLocaleTimeString();
    document.documentElement.dataset.updated = String(data.now);
  }

  function refresh() {
    clearTimeout(state.timer);
    if (state.busy) return;
    state.busy = true;
    var wait = config.refreshSeconds * 1000;
    fetch(config.dataPath + '?range=' + state.range + '&source=' + state.source, { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (response) {
        if (response.status === 401) { state.live = false; liveButton.setAttribute('aria-pressed', 'false'); liveButton.textContent = 'Paused'; throw new Error('The data endpoint wants the token: open ' + location.pathname + '?token=… once.'); }
        if (!response.ok) throw new Error('data endpoint answered ' + response.status);
        return response.json();
      })
      .then(function (data) { render(data); if (data.charts.length === 0) wait = 1000; })
      .catch(function (error) { var n = $('#notice'); n.hidden = false; n.textContent = String(error.message || error); })
      .then(function () {
        state.busy = false;
        if (state.live && !document.hidden) state.timer = setTimeout(refresh, wait);
      });
  }
  document.addEventListener('visibilitychange', function () { if (!document.hidden && state.live) refresh(); });
  refresh();
})();
`;
