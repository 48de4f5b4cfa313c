// End-to-end: every guided scenario in the built page, narrated to the end.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/guided.mjs
//
// For each file in src/scenario/guided/ (the same files the page fetches): open
// ?guide=<id>, check the title and the first step, press "Next" through every step and
// check the text and the step counter each time, then go to the end of the run and
// check each server's INFO replication against its checks' `info` (`<id>.checks.json`:
// the values tests/scenario/guided.rs proves natively). Then the same scenario is shared and reopened from
// its link, which must show the same INFO. Screenshots of a few go to
// test-output/screenshots/.

import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BASE_URL, SHOTS, check, step, run } from './harness.mjs';

const GUIDED = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'scenario', 'guided');
// `<id>.json` is a guide; `<id>.checks.json` holds what its run must show.
const ids = readdirSync(GUIDED).filter((f) => f.endsWith('.json') && !f.endsWith('.checks.json')).map((f) => f.replace(/\.json$/, '')).sort();
const SHOT_IDS = new Set(['first-sync', 'failover-psync2', 'full-sync-loop']);

/// INFO replication of `server` (by name), read from the server panel's Info tab.
async function infoOf(page, server) {
  const select = page.locator('select.console-server');
  const value = await select.locator('option', { hasText: `${server} (` }).first().getAttribute('value');
  await select.selectOption(value);
  await page.locator('.panel-tab[data-tab="info"]').click();
  return (await page.locator('.info-text').innerText()).split('\n').map((l) => l.trim());
}

async function checkFinalInfo(page, id, scenario, how) {
  const problems = [];
  for (const e of scenario.expect?.info ?? []) {
    const lines = await infoOf(page, e.server);
    const want = `${e.field}:${e.equals}`;
    if (!lines.includes(want)) {
      const got = lines.find((l) => l.startsWith(`${e.field}:`)) ?? '<absent>';
      problems.push(`${e.server} ${want}, page shows ${got}`);
    }
  }
  check(`${id}: final INFO as expected (${how})`, problems.length === 0, problems.join('; '));
}

/// The Sync path tab of the full sync with writes during BGSAVE: at its fourth step the
/// child still runs and 115 stream bytes wait for the replica; at its last the window is
/// closed and the replica online. Shot at desktop and phone sizes.
async function bgsaveWindow(page) {
  const id = 'writes-during-full-sync';
  const windowAt = async (n) => {
    await page.locator('details.narration-all').evaluate((d) => { d.open = true; });
    await page.locator('.narration-step').nth(n - 1).click();
    await page.locator('#inspect-tab-sync-path').click();
    const w = page.locator('.sync-window');
    await w.waitFor({ timeout: 5_000 });
    return { state: await w.getAttribute('data-state'), buffered: await w.getAttribute('data-buffered'), text: (await w.innerText()).trim() };
  };
  await step(`${id}: the Sync path tab shows the BGSAVE window while it runs`, async () => {
    const w = await windowAt(4);
    await page.locator('.sync-window').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, `guided-${id}-window.png`) });
    return (w.state === 'wait_bgsave' && w.buffered === '115' && w.text.includes('running') && w.text.includes('115 bytes')) || JSON.stringify(w);
  });
  await step(`${id}: the window closes and the replica goes online`, async () => {
    const w = await windowAt(7);
    return (w.state === 'online' && w.buffered === '115' && w.text.includes('00:01.0 → 00:03.1')) || JSON.stringify(w);
  });
  await step(`${id}: the window at phone size`, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await windowAt(4);
    await page.locator('.sync-window').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, `guided-${id}-window-phone.png`) });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.locator('.narration-step').nth(6).click();
    await page.locator('details.narration-all').evaluate((d) => { d.open = false; });
    return w.buffered === '115' || JSON.stringify(w);
  });
}

