// End-to-end: random use of the built page, looking for panics and a frozen tab.
//
//   BASE_URL=http://127.0.0.1:PORT/ node tests/e2e/monkey.mjs
//   MONKEY_SEEDS=7,8 MONKEY_STEPS=400 BASE_URL=... node tests/e2e/monkey.mjs
//
// Each seed drives one page (odd seeds at 1280×720, even ones at 390×844) through a fixed
// sequence of random actions: clicks on any
// visible button, menu or slider, lines typed into the console (commands that change
// what a connection is, such as SYNC, PSYNC and SHUTDOWN, hostile input such as an
// unbalanced quote, absurd sizes), and the page's keyboard shortcuts. After every action
// the page must still answer within 5 s, and no error may reach the console (a Rust panic
// prints "panicked at ..." there). A failure prints the seed and the last actions, so
// `MONKEY_SEEDS=<seed>` replays the same actions. It found a console that typed SYNC
// panicking the page and SHUTDOWN freezing it.

import { BASE_URL, check, run } from './harness.mjs';

const SEEDS = (process.env.MONKEY_SEEDS || '1,2').split(',').map(Number);
const STEPS = Number(process.env.MONKEY_STEPS || 150);

const LINES = [
  'SET k v', 'GET k', 'INCR n', 'INCRBYFLOAT f 1e308', 'LPUSH l a b c', 'ZADD z 1 a', 'HSET h a 1',
  `SET big ${'x'.repeat(3000)}`, 'REPLICAOF 127.0.0.1 6380', 'REPLICAOF NO ONE', 'SLAVEOF 127.0.0.1 6381',
  'CONFIG SET repl-backlog-size 16kb', 'CONFIG SET min-replicas-to-write 2', 'WAIT 1 100', 'MULTI', 'EXEC',
  'SYNC', 'PSYNC ? -1', 'REPLCONF ACK 99999999999999', 'SHUTDOWN NOSAVE', 'FLUSHALL', 'SCAN 0 COUNT 1000000',
  'SETRANGE k 536870911 x', 'CLIENT KILL TYPE master', 'ROLE', 'INFO replication', 'SET "unterminated',
  '\u0000\u0001', 'EXPIRE k -5', 'DEBUG SLEEP 0',
];
const KEYS = ['Space', 'ArrowRight', 'ArrowLeft', 'Shift+ArrowRight', '+', '-', '?', 'Escape', 'Tab', 'Shift+Tab',
  'Enter', 't', 'n', 'b', '1', '2', '3'];

// A small linear congruential generator: the same seed gives the same actions.
function generator(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  return { next, pick: (list) => list[Math.floor(next() * list.length)] };
}

async function act(page, rng) {
  const r = rng.next();
  if (r < 0.45) {
    const targets = await page.$$('button:visible, select:visible, input[type=range]:visible');
    if (!targets.length) return 'nothing to click';
    const el = rng.pick(targets);
    const what = await el.evaluate((e) => `${e.tagName.toLowerCase()} "${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 30)}"`);
    if (what.startsWith('select')) {
      const values = await el.evaluate((e) => [...e.options].map((o) => o.value));
      const value = rng.pick(values);
      if (value !== undefined) await el.selectOption(value, { timeout: 1000 });
      return `choose ${JSON.stringify(value)} in ${what}`;
    }
    if (what.startsWith('input')) {
      const at = rng.next();
      await el.evaluate((e, at) => {
        e.value = String(Math.floor(at * (Number(e.max) || 100)));
        e.dispatchEvent(new Event('input', { bubbles: true }));
        e.dispatchEvent(new Event('change', { bubbles: true }));
      }, at);
      return `slide ${what}`;
    }
    await el.click({ timeout: 1000 });
    return `click ${what}`;
  }
  if (r < 0.75) {
    const input = await page.$('.console-input:visible');
    if (!input) return 'no console';
    const line = rng.pick(LINES);
    await input.fill(line);
    await input.press('Enter');
    return `type ${JSON.stringify(line.slice(0, 40))}`;
  }
  const key = rng.pick(KEYS);
  await page.keyboard.press(key);
  return `key ${key}`;
}

await run(async (context) => {
  for (const seed of SEEDS) {
    const page = await context.newPage();
    // Odd seeds at 1280×720, even ones on a phone-sized screen (another layout, other
    // controls in view).
    const viewport = seed % 2 ? { width: 1280, height: 720 } : { width: 390, height: 844 };
    await page.setViewportSize(viewport);
    const errors = [];
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text().split('\n')[0]}`); });
    await page.goto(BASE_URL);
    await page.waitForSelector('.topology', { timeout: 15000 });
    const rng = generator(seed);
    const done = [];
    let frozen = false;
    for (let i = 0; i < STEPS && errors.length === 0 && !frozen; i++) {
      let what;
      try {
        what = await act(page, rng);
      } catch (e) {
        // An element that went away or is covered: the step is skipped, not a failure.
        what = `skipped (${String(e.message).split('\n')[0].slice(0, 60)})`;
      }
      done.push(`${i}: ${what}`);
      const alive = await Promise.race([page.evaluate(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
      if (!alive) frozen = true;
    }
    const recent = `; last actions:\n    ${done.slice(-10).join('\n    ')}`;
    check(`seed ${seed} (${viewport.width}×${viewport.height}): no panic or console error in ${done.length} actions`, errors.length === 0, `${errors.slice(0, 3).join(' | ')}${recent}`);
    check(`seed ${seed}: the page answers after every action`, !frozen, `no answer for 5 s${recent}`);
    if (!frozen) {
      const shown = await page.evaluate(() => document.querySelector('.topology') !== null && document.body.innerText.length);
      check(`seed ${seed}: the playground is still drawn`, shown > 500, `body text ${shown} characters`);
    }
    await page.close();
  }
});
