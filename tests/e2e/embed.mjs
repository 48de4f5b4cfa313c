// End-to-end: the example documentation page (dist/docs.html) with its live embeds, in
// headless Chromium: the embedded scenarios render, the page drives one through the
// postMessage API and hears its events, and messages from anywhere else are ignored.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/embed.mjs
//
// BASE_URL must name 127.0.0.1: the wrong-origin checks load the embed from
// localhost (the same server, another origin). Screenshots go to
// test-output/screenshots/. The last line is `N passed, M failed`; the exit status is
// non-zero on any failure.

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { BASE_URL, SHOTS, check, step, run } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const guided = (id) => JSON.parse(readFileSync(join(ROOT, 'src', 'scenario', 'guided', `${id}.json`), 'utf8'));
const DEMO = JSON.parse(readFileSync(join(ROOT, 'www', 'docs-demo.json'), 'utf8'));
const base = new URL(BASE_URL);
if (base.hostname !== '127.0.0.1') {
  console.error(`BASE_URL must be on 127.0.0.1 (it is ${base.hostname})`);
  process.exit(2);
}
const HOST_ORIGIN = base.origin;
const OTHER_ORIGIN = `http://localhost:${base.port}`;

// The three scenarios the page embeds, in order, and what each must show.
const EMBEDDED = [
  { id: 'first-sync', readOnly: false },
  { id: 'brief-cut-partial-resync', readOnly: true },
  { id: 'failover-psync2', readOnly: false },
];

/// Waits until `fn` (run in the page) returns a truthy value, or says what it was.
async function until(page, what, fn, arg, timeout = 10_000) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 50 });
    return true;
  } catch {
    return `${what}: not after ${timeout} ms`;
  }
}

