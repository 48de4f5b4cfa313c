// End-to-end: the playground's replication flows in the built page (dist/), in headless
// Chromium, clicked and typed like a user would, then the same flow by keyboard alone.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/playground.mjs
//
// Virtual time is paused first and moved with the page's own "Step +1 s" button (or
// Shift+→), so every run sees the same cluster whatever the machine's speed.
// Screenshots go to test-output/screenshots/ (git-ignored). The last line is
// `N passed, M failed`; the exit status is non-zero on any failure.

import { join } from 'node:path';

import { BASE_URL, SHOTS, check, step, run } from './harness.mjs';

const node = (page, port) => page.locator(`.topo-node[data-port="${port}"]`);
const edge = (page, from, to) => page.locator(`.topo-edge[data-link="${from} → ${to}"]`);
const edgeState = (page, from, to) => edge(page, from, to).getAttribute('data-state');

async function pause(page) {
  if ((await page.locator('.run-state').innerText()).trim() !== 'paused') {
    await page.locator('button.pause').click();
  }
}

/// Virtual seconds, one press of "Step +1 s" each.
async function seconds(page, n) {
  for (let i = 0; i < n; i++) await page.locator('button.step').click();
}

/// Steps a second at a time until the link from → to reads `state` (at most `max` s).
async function stepUntilEdge(page, from, to, state, max = 15) {
  for (let i = 0; i <= max; i++) {
    if ((await edge(page, from, to).count()) > 0 && (await edgeState(page, from, to)) === state) return true;
    await seconds(page, 1);
  }
  return `link ${from} → ${to} is ${await edgeState(page, from, to)} after ${max} s`;
}

/// Types a line into the console of the server on `port` (selecting it in the drawing).
async function command(page, port, line) {
  await node(page, port).click();
  await page.locator('.panel-tab[data-tab="console"]').click();
  const input = page.locator('.console-input');
  await input.fill(line);
  await input.press('Enter');
  const last = page.locator('.transcript .entry:last-child .out');
  await last.waitFor({ timeout: 5_000 });
  return (await last.innerText()).trim();
}

async function syncWhy(page, replicaPort) {
  await node(page, replicaPort).click();
  await page.locator('#inspect-tab-sync-path').click();
  const why = page.locator('.sync-path .why');
  await why.waitFor({ timeout: 5_000 });
  return { verdict: await why.getAttribute('data-verdict'), text: await why.innerText() };
}

/// The panels a user reads, as text: the drawing, the inspector, the server panel.
async function panelsText(page) {
  return page.evaluate(() => ['.topology svg', '.inspect', '.server-panel', '.clock-value']
    .map((s) => document.querySelector(s)?.innerText ?? document.querySelector(s)?.textContent ?? '').join('\n---\n'));
}

/// Keyboard only: presses Tab until the focused element matches `selector`.
async function tabTo(page, selector, max = 400) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function open(context, problems, viewport) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  const res = await page.goto(BASE_URL, { waitUntil: 'load' });
  if (!res || !res.ok()) throw new Error(`HTTP ${res && res.status()}`);
  await node(page, 6382).waitFor({ timeout: 10_000 });
  return page;
}

