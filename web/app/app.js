// gradscope's web viewer: the runs table, a run's page (curves, spectra, phases; live while it
// trains), a sweep's phase diagram and a compare view, drawn with uPlot. Served by `gradscope
// serve` (data from its /api/ endpoints) or inlined by `gradscope report` (data from the
// #gs-report element: the same answers, keyed by the same request). Routes live in the URL's
// hash: #/ (runs), #/run/<dir>, #/inside/<dir> (a run's inside view), #/sweep/<dir>,
// #/compare/<dir>,<dir>,...
(function () {
  'use strict';

  const reportEl = document.getElementById('gs-report');
  const REPORT = reportEl ? JSON.parse(reportEl.textContent) : null;
  const BUCKETS = REPORT ? REPORT.buckets : 600;
  const POLL_MS = 1000;  // a training run's page asks for changes this often
  // The plots' palette and styles: the same values the SVG reports draw with (report/style.h),
  // inlined into the page by the server and by a report.
  const STYLE = JSON.parse(document.getElementById('gs-style').textContent);
  const COLORS = STYLE.palette;
  const REGIME_COLORS = STYLE.regimes;
  const SUMMARY_FIELDS = ['regime', 'memorized_step', 'generalized_step', 'grokking_delay',
    'steps_done'];
  const app = document.getElementById('app');
  let cleanups = [];  // timers and charts of the current page

  // --- data ------------------------------------------------------------------------------------
  // The request's canonical form: parameters sorted, values encoded (as serve/viewer.h's api_key).
  function apiKey(path, params) {
    const keys = Object.keys(params || {}).sort();
    return path + keys.map((k, i) => (i ? '&' : '?') + encodeURIComponent(k) + '=' +
      encodeURIComponent(params[k])).join('');
  }
  async function api(path, params) {
    const key = apiKey(path, params);
    if (REPORT) {
      if (key in REPORT.answers) return REPORT.answers[key];
      throw new Error('not in this report: ' + key);
    }
    const res = await fetch(key, { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
    return body;
  }
  const runDoc = (dir) => api('/api/run', { dir });
  const metricsDoc = (dir) => api('/api/metrics', { buckets: BUCKETS, dir });

  // --- small helpers ---------------------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }
  function fmt(v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v !== 'number') return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
    return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(4)) : v.toExponential(3);
  }
  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return '—';
    s = Math.round(s);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }
  function every(ms, f) {
    if (REPORT) return;
    const id = setInterval(f, ms);
    cleanups.push(() => clearInterval(id));
  }
  const runLink = (dir, text) => h('a', { href: '#/run/' + encodeURIComponent(dir) }, text || dir);
  function nav(...extra) {
    return h('nav', {}, h('a', { class: 'brand', href: REPORT ? REPORT.start : '#/' }, 'gradscope'),
      REPORT ? h('span', { class: 'muted' }, 'report') : h('a', { href: '#/' }, 'runs'), ...extra);
  }
  function progressLine(p) {
    if (!p) return null;
    const frac = p.steps > 0 ? Math.min(1, p.step / p.steps) : 0;
    return h('span', { class: 'progress-line' },
      h('span', { class: 'progress' }, h('span', { style: 'width:' + (100 * frac).toFixed(1) + '%' })),
      `${p.step}/${p.steps} steps · ${fmt(p.steps_per_s)} steps/s · ETA ${duration(p.eta_s)}`);
  }

  // --- charts ----------------------------------------------------------------------------------
  // series: [{label, x, y, color?, dash?, band?: {lo, hi}}]; options: logx, logy. The x values of
  // all series merged (uPlot shares one x array) and each series' y (and band) on them; points
  // a log axis cannot show are left out.
  function aligned(series, o) {
    const keep = (x, y) => (!o.logx || x > 0) && (y === null || !o.logy || y > 0);
    const xs = [...new Set(series.flatMap((s) => s.x.filter((x) => !o.logx || x > 0)))]
      .sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    const uSeries = [{ label: 'step' }];
    const bands = [];
    series.forEach((s, i) => {
      const color = s.color || COLORS[i % COLORS.length];
      const column = (ys) => {
        const col = new Array(xs.length).fill(null);
        s.x.forEach((x, j) => { if (keep(x, ys[j]) && index.has(x)) col[index.get(x)] = ys[j]; });
        return col;
      };
      const line = (label, stroke, width) => ({ label, stroke, width, spanGaps: true,
        dash: s.dash, points: { show: false }, value: (u, v) => fmt(v) });
      data.push(column(s.y));
      uSeries.push(line(s.label, color, 1.5));
      if (s.band) {
        const at = data.length;
        data.push(column(s.band.hi), column(s.band.lo));
        uSeries.push(line(s.label + ' max', color + '55', 0.5), line(s.label + ' min', color + '55', 0.5));
        bands.push({ series: [at, at + 1], fill: color + '22' });
      }
    });
    return { data, uSeries, bands };
  }
  // A uPlot line chart in a new panel of parent; options: logx, logy, markers [{step, label}].
  function lineChart(parent, title, series, options) {
    const o = options || {};
    const panel = h('div', { class: 'panel chart', 'data-title': title }, h('h3', {}, title));
    parent.append(panel);
    const { data, uSeries, bands } = aligned(series, o);
    const markers = o.markers || [];
    const width = Math.max(420, (parent.clientWidth || 900) / (parent.classList.contains('charts') ? 2 : 1) - 40);
    const chart = new uPlot({
      width, height: 250,
      scales: { x: { time: false, distr: o.logx ? 3 : 1 }, y: { distr: o.logy ? 3 : 1 } },
      axes: [{ label: 'step', values: tickLabels(o.logx) }, { values: tickLabels(o.logy), size: 60 }],
      series: uSeries, bands,
      // Drag to zoom, double-click to reset. Downsampled series have points at different steps:
      // the legend shows each series' nearest point to the cursor.
      cursor: { drag: { x: true, y: true, uni: 30 }, dataIdx: nearestPoint },
      hooks: { draw: [(u) => drawMarkers(u, markers)] },
    }, data, panel);
    panel.dataset.points = xsLength(data);
    let alive = true;
    chart.gsDestroy = () => { if (alive) chart.destroy(); alive = false; };
    cleanups.push(chart.gsDestroy);
    return chart;
  }
  // Tick labels: decades only on a log axis (1e-5, 0.01, 100), round numbers on a linear one.
  function tickLabels(log) {
    return (u, splits) => splits.map((v) => {
      if (v == null) return '';
      if (!log) return String(+v.toPrecision(6));
      if (Math.abs(Math.log10(v) - Math.round(Math.log10(v))) > 1e-6) return '';
      return v >= 1e-3 && v < 1e5 ? String(+v.toPrecision(1)) : v.toExponential(0).replace('+', '');
    });
  }
  // The index of series si's point nearest to index i (i itself when it has one).
  function nearestPoint(u, si, i) {
    const ys = u.data[si];
    if (ys[i] != null) return i;
    for (let d = 1; d < ys.length; ++d) {
      if (i - d >= 0 && ys[i - d] != null) return i - d;
      if (i + d < ys.length && ys[i + d] != null) return i + d;
    }
    return i;
  }
  const xsLength = (data) => String(data[0].length);  // a panel's data-points (the tests read it)
  function setChartData(chart, data) {
    if (!chart.root.parentNode) return;  // destroyed: its page was left while the data came
    chart.setData(data);
    chart.root.parentNode.dataset.points = xsLength(data);
  }
  function drawMarkers(u, markers) {
    const ctx = u.ctx;
    ctx.save();
    ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
    for (const m of markers) {
      const x = u.valToPos(m.step, 'x', true);
      if (!isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.strokeStyle = '#555';
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.fillStyle = '#333';
      ctx.fillText(m.label, x + 4, u.bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  }

  // A heatmap of a probe matrix [steps][rows] on a log colour scale (dark: small).
  function heatmap(parent, title, steps, values) {
    const canvas = h('canvas', { width: Math.max(1, steps.length), height: Math.max(1, values[0] ? values[0].length : 1) });
    const label = h('div', { class: 'muted' }, 'hover for values');
    parent.append(h('div', { class: 'panel heatmap' }, h('h3', {}, title), canvas, label));
    const flat = values.flat().filter((v) => v > 0);
    if (!flat.length) return;
    const lo = Math.log10(Math.min(...flat)), hi = Math.log10(Math.max(...flat));
    const ctx = canvas.getContext('2d');
    values.forEach((column, i) => column.forEach((v, r) => {
      const t = v > 0 && hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 0;
      ctx.fillStyle = viridis(t);
      ctx.fillRect(i, r, 1, 1);
    }));
    canvas.addEventListener('mousemove', (e) => {
      const box = canvas.getBoundingClientRect();
      const i = Math.floor((e.clientX - box.left) / box.width * canvas.width);
      const r = Math.floor((e.clientY - box.top) / box.height * canvas.height);
      if (values[i] && r >= 0 && r < values[i].length)
        label.textContent = `step ${fmt(steps[i])} · index ${r} · value ${fmt(values[i][r])}`;
    });
  }
  function viridis(t) {
    const c = viridisRgb(t).map(Math.round);
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }
  function viridisRgb(t) {  // the ramp at t in [0, 1] as [r, g, b] (no string: the heatmaps' cells)
    const stops = STYLE.ramp;
    const x = Math.max(0, Math.min(1, t)) * (stops.length - 1), i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i, a = stops[i], b = stops[i + 1];
    return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
  }

  // --- the runs table --------------------------------------------------------------------------
  const LEADING_COLUMNS = ['dir', 'status', 'regime'];  // then the config keys that vary
  const TRAILING_COLUMNS = ['memorized_step', 'generalized_step', 'grokking_delay',
    'final_test_acc', 'final_test_loss', 'steps_done', 'name', 'sweep'];
  const FIXED_COLUMNS = [...LEADING_COLUMNS, ...TRAILING_COLUMNS];
  const NEVER_VARYING = new Set([...FIXED_COLUMNS, 'id', 'message', 'wall_time_s', 'steps_per_s',
    'progress', 'n_params']);

  // Whether the row passes every filter token (key=value, also != < > <= >=, or plain text).
  function passes(row, tokens) {
    for (const t of tokens) {
      const m = t.match(/^([^!<>=]+)(!=|<=|>=|=|<|>)(.*)$/);
      if (!m) {
        const text = [row.dir, row.name, row.sweep, row.status, row.regime].join(' ');
        if (!text.toLowerCase().includes(t.toLowerCase())) return false;
        continue;
      }
      const [, key, op, want] = m;
      if (!(key in row)) throw new Error('no column ' + key);
      const v = row[key], n = Number(want);
      const a = typeof v === 'number' && want !== '' && !isNaN(n) ? v : String(v);
      const b = typeof a === 'number' ? n : want;
      const ok = { '=': a == b, '!=': a != b, '<': a < b, '>': a > b, '<=': a <= b, '>=': a >= b }[op];
      if (!ok) return false;
    }
    return true;
  }

  function varyingColumns(rows) {
    const out = [];
    const keys = new Set(rows.flatMap((r) => Object.keys(r)));
    for (const k of keys) {
      if (NEVER_VARYING.has(k) || k.startsWith('final_')) continue;
      const values = new Set(rows.map((r) => JSON.stringify(r[k] ?? null)));
      if (values.size > 1) out.push(k);
    }
    return out.slice(0, 10);
  }

  async function runsPage() {
    const state = { rows: [], sort: 'dir', desc: false, selected: new Set() };
    const filter = h('input', { type: 'text', id: 'filter', placeholder: 'filter: optim.weight_decay>=0.3 regime=grokking, or any text' });
    const regime = h('select', { id: 'regime' }, h('option', { value: '' }, 'any regime'),
      Object.keys(REGIME_COLORS).map((r) => h('option', { value: r }, r)));
    const compare = h('button', { id: 'compare', onclick: () => {
      if (state.selected.size) location.hash = '#/compare/' + [...state.selected].map(encodeURIComponent).join(',');
    } }, 'compare selected');
    const message = h('span', { class: 'muted' });
    const table = h('table', { class: 'grid', id: 'runs' });
    app.replaceChildren(nav(), h('h1', {}, 'Runs'),
      h('div', { class: 'toolbar' }, filter, regime, compare, message), h('div', { class: 'scroll' }, table));
    function render() {
      let rows = state.rows;
      try {
        const tokens = filter.value.split(/\s+/).filter(Boolean);
        if (regime.value) tokens.push('regime=' + regime.value);
        rows = rows.filter((r) => passes(r, tokens));
        message.textContent = `${rows.length} of ${state.rows.length} runs`;
        message.className = 'muted';
      } catch (e) {
        message.textContent = e.message;
        message.className = 'error';
      }
      const columns = [...LEADING_COLUMNS, ...varyingColumns(state.rows), ...TRAILING_COLUMNS];
      const key = state.sort;
      rows = [...rows].sort((a, b) => {
        const x = a[key] ?? '', y = b[key] ?? '';
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return state.desc ? -c : c;
      });
      const head = h('tr', {}, h('th', {}, ''), columns.map((c) => h('th', { onclick: () => {
        state.desc = state.sort === c ? !state.desc : false;
        state.sort = c;
        render();
      } }, c + (state.sort === c ? (state.desc ? ' ▼' : ' ▲') : ''))));
      const body = rows.map((r) => h('tr', { 'data-dir': r.dir },
        h('td', {}, h('input', { type: 'checkbox', checked: state.selected.has(r.dir), onchange: (e) => {
          if (e.target.checked) state.selected.add(r.dir); else state.selected.delete(r.dir);
        } })),
        columns.map((c) => {
          if (c === 'dir') return h('td', {}, runLink(r.dir));
          if (c === 'sweep' && r.sweep) return h('td', {}, h('a', { href: '#/sweep/' + encodeURIComponent(r.sweep) }, r.sweep));
          if (c === 'status' && r.progress) return h('td', {}, h('span', { class: 'state running' }, 'running '), progressLine(r.progress));
          return h('td', { class: typeof r[c] === 'number' ? 'num' : '' }, fmt(r[c]));
        })));
      table.replaceChildren(h('thead', {}, head), h('tbody', {}, body));
    }
    let last = '';
    async function load() {  // draws the table again only when a run changed
      const runs = (await api('/api/runs')).runs, text = JSON.stringify(runs);
      if (text === last) return;
      last = text;
      state.rows = runs;
      render();
    }
    filter.addEventListener('input', render);
    regime.addEventListener('change', render);
    await load();
    every(2000, () => load().catch(() => {}));
  }

  // --- a run's page ----------------------------------------------------------------------------
  // The metric columns of a run, grouped into charts; `config` (the run's keys) says which
  // stability threshold c / lr a sharpness is drawn beside.
  function chartGroups(columns, config = {}) {
    const metric = columns.filter((c) => c !== 'step');
    const take = (re) => metric.filter((c) => re.test(c));
    const gd = config['optim.name'] === 'sgd', b1 = config['optim.beta1'];
    const adam = (2 + 2 * b1) / (1 - b1);  // Cohen et al. 2022: 38 at beta1 = 0.9
    const groups = [
      { title: 'Loss', keys: take(/(^|_)loss$|_loss_|bits$/), logy: true },
      { title: 'Accuracy', keys: take(/acc/), logy: false },
      { title: 'Weight norms', keys: take(/norm/), logy: true },
      // probes/numerics.h: Softmax Collapse, absorbed gradients, eps-dominated Adam, NLM cosine
      { title: 'Numerical stability', keys: take(/^numerics\.(?!margin)/), logy: false },
      { title: 'Logit margins', keys: take(/^numerics\.margin/), logy: false },
      // run/geometry_probes.h: the sharpness (beside gradient descent's threshold 2 / lr on a
      // gradient-descent run), Adam's preconditioned sharpness beside its threshold, the LLC
      gd ? { title: 'Sharpness and 2 / lr', keys: take(/^hessian\.top$/), logy: false, threshold: { c: 2, label: '2 / lr' } }
        : { title: 'Sharpness', keys: take(/^hessian\.top$/), logy: false },
      { title: "Adam's preconditioned sharpness", keys: take(/^hessian\.preconditioned$/), logy: false,
        threshold: { c: adam, label: `${+adam.toPrecision(6)} / lr` } },
      { title: 'Local learning coefficient', keys: take(/^llc\.mean$/), logy: false },
      { title: 'Stable ranks', keys: take(/stable_rank/), logy: false },
      { title: 'In-context and prefix matching', keys: take(/icl_score|prefix_match/), logy: false },
    ].filter((g) => g.keys.length);
    const shown = new Set(groups.flatMap((g) => g.keys));
    return { groups, rest: metric.filter((c) => !shown.has(c)) };
  }

  // A chart group's curves: its columns, and its threshold c / lr at each logged row.
  function groupSeries(g, metrics) {
    const series = g.keys.map((k) => ({ label: k, x: metrics.series[k].x, y: metrics.series[k].y }));
    const lr = metrics.series.lr, t = g.threshold;
    if (t && lr) series.push({ label: t.label, x: lr.x, y: lr.y.map((v) => (v > 0 ? t.c / v : null)) });
    return series;
  }

  function phaseMarkers(summary) {
    if (!summary) return [];
    const out = [];
    if (summary.memorized_step != null) out.push({ step: summary.memorized_step, label: 'memorized' });
    if (summary.generalized_step != null) out.push({ step: summary.generalized_step, label: 'generalized' });
    const collapse = (summary.numerics || {}).sc_torch_float32_half_step;
    if (collapse != null) out.push({ step: collapse, label: 'softmax collapse 50%' });
    return out;
  }

  function summaryPanel(run) {
    const s = run.summary;
    const rows = [['state', run.state]];
    if (s) {
      rows.push(['status', s.status]);
      for (const f of [...SUMMARY_FIELDS, 'n_params', 'wall_time_s', 'steps_per_s'])
        if (s[f] !== undefined) rows.push([f, fmt(s[f])]);
      if (s.message) rows.push(['message', s.message]);
      for (const [k, v] of Object.entries(s.phase_changes || {}))
        rows.push(['phase change: ' + k, JSON.stringify(v)]);
      for (const [k, v] of Object.entries(s.numerics || {})) rows.push(['numerics: ' + k, fmt(v)]);
      const geometry = [['llc', s.llc], ['hessian', s.hessian],  // run/geometry_probes.h
        ['hessian preconditioned', (s.hessian || {}).preconditioned]];
      for (const [name, section] of geometry)
        for (const at of ['first', 'peak', 'last']) {
          const v = (section || {})[at];
          if (v) rows.push([`${name}: ${at}`, `${fmt(v.value)} at step ${v.step}`]);
        }
      for (const [k, v] of Object.entries(s.final || {})) rows.push(['final ' + k, fmt(v)]);
    }
    return h('div', { class: 'panel', id: 'summary' }, h('h3', {}, 'Summary'),
      h('div', { class: 'kv' }, rows.flatMap(([k, v]) => [h('span', { class: 'muted' }, k), h('span', {}, v)])));
  }

  function drawRunCharts(el, columns, metrics, summary, logx, config) {
    el.replaceChildren();
    const { groups, rest } = chartGroups(columns, config);
    const markers = phaseMarkers(summary);
    const charts = groups.map((g) => lineChart(el, g.title, groupSeries(g, metrics),
      { logx, logy: g.logy, markers }));
    return { charts, groups, rest };
  }

  async function runPage(dir) {
    let run = await runDoc(dir);
    let metrics = await metricsDoc(dir);
    const logx = h('input', { type: 'checkbox', id: 'logx', checked: true });
    const status = h('div', { id: 'status' });
    const chartsEl = h('div', { class: 'charts', id: 'charts' });
    const extraSelect = h('select', { id: 'extra' }, h('option', { value: '' }, 'plot another metric…'));
    const extraEl = h('div', { class: 'charts' });
    const probesEl = h('div', { id: 'probes' });
    const summaryEl = h('div');
    app.replaceChildren(
      nav(run.sweep && (!REPORT || apiKey('/api/sweep', { dir: run.sweep }) in REPORT.answers)
        ? h('a', { href: '#/sweep/' + encodeURIComponent(run.sweep) }, 'sweep ' + run.sweep) : null),
      h('h1', {}, run.title), h('div', { class: 'muted' }, dir,
        run.probes.includes('inside') ? [' · ', h('a', { id: 'inside-link', href: '#/inside/' + encodeURIComponent(dir) }, 'inside view')] : null),
      status,
      h('div', { class: 'toolbar' }, h('label', {}, logx, ' log steps'), extraSelect,
        h('span', { class: 'muted' }, 'drag to zoom, double-click to reset')),
      chartsEl, extraEl, probesEl, summaryEl,
      h('details', {}, h('summary', {}, 'config'), h('table', { class: 'grid' },
        Object.entries(run.config).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, JSON.stringify(v)))))));
    let drawn;
    function renderStatus() {
      const progress = progressLine(run.progress);  // none once the run has finished
      status.replaceChildren(h('span', { class: 'state ' + run.state }, run.state),
        ...(progress ? [' ', progress] : []), ' · ', h('span', { class: 'muted', id: 'rows' }, `${metrics.rows} rows logged`));
    }
    function render() {
      cleanupCharts();
      drawn = drawRunCharts(chartsEl, metrics.columns, metrics, run.summary, logx.checked, run.config);
      extraSelect.replaceChildren(h('option', { value: '' }, 'plot another metric…'),
        drawn.rest.map((c) => h('option', { value: c }, c)));
      summaryEl.replaceChildren(summaryPanel(run));
      renderStatus();
    }
    function update() {  // new rows of a training run: the same charts, new data
      const { groups } = chartGroups(metrics.columns, run.config);
      const layout = (gs) => gs.map((g) => g.keys.join(',')).join('|');
      if (layout(groups) !== layout(drawn.groups)) return render();
      drawn.charts.forEach((c, i) => {
        const series = groupSeries(groups[i], metrics);
        setChartData(c, aligned(series, { logx: logx.checked, logy: groups[i].logy }).data);
      });
      renderStatus();
    }
    function cleanupCharts() {
      if (drawn) drawn.charts.forEach((c) => c.gsDestroy());
    }
    extraSelect.addEventListener('change', () => {
      const k = extraSelect.value;
      if (k) lineChart(extraEl, k, [{ label: k, x: metrics.series[k].x, y: metrics.series[k].y }], { logx: logx.checked, markers: phaseMarkers(run.summary) });
    });
    logx.addEventListener('change', render);
    render();
    await drawProbes(probesEl, dir, run.probes);
    let bytes = null;
    every(POLL_MS, async () => {
      const st = await api('/api/status', { dir });
      if (bytes === st.metrics_bytes && st.state === run.state) {
        run.progress = st.progress;
        return renderStatus();
      }
      const stateChanged = st.state !== run.state;
      bytes = st.metrics_bytes;
      metrics = await metricsDoc(dir);
      run = stateChanged ? await runDoc(dir) : Object.assign(run, { state: st.state, progress: st.progress });
      if (stateChanged) {
        render();
        await drawProbes(probesEl, dir, run.probes);
      } else {
        update();
      }
    });
  }

  async function drawProbes(el, dir, kinds) {
    el.replaceChildren();
    for (const kind of kinds.filter((k) => k !== 'inside')) {  // inside: a page of its own
      const doc = await api('/api/probe', { dir, kind });
      el.append(h('h2', {}, kind === 'spectra' ? 'Singular values of ΔW over probe steps (log colour)' :
        'Fourier norms per frequency over probe steps (log colour)'));
      const grid = h('div', { class: 'charts' });
      el.append(grid);
      for (const m of doc.matrices) heatmap(grid, m.name, doc.steps, m.values);
      if (kind === 'spectra' && doc.matrices.length) {
        lineChart(el, 'Stable rank of ΔW (Σσ² / σ₁²)', doc.matrices.map((m) => ({
          label: m.name, x: doc.steps,
          y: m.values.map((col) => { const top = col[0] || 0; return top > 0 ? col.reduce((a, v) => a + v * v, 0) / (top * top) : null; }),
        })), { logx: true });
      }
    }
  }

  // --- the sweep page --------------------------------------------------------------------------
  function mean(values) {
    const v = values.filter((x) => typeof x === 'number' && isFinite(x));
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  }
  function mostCommon(values) {
    const count = new Map();
    for (const v of values) if (v != null) count.set(v, (count.get(v) || 0) + 1);
    return [...count.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  }
  const sortValues = (vs) => [...vs].sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));

  async function sweepPage(dir) {
    const sweep = await api('/api/sweep', { dir });
    const runs = sweep.runs;
    const configKeys = Object.keys(runs[0] || {}).filter((k) => k.includes('.') || k === 'seed');
    const axisKeys = [...sweep.keys, ...configKeys.filter((k) => !sweep.keys.includes(k))];
    const axes = sweep.keys.filter((k) => k !== 'seed');
    const numericFields = Object.keys(runs[0] || {}).filter((k) => (SUMMARY_FIELDS.includes(k) || k.startsWith('final_')) && k !== 'regime');
    const select = (id, options, value) => h('select', { id }, options.map((o) => h('option', { value: o, selected: o === value }, o)));
    const xs = select('x', axisKeys, axes[0] || axisKeys[0]);
    const ys = select('y', axisKeys, axes[1] || (axes[0] === 'seed' ? axisKeys[1] : 'seed'));
    const zs = select('z', ['regime', ...numericFields], 'regime');
    const plot = h('div', { id: 'phase' });
    const tip = h('div', { class: 'tooltip', style: 'display:none' });
    app.replaceChildren(nav(), h('h1', {}, 'Sweep ' + sweep.name),
      h('div', { class: 'muted' }, `${runs.length} runs; varying: ${sweep.keys.join(', ') || 'nothing'}`),
      h('div', { class: 'toolbar' }, 'x ', xs, ' y ', ys, ' colour ', zs,
        h('a', { href: '#/compare/' + runs.map((r) => encodeURIComponent(r.dir)).join(',') }, 'compare all runs')),
      plot, tip);
    cleanups.push(() => tip.remove());
    function draw() {
      const x = xs.value, y = ys.value, z = zs.value;
      const xv = sortValues(new Set(runs.map((r) => r[x]))), yv = sortValues(new Set(runs.map((r) => r[y])));
      const cells = new Map();
      for (const r of runs) {
        const k = xv.indexOf(r[x]) + ',' + yv.indexOf(r[y]);
        if (!cells.has(k)) cells.set(k, []);
        cells.get(k).push(r);
      }
      const zOf = (rs) => (z === 'regime' ? mostCommon(rs.map((r) => r.regime)) : mean(rs.map((r) => r[z])));
      const zs_ = [...cells.values()].map(zOf).filter((v) => typeof v === 'number');
      const lo = Math.min(...zs_), hi = Math.max(...zs_);
      const colour = (v) => (v == null ? STYLE.empty : z === 'regime' ? (REGIME_COLORS[v] || STYLE.missing) : viridis(hi > lo ? (v - lo) / (hi - lo) : 0.5));
      const cw = Math.max(28, Math.min(120, 800 / xv.length)), ch = Math.max(22, Math.min(70, 480 / yv.length));
      const left = 90, top = 10, NS = 'http://www.w3.org/2000/svg';
      const svg = document.createElementNS(NS, 'svg');
      svg.setAttribute('class', 'phase');
      svg.setAttribute('width', left + cw * xv.length + 20);
      svg.setAttribute('height', top + ch * yv.length + 60);
      const add = (tag, attrs, text) => {
        const e = document.createElementNS(NS, tag);
        for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
        if (text !== undefined) e.textContent = text;
        svg.append(e);
        return e;
      };
      for (const [k, rs] of cells) {
        const [i, j] = k.split(',').map(Number);
        const v = zOf(rs);
        const rect = add('rect', { class: 'cell', x: left + i * cw, y: top + (yv.length - 1 - j) * ch, width: cw, height: ch,
          fill: colour(v), 'data-dirs': rs.map((r) => r.dir).join(',') });
        rect.addEventListener('mousemove', (e) => {
          tip.style.display = 'block';
          tip.style.left = e.clientX + 14 + 'px';
          tip.style.top = e.clientY + 10 + 'px';
          tip.textContent = `${x} = ${fmt(xv[i])}\n${y} = ${fmt(yv[j])}\n${z}: ${fmt(v)}\n` + rs.map((r) =>
            `${r.dir}  seed ${r.seed}  ${r.regime || r.status}  memorized ${fmt(r.memorized_step)}  generalized ${fmt(r.generalized_step)}`).join('\n');
        });
        rect.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
        rect.addEventListener('click', () => {
          location.hash = rs.length === 1 ? '#/run/' + encodeURIComponent(rs[0].dir) : '#/compare/' + rs.map((r) => encodeURIComponent(r.dir)).join(',');
        });
      }
      xv.forEach((v, i) => add('text', { x: left + (i + 0.5) * cw, y: top + ch * yv.length + 14, 'text-anchor': 'middle' }, fmt(v)));
      yv.forEach((v, j) => add('text', { x: left - 6, y: top + (yv.length - 0.5 - j) * ch + 4, 'text-anchor': 'end' }, fmt(v)));
      add('text', { x: left + cw * xv.length / 2, y: top + ch * yv.length + 34, 'text-anchor': 'middle' }, x);
      add('text', { x: 12, y: top + ch * yv.length / 2, transform: `rotate(-90 12 ${top + ch * yv.length / 2})`, 'text-anchor': 'middle' }, y);
      const legend = z === 'regime'
        ? h('div', {}, Object.entries(REGIME_COLORS).map(([r, c]) => [h('span', { class: 'legend-swatch', style: 'background:' + c }), r]))
        : h('div', {}, `${z}: mean over the runs of a cell; `, h('span', { class: 'legend-swatch', style: 'background:' + viridis(0) }), fmt(lo),
          h('span', { class: 'legend-swatch', style: 'background:' + viridis(1) }), fmt(hi));
      plot.replaceChildren(svg, legend);
    }
    [xs, ys, zs].forEach((s) => s.addEventListener('change', draw));
    draw();
  }

  // --- the compare view ------------------------------------------------------------------------
  // Keys that say where or under which name a run ran, not what it computed.
  const IDENTITY_KEYS = new Set(['name', 'device', 'seed']);

  // Runs that differ only in seed form one group; the rest stand alone.
  function seedGroups(runs) {
    const groups = new Map();
    for (const r of runs) {
      const key = JSON.stringify(Object.entries(r.config).filter(([k]) => !IDENTITY_KEYS.has(k)));
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    return [...groups.values()];
  }
  // Mean, min and max of several series over the union of their steps (linear interpolation
  // inside each series' range).
  function aggregate(series) {
    const xs = [...new Set(series.flatMap((s) => s.x))].sort((a, b) => a - b);
    const at = (s, x) => {
      let j = s.x.findIndex((v) => v >= x);
      if (j < 0) return null;
      if (s.x[j] === x) return s.y[j];
      if (j === 0) return null;
      const f = (x - s.x[j - 1]) / (s.x[j] - s.x[j - 1]);
      return s.y[j - 1] + f * (s.y[j] - s.y[j - 1]);
    };
    const y = [], lo = [], hi = [];
    for (const x of xs) {
      const v = series.map((s) => at(s, x)).filter((a) => a !== null && isFinite(a));
      y.push(v.length === series.length ? mean(v) : null);
      lo.push(v.length === series.length ? Math.min(...v) : null);
      hi.push(v.length === series.length ? Math.max(...v) : null);
    }
    return { x: xs, y, lo, hi };
  }

  async function comparePage(dirs) {
    const runs = await Promise.all(dirs.map(async (dir) => Object.assign(await runDoc(dir), { metricsDoc: await metricsDoc(dir) })));
    const columns = [...new Set(runs.flatMap((r) => r.metricsDoc.columns))].filter((c) => c !== 'step');
    const defaults = ['test_acc', 'train_acc', 'test_loss', 'train_loss'].filter((c) => columns.includes(c));
    const groups = seedGroups(runs);
    const band = h('input', { type: 'checkbox', id: 'band', checked: groups.some((g) => g.length > 1) });
    const chosen = h('select', { id: 'metrics', multiple: true, size: 4 }, columns.map((c) => h('option', { value: c, selected: defaults.includes(c) || (!defaults.length && c === columns[0]) }, c)));
    const chartsEl = h('div', { class: 'charts', id: 'charts' });
    const keys = Object.keys(runs[0]?.config || {}).filter((k) => new Set(runs.map((r) => JSON.stringify(r.config[k]))).size > 1);
    const diff = h('table', { class: 'grid', id: 'diff' },
      h('tr', {}, h('th', {}, 'key'), runs.map((r) => h('th', {}, runLink(r.dir, r.title)))),
      keys.map((k) => h('tr', {}, h('td', {}, k), runs.map((r) => h('td', {}, JSON.stringify(r.config[k]))))));
    app.replaceChildren(nav(), h('h1', {}, `Compare ${runs.length} runs`),
      h('div', { class: 'toolbar' }, h('label', {}, band, ' runs that differ only in seed: mean and min–max band'), chosen),
      chartsEl, h('h2', {}, keys.length ? 'Config differences' : 'Config: no differences'), diff);
    function draw() {
      chartsEl.replaceChildren();
      for (const k of [...chosen.selectedOptions].map((o) => o.value)) {
        const series = [];
        for (const g of band.checked ? groups : runs.map((r) => [r])) {
          const with_ = g.filter((r) => r.metricsDoc.series[k]);
          if (!with_.length) continue;
          if (with_.length === 1) {
            const s = with_[0].metricsDoc.series[k];
            series.push({ label: with_[0].title, x: s.x, y: s.y });
          } else {
            const a = aggregate(with_.map((r) => r.metricsDoc.series[k]));
            series.push({ label: `${with_[0].config.name} (mean of ${with_.length} seeds)`, x: a.x, y: a.y, band: { lo: a.lo, hi: a.hi } });
          }
        }
        series.forEach((s, i) => { s.color = COLORS[i % COLORS.length]; });
        lineChart(chartsEl, k, series, { logx: true, logy: /loss|bits/.test(k) });
      }
    }
    band.addEventListener('change', draw);
    chosen.addEventListener('change', draw);
    draw();
  }

  // --- the inside view -------------------------------------------------------------------------
  // What the model is at a step (probe.inside, gradscope inside; probes/inside.h): a slider over
  // the frames; the loss and accuracy with a marker at the frame's step; the neuron maps over the
  // (a, b) grid; the embedding's circle; parameter heatmaps (rows or columns sortable by their
  // dominant Fourier frequency); attention patterns with hover values.
  function decodeArrays(arrays) {  // {name: {shape, data: base64 float32}} -> {name: {shape, v}}
    const out = {};
    for (const [name, a] of Object.entries(arrays)) {
      const bin = atob(a.data), bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; ++i) bytes[i] = bin.charCodeAt(i);
      out[name] = { shape: a.shape, v: new Float32Array(bytes.buffer) };
    }
    return out;
  }
  // A frame from the server as bytes (serve/viewer_data.h inside_frame_binary): a uint32 n, n bytes
  // of JSON, then the float32 arrays, viewed in place.
  async function binaryFrame(dir, step) {
    const res = await fetch(apiKey('/api/inside', { dir, format: 'binary', step }), { cache: 'no-store' });
    if (!res.ok) throw new Error((await res.json()).error || ('HTTP ' + res.status));
    const buf = await res.arrayBuffer();
    const n = new DataView(buf).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
    const a = {};
    for (const [name, x] of Object.entries(head.arrays)) a[name] = { shape: x.shape, v: new Float32Array(buf, 4 + n + x.offset, x.length) };
    return { step, info: head.frame, a };
  }
  const exact = (v) => String(+v.toPrecision(6));  // hover values: float32's digits
  // Signed values: blue (negative), white, red (positive), scaled by the largest magnitude.
  function diverging(t) {
    const a = Math.round(255 * (1 - Math.min(1, Math.abs(t))));
    return t >= 0 ? [255, a, a] : [a, a, 255];
  }

  // A rows x cols heatmap of get(r, c) at `scale` css px per cell; hovering writes label(r, c, v)
  // into `readout`. Signed maps use the diverging ramp, others viridis over [0, max].
  function matrixCanvas(rows, cols, get, { signed = true, scale = 2, label, readout }) {
    const canvas = h('canvas', { width: cols, height: rows, class: 'matrix',
      style: `width:${Math.round(cols * scale)}px;height:${Math.round(rows * scale)}px` });
    const ctx = canvas.getContext('2d'), img = ctx.createImageData(cols, rows);
    let m = 0;
    for (let r = 0; r < rows; ++r) for (let c = 0; c < cols; ++c) m = Math.max(m, Math.abs(get(r, c)));
    for (let r = 0; r < rows; ++r) {
      for (let c = 0; c < cols; ++c) {
        const t = m > 0 ? get(r, c) / m : 0, rgb = signed ? diverging(t) : viridisRgb(t), o = 4 * (r * cols + c);
        img.data[o] = rgb[0]; img.data[o + 1] = rgb[1]; img.data[o + 2] = rgb[2]; img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
    canvas.addEventListener('mousemove', (e) => {
      const box = canvas.getBoundingClientRect();
      const c = Math.floor((e.clientX - box.left) / box.width * cols), r = Math.floor((e.clientY - box.top) / box.height * rows);
      if (r >= 0 && r < rows && c >= 0 && c < cols) readout.textContent = label(r, c, get(r, c));
    });
    return canvas;
  }
  // The dominant frequency k = 1..(p-1)/2 of x[0..p-1] (its largest DFT power).
  const trig = new Map();  // p -> [cos, sin] of 2 pi j / p, j = 0..p-1
  function dominantFrequency(x, p) {
    if (!trig.has(p)) {
      const c = new Float64Array(p), sn = new Float64Array(p);
      for (let j = 0; j < p; ++j) { c[j] = Math.cos(2 * Math.PI * j / p); sn[j] = Math.sin(2 * Math.PI * j / p); }
      trig.set(p, [c, sn]);
    }
    const [c, sn] = trig.get(p);
    let best = 0, bestK = 0;
    for (let k = 1; k <= (p - 1) / 2; ++k) {
      let re = 0, im = 0;
      for (let a = 0, j = 0; a < p; ++a, j = (j + k) % p) { re += x[a] * c[j]; im += x[a] * sn[j]; }
      if (re * re + im * im > best) { best = re * re + im * im; bestK = k; }
    }
    return bestK;
  }
  // A scatter of points [n, 2] coloured by residue (hue a / n), every tenth one labelled.
  function circlePlot(title, pts, n, id) {
    const size = 260, pad = 18;
    let m = 1e-12;
    for (let i = 0; i < 2 * n; ++i) m = Math.max(m, Math.abs(pts[i]));
    const X = (v) => size / 2 + v / m * (size / 2 - pad), Y = (v) => size / 2 - v / m * (size / 2 - pad);
    const ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', size); svg.setAttribute('height', size); svg.setAttribute('class', 'circle');
    svg.id = id;
    for (let a = 0; a < n; ++a) {
      const c = document.createElementNS(ns, 'circle');
      c.setAttribute('cx', X(pts[2 * a])); c.setAttribute('cy', Y(pts[2 * a + 1])); c.setAttribute('r', 3.5);
      c.setAttribute('fill', `hsl(${Math.round(360 * a / n)},70%,45%)`);
      const t = document.createElementNS(ns, 'title');
      t.textContent = `a = ${a}: (${exact(pts[2 * a])}, ${exact(pts[2 * a + 1])})`;
      c.append(t); svg.append(c);
      if (a % Math.max(1, Math.round(n / 10)) === 0) {
        const l = document.createElementNS(ns, 'text');
        l.setAttribute('x', X(pts[2 * a]) + 5); l.setAttribute('y', Y(pts[2 * a + 1]) - 4); l.textContent = a;
        svg.append(l);
      }
    }
    return h('div', { class: 'panel' }, h('h3', {}, title), svg);
  }

  async function insidePage(dir) {
    const [run, index, metrics] = await Promise.all([runDoc(dir), api('/api/inside', { dir }), metricsDoc(dir)]);
    if (!index.steps.length) throw new Error(dir + ': no inside frames (run with probe.inside = true, or gradscope inside RUN)');
    const layout = index.layout, p = layout.p || 0;
    const slider = h('input', { type: 'range', id: 'inside-step', min: 0, max: index.steps.length - 1, value: index.steps.length - 1, step: 1 });
    const stepLabel = h('span', { id: 'inside-step-label' });
    const readout = h('div', { class: 'readout', id: 'inside-readout' }, 'hover for values');
    const curves = h('div', { class: 'charts' }), frameEl = h('div', { id: 'inside-frame' });
    app.replaceChildren(nav(h('a', { href: '#/run/' + encodeURIComponent(dir) }, 'run ' + run.title)),
      h('h1', {}, 'Inside ' + run.title), h('div', { class: 'muted' }, dir, ` · ${index.steps.length} frames, every ${layout.every} steps · ${layout.kind}`),
      h('div', { class: 'toolbar sticky' }, h('label', {}, 'step ', slider), stepLabel, readout), curves, frameEl);
    const markers = [{ step: index.steps[index.steps.length - 1], label: 'frame' }];
    const charts = [];
    const has = (k) => metrics.series[k];
    for (const [title, keys, logy] of [['loss', ['train_loss', 'test_loss'], true], ['accuracy', ['train_acc', 'test_acc'], false]]) {
      const ks = keys.filter(has);
      if (ks.length) charts.push(lineChart(curves, title, ks.map((k) => ({ label: k, x: metrics.series[k].x, y: metrics.series[k].y })), { logx: false, logy, markers }));
    }
    const cache = new Map();
    const controls = { param: layout.params.length ? layout.params[0].name : '', sort: true, key: -1, window: 0, head: 0 };
    let shown = -1;
    function frame(step) {  // a promise of the decoded frame, kept for the last 12 asked
      if (!cache.has(step)) {
        const got = REPORT ? api('/api/inside', { dir, step }).then((doc) => ({ step, info: doc.frame, a: decodeArrays(doc.arrays) }))
          : binaryFrame(dir, step);
        got.catch(() => cache.delete(step));
        cache.set(step, got);
        if (cache.size > 12) cache.delete(cache.keys().next().value);
      }
      return cache.get(step);
    }
    async function show(i) {
      const step = index.steps[i];
      const t0 = performance.now();
      const f = await frame(step);
      if (+slider.value !== i) return;  // the slider moved on while this frame came
      stepLabel.textContent = `step ${step}`;
      markers[0].step = step;
      charts.forEach((c) => c.redraw(false));
      drawFrame(f);
      shown = step;
      app.dataset.step = String(step);
      app.dataset.showMs = String(Math.round(performance.now() - t0));
    }
    function drawFrame(f) {
      const parts = [];
      if (f.a.neurons) parts.push(neuronsPanel(f));
      if (f.a.embed_pca) {
        parts.push(h('h2', {}, 'Embedding of the residues'), h('div', { class: 'row' },
          circlePlot(`two leading principal components (${(f.info.pca_variance || []).map((v) => (100 * v).toFixed(0) + '%').join(', ')} of the variance)`, f.a.embed_pca.v, p, 'embed-pca'),
          circlePlot(`plane of the key frequency k = ${f.info.key_frequency} (${(100 * f.info.key_frequency_share).toFixed(0)}% of W_E's Fourier norm)`, f.a.embed_key.v, p, 'embed-key')));
      }
      if (f.a.attention) parts.push(attentionPanel(f));
      if (f.a.predictions) parts.push(predictionsPanel(f));
      if (layout.params.length) parts.push(paramsPanel(f));
      frameEl.replaceChildren(...parts);
    }
    function neuronsPanel(f) {
      const [k, , ] = f.a.neurons.shape, idx = layout.neurons.indices, grid = h('div', { class: 'multiples', id: 'neurons' });
      for (let n = 0; n < k; ++n) {
        const off = n * p * p, v = f.a.neurons.v;
        const canvas = matrixCanvas(p, p, (a, b) => v[off + a * p + b], { scale: 130 / p, readout,
          label: (a, b, x) => `neuron ${idx[n]} · a = ${a}, b = ${b} · activation ${exact(x)}` });
        canvas.dataset.neuron = String(n);
        grid.append(h('div', { class: 'panel small' }, h('h3', {}, `#${idx[n]} · k = ${f.info.neuron_top_frequency[n] ?? 'none (dead)'} · ${(100 * f.info.neuron_top_share[n]).toFixed(0)}%`), canvas));
      }
      return h('div', {}, h('h2', {}, `Neuron activations over (a, b) (${layout.neurons.activation}; title: top frequency and its share of the map's Fourier power)`), grid);
    }
    function attentionPanel(f) {
      const [LH, A, B, K] = f.a.attention.shape, v = f.a.attention.v, grid = h('div', { class: 'multiples', id: 'attention' });
      const box = h('div', {});
      if (layout.kind === 'modular') {  // [LH, p, p, L]: the readout's attention to key position
        if (controls.key < 0) controls.key = 0;
        const names = K === 3 ? ['a', 'b', '='] : [...Array(K).keys()].map(String);
        const pick = h('select', { id: 'attention-key', onchange: () => { controls.key = +pick.value; drawFrame(f); } },
          names.map((nm, i) => h('option', { value: i, selected: i === controls.key }, 'to position ' + nm)));
        for (let hd = 0; hd < LH; ++hd) {
          const canvas = matrixCanvas(A, B, (a, b) => v[((hd * A + a) * B + b) * K + controls.key], { signed: false, scale: 200 / A, readout,
            label: (a, b, x) => `head ${hd} · a = ${a}, b = ${b} · attention of '=' to ${names[controls.key]}: ${exact(x)}` });
          canvas.dataset.head = String(hd);
          grid.append(h('div', { class: 'panel small' }, h('h3', {}, `layer ${Math.floor(hd / (layout.heads || LH))} head ${hd % (layout.heads || LH)}`), canvas));
        }
        box.append(h('h2', {}, 'Attention of the readout position over (a, b) '), pick, grid);
        return box;
      }
      // [LH, W, T, T]: each head's pattern on a held-out window, tokens on the axes
      const T = B, win = Math.min(controls.window, A - 1), tokens = layout.windows[win];
      const text = layout.window_text ? layout.window_text[win] : null;  // text runs: the tokens as text
      const token = (i) => text ? `'${text[i]}', token ${tokens[i]}` : `token ${tokens[i]}`;
      const pick = h('select', { id: 'attention-window', onchange: () => { controls.window = +pick.value; drawFrame(f); } },
        [...Array(A).keys()].map((w) => h('option', { value: w, selected: w === win }, 'window ' + w)));
      const scores = f.info.induction_score || [];
      const headName = (hd) => `layer ${Math.floor(hd / (layout.heads || LH))} head ${hd % (layout.heads || LH)}`;
      const pattern = (hd, scale) => matrixCanvas(T, T, (i, j) => v[((hd * A + win) * T + i) * T + j], { signed: false, scale, readout,
        label: (i, j, x) => `head ${hd} · query ${i} (${token(i)}) → key ${j} (${token(j)}) · ${exact(x)}` });
      const focus = Math.min(controls.head, LH - 1);
      for (let hd = 0; hd < LH; ++hd) {
        const canvas = pattern(hd, 260 / T);
        canvas.dataset.head = String(hd);
        canvas.title = 'click: this head large, tokens on the axes';
        canvas.addEventListener('click', () => { controls.head = hd; drawFrame(f); });
        grid.append(h('div', { class: 'panel small' + (hd === focus ? ' focused' : '') }, h('h3', {}, `${headName(hd)} · induction ${scores[hd] !== undefined ? scores[hd].toFixed(2) : '—'}`), canvas));
      }
      // The chosen head at a readable size, each query's and key's token beside its row and column.
      const cell = Math.max(10, Math.min(24, Math.floor(520 / T))), names = text || tokens.map(String);
      const large = pattern(focus, cell);
      large.id = 'attention-focus-canvas';
      const axis = (cls, style) => h('div', { class: cls }, names.map((nm) => h('span', { style }, nm)));
      const focused = h('div', { id: 'attention-focus', class: 'panel' }, h('h3', {}, `${headName(focus)} (head ${focus}) · window ${win}: rows are queries, columns keys`),
        h('div', { class: 'token-axes', style: `font-size:${Math.min(cell - 2, 12)}px` },
          h('div', {}), axis('token-cols', `width:${cell}px`), axis('token-rows', `height:${cell}px;line-height:${cell}px`), large));
      box.append(h('h2', {}, 'Attention patterns (rows: queries, columns: keys; title: attention on the token after the previous occurrence; click a head to see it large)'), pick,
        h('div', { class: 'tokens muted' }, text ? 'text: ' + text.join('') : 'tokens: ' + tokens.join(' ')), grid, focused);
      return box;
    }
    function predictionsPanel(f) {
      const [S, Y] = f.a.predictions.shape, el = h('div', { class: 'charts' });
      const xs = [...Array(Y).keys()];
      for (let s = 0; s < S; ++s) {
        lineChart(el, `example ${s}: predictions and targets by position`, [
          { label: 'prediction', x: xs, y: Array.from(f.a.predictions.v.slice(s * Y, (s + 1) * Y)) },
          { label: 'target', x: xs, y: layout.targets[s] }], { logx: false });
      }
      return h('div', {}, h('h2', {}, 'Predictions on fixed test examples'), el);
    }
    function paramsPanel(f) {
      const info = layout.params.find((q) => q.name === controls.param) || layout.params[0];
      const a = f.a['param.' + info.name], [R, C] = a.shape, v = a.v;
      const rowIdx = info.rows || [...Array(R).keys()], colIdx = info.cols || [...Array(C).keys()];
      // The residue axis (p or p + 1, p + 2 entries: '=' and op tokens follow): the other axis sorts.
      const residueRows = p && R >= p && R <= p + 2 && !info.rows, residueCols = p && C >= p && C <= p + 2 && !info.cols;
      let order = null, sortedAxis = '';
      if (controls.sort && (residueRows || residueCols)) {
        const n = residueRows ? C : R, key = [];
        for (let i = 0; i < n; ++i) {
          const x = [];
          for (let a2 = 0; a2 < p; ++a2) x.push(residueRows ? v[a2 * C + i] : v[i * C + a2]);
          key.push([dominantFrequency(x, p), i]);
        }
        order = key.sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[1]);
        sortedAxis = residueRows ? 'columns' : 'rows';
      }
      const rAt = (r) => (order && sortedAxis === 'rows' ? order[r] : r), cAt = (c) => (order && sortedAxis === 'columns' ? order[c] : c);
      const scale = Math.max(1, Math.min(4, 520 / Math.max(R, C)));
      const canvas = matrixCanvas(R, C, (r, c) => v[rAt(r) * C + cAt(c)], { scale, readout,
        label: (r, c, x) => `${info.name}[${rowIdx[rAt(r)]}, ${colIdx[cAt(c)]}] = ${exact(x)}` });
      canvas.id = 'param-canvas';
      const pick = h('select', { id: 'param', onchange: () => { controls.param = pick.value; drawFrame(f); } },
        layout.params.map((q) => h('option', { value: q.name, selected: q.name === info.name }, `${q.name} [${q.shape.join(', ')}]`)));
      const sort = h('input', { type: 'checkbox', id: 'param-sort', checked: controls.sort, onchange: () => { controls.sort = sort.checked; drawFrame(f); } });
      const note = info.rows || info.cols ? ` · ${R} x ${C} of ${info.shape.join(' x ')} kept (evenly spaced rows/columns)` : '';
      return h('div', {}, h('h2', {}, 'Parameters'), h('div', { class: 'toolbar' }, pick,
        residueRows || residueCols ? h('label', {}, sort, ' sort by dominant Fourier frequency') : null, h('span', { class: 'muted' }, note)),
        h('div', { class: 'panel' }, canvas));
    }
    // The neighbouring frames are fetched while the page is idle: the slider's next step is drawn
    // from memory.
    function prefetch(i) {
      for (const j of [i + 1, i - 1]) {
        if (j >= 0 && j < index.steps.length && !cache.has(index.steps[j])) frame(index.steps[j]).catch(() => {});
      }
    }
    slider.addEventListener('input', async () => { await show(+slider.value); prefetch(+slider.value); });
    await show(+slider.value);
    every(POLL_MS, async () => {  // a training run's new frames extend the slider
      if (REPORT) return;
      const now = await api('/api/inside', { dir });
      if (now.steps.length === index.steps.length) return;
      const atEnd = +slider.value === index.steps.length - 1;
      Object.assign(index, now);
      slider.max = index.steps.length - 1;
      if (atEnd) { slider.value = index.steps.length - 1; await show(+slider.value); }
    });
    return shown;
  }

  // --- routing ---------------------------------------------------------------------------------
  async function route() {
    cleanups.forEach((f) => f());
    cleanups = [];
    const hash = location.hash || (REPORT ? REPORT.start : '#/');
    app.removeAttribute('data-ready');
    const [, page, arg] = hash.match(/^#\/(\w*)\/?(.*)$/) || [null, '', ''];
    try {
      if (page === 'run') await runPage(decodeURIComponent(arg));
      else if (page === 'sweep') await sweepPage(decodeURIComponent(arg));
      else if (page === 'inside') await insidePage(decodeURIComponent(arg));
      else if (page === 'compare') await comparePage(arg.split(',').filter(Boolean).map(decodeURIComponent));
      else await runsPage();
      app.setAttribute('data-ready', hash);
    } catch (e) {
      app.replaceChildren(nav(), h('p', { class: 'error', id: 'error' }, e.message));
    }
  }
  window.addEventListener('hashchange', route);
  route();
})();
