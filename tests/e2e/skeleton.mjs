// End-to-end: the built page (dist/) in headless Chromium, used as a visitor would use it.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/skeleton.mjs
//
// Serve dist/ first, e.g. `python3 -m http.server --bind 127.0.0.1 PORT --directory dist`.
// Screenshots go to test-output/screenshots/. The last line is `N passed, M failed`; the
// exit status is non-zero on any failure.

import { join } from 'node:path';

import { BASE_URL, SHOTS, check, step, run } from './harness.mjs';

// Virtual time runs at 1× by default; the first full sync needs ~6 s of it.
const SYNC_TIMEOUT_MS = 20_000;

const node = (page, port) => page.locator(`.topo-node[data-port="${port}"]`);
const edge = (page, replicaPort) => page.locator(`.topo-edge[data-link="6380 → ${replicaPort}"]`);

await run(async (context) => {
  const page = context.pages()[0] ?? await context.newPage();
  // A broken page fails each step within seconds instead of playwright's 30 s default.
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));

  await step('page loads', async () => {
    const res = await page.goto(BASE_URL, { waitUntil: 'load' });
    return res && res.ok() ? true : `HTTP ${res && res.status()}`;
  });

  await step('three servers are drawn', async () => {
    await page.locator('.topo-node').nth(2).waitFor({ timeout: 10_000 });
    const n = await page.locator('.topo-node').count();
    return n === 3 || `${n} servers drawn`;
  });

  await step('the page is not blank', async () => {
    const body = (await page.locator('body').innerText()).trim();
    if (body.length < 100) return `body text is ${JSON.stringify(body)}`;
    for (const port of ['6380', '6381', '6382']) {
      if ((await node(page, port).count()) !== 1) return `no server drawn for ${port}`;
    }
    return (await page.locator('.hint').innerText()).includes('SET k v') || 'hint missing';
  });

  await step('replica links show progress while the first sync is pending', async () => {
    const words = await page.locator('.topo-edge').evaluateAll(
      (els) => els.map((e) => e.getAttribute('data-state')));
    return (words.length === 2 && words.every((w) => ['connecting', 'handshake', 'syncing', 'online'].includes(w)))
      || `link words ${JSON.stringify(words)}`;
  });

  await step('screenshot while syncing', async () => {
    await page.screenshot({ path: join(SHOTS, 'skeleton-syncing-1280x720.png') });
  });

  await step('both replicas come online', async () => {
    for (const port of ['6381', '6382']) {
      await edge(page, port).and(page.locator('[data-state="online"]')).waitFor({ timeout: SYNC_TIMEOUT_MS });
    }
  });

  await step('SET k v in the master console is answered OK', async () => {
    await page.locator('.console-server').selectOption({ label: 'master (6380)' });
    const input = page.locator('.console-input');
    await input.click();
    await input.pressSequentially('SET k v');
    await input.press('Enter');
    await page.locator('.transcript .entry:last-child .out', { hasText: /^OK$/ }).waitFor({ timeout: 5_000 });
    const value = await input.inputValue();
    return value === '' || `input still holds ${JSON.stringify(value)}`;
  });

  await step('both replicas hold k (their Keys tabs)', async () => {
    for (const port of ['6381', '6382']) {
      await node(page, port).click();
      await page.locator('.panel-tab[data-tab="keys"]').click();
      await page.locator('.keys.browser td.key', { hasText: '"k"' }).waitFor({ timeout: 5_000 });
    }
    await node(page, '6380').click();
  });

  await step('screenshot 1280x720', async () => {
    await page.screenshot({ path: join(SHOTS, 'skeleton-1280x720.png') });
  });

  await step('stepping events back removes k from the master, forward brings it back', async () => {
    const masterKey = page.locator('.keys.browser td.key', { hasText: '"k"' });
    await masterKey.waitFor({ timeout: 5_000 });
    for (let i = 0; i < 400 && (await masterKey.count()) > 0; i++) {
      await page.locator('button.step-back').click();
    }
    if ((await masterKey.count()) > 0) return 'k still shown after 400 steps back';
    const state = (await page.locator('.run-state').innerText()).trim();
    if (state !== 'paused') return `clock reads ${state} after stepping`;
    for (let i = 0; i < 400 && (await masterKey.count()) === 0; i++) {
      await page.locator('button.step-event').click();
    }
    return (await masterKey.count()) > 0 || 'k never came back stepping forward';
  });

  await step('screenshot 1280x720, dark scheme', async () => {
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(SHOTS, 'skeleton-dark-1280x720.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  await step('panels stack at 390x844 and nothing overflows sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    await page.screenshot({ path: join(SHOTS, 'skeleton-390x844.png') });
    // Event rows far below the viewport are skipped by content-visibility: auto, and a
    // full-page capture would show the list empty: draw them all for this picture.
    await page.addStyleTag({ content: '.event-row { content-visibility: visible; }' });
    await page.screenshot({ path: join(SHOTS, 'skeleton-390x844-full.png'), fullPage: true });
    const boxes = await page.locator('.topology, .server-panel, .inspect').evaluateAll(
      (els) => els.map((e) => e.getBoundingClientRect().toJSON()));
    if (boxes.length !== 3) return `${boxes.length} panels`;
    const stacked = boxes.every((b) => b.left >= 0 && b.right <= 390);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    if (!stacked) return `panels wider than the screen: ${JSON.stringify(boxes.map((b) => [b.left, b.right]))}`;
    return scrollWidth <= 390 || `page is ${scrollWidth}px wide`;
  });

  await step('no page errors', async () => problems.length === 0 || problems.join('; '));
});
