// IoTShield dashboard. Every string that came from a device, a user or a model is put into the page
// with textContent (never innerHTML), so `<img src=x onerror=alert(1)>` shows as text. The
// Content-Security-Policy allows scripts from this server only; there is no inline script.
'use strict';

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // el('li', {class: 'x', dataset: {id: 1}}, 'text', child): text children become text nodes;
  // arrays of children, nested or not, are spread.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
  const COLORS = ['#2f6fde', '#0f9d8a', '#a35bd1', '#d9822b', '#5d7a1f', '#c23b6e'];
  const fmtNum = (v) => (v === null || v === undefined ? '–'
    : Math.abs(v) >= 1000 ? Math.round(v).toLocaleString() : (+v).toFixed(Number.isInteger(v) ? 0 : 2));
  const fmtCount = (v) => (v === null || v === undefined ? '–' : Number(v).toLocaleString());
  const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '–');
  const fmtClock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const tsOf = (x) => (typeof x === 'number' ? x : Date.parse(x));

  // ---- API with optional bearer token ----
  let token = ''; // from sessionStorage in start()
  class AuthError extends Error {}
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: 'application/json' }, options.headers || {});
    if (token) headers.Authorization = 'Bearer ' + token;
    // Every POST says JSON, body or not: iots-serve refuses one that does not (cross-site forms).
    if (options.body || options.method === 'POST') headers['Content-Type'] = 'application/json';
    const res = await fetch(path, Object.assign({}, options, { headers }));
    if (res.status === 401) { showLogin(); throw new AuthError('token required'); }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.error || ('HTTP ' + res.status));
    return body;
  }

  // ---- state ----
  const state = {
    devices: [],
    page: 'overview',
    ovDevice: '', // from localStorage in start()
    ovCharts: new Map(), // sensor -> chart for the overview device
    ddDevice: '',
    ddRange: 86400000,
    ddCharts: new Map(),
    alerts: new Map(), // id -> alert (overview list)
  };

  // ---- charts (Chart.js, linear time axis in epoch ms: no date adapter needed) ----
  // Chart.js is 200 KB of script: it is fetched only once a chart is about to be drawn, after the
  // first paint, since compiling it sooner takes a core from the page's first frame. index.html
  // names its versioned URL.
  const chartSrc = document.currentScript?.dataset.chart || '/vendor/chart.min.js';
  let chartLib = null;
  function chartJs() {
    if (!chartLib) {
      chartLib = new Promise((resolve, reject) => {
        if (window.Chart) { resolve(window.Chart); return; }
        const s = el('script', { src: chartSrc });
        s.onload = () => resolve(window.Chart);
        s.onerror = () => { chartLib = null; reject(new Error('could not load the chart library')); };
        document.head.append(s);
      });
    }
    return chartLib;
  }
  function makeChart(container, sensor, unit, color) {
    const now = el('span', { class: 'now' }, '');
    const canvas = el('canvas', { role: 'img', 'aria-label': sensor + ' chart' });
    const box = el('div', { class: 'chart', dataset: { sensor } },
      el('h3', {}, el('span', {}, sensor + (unit ? ' (' + unit + ')' : '')), now),
      el('div', { class: 'box' }, canvas));
    container.append(box);
    const chart = new Chart(canvas.getContext('2d'), {
      type: 'line',
      data: {
        datasets: [
          { label: sensor, data: [], borderColor: color, backgroundColor: color, borderWidth: 1.5,
            pointRadius: 0, tension: 0, parsing: false, normalized: true },
          { label: 'anomaly', data: [], type: 'scatter', borderColor: '#b91c1c', backgroundColor: '#b91c1c',
            pointRadius: 4, pointStyle: 'triangle', parsing: false },
        ],
      },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true,
        interaction: { mode: 'nearest', intersect: false },
        plugins: { legend: { display: false }, decimation: { enabled: false },
          tooltip: { callbacks: { title: (items) => (items.length ? fmtTime(items[0].parsed.x) : '') } } },
        scales: {
          x: { type: 'linear', ticks: { maxTicksLimit: 5, maxRotation: 0, callback: (v) => fmtClockShort(v) } },
          y: { ticks: { maxTicksLimit: 5 } },
        },
      },
    });
    chart.$now = now;
    return chart;
  }
  let tickSpan = 3600000;
  function fmtClockShort(v) {
    const d = new Date(v);
    return tickSpan > 2 * 86400000 ? d.toLocaleDateString([], { month: 'short', day: 'numeric' })
      : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  function setSeries(chart, series) {
    chart.data.datasets[0].data = series.points.map((p) => ({ x: p[0], y: p[1] }));
    chart.data.datasets[1].data = series.anomalies.filter((a) => a.value !== null).map((a) => ({ x: a.ts_ms, y: a.value }));
    const last = series.points[series.points.length - 1];
    chart.$now.textContent = last ? fmtNum(last[1]) : '–';
    chart.update('none');
  }
  function appendPoint(chart, ts, value, anomaly, keepMs) {
    const d = chart.data.datasets[0].data;
    d.push({ x: ts, y: value });
    while (d.length > 2 && d[0].x < ts - keepMs) d.shift();
    if (anomaly) chart.data.datasets[1].data.push({ x: ts, y: value });
    chart.$now.textContent = fmtNum(value);
    chart.update('none');
  }

  // ---- pages ----
  function route() {
    const h = location.hash.replace(/^#\/?/, '') || 'overview';
    const [page, arg] = h.split('/');
    state.page = page;
    $$('.page').forEach((p) => { p.hidden = true; });
    $$('#nav a').forEach((a) => a.classList.toggle('on', a.dataset.page === page || (page === 'device' && a.dataset.page === 'devices')));
    const show = (id) => { $('#page-' + id).hidden = false; };
    const run = {
      overview: () => { show('overview'); $('#ov-body').hidden = false; return loadOverview(); },
      devices: () => { show('devices'); return loadDevices(); },
      device: () => { show('device'); state.ddDevice = decodeURIComponent(arg || ''); return loadDevice(); },
      alerts: () => { show('alerts'); return loadAlerts(); },
      control: () => { show('control'); return loadControl(); },
    }[page] || (() => { location.hash = '#/overview'; });
    Promise.resolve(run()).catch(report);
  }
  function report(e) { if (!(e instanceof AuthError)) console.warn(e); }

  async function refreshDevices() {
    const r = await api('/api/devices/list/');
    state.devices = r.results;
    return state.devices;
  }
  function fillDeviceSelect(select, current, anyLabel) {
    const keep = current !== undefined ? current : select.value;
    select.replaceChildren();
    if (anyLabel) select.append(el('option', { value: '' }, anyLabel));
    for (const d of state.devices) select.append(el('option', { value: d.device }, d.device + (d.location ? ' · ' + d.location : '')));
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  // Overview
  async function loadSummary() {
    const s = await api('/api/stats/summary/');
    $('#c-devices').textContent = fmtCount(s.total_devices);
    $('#c-active').textContent = fmtCount(s.active_devices) + ' active';
    $('#c-readings').textContent = fmtCount(s.total_readings);
    $('#c-last').textContent = s.last_reading_ts ? 'last ' + fmtTime(tsOf(s.last_reading_ts)) : 'none yet';
    $('#c-alerts').textContent = fmtCount(s.total_alerts);
    const open = SEVERITIES.filter((k) => s.open_alerts_by_severity[k]).map((k) => s.open_alerts_by_severity[k] + ' ' + k);
    $('#c-open').textContent = open.length ? open.join(', ') + ' open' : 'none open';
    $('#c-anomalies').textContent = fmtCount(s.recent_anomalies);
    // iots-ingest --max-db-size deleted raw readings to stay within the disk budget.
    const trimmed = (s.counters || {}).budget_deleted_readings || 0;
    $('#c-status').textContent = 'status: ' + s.system_status +
      (trimmed > 0 ? ' · disk budget: ' + fmtCount(trimmed) + ' oldest readings deleted' : '');
  }
  let summaryTimer = null;
  function summarySoon() {
    if (summaryTimer || state.page !== 'overview') return;
    summaryTimer = setTimeout(() => { summaryTimer = null; loadSummary().catch(report); }, 1000);
  }

  async function loadOverview() {
    const [, devices] = await Promise.all([loadSummary(), refreshDevices()]);
    const sel = $('#ov-device');
    if (!state.ovDevice || !devices.some((d) => d.device === state.ovDevice)) state.ovDevice = devices.length ? devices[0].device : '';
    fillDeviceSelect(sel, state.ovDevice);
    await Promise.all([loadOverviewCharts(), loadRecent(), loadOverviewAlerts()]);
  }

  // The series are asked for while Chart.js loads; a call overtaken by a newer one draws nothing.
  function askSeries(dev, from, to, points) {
    return dev.sensors.map((s) => {
      const p = api('/api/readings?' + new URLSearchParams({ device: dev.device, sensor: s.sensor, from: from(s), to: to(s), points }));
      p.catch(() => {}); // reported where it is awaited
      return p;
    });
  }
  let ovCall = 0;
  async function loadOverviewCharts() {
    const call = ++ovCall;
    const dev = state.devices.find((d) => d.device === state.ovDevice);
    const end = (s) => (s.last_ts_ms || Date.now()) + 1;
    const series = dev ? askSeries(dev, (s) => end(s) - 3600000, end, 400) : [];
    if (dev) await chartJs();
    if (call !== ovCall) return;
    const box = $('#ov-charts');
    state.ovCharts.forEach((c) => c.destroy());
    state.ovCharts.clear();
    box.replaceChildren();
    if (!dev) { box.append(el('p', { class: 'empty' }, 'No devices yet: start iots-sim and iots-ingest.')); return; }
    tickSpan = 3600000;
    await Promise.all(dev.sensors.map(async (s, i) => {
      const chart = makeChart(box, s.sensor, s.unit, COLORS[i % COLORS.length]);
      state.ovCharts.set(s.sensor, chart);
      setSeries(chart, await series[i]);
    }));
  }

  const recentRow = (r) => el('tr', { dataset: { series: r.device + '/' + r.sensor } },
    el('td', {}, fmtClock(r.ts_ms)), el('td', {}, r.device), el('td', {}, r.sensor),
    el('td', { class: 'num' }, fmtNum(r.value) + (r.unit ? ' ' + r.unit : '')));
  async function loadRecent() {
    const r = await api('/api/sensors/recent/?limit=12');
    $('#ov-recent').replaceChildren(...r.results.map(recentRow));
  }

  function severityBadge(sev) {
    // Severity as text, not colour alone.
    return el('span', { class: 'sev sev-' + (SEVERITIES.includes(sev) ? sev : 'LOW') }, sev);
  }
  function textBlock(heading, title, description, suggestion) {
    return el('div', { class: 'text' }, el('h4', {}, heading),
      title ? el('p', { class: 'ttl' }, el('strong', {}, title)) : null,
      description ? el('p', {}, description) : null,
      suggestion ? el('p', { class: 'sug' }, 'What to do: ', suggestion) : null);
  }
  function alertItem(a, full) {
    const rulesDiffer = a.rules && a.source && a.source !== 'rules';
    const texts = rulesDiffer
      ? [textBlock('AI text (' + a.source + ')', a.title, a.description, a.suggestion),
        textBlock('Rules text', a.rules.title, a.rules.description, a.rules.suggestion)]
      : [textBlock(a.source && a.source !== 'rules' ? 'AI text (' + a.source + ')' : 'Rules text', null, a.description, a.suggestion)];
    const actions = el('div', { class: 'actions' });
    if (a.status === 'new') actions.append(el('button', { type: 'button', class: 'ack', on: { click: () => setStatus(a.id, 'ack') } }, 'Acknowledge'));
    if (a.status !== 'resolved' && full) actions.append(el('button', { type: 'button', class: 'resolve', on: { click: () => setStatus(a.id, 'resolve') } }, 'Resolve'));
    return el('li', { class: 'alert lvl-' + a.severity + (a.status !== 'new' ? ' done' : ''), dataset: { id: a.id, status: a.status } },
      el('header', {}, severityBadge(a.severity), el('span', { class: 'title' }, a.title),
        el('span', { class: 'status' }, a.status)),
      el('div', { class: 'meta' }, fmtTime(a.ts_ms), ' · ', a.device, a.sensor ? ' · ' + a.sensor : '',
        a.value !== null ? ' · value ' + fmtNum(a.value) : ''),
      el('div', { class: 'texts' }, texts), actions);
  }
  async function setStatus(id, what) {
    try {
      const a = await api('/api/alerts/' + encodeURIComponent(id) + '/' + what, { method: 'POST' });
      upsertAlert(a);
      summarySoon();
    } catch (e) { report(e); }
  }
  function upsertAlert(a) {
    for (const list of [$('#ov-alerts'), $('#al-list')]) {
      const full = list.id === 'al-list';
      const old = $$('li.alert', list).find((li) => li.dataset.id === a.id);
      if (old) old.replaceWith(alertItem(a, full));
      else if (list.id === 'ov-alerts' || alertMatchesFilter(a)) {
        list.prepend(alertItem(a, full));
        while (list.children.length > (full ? 200 : 8)) list.lastElementChild.remove();
      }
      $$('.empty', list).forEach((x) => x.remove());
    }
  }
  async function loadOverviewAlerts() {
    const [open, recent] = await Promise.all([api('/api/alerts/list/?status=new&limit=8'), api('/api/alerts/list/?limit=8')]);
    const seen = new Set();
    const items = [...open.results, ...recent.results].filter((a) => !seen.has(a.id) && seen.add(a.id)).slice(0, 8);
    const list = $('#ov-alerts');
    list.replaceChildren(...items.map((a) => alertItem(a, false)));
    if (!items.length) list.append(el('li', { class: 'empty' }, 'No alerts. All quiet.'));
  }

  // Devices
  async function loadDevices() {
    const devices = await refreshDevices();
    const box = $('#dev-list');
    box.replaceChildren();
    if (!devices.length) box.append(el('p', { class: 'empty' }, 'No devices yet.'));
    for (const d of devices) {
      box.append(el('section', { class: 'panel device', dataset: { device: d.device } },
        el('h2', {}, el('a', { href: '#/device/' + encodeURIComponent(d.device) }, d.device),
          el('span', { class: d.online ? 'online' : 'offline' }, d.online ? '● online' : '○ offline')),
        el('div', { class: 'muted' }, d.location ? 'Room: ' + d.location : 'Room unknown', ' · last seen ', fmtTime(d.last_seen_ms)),
        el('dl', {}, d.sensors.map((s) => [el('dt', {}, s.sensor),
          el('dd', {}, fmtNum(s.last_value) + (s.unit ? ' ' + s.unit : ''), s.anomalies ? ' · ' + s.anomalies + ' anomalies' : '')]))));
    }
  }

  // Device detail
  let ddCall = 0;
  async function loadDevice() {
    const call = ++ddCall;
    await refreshDevices();
    const dev = state.devices.find((d) => d.device === state.ddDevice);
    const anchor = dev ? Math.max(...dev.sensors.map((s) => s.last_ts_ms || 0), 0) || Date.now() : 0;
    const range = state.ddRange;
    const series = dev ? askSeries(dev, () => anchor + 1 - range, () => anchor + 1, 1000) : [];
    if (dev) await chartJs();
    if (call !== ddCall) return;
    $('#dd-title').textContent = dev ? dev.device + (dev.location ? ' · ' + dev.location : '') : 'Unknown device';
    $$('#page-device .seg button').forEach((b) => b.classList.toggle('on', Number(b.dataset.range) === state.ddRange));
    const box = $('#dd-charts');
    state.ddCharts.forEach((c) => c.destroy());
    state.ddCharts.clear();
    box.replaceChildren();
    if (!dev) return;
    tickSpan = range;
    $('#dd-note').textContent = 'up to ' + fmtTime(anchor) + ' · ▲ anomaly';
    await Promise.all(dev.sensors.map(async (s, i) => {
      const chart = makeChart(box, s.sensor, s.unit, COLORS[i % COLORS.length]);
      state.ddCharts.set(s.sensor, chart);
      setSeries(chart, await series[i]);
    }));
  }

  // Alerts
  function alertFilter() {
    const f = new FormData($('#al-filter'));
    return { severity: f.get('severity') || '', status: f.get('status') || '', device: f.get('device') || '', since: Number(f.get('since') || 0) };
  }
  function alertMatchesFilter(a) {
    const f = alertFilter();
    return (!f.severity || a.severity === f.severity) && (!f.status || a.status === f.status)
      && (!f.device || a.device === f.device) && (!f.since || a.ts_ms >= Date.now() - f.since);
  }
  async function loadAlerts() {
    if (!state.devices.length) await refreshDevices();
    fillDeviceSelect($('#al-filter select[name=device]'), undefined, 'any');
    const f = alertFilter();
    const q = new URLSearchParams({ limit: 200 });
    if (f.severity) q.set('severity', f.severity);
    if (f.status) q.set('status', f.status);
    if (f.device) q.set('device', f.device);
    if (f.since) q.set('from', Date.now() - f.since);
    const r = await api('/api/alerts/list/?' + q);
    const list = $('#al-list');
    list.replaceChildren(...r.results.map((a) => alertItem(a, true)));
    if (!r.results.length) list.append(el('li', { class: 'empty' }, 'No alerts match.'));
  }

  // Control
  const commandRow = (c) => el('tr', { dataset: { id: c.id, status: c.status } },
    el('td', {}, fmtTime(c.ts_ms)), el('td', {}, c.device), el('td', {}, c.actuator + ' → ' + c.action),
    el('td', { class: 'status' }, { done: '✓ done', failed: '✗ failed', timeout: '✗ no answer (timed out)' }[c.status] || '… sent'),
    el('td', { class: 'num' }, c.latency_ms !== null && c.latency_ms !== undefined ? c.latency_ms + ' ms' : '–'));
  function upsertCommand(c) {
    const body = $('#ct-list');
    const old = $$('tr', body).find((tr) => tr.dataset.id === c.id);
    // The POST's answer ("sent") can arrive after the device's answer came over the stream.
    if (old && c.status === 'sent' && old.dataset.status !== 'sent') return;
    if (old) old.replaceWith(commandRow(c)); else body.prepend(commandRow(c));
  }
  async function loadControl() {
    await refreshDevices();
    fillDeviceSelect($('#ct-form select[name=device]'));
    const r = await api('/api/control/list/?limit=20');
    $('#ct-list').replaceChildren(...r.results.map(commandRow));
  }
  $('#ct-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const msg = $('#ct-msg');
    msg.textContent = 'Sending…';
    try {
      const c = await api('/api/control/send/', { method: 'POST', body: JSON.stringify({ device: f.get('device'), actuator: f.get('actuator'), action: f.get('action') }) });
      upsertCommand(c);
      msg.textContent = 'Sent to ' + c.topic + '; waiting for the device to answer.';
    } catch (e) { msg.textContent = 'Not sent: ' + e.message; }
  });

  // ---- live stream ----
  let source = null;
  function connectStream() {
    if (source) source.close();
    source = new EventSource('/api/stream' + (token ? '?token=' + encodeURIComponent(token) : ''));
    const live = $('#live');
    source.onopen = () => { live.textContent = 'live'; live.className = 'live on'; };
    source.onerror = () => { live.textContent = 'reconnecting'; live.className = 'live off'; };
    source.addEventListener('reading', (ev) => onReading(JSON.parse(ev.data)));
    source.addEventListener('anomaly', () => summarySoon());
    source.addEventListener('alert', (ev) => { upsertAlert(JSON.parse(ev.data)); summarySoon(); });
    source.addEventListener('command', (ev) => upsertCommand(JSON.parse(ev.data)));
  }
  function onReading(r) {
    if (state.page === 'overview') {
      if (r.device === state.ovDevice) {
        const c = state.ovCharts.get(r.sensor);
        if (c) appendPoint(c, r.ts_ms, r.value, r.anomaly, 3600000);
        else if (!state.ovCharts.size || ![...state.ovCharts.keys()].includes(r.sensor)) refreshSoon();
      }
      const body = $('#ov-recent');
      body.prepend(recentRow(r));
      while (body.children.length > 12) body.lastElementChild.remove();
      if (!state.devices.some((d) => d.device === r.device)) refreshSoon();
      summarySoon();
    } else if (state.page === 'device' && r.device === state.ddDevice) {
      const c = state.ddCharts.get(r.sensor);
      if (c) appendPoint(c, r.ts_ms, r.value, r.anomaly, state.ddRange);
    }
  }
  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; if (state.page === 'overview') loadOverview().catch(report); }, 1500);
  }

  // ---- login when the server has --tokens ----
  function showLogin() {
    $$('.page').forEach((p) => { p.hidden = true; });
    $('#page-login').hidden = false;
    if (source) { source.close(); source = null; }
  }
  $('#login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    token = new FormData(ev.target).get('token').trim();
    try {
      await api('/api/health');
      sessionStorage.setItem('iots-token', token);
      $('#login-msg').textContent = '';
      connectStream();
      route();
    } catch (e) { $('#login-msg').textContent = 'That token was not accepted.'; }
  });

  // ---- wiring ----
  $('#ov-device').addEventListener('change', (ev) => {
    state.ovDevice = ev.target.value;
    localStorage.setItem('iots-device', state.ovDevice);
    loadOverviewCharts().catch(report);
  });
  $$('#page-device .seg button').forEach((b) => b.addEventListener('click', () => {
    state.ddRange = Number(b.dataset.range);
    loadDevice().catch(report);
  }));
  $('#al-filter').addEventListener('change', () => loadAlerts().catch(report));
  window.addEventListener('hashchange', route);

  // Pages without charts still load Chart.js once the page has settled, so it is ready for the
  // first chart.
  window.addEventListener('load', () => setTimeout(() => chartJs().catch(report), 500));

  async function start() {
    token = sessionStorage.getItem('iots-token') || '';
    state.ovDevice = localStorage.getItem('iots-device') || '';
    try {
      await api('/api/health');
    } catch (e) { if (e instanceof AuthError) return; }
    connectStream();
    route();
  }
  // The page arrives showing the overview's counts, so nothing (storage, the network, routing)
  // runs before its first frame: the app starts once that frame is painted. The timer covers a
  // page opened in a background tab, which paints no frames.
  let started = false;
  const startOnce = () => { if (!started) { started = true; start(); } };
  requestAnimationFrame(() => setTimeout(startOnce, 0));
  setTimeout(startOnce, 250);
})();
