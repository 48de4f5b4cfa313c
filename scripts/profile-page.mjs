// Where a frame's time goes, in the scene of scripts/bench-page.mjs (8 servers, a write
// load on the master): after the load settled, PROF_S seconds (default 5) of one of
//   NOPROF=1  Performance.getMetrics deltas (task, script, layout, style durations);
//   TRACE=1   a devtools.timeline trace, main-thread events summed by name (Paint, Layout…);
//             with LONG=ms, the tasks longer than that instead, each with its biggest events;
//   (default) a CPU profile via CDP (Profiler.start/stop), self and inclusive time by function.
// TAB=sync-path|stream opens another inspect tab; STYLE='css' injects a rule and
// HIDE='selector' hides parts of the page, to try a change before making it.
//
// Function names need a page built without wasm-opt and with the names section kept:
// copy index.html with data-wasm-opt="0" data-keep-debug="true" on the rust link, then
//   trunk build that.html --release --dist /tmp/prof-dist
//   BASE_URL=http://127.0.0.1:PORT/ node scripts/profile-page.mjs
import { chromium } from 'playwright-core';
const BASE_URL = process.env.BASE_URL;
const RATE = Number(process.env.RATE || 1000);
const PROF_S = Number(process.env.PROF_S || 5);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  const page = await context.newPage();
  await page.goto(BASE_URL, { waitUntil: 'load' });
  await page.locator('.topo-node[data-port="6382"]').waitFor();
  for (let port = 6383; port <= 6387; port++) {
    await page.locator('.topo-add').click();
    await page.locator(`.topo-node[data-port="${port}"]`).click();
    await page.locator('.topo-replicaof-select').selectOption({ label: 'master (6380)' });
  }
  await page.locator('.speed-select').selectOption('10000');
  await page.waitForFunction(() => [...document.querySelectorAll('.topo-edge')].filter((e) => e.dataset.state === 'online').length === 7, null, { timeout: 60_000 });
  await page.locator('.speed-select').selectOption('100');
  await page.locator('.topo-node[data-port="6380"]').click();
  if (process.env.TAB) await page.locator(`.inspect-tab[data-tab="${process.env.TAB}"]`).click();
  await page.locator('.panel-tab[data-tab="load"]').click();
  await page.locator('.load-rate').fill(String(RATE));
  await page.locator('.load-start').click();
  if (process.env.STYLE) await page.addStyleTag({ content: process.env.STYLE });
  if (process.env.HIDE) await page.addStyleTag({ content: `${process.env.HIDE} { display: none !important; }` });
  await page.waitForTimeout(2_000);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const m0 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  if (process.env.TRACE) {
    await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'benchmark'] });
    await page.waitForTimeout(PROF_S * 1000);
    const buf = await browser.stopTracing();
    const ev = JSON.parse(buf.toString()).traceEvents;
    const main = new Set(ev.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`));
    const agg = new Map();
    const open = new Map();
    for (const e of ev) {
      const key = `${e.pid}:${e.tid}`;
      if (!main.has(key)) continue;
      if (e.ph === 'X') agg.set(e.name, [(agg.get(e.name)?.[0] || 0) + (e.dur || 0), (agg.get(e.name)?.[1] || 0) + 1]);
      else if (e.ph === 'B') open.set(key + e.name, e.ts);
      else if (e.ph === 'E' && open.has(key + e.name)) { const d = e.ts - open.get(key + e.name); agg.set(e.name, [(agg.get(e.name)?.[0] || 0) + d, (agg.get(e.name)?.[1] || 0) + 1]); }
    }
    if (process.env.LONG) {
      // The main thread's long tasks, each with the biggest events inside it.
      const xs = ev.filter((e) => main.has(`${e.pid}:${e.tid}`) && e.ph === 'X' && e.dur);
      const long = xs.filter((e) => e.name === 'RunTask' && e.dur > Number(process.env.LONG) * 1000);
      for (const t of long) {
        const inside = xs.filter((e) => e !== t && e.ts >= t.ts && e.ts + e.dur <= t.ts + t.dur).sort((a, b) => b.dur - a.dur);
        const seen = new Set();
        const top = inside.filter((e) => !seen.has(e.name) && seen.add(e.name)).slice(0, 10);
        console.log(`task at ${((t.ts - xs[0].ts) / 1000).toFixed(0)} ms: ${(t.dur / 1000).toFixed(1)} ms: ${top.map((e) => `${e.name} ${(e.dur / 1000).toFixed(1)}`).join(', ')}`);
      }
      process.exit(0);
    }
    const paints = new Map();
    for (const e of ev) if (main.has(`${e.pid}:${e.tid}`) && e.name === 'Paint' && e.ph === 'X') { const d = e.args?.data || {}; const k = `node ${d.nodeId} layer ${d.layerId} clip ${JSON.stringify(d.clip)}`; paints.set(k, [(paints.get(k)?.[0] || 0) + e.dur, (paints.get(k)?.[1] || 0) + 1]); }
    console.log([...paints].sort((a, b) => b[1][0] - a[1][0]).slice(0, 8).map(([n, [d, c]]) => `${(d / 1000).toFixed(0)} ms ${c}x ${n}`).join('\n'));
    console.log([...agg].sort((a, b) => b[1][0] - a[1][0]).slice(0, 40).map(([n, [d, c]]) => `${(d / 1000).toFixed(0).padStart(7)} ms ${String(c).padStart(6)}x  ${n}`).join('\n'));
    process.exit(0);
  }
  if (process.env.NOPROF) { await page.waitForTimeout(PROF_S * 1000); const m1 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])); for (const k of ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'LayoutCount', 'Nodes']) console.log(k, (m1[k] - (k === 'Nodes' ? 0 : m0[k])).toFixed(3)); process.exit(0); }
  await cdp.send('Profiler.start');
  await page.waitForTimeout(PROF_S * 1000);
  const { profile } = await cdp.send('Profiler.stop');
  const m1 = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  for (const k of ['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'LayoutCount', 'RecalcStyleCount', 'Nodes', 'JSHeapUsedSize']) console.log(k, (m1[k] - (k === 'Nodes' || k === 'JSHeapUsedSize' ? 0 : m0[k])).toFixed(3));
  // self time per function, and inclusive time per function
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) || 0) + 1);
  const total = profile.samples.length;
  const self = new Map(), incl = new Map();
  const name = (n) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url ? n.callFrame.url.split('/').pop().slice(0, 20) : ''}`;
  for (const [id, c] of counts) {
    const n = byId.get(id);
    self.set(name(n), (self.get(name(n)) || 0) + c);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const nm = name(byId.get(cur));
      if (seen.has(nm)) continue;
      seen.add(nm);
      incl.set(nm, (incl.get(nm) || 0) + c);
    }
  }
  const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([n, c]) => `${(100 * c / total).toFixed(1).padStart(5)}%  ${n}`).join('\n');
  console.log(`samples ${total}\n--- self\n${top(self, Number(process.env.TOP || 40))}\n--- inclusive\n${top(incl, Number(process.env.TOP || 60))}`);
  await context.close();
} finally { await browser.close(); }
