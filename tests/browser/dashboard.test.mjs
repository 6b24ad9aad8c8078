// The iots-serve dashboard in headless Chromium (Debian's chromium, driven by playwright-core):
// the overview draws charts from stored data, a reading published afterwards appears live, an
// alert is acknowledged with a click, its model-written title stays text, a command reaches the
// simulated node and its answer shows, one to a node that never answers shows as timed out (the
// server runs with a short --command-timeout), and the page asks no host but the server. Every
// page is visited and read as a user would: no text like `[object`, `undefined` or `NaN`, no empty
// card, chart or value, no console error or warning. Saves screenshots. Run by
// tests/e2e/serve_browser.sh, which starts the broker and the pipeline.
//
// node dashboard.test.mjs URL BROKER_PORT SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, brokerPort, shotDir] = process.argv.slice(2);
if (!url || !brokerPort || !shotDir) {
  console.error('usage: node dashboard.test.mjs URL BROKER_PORT SCREENSHOT_DIR');
  process.exit(2);
}
const origin = new URL(url);
const failures = [];
const fail = (msg) => { failures.push(msg); console.error('FAIL: ' + msg); };
const step = (msg) => console.log('.. ' + msg);
const XSS = '<img src=x onerror=alert(1)>';

// page.waitForFunction evaluates a string inside the page, which the dashboard's CSP (no
// 'unsafe-eval') rightly refuses; page.evaluate goes through DevTools and is not affected.
async function waitFor(page, fn, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + String(fn).slice(0, 160));
    await new Promise((r) => setTimeout(r, 100));
  }
}

