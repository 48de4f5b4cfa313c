// What the end-to-end scripts share: the page's address, where screenshots go, checks that
// report and go on, a fresh headless Chromium, and the final count.

import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BASE_URL = process.env.BASE_URL;
if (!BASE_URL) {
  console.error('BASE_URL is not set (e.g. BASE_URL=http://127.0.0.1:8080/)');
  process.exit(2);
}
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHOTS = join(ROOT, 'test-output', 'screenshots');

let passed = 0;
let failed = 0;
export function check(name, ok, detail = '') {
  if (ok) {
    passed++;
    console.log(`ok    ${name}`);
  } else {
    failed++;
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ''}`);
  }
}

// A step that throws (timeout, missing element) is a failure, and the run goes on with
// the next one so the report shows everything that is wrong.
export async function step(name, fn) {
  try {
    const r = await fn();
    check(name, r === undefined || r === true, typeof r === 'string' ? r : '');
  } catch (e) {
    check(name, false, String(e.message || e).split('\n')[0]);
  }
}

// Runs `body(context)` in headless Chromium with a fresh temporary profile (a persistent
// context is how playwright takes a user-data-dir, so no profile state leaks between
// runs), then prints `N passed, M failed` and exits non-zero on any failure.
export async function run(body) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'replscope-e2e-'));
  mkdirSync(SHOTS, { recursive: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    await body(context);
  } catch (e) {
    check('run', false, String(e.message || e));
  } finally {
    if (context) await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
