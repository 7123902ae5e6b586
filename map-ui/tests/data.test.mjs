// Light on data, measured as a phone loads the map: a 360×640 viewport on a throttled 3G-like
// connection (Chromium's network emulation), counting the bytes that cross the wire (encoded,
// compressed) on a first visit and on a repeat visit in the same browser. Byte counts are
// asserted against the budgets of docs/map.md; times are printed, never asserted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startWorld, uiRoot } from './harness.mjs';

// "Regular 3G" in Chromium's presets: 750 kbit/s down, 250 kbit/s up, 100 ms latency.
const THREE_G = { offline: false, latency: 100, downloadThroughput: (750 * 1024) / 8, uploadThroughput: (250 * 1024) / 8 };
const FIRST_VISIT_BUDGET = 600 * 1024;
const REPEAT_VISIT_BUDGET = 50 * 1024;
// Our own JavaScript (every module under js/ and the service worker), gzipped: docs/map.md.
const OWN_JS_BUDGET_GZIP = 60 * 1024;

let world;
before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

/** Loads the map once in `page`; returns bytes by kind and the time until the map is usable.
 *  Playwright reports the web workers' requests (MapLibre fetches tiles there) with the page's. */
async function visit(page, base) {
  const done = [];
  const onFinished = (r) => done.push(r);
  page.context().on('requestfinished', onFinished);
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 60000 });
  await page.evaluate(() => window.sigap.firstRender);
  const usableMs = Date.now() - started;
  // Let the panel's data and the first tiles finish.
  await page.waitForLoadState('networkidle');
  page.context().off('requestfinished', onFinished);
  let tiles = 0;
  let other = 0;
  const big = [];
  for (const r of done) {
    const url = r.url();
    const s = await r.sizes().catch(() => ({ responseBodySize: 0, responseHeadersSize: 0 }));
    // Encoded (compressed) body plus headers: what crossed the wire.
    const bytes = s.responseBodySize + s.responseHeadersSize;
    if (url.includes('/tiles/') && url.endsWith('.mvt')) tiles += bytes;
    else other += bytes;
    if (bytes > 5000) big.push(`${url.replace(base, '')} ${Math.round(bytes / 1024)} KB${(await r.response())?.fromServiceWorker() ? ' (sw)' : ''}`);
  }
  return { tiles, other, total: tiles + other, usableMs, big };
}

describe('data on a phone', () => {
  test('first visit within 600 KB, repeat visit within 50 KB before tiles', async () => {
    const context = await world.browser.newContext({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', THREE_G);
    const first = await visit(page, world.base);
    const again = await visit(page, world.base);
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    console.log(`first visit on 3G: ${kb(first.total)} (${kb(first.other)} app and data, ${kb(first.tiles)} tiles), map usable after ${first.usableMs} ms; largest: ${first.big.join(', ')}`);
    console.log(`repeat visit on 3G: ${kb(again.total)} (${kb(again.other)} before tiles, ${kb(again.tiles)} tiles), map usable after ${again.usableMs} ms; largest: ${again.big.join(", ")}`);
    assert.ok(first.total <= FIRST_VISIT_BUDGET, `first visit ${kb(first.total)} is over ${kb(FIRST_VISIT_BUDGET)}: ${first.big.join(', ')}`);
    assert.ok(again.other <= REPEAT_VISIT_BUDGET, `repeat visit ${kb(again.other)} before tiles is over ${kb(REPEAT_VISIT_BUDGET)}`);
    await context.close();
  });
});

describe('our own JavaScript', () => {
  test('the modules and the service worker stay within 60 KB gzipped', () => {
    const dist = join(uiRoot, 'dist');
    const dir = readFileSync(join(dist, 'index.html'), 'utf8').match(/src="(a\/[0-9a-f]+)\/js\/main\.js"/)[1];
    const files = [
      ...readdirSync(join(dist, dir, 'js'), { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => join(dist, dir, 'js', f)),
      join(dist, 'sw.js'),
    ];
    assert.ok(files.some((f) => f.endsWith('outbox.js')) && files.some((f) => f.endsWith('views/proposals.js')), files.join(' '));
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
    const raw = files.reduce((n, f) => n + readFileSync(f).length, 0);
    console.log(`own JavaScript: ${files.length} files, ${(raw / 1024).toFixed(1)} KB raw, ${(gz / 1024).toFixed(1)} KB gzipped (budget ${OWN_JS_BUDGET_GZIP / 1024} KB)`);
    assert.ok(gz <= OWN_JS_BUDGET_GZIP, `own JavaScript ${gz} B gzipped is over ${OWN_JS_BUDGET_GZIP} B`);
  });
});