const problems = [];
await run(async (context) => {
  const page = await open(context, problems, { width: 1280, height: 720 });
  await pause(page);

  // ---- 1. attach a replica and see a full sync
  await step('the first two replicas come online', async () => {
    const a = await stepUntilEdge(page, 6380, 6381, 'online');
    if (a !== true) return a;
    return stepUntilEdge(page, 6380, 6382, 'online');
  });

  await step('a server added from the drawing is made a replica by its REPLICAOF menu', async () => {
    await page.locator('.topo-add').click();
    await node(page, 6383).waitFor();
    await node(page, 6383).click();
    await page.locator('.topo-replicaof-select').selectOption({ label: 'master (6380)' });
    const transcript = await page.locator('.transcript').innerText();
    return transcript.includes('127.0.0.1:6383> REPLICAOF 127.0.0.1 6380') || `transcript: ${transcript}`;
  });

  await step('the new replica syncs fully: its link goes online', async () => stepUntilEdge(page, 6380, 6383, 'online'));

  await step('its sync path shows +FULLRESYNC and why', async () => {
    const why = await syncWhy(page, 6383);
    if (why.verdict !== '+FULLRESYNC') return `verdict ${why.verdict}`;
    const steps = await page.locator('.sync-steps').innerText();
    return (steps.includes('+FULLRESYNC') && steps.includes('RDB')) || `steps: ${steps}`;
  });

  await step('screenshot: full sync, 1280x720', async () => {
    await page.screenshot({ path: join(SHOTS, 'playground-full-sync-1280x720.png') });
  });

  // ---- 2. cut the link, write, heal: +CONTINUE
  await step('cutting 6380⇄6381 from the link menu takes the link down', async () => {
    await node(page, 6381).click();
    await page.locator('.topo-link .topo-peer').selectOption({ label: 'master (6380)' });
    await page.locator('.topo-cut').click();
    await seconds(page, 1);
    const state = await edgeState(page, 6380, 6381);
    const cut = await edge(page, 6380, 6381).getAttribute('data-cut');
    return (cut === 'true' && ['down', 'connecting'].includes(state)) || `state ${state}, cut ${cut}`;
  });

  await step('writes on the master while the link is cut', async () => {
    const a = await command(page, 6380, 'SET during-cut 1');
    const b = await command(page, 6380, 'INCR during-cut');
    return (a === 'OK' && b === '(integer) 2') || `${a} / ${b}`;
  });

  await step('healing brings the link back with a partial resync: +CONTINUE', async () => {
    await node(page, 6381).click();
    await page.locator('.topo-link .topo-peer').selectOption({ label: 'master (6380)' });
    await page.locator('.topo-heal').click();
    const up = await stepUntilEdge(page, 6380, 6381, 'online');
    if (up !== true) return up;
    const why = await syncWhy(page, 6381);
    return why.verdict === '+CONTINUE' || `verdict ${why.verdict}: ${why.text}`;
  });

  await step('the replica has the writes made during the cut', async () => {
    const reply = await command(page, 6381, 'GET during-cut');
    return reply === '"2"' || reply;
  });

  await step('screenshot: +CONTINUE, 1280x720', async () => {
    await syncWhy(page, 6381);
    await page.screenshot({ path: join(SHOTS, 'playground-continue-1280x720.png') });
  });

  // ---- 3. overflow a small backlog: full resync, and why
  await step('the Config tab sets repl-backlog-size 16kb on the master', async () => {
    await node(page, 6380).click();
    await page.locator('.panel-tab[data-tab="config"]').click();
    const field = page.locator('.config-field[data-option="repl-backlog-size"]');
    await field.locator('.config-input').fill('16384');
    await field.locator('.config-apply').click();
    await page.locator('.panel-tab[data-tab="info"]').click();
    const info = await page.locator('.info-text').innerText();
    return info.includes('repl_backlog_size:16384') || 'INFO does not show repl_backlog_size:16384';
  });

  await step('while 6381 is cut off, 40 kB of writes overflow the backlog', async () => {
    await node(page, 6381).click();
    await page.locator('.topo-link .topo-peer').selectOption({ label: 'master (6380)' });
    await page.locator('.topo-cut').click();
    await seconds(page, 1);
    for (let i = 0; i < 4; i++) {
      const r = await command(page, 6380, `SET big:${i} ${'x'.repeat(10_000)}`);
      if (r !== 'OK') return r;
    }
    await page.locator('#inspect-tab-backlog').click();
    const first = Number(await page.locator('.backlog [data-field="first"]').innerText());
    return first > 1000 || `repl_backlog_first_byte_offset is still ${first}`;
  });

  await step('after the heal the replica needs a full resync, and the why says the backlog no longer holds its offset', async () => {
    await node(page, 6381).click();
    await page.locator('.topo-link .topo-peer').selectOption({ label: 'master (6380)' });
    await page.locator('.topo-heal').click();
    const up = await stepUntilEdge(page, 6380, 6381, 'online');
    if (up !== true) return up;
    const why = await syncWhy(page, 6381);
    if (why.verdict !== '+FULLRESYNC') return `verdict ${why.verdict}`;
    return /backlog/i.test(why.text) && why.text.includes('✖') || `why: ${why.text}`;
  });

  await step('screenshot: backlog overflow, 1280x720', async () => {
    await page.screenshot({ path: join(SHOTS, 'playground-backlog-overflow-1280x720.png') });
  });

  // ---- 4. step back and forth: identical panels
  await step('stepping 40 events back and 40 forward shows identical panels', async () => {
    const before = await panelsText(page);
    for (let i = 0; i < 40; i++) await page.locator('button.step-back').click();
    const back = await panelsText(page);
    if (back === before) return 'stepping back changed nothing';
    for (let i = 0; i < 40; i++) await page.locator('button.step-event').click();
    const after = await panelsText(page);
    if (after === before) return true;
    const a = before.split('\n');
    const b = after.split('\n');
    const at = a.findIndex((l, i) => l !== b[i]);
    return `first difference at line ${at}: ${JSON.stringify(a[at])} vs ${JSON.stringify(b[at])}`;
  });

  // ---- 4b. the event log follows the newest event under a write load, until scrolled
  // Read in an animation frame, after the list's own scroll to the end for the last redraw.
  const logState = () => page.evaluate(async () => {
    await new Promise((r) => requestAnimationFrame(r));
    const list = document.querySelector('.event-list');
    const rows = [...list.querySelectorAll('.event-row')];
    const last = rows.length ? Number(rows[rows.length - 1].dataset.event) : -1;
    const total = Number((document.querySelector('.ev-count').textContent.match(/\d+/) || [])[0]);
    const atBottom = list.scrollTop + list.clientHeight + 12 >= list.scrollHeight;
    const top = rows.find((r) => r.offsetTop >= list.scrollTop);
    return { following: !document.querySelector('.ev-follow'), last, total, atBottom, scrollTop: list.scrollTop, topEvent: top ? Number(top.dataset.event) : -1 };
  });
  await step('under a 1000 writes/s load at 1x the event log keeps following the newest event', async () => {
    await node(page, 6380).click();
    await page.locator('.panel-tab[data-tab="load"]').click();
    await page.locator('.load-rate').fill('1000');
    await page.locator('.load-start').click();
    await page.locator('button.pause').click(); // plays: the button toggles
    // Sampled in every animation frame for 3 s: a scroll event the list caused itself
    // must never read as the user scrolling up (it once stopped the following within
    // seconds under this load).
    const lost = await page.evaluate(async () => {
      let frames = 0; let unfollowed = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 3000) {
        await new Promise((r) => requestAnimationFrame(r));
        frames++;
        if (document.querySelector('.ev-follow')) unfollowed++;
      }
      return { frames, unfollowed };
    });
    if (lost.unfollowed > 0) return `stopped following in ${lost.unfollowed} of ${lost.frames} frames`;
    await pause(page); // no tick between the list's scroll and the reading
    const s = await logState();
    return (s.following && s.atBottom && s.last === s.total - 1) || JSON.stringify(s);
  });
  await step('scrolling the log up stops the following; "Newest" follows again', async () => {
    await page.locator('button.pause').click(); // plays again
    await page.locator('.event-list').evaluate((el) => { el.scrollTop = Math.max(0, el.scrollTop - 600); });
    await page.locator('.ev-follow').waitFor({ timeout: 5_000 });
    const up = await logState();
    await page.waitForTimeout(500);
    const later = await logState();
    // New events arrive below; the rows in view stay where the user put them.
    if (later.following || later.scrollTop !== up.scrollTop || later.topEvent !== up.topEvent) return `the scrolled list moved: ${JSON.stringify([up, later])}`;
    await page.locator('.ev-follow').click();
    await page.waitForTimeout(500);
    await pause(page);
    const back = await logState();
    await page.locator('.load-stop').click();
    return (back.following && back.atBottom && back.last === back.total - 1 && back.last > later.last) || JSON.stringify(back);
  });

  await step('screenshot: narrow 390x844', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'playground-390x844.png') });
    // Event rows far below the viewport are skipped by content-visibility: auto, and a
    // full-page capture would show the list empty: draw them all for this picture.
    await page.addStyleTag({ content: '.event-row { content-visibility: visible; }' });
    await page.screenshot({ path: join(SHOTS, 'playground-390x844-full.png'), fullPage: true });
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    return scrollWidth <= 390 || `page is ${scrollWidth}px wide`;
  });
  await page.close();

  // ---- 5. the same flow by keyboard alone
  const kb = await open(context, problems, { width: 1280, height: 720 });
  await step('keyboard: Space pauses', async () => {
    await kb.locator('body').press('Space');
    const state = (await kb.locator('.run-state').innerText()).trim();
    return state === 'paused' || `clock is ${state}`;
  });

  await step('keyboard: Tab reaches "Add server", Enter adds 6383', async () => {
    await tabTo(kb, '.topo-add');
    await kb.keyboard.press('Enter');
    await node(kb, 6383).waitFor();
  });

  await step('keyboard: 4 selects it, / opens its console, REPLICAOF typed, Shift+→ runs time', async () => {
    await kb.keyboard.press('4');
    await kb.keyboard.press('/');
    const focused = await kb.evaluate(() => document.activeElement?.classList.contains('console-input'));
    if (!focused) return '/ did not focus the console';
    const prompt = (await kb.locator('.prompt').innerText()).trim();
    if (prompt !== '127.0.0.1:6383>') return `prompt ${prompt}`;
    await kb.keyboard.type('REPLICAOF 127.0.0.1 6380');
    await kb.keyboard.press('Enter');
    // Tab on an empty line leaves the console (there is nothing to complete).
    await kb.keyboard.press('Tab');
    for (let i = 0; i < 15 && (await edgeState(kb, 6380, 6383)) !== 'online'; i++) {
      await kb.keyboard.press('Shift+ArrowRight');
    }
    return (await edgeState(kb, 6380, 6383)) === 'online' || `link is ${await edgeState(kb, 6380, 6383)}`;
  });

  await step('keyboard: the Sync path tab, reached by Tab, shows +FULLRESYNC', async () => {
    // The tablist is one Tab stop (its selected tab); arrow keys move along it, as
    // ARIA's tabs pattern has it.
    await tabTo(kb, '.inspect-tab');
    for (let i = 0; i < 3 && !(await kb.evaluate(() => document.activeElement?.id === 'inspect-tab-sync-path')); i++) {
      await kb.keyboard.press('ArrowRight');
    }
    await kb.keyboard.press('Enter');
    const verdict = await kb.locator('.sync-path .why').getAttribute('data-verdict');
    return verdict === '+FULLRESYNC' || `verdict ${verdict}`;
  });

  await step('keyboard: cut 6380⇄6383, write on the master, heal: +CONTINUE', async () => {
    await kb.keyboard.press('4');
    await tabTo(kb, '.topo-link .topo-peer');
    // The peer menu lists the other servers; the master is the first.
    const peer = await kb.locator('.topo-link .topo-peer option:checked').innerText();
    if (!peer.startsWith('master')) return `peer menu shows ${peer}`;
    await tabTo(kb, '.topo-cut');
    await kb.keyboard.press('Enter');
    await kb.keyboard.press('Shift+ArrowRight');
    const cut = await edge(kb, 6380, 6383).getAttribute('data-cut');
    if (cut !== 'true') return `cut is ${cut}`;
    await kb.evaluate(() => document.activeElement?.blur());
    await kb.keyboard.press('1');
    await kb.keyboard.press('/');
    await kb.keyboard.type('SET typed-by-keyboard yes');
    await kb.keyboard.press('Enter');
    await kb.keyboard.press('Tab');
    await kb.keyboard.press('4');
    await tabTo(kb, '.topo-heal');
    await kb.keyboard.press('Enter');
    for (let i = 0; i < 15 && (await edgeState(kb, 6380, 6383)) !== 'online'; i++) {
      await kb.keyboard.press('Shift+ArrowRight');
    }
    const verdict = await kb.locator('.sync-path .why').getAttribute('data-verdict');
    return verdict === '+CONTINUE' || `verdict ${verdict}`;
  });

  await step('keyboard: ? opens the shortcuts help, Esc closes it', async () => {
    await kb.keyboard.press('?');
    const dialog = kb.locator('[role="dialog"]');
    await dialog.waitFor({ timeout: 2_000 });
    await kb.screenshot({ path: join(SHOTS, 'playground-help-1280x720.png') });
    await kb.keyboard.press('Escape');
    return (await dialog.count()) === 0 || 'help still open after Esc';
  });

  await step('screenshot: keyboard flow, dark scheme', async () => {
    await kb.emulateMedia({ colorScheme: 'dark' });
    await kb.screenshot({ path: join(SHOTS, 'playground-keyboard-dark-1280x720.png') });
  });

  await step('no page errors', async () => problems.length === 0 || problems.join('; '));
});
