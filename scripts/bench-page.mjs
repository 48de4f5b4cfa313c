// The page's own numbers, measured in headless Chromium on 127.0.0.1:
//   - time to interactive: navigation start → the console input exists and accepts a
//     line (the wasm fetched, compiled, the app mounted and the first render done);
//   - frame times with 8 servers under a write load: requestAnimationFrame deltas over a
//     10 s trace while the master takes N SETs/s (the Load tab) and 7 replicas follow it,
//     virtual time running at 1×.
//
//   BASE_URL=http://127.0.0.1:PORT/ node scripts/bench-page.mjs
//   (scripts/bench-page.sh builds the release page, serves it and runs this.)
//
// Environment: RATE (writes/s, default 1000), TRACE_S (default 10), RUNS (page loads for
// the time to interactive, default 5), OPEN (what the loads open, appended to BASE_URL:
// e.g. `?guide=full-sync-loop` or `#v1.…`, which the page plays through first; default the
// example), TTI_ONLY=1 (skip the frame trace).

import { chromium } from 'playwright-core';

const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) {
  console.error('BASE_URL is not set');
  process.exit(2);
}
const RATE = Number(process.env.RATE || 1000);
const TRACE_S = Number(process.env.TRACE_S || 10);
const RUNS = Number(process.env.RUNS || 5);
const OPEN = process.env.OPEN || '';
const TTI_ONLY = process.env.TTI_ONLY === '1';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

try {
  // ---- time to interactive, fresh context (no cache) each run
  const tti = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    await page.addInitScript(() => {
      // Written by the page itself the moment the console can take input.
      new MutationObserver((_, obs) => {
        const input = document.querySelector('.console-input');
        if (input && !input.disabled) {
          window.__interactiveAt = performance.now();
          obs.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(BASE_URL + OPEN, { waitUntil: 'load' });
    await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 30_000 });
    tti.push(await page.evaluate(() => window.__interactiveAt));
    await context.close();
  }
  tti.sort((a, b) => a - b);
  console.log(`time to interactive (ms, ${RUNS} cold loads${OPEN ? ` of ${OPEN.slice(0, 40)}` : ''}): median ${quantile(tti, 0.5).toFixed(0)}, min ${tti[0].toFixed(0)}, max ${tti[tti.length - 1].toFixed(0)}`);
  if (TTI_ONLY) {
    await browser.close();
    process.exit(0);
  }

  // ---- frame times: 8 servers, a write load
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(BASE_URL, { waitUntil: 'load' });
  await page.locator('.topo-node[data-port="6382"]').waitFor();
  for (let port = 6383; port <= 6387; port++) {
    await page.locator('.topo-add').click();
    await page.locator(`.topo-node[data-port="${port}"]`).click();
    await page.locator('.topo-replicaof-select').selectOption({ label: 'master (6380)' });
  }
  // Everyone synced: 8 links online (the first sync waits repl-diskless-sync-delay 5 s).
  await page.locator('.speed-select').selectOption('10000');
  await page.waitForFunction(
    () => [...document.querySelectorAll('.topo-edge')].filter((e) => e.dataset.state === 'online').length === 7,
    null, { timeout: 60_000 });
  await page.locator('.speed-select').selectOption('100');
  await page.locator('.topo-node[data-port="6380"]').click();
  await page.locator('.panel-tab[data-tab="load"]').click();
  await page.locator('.load-rate').fill(String(RATE));
  await page.locator('.load-start').click();
  // Let the load settle in before tracing.
  await page.waitForTimeout(2_000);
  const deltas = await page.evaluate((seconds) => new Promise((resolve) => {
    const out = [];
    let last = performance.now();
    const end = last + seconds * 1000;
    function frame(now) {
      out.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(frame); else resolve(out);
    }
    requestAnimationFrame((t) => { last = t; requestAnimationFrame(frame); });
  }), TRACE_S);
  const sent = await page.locator('.load-sent').innerText().catch(() => '?');
  const servers = await page.locator('.topo-node').count();
  const sorted = [...deltas].sort((a, b) => a - b);
  const over = deltas.filter((d) => d > 16.7).length;
  // rAF deltas jitter around the 16.7 ms vsync (16.6–16.8 for frames on time): a frame
  // that missed a vsync shows as ~33 ms or more.
  const missed = deltas.filter((d) => d > 25).length;
  console.log(`frames (${servers} servers, ${RATE} SET/s on the master, ${TRACE_S} s of rAF deltas): ${deltas.length} frames, ` +
    `median ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, ` +
    `max ${sorted[sorted.length - 1].toFixed(1)} ms, ${over} over 16.7 ms, ${missed} over 25 ms (missed a vsync); load: ${sent.replace(/\s+/g, ' ')}`);
  if (errors.length) console.log(`page errors: ${errors.join('; ')}`);
  await context.close();
} finally {
  await browser.close();
}