// What a user sees on the page now: no text a script made by mistake, no card, panel, chart or
// value that is empty, no chart without points.
async function inspect(page, name) {
  const found = await page.evaluate(() => {
    const visible = (e) => e.offsetParent !== null || e.getClientRects().length > 0;
    const problems = [];
    const text = document.querySelector('main').innerText;
    for (const bad of [/\[object/, /\bundefined\b/, /\bNaN\b/, /Invalid Date/, /\bnull\b/]) {
      const m = bad.exec(text);
      if (m) problems.push(`shows "${m[0]}" in "${text.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ')}"`);
    }
    const boxes = '.card, .card .v, .panel, .device, .device dd, .device dt, .chart, .chart h3, .alert, td';
    for (const e of document.querySelectorAll('main ' + boxes)) {
      if (!visible(e) || e.closest('[hidden]')) continue;
      if (!e.innerText.trim()) problems.push('an empty ' + e.tagName.toLowerCase() + '.' + e.className.split(' ').join('.'));
    }
    for (const c of document.querySelectorAll('main canvas')) {
      if (!visible(c) || c.closest('[hidden]')) continue;
      const chart = window.Chart && Chart.getChart(c);
      if (!chart || !chart.data.datasets[0].data.length) problems.push('a chart without points: ' + c.getAttribute('aria-label'));
    }
    return problems;
  });
  for (const f of found) fail(`${name} page: ${f}`);
  return found.length;
}

const profile = mkdtempSync(join(tmpdir(), 'iots-chromium-'));
// A fresh profile each run (playwright passes it to Chromium as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 0;
try {
  const page = await context.newPage();
  const foreign = [];
  const unversioned = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol === 'data:' || u.protocol === 'blob:') return;
    if (u.host !== origin.host) foreign.push(r.url());
    // Files are fetched by their content-hashed names (cached for good), Chart.js included, which
    // app.js loads after the first paint from the name the page gives it.
    if (/\.(js|css|svg)$/.test(u.pathname) && !/^\?v=[0-9a-f]{16}$/.test(u.search)) unversioned.push(r.url());
  });
  const consoleErrors = [];
  // app.js reports a page that failed to load with console.warn: a warning is a failure too.
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(m.type() + ': ' + m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('dialog', async (d) => { fail('a dialog opened (script ran from data?): ' + d.message()); await d.dismiss(); });

  // 0. What the first paint shows, before any script runs (scripts refused here): the overview
  // with the stored counts written in by the server, styled by the page's inline stylesheet,
  // which the CSP allows by its hash alone (a refused style leaves the header unstyled).
  step('page before scripts');
  const bare = await context.newPage();
  const bareCsp = [];
  bare.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) bareCsp.push(m.text()); });
  await bare.route(/\.js(\?|$)/, (r) => r.abort());
  await bare.goto(url, { waitUntil: 'load' });
  const first = await bare.evaluate(() => ({
    readings: document.querySelector('#c-readings').textContent,
    status: document.querySelector('#c-status').textContent,
    overview: !document.querySelector('#page-overview').hidden,
    header: getComputedStyle(document.querySelector('header.top')).display,
    chart: typeof window.Chart,
  }));
  if (!/^[0-9,]+$/.test(first.readings) || first.readings === '0') fail('page without scripts shows readings ' + first.readings);
  if (!/^status: (ok|idle|warning|critical)$/.test(first.status)) fail('page without scripts shows ' + first.status);
  if (!first.overview) fail('the overview is hidden until a script runs');
  if (first.header !== 'flex') fail('the inline stylesheet was not applied: header display ' + first.header);
  if (first.chart !== 'undefined') fail('Chart.js ran without being asked for');
  if (bareCsp.length) fail('CSP refused something on the page: ' + bareCsp.join(' | '));
  await bare.close();

  // 1. Overview with charts from stored data.
  step('overview');
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#ov-charts canvas', { timeout: 15000 });
  // The simulated node (iots-sim's one device); the attic has a single reading.
  await page.selectOption('#ov-device', 'esp32-livingroom');
  await waitFor(page, () => {
    const cs = [...document.querySelectorAll('#ov-charts canvas')].map((c) => Chart.getChart(c));
    return cs.length >= 6 && cs.every((c) => c && c.data.datasets[0].data.length > 0);
  }, 15000);
  const fcp = await page.evaluate(() => {
    const e = performance.getEntriesByName('first-contentful-paint')[0];
    return e ? Math.round(e.startTime) : null;
  });
  console.log(`first-contentful-paint ${fcp} ms`);
  const readings = await page.textContent('#c-readings');
  if (!/^[0-9,.\s]+$/.test(readings) || readings.trim() === '0') fail('readings count shows ' + readings);
  const device = await page.inputValue('#ov-device');
  if (!device) fail('no device selected');
  await waitFor(page, () => document.querySelectorAll('#ov-recent tr').length > 0, 10000);
  await inspect(page, 'overview');

  // 2. A reading published now appears live (SSE), in the table and on the chart.
  step('live reading for ' + device);
  await waitFor(page, () => document.querySelector('#live').classList.contains('on'), 10000);
  // The simulated node publishes this series too, every second; the live stream follows each series
  // by its newest timestamp, so this reading is stamped ahead of any the node sends meanwhile.
  const reading = JSON.stringify({ ts: new Date(Date.now() + 3000).toISOString(), device, sensor: 'temperature', value: 42.4242, seq: 987654321 });
  execFileSync('mosquitto_pub', ['-h', '127.0.0.1', '-p', brokerPort, '-q', '1',
    '-t', `iotshield/sensors/${device}/temperature`, '-m', reading]);
  await waitFor(page, () => [...document.querySelectorAll('#ov-recent td.num')].some((td) => td.textContent.startsWith('42.42')), 10000);
  await waitFor(page, () => {
    const box = document.querySelector('#ov-charts .chart[data-sensor="temperature"] canvas');
    const d = Chart.getChart(box).data.datasets[0].data;
    return d.some((p) => p.y === 42.4242);
  }, 10000);
  await page.screenshot({ path: join(shotDir, 'serve-dashboard.png'), fullPage: true });

  // 3. The alerts page: the model's title is text, acknowledge with a click.
  step('alerts');
  await page.click('nav a[data-page="alerts"]');
  const item = page.locator('#al-list li.alert[data-id="browser-xss"]');
  await item.waitFor({ timeout: 10000 });
  const title = await item.locator('.title').textContent();
  if (title !== XSS) fail('alert title shows as ' + JSON.stringify(title));
  if (await page.locator('#al-list img').count() !== 0) fail('markup from an alert became an element');
  const sev = await item.locator('.sev').textContent();
  if (sev !== 'CRITICAL') fail('severity not written out: ' + sev);
  if (await item.locator('.texts h4').count() !== 2) fail('AI and rules texts are not side by side');
  await item.locator('button.ack').click();
  await page.waitForSelector('#al-list li.alert[data-id="browser-xss"][data-status="acknowledged"]', { timeout: 10000 });
  const stored = await page.evaluate(async () => (await (await fetch('/api/alerts/list/?status=acknowledged')).json()).results.map((a) => a.id));
  if (!stored.includes('browser-xss')) fail('ack not stored: ' + stored);
  await inspect(page, 'alerts');
  await page.screenshot({ path: join(shotDir, 'serve-alerts.png'), fullPage: true });

  // 4. Devices page: the room name that is markup shows as text.
  step('devices');
  await page.click('nav a[data-page="devices"]');
  await page.waitForSelector('#dev-list .device[data-device="esp32-attic"]');
  const room = await page.textContent('#dev-list .device[data-device="esp32-attic"] .muted');
  if (!room.includes(XSS)) fail('room shows as ' + JSON.stringify(room));
  await inspect(page, 'devices');
  await page.screenshot({ path: join(shotDir, 'serve-devices.png'), fullPage: true });

  // 4b. A device's own page: a chart per sensor over the last day.
  step('device ' + device);
  await page.click(`#dev-list .device[data-device="${device}"] h2 a`);
  await waitFor(page, () => {
    const cs = [...document.querySelectorAll('#dd-charts canvas')].map((c) => Chart.getChart(c));
    return cs.length >= 6 && cs.every((c) => c && c.data.datasets[0].data.length > 0);
  }, 15000);
  await inspect(page, 'device');

  // 5. Control: the simulated node answers, the answer shows.
  step('control');
  await page.click('nav a[data-page="control"]');
  await page.waitForSelector(`#ct-form select[name=device] option[value="${device}"]`, { state: 'attached' });
  await page.selectOption('#ct-form select[name=device]', device);
  await page.selectOption('#ct-form select[name=actuator]', 'fan');
  await page.selectOption('#ct-form select[name=action]', 'on');
  await page.click('#ct-send');
  await waitFor(page, () => {
    const row = document.querySelector('#ct-list tr');
    return row && row.dataset.status === 'done' && row.querySelector('.status').textContent.includes('done') && /\d+ ms/.test(row.lastElementChild.textContent);
  }, 15000);
  console.log('command answered: ' + (await page.textContent('#ct-list tr')).replace(/\s+/g, ' '));
  // A node that never answers (the attic has no actuators): the command shows as timed out.
  await page.selectOption('#ct-form select[name=device]', 'esp32-attic');
  await page.click('#ct-send');
  await waitFor(page, () => {
    const row = document.querySelector('#ct-list tr');
    return row && row.dataset.status === 'timeout' && row.querySelector('.status').textContent.includes('timed out');
  }, 30000);
  console.log('command unanswered: ' + (await page.textContent('#ct-list tr')).replace(/\s+/g, ' '));
  await inspect(page, 'control');

  // 6. A phone-sized overview.
  step('phone');
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(url);
  await phone.waitForSelector('#ov-charts canvas');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) fail(`page is ${overflow} px wider than a phone screen`);
  await phone.screenshot({ path: join(shotDir, 'serve-phone.png'), fullPage: false });
  await phone.close();

  if (foreign.length) fail('requests to other hosts: ' + foreign.join(', '));
  if (unversioned.length) fail('files fetched without their version: ' + unversioned.join(', '));
  const relevant = consoleErrors.filter((e) => !/EventSource|ERR_INCOMPLETE_CHUNKED_ENCODING/.test(e));
  if (relevant.length) fail('console errors (CSP violations show here): ' + relevant.join(' | '));
} catch (e) {
  fail(String(e && e.stack ? e.stack : e));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (failures.length) code = 1;
else console.log('ok: dashboard in headless Chromium');
process.exit(code);