await run(async (context) => {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  check('there are at least 10 guided scenarios', ids.length >= 10, `${ids.length}`);

  for (const id of ids) {
    const scenario = JSON.parse(readFileSync(join(GUIDED, `${id}.json`), 'utf8'));
    const checks = JSON.parse(readFileSync(join(GUIDED, `${id}.checks.json`), 'utf8'));
    scenario.expect = { ...scenario.expect, ...checks };
    check(`${id}: its checks name INFO fields`, (checks.info ?? []).length > 0);
    const steps = scenario.narration;
    await step(`${id}: opens on its title and first step`, async () => {
      await page.goto(`${BASE_URL}?guide=${id}`);
      await page.locator('.narration').waitFor({ timeout: 15_000 });
      const title = (await page.locator('.narration-title').innerText()).trim();
      if (title !== scenario.title) return `title ${JSON.stringify(title)}`;
      const text = (await page.locator('.narration-text').innerText()).trim();
      if (text !== steps[0].text.trim()) return `first step shows ${JSON.stringify(text.slice(0, 80))}`;
      const state = (await page.locator('.run-state').innerText()).trim();
      return state === 'paused' || `opens ${state}`;
    });
    await step(`${id}: narrates all ${steps.length} steps with Next`, async () => {
      for (let i = 1; i < steps.length; i++) {
        await page.locator('button.narration-next').click();
        const position = (await page.locator('.narration-position').textContent()).trim();
        if (position !== `step ${i + 1} of ${steps.length}`) return `after ${i} presses: ${position}`;
        const text = (await page.locator('.narration-text').innerText()).trim();
        if (text !== steps[i].text.trim()) return `step ${i + 1} shows ${JSON.stringify(text.slice(0, 80))}`;
      }
      return (await page.locator('button.narration-next').isDisabled()) || 'Next still enabled at the last step';
    });
    if (SHOT_IDS.has(id)) await page.screenshot({ path: join(SHOTS, `guided-${id}.png`) });
    if (id === 'writes-during-full-sync') await bgsaveWindow(page);
    await page.locator('button.latest').click({ timeout: 2_000 }).catch(() => {});
    await checkFinalInfo(page, id, scenario, 'narrated');

    // Shared at the end and reopened from the link: the same run.
    await step(`${id}: its share link reopens the same run`, async () => {
      await page.locator('button.share-open').click();
      const url = await page.locator('input.share-link').inputValue();
      const link = url.slice(url.indexOf('#') + 1);
      if (!link.startsWith('v1.')) return `link ${url.slice(0, 60)}`;
      if (link.length > 2_000 + 200) return `link is ${link.length} characters`;
      await page.goto('about:blank');
      await page.goto(`${BASE_URL}#${link}`);
      await page.locator('.narration').waitFor({ timeout: 15_000 });
      const notice = await page.locator('.page-notice').count();
      return notice === 0 || (await page.locator('.page-notice').innerText());
    });
    await checkFinalInfo(page, id, scenario, 'reopened from its link');
  }

  await step('a damaged link opens the example with a message', async () => {
    await page.goto(`${BASE_URL}#v1.AAAA-corrupt`);
    await page.locator('.page-notice').waitFor({ timeout: 15_000 });
    const text = await page.locator('.page-notice').innerText();
    await page.screenshot({ path: join(SHOTS, 'guided-bad-link.png') });
    const drawn = await page.locator('.topo-node').count();
    return (text.includes('could not be opened') && drawn === 3) || `${drawn} servers, notice: ${text}`;
  });
  // The page fetches a guide's file (guided/<id>.json) when it opens one: a slow file shows
  // the run opening; a missing one leaves the example with one sentence saying why.
  await step('a guide shows as opening while its file is on its way', async () => {
    await page.route('**/guided/*.json', async (route) => {
      await new Promise((r) => setTimeout(r, 1_500));
      await route.continue();
    });
    await page.goto(`${BASE_URL}?guide=first-sync`);
    const opening = (await page.locator('.opening-text').innerText({ timeout: 1_000 })).trim();
    await page.screenshot({ path: join(SHOTS, 'guided-fetching.png') });
    await page.locator('.narration').waitFor({ timeout: 15_000 });
    await page.unroute('**/guided/*.json');
    return opening === 'Opening the guided scenario \u201cFirst sync: a replica attaches\u201d… 0 % (fetching its file)' || opening;
  });
  await step('a guide whose file does not come leaves the example with a message', async () => {
    await page.route('**/guided/*.json', (route) => route.fulfill({ status: 404, body: '' }));
    await page.goto(`${BASE_URL}?guide=first-sync`);
    await page.locator('.page-notice').waitFor({ timeout: 15_000 });
    const text = (await page.locator('.page-notice p').innerText()).trim();
    await page.screenshot({ path: join(SHOTS, 'guided-file-missing.png') });
    await page.unroute('**/guided/*.json');
    const drawn = await page.locator('.topo-node').count();
    const opening = await page.locator('.opening').count();
    const want = 'The guided scenario \u201cFirst sync: a replica attaches\u201d could not be fetched: the server answered 404.';
    return (text === want && drawn === 3 && opening === 0) || `${drawn} servers, ${opening} opening, notice: ${text}`;
  });
  check('no uncaught page errors', errors.length === 0, errors.join(' | '));
});
