// The live gap on the map: a coverage area added behind the map's back (with psql, as any write
// path could) reaches the open map by itself. The server refreshes the live run (in place: same
// id, newer changes_through) and announces it on its event stream; the map reads the gap layer again without a reload and before its fallback
// look at /api/analysis/gap/latest (every 60 s) has asked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { openApp, startWorld } from './harness.mjs';

let world;

before(async () => {
  world = await startWorld({ env: { SIGAP_LIVE_GAP_DEBOUNCE_MS: '50' } });
});

after(async () => {
  await world?.stop();
});

const psql = (sql) => execFileSync('psql', ['-h', '/var/run/postgresql', '-d', world.db, '-v', 'ON_ERROR_STOP=1', '-qc', sql]);

test('a refreshed live gap run reaches the open map through the event stream', async () => {
  const asked = [];
  let navigations = 0;
  let streamOpen;
  const opened = new Promise((r) => { streamOpen = r; });
  const { context, page } = await openApp(world.browser, world.base, {
    setup: (_, p) => {
      p.on('request', (r) => {
        asked.push(r.url());
        if (r.url().includes('/api/analysis/gap/live/events')) streamOpen();
      });
      p.on('framenavigated', (f) => { if (f === p.mainFrame()) navigations += 1; });
    },
  });
  // The coverage view is the first one: it opens the event stream once its layers are loaded.
  await opened;
  navigations = 0;
  const latestBefore = asked.filter((u) => u.includes('/api/analysis/gap/latest')).length;
  assert.ok(latestBefore >= 1, 'the view read the run it shows');

  const latestAsked = () => asked.filter((u) => u.includes('/api/analysis/gap/latest')).length;
  let latestAtRedraw = null;
  const redraw = page.waitForRequest((r) => {
    if (!r.url().includes('/ogc/collections/gap_kelurahan/items')) return false;
    latestAtRedraw = latestAsked();
    return true;
  }, { timeout: 90000 });
  psql(`INSERT INTO coverage (code, program_code, geom, valid_from, valid_to)
        SELECT 'live-e2e', (SELECT code FROM program ORDER BY code LIMIT 1),
               ST_Multi(ST_Buffer(ST_PointOnSurface(k.geom), 0.006)), current_date - 30, current_date + 30
        FROM kelurahan k ORDER BY k.code LIMIT 1`);
  await redraw;
  // The stream brought it, not the minute's fallback look, and the page was not reloaded.
  assert.equal(latestAtRedraw, latestBefore, 'the fallback look at the latest run did not ask first');
  assert.equal(navigations, 0, 'no reload');
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  // Script errors only (a logged-out session check answers 401, a missing icon 404: not faults).
  assert.deepEqual(page.errors.filter((e) => !e.startsWith('Failed to load resource')), []);
  await context.close();
});
