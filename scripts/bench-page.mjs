// The page's own numbers, measured in headless Chromium:
//   - time to interactive: cold loads (a new browser context each, the cache disabled)
//     over an emulated network of 10 Mbit/s down and up with a 40 ms round trip
//     (`Network.emulateNetworkConditions`) on a CPU slowed 4x (`Emulation.setCPUThrottlingRate`),
//     from navigation start until the first server is drawn in the topology and the
//     console's input is enabled; after each load a line is typed into the console to
//     check it takes input. Beside the median, where the time went: the HTML received,
//     the wasm downloaded, the module compiled and instantiated, and started (trunk's
//     `TrunkApplicationStarted`; the app mounts and draws its first frame inside start);
//   - frame times with 8 servers under a write load: requestAnimationFrame deltas over a
//     10 s trace while the master takes N SETs/s (the Load tab) and 7 replicas follow it,
//     virtual time running at 1x.
//
//   DIST=dist node scripts/bench-page.mjs                 # serves dist/ itself, compressed
//   BASE_URL=http://127.0.0.1:PORT/ node scripts/bench-page.mjs   # a server of your own
//
// With DIST, the release build's folder is served on a free 127.0.0.1 port as a static
// host would: each file compressed once (Brotli quality 11 when the browser asks for it,
// else gzip -9; ENCODING=gzip for gzip always), so the emulated network carries the bytes
// a visitor downloads. Python's http.server (what scripts/test.sh uses) sends every file
// uncompressed: the wasm alone is then 2.4 times as many bytes.
//
// Environment: RATE (writes/s, default 1000), TRACE_S (default 10), RUNS (page loads for
// the time to interactive, default 5), OPEN (what the loads open, appended to BASE_URL:
// e.g. `?guide=full-sync-loop` or `#v1.…`, which the page plays through first; default the
// example), TTI_ONLY=1 (skip the frame trace), THROTTLE=0 (loads on the bare loopback and
// CPU, as measured before the throttled figure).

import { createServer } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname, resolve } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

import { chromium } from 'playwright-core';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.svg': 'image/svg+xml', '.json': 'application/json' };

/// Serves `dir` on 127.0.0.1, every file compressed before the first load (so no load
/// waits for a compressor); resolves to its address. ENCODING=gzip sends gzip even to a
/// browser that asks for Brotli.
function serveCompressed(dir) {
  const cache = new Map();
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (!statSync(file).isFile()) continue;
    const raw = readFileSync(file);
    cache.set(`br ${file}`, brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    cache.set(`gzip ${file}`, gzipSync(raw, { level: 9 }));
  }
  const server = createServer((req, res) => {
    // Only the files read above are served, whatever the path asks for.
    let path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = join(dir, path);
    const brotli = process.env.ENCODING !== 'gzip' && /\bbr\b/.test(req.headers['accept-encoding'] || '');
    const encoding = brotli ? 'br' : 'gzip';
    const body = cache.get(`${encoding} ${file}`);
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
      'Content-Encoding': encoding, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(body);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => {
    server.unref();
    done(`http://127.0.0.1:${server.address().port}/`);
  }));
}

const BASE_URL = process.env.DIST ? await serveCompressed(resolve(process.env.DIST)) : process.env.BASE_URL;
if (!BASE_URL) {
  console.error('set DIST (a release build folder to serve, e.g. dist) or BASE_URL');
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

const THROTTLE = process.env.THROTTLE !== '0';
const NETWORK = { offline: false, latency: 40, downloadThroughput: 10e6 / 8, uploadThroughput: 10e6 / 8 };
const CPU_SLOWDOWN = 4;

/// One cold load: milliseconds from navigation start to each milestone.
async function coldLoad() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  try {
    const page = await context.newPage();
    if (THROTTLE) {
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.emulateNetworkConditions', NETWORK);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    }
    await page.addInitScript(() => {
      // wasm-bindgen compiles and instantiates the module with instantiateStreaming, as it
      // arrives; the app then mounts and draws inside the module's start.
      const instantiate = WebAssembly.instantiateStreaming;
      WebAssembly.instantiateStreaming = async (...args) => {
        const done = await instantiate.apply(WebAssembly, args);
        window.__instantiatedAt = performance.now();
        return done;
      };
      addEventListener('TrunkApplicationStarted', () => { window.__startedAt = performance.now(); });
      // Written by the page itself the moment a server is drawn and the console can take input.
      new MutationObserver((_, obs) => {
        const input = document.querySelector('.console-input');
        if (input && !input.disabled && document.querySelector('.topo-node')) {
          window.__interactiveAt = performance.now();
          obs.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(BASE_URL + OPEN, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__interactiveAt !== undefined, null, { timeout: 60_000, polling: 50 });
    const input = page.locator('.console-input');
    await input.fill('PING');
    if ((await input.inputValue()) !== 'PING') throw new Error('the console did not take the typed line');
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const wasm = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.wasm'));
      return {
        wasmBytes: Math.max(...wasm.map((r) => r.transferSize)),
        html: nav.responseEnd,
        wasm: Math.max(...wasm.map((r) => r.responseEnd)),
        instantiated: window.__instantiatedAt,
        started: window.__startedAt,
        interactive: window.__interactiveAt,
      };
    });
  } finally {
    await context.close();
  }
}

try {
  // ---- time to interactive, a fresh context (no cache) each run
  const loads = [];
  for (let i = 0; i < RUNS; i++) loads.push(await coldLoad());
  const median = (key) => quantile(loads.map((l) => l[key]).sort((a, b) => a - b), 0.5);
  const tti = loads.map((l) => l.interactive).sort((a, b) => a - b);
  const how = THROTTLE ? `10 Mbit/s, 40 ms RTT, CPU ${CPU_SLOWDOWN}x slower` : 'loopback, CPU unthrottled';
  console.log(`time to interactive (ms, ${RUNS} cold loads${OPEN ? ` of ${OPEN.slice(0, 40)}` : ''}, ${how}): ` +
    `median ${median('interactive').toFixed(0)}, min ${tti[0].toFixed(0)}, max ${tti[tti.length - 1].toFixed(0)}` +
    ` (${tti.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`  medians: HTML received ${median('html').toFixed(0)}, wasm downloaded ${median('wasm').toFixed(0)}, ` +
    `compiled and instantiated ${median('instantiated').toFixed(0)}, started (mounted, first drawn) ${median('started').toFixed(0)}, ` +
    `first server drawn and console ready ${median('interactive').toFixed(0)}; the wasm came as ${loads[0].wasmBytes} B over the wire`);
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
