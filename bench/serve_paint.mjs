// First contentful paint of the iots-serve overview in headless Chromium: the median of RUNS (11)
// cold loads, each in a fresh browser context (empty cache, no cookies, no storage) of one running
// browser, after one warm-up load that is not counted. Starting the browser itself is left out:
// its background work made single cold-start figures vary from 180 to 560 ms for the same page.
// Headless Chromium also builds its omnibox popup (a WebUI page with its own renderer, 100-400 ms of
// CPU) into every new window, which no user sees and which took a core from the page under test on
// a 2-core machine; the --disable-features below turn that off (unknown names are ignored).
// node bench/serve_paint.mjs URL           the overview (waits for its charts too)
// node bench/serve_paint.mjs --floor URL   any page, first paint only: the floor of headless
//                                          Chromium on this machine, for comparison
// Nothing here may be evaluated from a string inside the page: the dashboard's Content-Security-Policy
// has no 'unsafe-eval', so page.waitForFunction (which builds its predicate with new Function in the
// page, even when given a function) is refused. page.evaluate goes through DevTools and is not
// affected: the waits below are promises that a function passed to page.evaluate returns.
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '../tests/browser/package.json'));
const { chromium } = require('playwright-core');
const floor = process.argv[2] === '--floor';
const url = process.argv[floor ? 3 : 2];
const count = Number(process.env.RUNS || 11);
const runs = [];
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-features=WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,WebUIOmniboxPopup,PreloadTopChromeWebUI'],
});
for (let i = 0; i <= count; i++) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'load' });
  if (!floor) await page.waitForSelector('#ov-charts canvas');
  // The paint entry can be recorded after the load event on a page this small.
  await page.evaluate(() => new Promise((resolve) => {
    const end = performance.now() + 2000;
    const check = () => (performance.getEntriesByName('first-contentful-paint').length > 0 || performance.now() > end
      ? resolve() : setTimeout(check, 10));
    check();
  }));
  const m = await page.evaluate(() => {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    const nav = performance.getEntriesByType('navigation')[0];
    return { fcp: fcp ? fcp.startTime : NaN, load: nav.loadEventEnd };
  });
  if (!floor) {
    // The time the page first has every chart holding data, checked at each animation frame.
    m.charts = await page.evaluate(() => new Promise((resolve, reject) => {
      const end = performance.now() + 30000;
      const drawn = () => typeof Chart !== 'undefined' && [...document.querySelectorAll('#ov-charts canvas')].every((c) => {
        const chart = Chart.getChart(c);
        return chart && chart.data.datasets.length > 0 && chart.data.datasets[0].data.length > 0;
      });
      const check = () => {
        if (drawn()) resolve(performance.now());
        else if (performance.now() > end) reject(new Error('the overview charts got no data in 30 s'));
        else requestAnimationFrame(check);
      };
      check();
    }));
  }
  if (i > 0) runs.push(m); // the first load warms the browser up
  await context.close();
}
await browser.close();
const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
const all = runs.map((r) => r.fcp.toFixed(0)).join(' ');
if (floor)
  console.log(`floor (a static page), median of ${runs.length} cold loads: first contentful paint ${med('fcp').toFixed(0)} ms (runs: ${all})`);
else
  console.log(`overview, median of ${runs.length} cold loads: first contentful paint ${med('fcp').toFixed(0)} ms, load ${med('load').toFixed(0)} ms, charts drawn ${med('charts').toFixed(0)} ms (runs: ${all})`);