const problems = [];
await run(async (context) => {
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
  const res = await page.goto(`${BASE_URL}docs.html`, { waitUntil: 'load' });
  check('docs.html is served from dist/', res && res.ok(), `HTTP ${res && res.status()}`);

  const frames = page.locator('iframe');
  await step('the page embeds at least three live scenarios and one to drive', async () => {
    const n = await frames.count();
    return n >= 4 || `${n} iframes`;
  });

  // ---- 1. each embedded scenario renders for real: servers drawn, its story told
  for (const [i, { id, readOnly }] of EMBEDDED.entries()) {
    const scenario = guided(id);
    const frame = page.frameLocator('iframe').nth(i);
    await step(`embed ${i + 1} (${id}) draws its ${scenario.servers.length} servers and its narration`, async () => {
      // The page lazy-loads its embeds: a reader scrolls to them.
      await frames.nth(i).scrollIntoViewIfNeeded();
      await frame.locator('.topo-node').nth(scenario.servers.length - 1).waitFor();
      const nodes = await frame.locator('.topo-node').count();
      if (nodes !== scenario.servers.length) return `${nodes} servers drawn`;
      const title = (await frame.locator('.embed-title').innerText()).trim();
      if (title !== scenario.title) return `title ${JSON.stringify(title)}`;
      const story = await frame.locator('.narration-text').innerText();
      return scenario.narration.some((n) => n.text === story.trim()) || `narration: ${story}`;
    });
    await step(`embed ${i + 1} shows only its chosen panels and no page chrome`, async () => {
      for (const gone of ['.top', '.guide-select', '.share-open', '.inspect']) {
        if (await frame.locator(gone).count()) return `${gone} is shown`;
      }
      const open = await frame.locator('.embed-open').getAttribute('href');
      return (open && !open.includes('embed=1')) || `Open in replscope leads to ${open}`;
    });
    if (readOnly) {
      await step(`embed ${i + 1} is read-only: no console, no add button, no menus`, async () => {
        for (const gone of ['.console-input', '.topo-add', '.topo-actions']) {
          if (await frame.locator(gone).count()) return `${gone} is shown`;
        }
      });
    }
  }

  await step('screenshot: the documentation page, 1280 wide', async () => {
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, 'embed-docs-1280.png'), fullPage: true });
  });

  // ---- 2. the host page drives the fourth embed and hears its events
  const driven = page.frameLocator('#driven-embed');
  await step('the driven embed says it is ready, and the page enables its buttons', async () => {
    await page.locator('#driven-embed').scrollIntoViewIfNeeded();
    const ready = await until(page, 'ready', () => document.querySelector('#status').textContent.includes('ready'));
    if (ready !== true) return ready;
    return (await page.locator('#load-demo').isEnabled()) || 'buttons still disabled';
  });

  await step('"Load" loads the demo scenario: the page is told, and hears its events from #0', async () => {
    await page.locator('#load-demo').click();
    const done = await until(page, 'load reply', () => document.querySelector('#status').textContent === 'load: done.');
    if (done !== true) return done;
    const title = (await driven.locator('.embed-title').innerText()).trim();
    if (title !== DEMO.title) return `embed title ${JSON.stringify(title)}`;
    if ((await driven.locator('.topo-node').count()) !== 3) return 'not three servers';
    // Every event the embed shows, from #0 on: as many as its transport bar counts.
    const shown = Number((await driven.locator('.event-index').innerText()).replace('#', '')) + 1;
    const count = await until(page, `${shown} events heard`, (n) => Number(document.querySelector('#heard-count').textContent) === n, shown);
    if (count !== true) return `${count} (${await page.locator('#heard-count').innerText()})`;
    const first = await page.evaluate(() => events[0] && events[0].line);
    return (first || '').startsWith('#0 t=0 s0 started master port=6380') || `first event heard: ${first}`;
  });

  await step('"Run SET k v" runs it on the master: the reply says done, the console shows it, the page hears it', async () => {
    await page.locator('#run-set').click();
    const done = await until(page, 'command reply', () => document.querySelector('#status').textContent === 'command: done.');
    if (done !== true) return done;
    const transcript = await driven.locator('.transcript').innerText();
    if (!transcript.includes('127.0.0.1:6380> SET k v')) return `transcript: ${transcript}`;
    return until(page, 'the SET among the events heard',
      () => [...document.querySelectorAll('#heard li')].some((li) => li.textContent.endsWith('console> SET k v')));
  });

  await step('"Step 5 events" moves the embed on, and the page hears the master\'s +OK', async () => {
    const before = Number(await page.locator('#heard-count').innerText());
    const position = await driven.locator('.event-index').innerText();
    await page.locator('#step-5').click();
    const done = await until(page, 'step reply', () => document.querySelector('#status').textContent === 'step: done.');
    if (done !== true) return done;
    const after = await until(page, 'more events heard', (n) => Number(document.querySelector('#heard-count').textContent) > n, before);
    if (after !== true) return after;
    if ((await driven.locator('.event-index').innerText()) === position) return `still at ${position}`;
    return until(page, 'the reply heard', () => [...document.querySelectorAll('#heard li')].some((li) => li.textContent.includes('s0 reply "+OK\\r\\n"')));
  });

  await step('screenshot: the driven embed and the events heard', async () => {
    await page.locator('#heard').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'embed-driven-1280.png') });
  });

  await step('the docs page fits a phone: 390 wide, no sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'embed-docs-390.png') });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    return width <= 390 || `page is ${width}px wide`;
  });
  await page.close();

  // ---- 3. origins: only the host named by origin= (or the embed's own origin) is heard
  const host = await context.newPage();
  host.setDefaultTimeout(15_000);
  host.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await host.goto(`${BASE_URL}docs.html`, { waitUntil: 'load' });
  // A host page on 127.0.0.1 holding two embeds served from localhost: `strict` has no
  // origin= (so it talks only to localhost pages), `trusting` names this page's origin.
  await host.evaluate(({ other, hostOrigin }) => {
    document.body.replaceChildren();
    window.heard = { strict: [], trusting: [] };
    const query = 'index.html?embed=1&panels=console&autoplay=0';
    for (const [id, src] of [['strict', `${other}/${query}`], ['trusting', `${other}/${query}&origin=${encodeURIComponent(hostOrigin)}`]]) {
      const f = document.createElement('iframe');
      f.id = id;
      f.src = src;
      f.width = 600;
      f.height = 400;
      document.body.append(f);
    }
    window.addEventListener('message', (e) => {
      for (const id of ['strict', 'trusting']) {
        if (e.source === document.getElementById(id).contentWindow) window.heard[id].push(e.data);
      }
    });
  }, { other: OTHER_ORIGIN, hostOrigin: HOST_ORIGIN });
  const got = (id) => host.evaluate((i) => window.heard[i], id);
  const post = (id, message) => host.evaluate(({ id, message, to }) => {
    document.getElementById(id).contentWindow.postMessage(message, to);
  }, { id, message, to: OTHER_ORIGIN });
  const command = (line) => ({ replscope: 1, type: 'command', server: 'master', line });

  await step('both embeds render (served from localhost, inside a 127.0.0.1 page)', async () => {
    for (const id of ['strict', 'trusting']) {
      await host.frameLocator(`#${id}`).locator('.transcript').waitFor();
    }
  });

  await step('the embed with origin= set to this page says ready; the other says nothing to a foreign page', async () => {
    const ready = await until(host, 'ready from trusting', () => window.heard.trusting.some((m) => m.type === 'ready'));
    if (ready !== true) return ready;
    // Its `ready` went to localhost only: the browser does not deliver it here.
    await host.waitForTimeout(500);
    const strict = await got('strict');
    return strict.length === 0 || `strict sent ${JSON.stringify(strict)}`;
  });

  await step('ready and events messages have the documented fields', async () => {
    const all = await got('trusting');
    const ready = all.find((m) => m.type === 'ready');
    if (!(ready.replscope === 1 && ready.version === 1 && ready.title === null)) return `ready: ${JSON.stringify(ready)}`;
    const events = all.find((m) => m.type === 'events');
    if (!events) return 'no events message';
    const { from, dropped, lines } = events;
    if (from !== 0 || dropped !== 0 || !Array.isArray(lines) || lines.length === 0) return `events: ${JSON.stringify(events).slice(0, 200)}`;
    const ok = lines.every((l, i) => l.index === i && typeof l.time === 'number' && l.line.startsWith(`#${i} t=${l.time}`));
    return ok || `lines: ${JSON.stringify(lines.slice(0, 3))}`;
  });

  await step('a command from the named origin runs and is answered', async () => {
    await post('trusting', command('SET from-host 1'));
    const reply = await until(host, 'reply', () => window.heard.trusting.some((m) => m.type === 'reply' && m.to === 'command' && m.ok));
    if (reply !== true) return reply;
    const transcript = await host.frameLocator('#trusting').locator('.transcript').innerText();
    return transcript.includes('SET from-host 1') || `transcript: ${transcript}`;
  });

  await step('a command from a page of another origin is ignored: no reply, nothing typed', async () => {
    await post('strict', command('SET from-elsewhere 1'));
    await host.waitForTimeout(1_000);
    const strict = await got('strict');
    if (strict.length) return `strict answered ${JSON.stringify(strict)}`;
    const transcript = await host.frameLocator('#strict').locator('.transcript').innerText();
    return !transcript.includes('from-elsewhere') || `it ran: ${transcript}`;
  });

  await step('a message from another window of the right origin (not the parent) is ignored', async () => {
    const replies = (await got('trusting')).filter((m) => m.type === 'reply').length;
    // A sibling frame of the host's own origin (srcdoc inherits it) posts to the embed.
    await host.evaluate((m) => {
      const sibling = document.createElement('iframe');
      sibling.srcdoc = `<script>parent.document.getElementById('trusting').contentWindow.postMessage(${JSON.stringify(m)}, '*')<\/script>`;
      document.body.append(sibling);
    }, command('SET from-sibling 1'));
    await host.waitForTimeout(1_000);
    const transcript = await host.frameLocator('#trusting').locator('.transcript').innerText();
    if (transcript.includes('from-sibling')) return `it ran: ${transcript}`;
    const after = (await got('trusting')).filter((m) => m.type === 'reply').length;
    return after === replies || 'it was answered';
  });

  await step('another API version and a malformed request are answered, never run', async () => {
    await post('trusting', { replscope: 2, type: 'command', server: 'master', line: 'SET v2 1' });
    await post('trusting', { replscope: 1, type: 'step', events: 'five' });
    await post('trusting', { replscope: 1, type: 'command', server: 'nobody', line: 'PING' });
    const answered = await until(host, 'three answers', () => window.heard.trusting.filter((m) => m.type === 'error' || (m.type === 'reply' && !m.ok)).length >= 3);
    if (answered !== true) return answered;
    const all = await got('trusting');
    const version = all.find((m) => m.type === 'error');
    if (!version || !version.message.includes('version 1')) return `version answer: ${JSON.stringify(version)}`;
    const step = all.find((m) => m.type === 'reply' && m.to === 'step');
    if (!step || step.ok || !step.error.includes('"events"')) return `step answer: ${JSON.stringify(step)}`;
    const nobody = all.find((m) => m.type === 'reply' && m.to === 'command' && !m.ok);
    if (!nobody || !nobody.error.includes('no server named "nobody"')) return `command answer: ${JSON.stringify(nobody)}`;
    const transcript = await host.frameLocator('#trusting').locator('.transcript').innerText();
    return !transcript.includes('SET v2') || `it ran: ${transcript}`;
  });

  await step('screenshot: embeds in a page of another origin', async () => {
    await host.screenshot({ path: join(SHOTS, 'embed-origins-1280.png') });
  });
  await host.close();

  await step('no page errors', async () => problems.length === 0 || problems.join('; '));
});
