// End-to-end: an accessibility audit of the built page with axe-core (its default rule
// set: WCAG 2.x A/AA and best practices), in headless Chromium at 1280x720 and 390x844:
//   1. the first screen;
//   2. a guided scenario opened and stepped a few times, then with a replica selected
//      (the drawing's menus for it open, and its sync path);
//   3. the example documentation page (docs.html) with its embeds, all loaded.
// Any violation fails, printed with its rule, impact, the elements' selectors (a frame's
// selector first for an element inside an embed) and the rule's help page.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/a11y.mjs
//
// Screenshots go to test-output/screenshots/. The last line is `N passed, M failed`; the
// exit status is non-zero on any failure.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { BASE_URL, SHOTS, check, step, run } from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const VIEWPORTS = [{ width: 1280, height: 720 }, { width: 390, height: 844 }];
const GUIDE = 'failover-psync2';
const GUIDE_STEPS = 3;

/// An element's selector: inside a frame, the frame's selector first.
const selector = (node) => node.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' → ');

/// Runs axe on the page as one document with its frames (axe is injected into every frame
/// and the page gathers their results, so page-wide rules see the embeds as part of the
/// page: several embeds of the playground must name their landmarks apart, which they do
/// after their scenario), and returns what fails as printable lines. No rule is exempt.
async function audit(page) {
  for (const frame of page.frames()) await frame.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { iframes: true, resultTypes: ['violations'] }));
  const found = [];
  for (const v of result.violations) {
    const nodes = v.nodes;
    found.push(`${v.id} (${v.impact}, ${nodes.length} element${nodes.length === 1 ? '' : 's'}): ${v.help}\n` +
      `        ${nodes.map(selector).join('\n        ')}\n        ${v.helpUrl}`);
  }
  return found;
}

async function expectClean(page, name, shot) {
  await step(`${name}: no axe violations`, async () => {
    const found = await audit(page);
    await page.screenshot({ path: join(SHOTS, `a11y-${shot}.png`), fullPage: true });
    return found.length === 0 || `${found.length} rule${found.length === 1 ? '' : 's'} violated:\n      ${found.join('\n      ')}`;
  });
}

const problems = [];
await run(async (context) => {
  for (const viewport of VIEWPORTS) {
    const size = `${viewport.width}x${viewport.height}`;
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });

    // ---- 1. the first screen: three servers drawn, the console ready
    await step(`first screen loads (${size})`, async () => {
      await page.goto(BASE_URL, { waitUntil: 'load' });
      await page.locator('.topo-node[data-port="6382"]').waitFor();
      await page.locator('.console-input').waitFor();
    });
    await expectClean(page, `first screen (${size})`, `first-screen-${size}`);

    // ---- 2. a guided scenario, a few steps in
    await step(`guided scenario ${GUIDE} opens and steps ${GUIDE_STEPS} times (${size})`, async () => {
      await page.goto(`${BASE_URL}?guide=${GUIDE}`, { waitUntil: 'load' });
      await page.locator('.narration').waitFor();
      for (let i = 0; i < GUIDE_STEPS; i++) await page.locator('button.narration-next').click();
      const position = (await page.locator('.narration-position').textContent()).trim();
      return position.startsWith(`step ${GUIDE_STEPS + 1} of`) || position;
    });
    await expectClean(page, `guided scenario (${size})`, `guided-${size}`);
    await step(`a replica selected: its menus and its sync path open (${size})`, async () => {
      await page.locator('.topo-node[data-role="replica"]').first().click();
      await page.locator('.topo-actions').waitFor();
      await page.locator('#inspect-tab-sync-path').click();
      await page.locator('.sync-path').waitFor();
    });
    await expectClean(page, `guided scenario, a replica selected (${size})`, `guided-replica-${size}`);

    // ---- 3. docs.html and its embeds, every one loaded (they load lazily, on scroll)
    await step(`docs.html loads its embeds (${size})`, async () => {
      await page.goto(`${BASE_URL}docs.html`, { waitUntil: 'load' });
      const frames = page.locator('iframe');
      const n = await frames.count();
      for (let i = 0; i < n; i++) {
        await frames.nth(i).scrollIntoViewIfNeeded();
        await page.frameLocator('iframe').nth(i).locator('.topo-node').first().waitFor();
      }
      await page.locator('#load-demo:enabled').click();
      await page.locator('#heard li').first().waitFor();
      return n >= 4 || `${n} iframes`;
    });
    await expectClean(page, `docs.html with its embeds (${size})`, `docs-${size}`);
    await page.close();
  }
  check('no page errors', problems.length === 0, problems.join('; '));
});
