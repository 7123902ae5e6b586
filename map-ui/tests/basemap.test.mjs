// The basemap in the browser: the server serves a PMTiles archive this test writes from the
// app's own kelurahan tiles (SIGAP_BASEMAP_DIR, SIGAP_BASEMAP_TILES=pmtiles://bandung), the map
// draws it under SIGAP's layers with its credit in the attribution, and every request the page
// makes is checked to stay on this machine. A basemap that cannot load leaves one quiet line.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, startWorld, uiRoot } from './harness.mjs';
import { tileOf, writePmtiles } from './pmtiles-writer.mjs';

const CREDIT = '© OpenStreetMap contributors (uji)';
const LOCAL = new Set(['127.0.0.1', 'localhost', '[::1]']);
const strings = (lang) => JSON.parse(readFileSync(join(uiRoot, 'src', 'i18n', `${lang}.json`), 'utf8'));

let world;
let dir;
let tileCount = 0;

/** Writes dir/bandung.pmtiles from the running server's kelurahan tiles at zooms 10–12. */
async function buildArchive(base) {
  const tj = await fetch(`${base}/tiles/kelurahan.json`).then((r) => r.json());
  const [w, s, e, n] = tj.bounds;
  const tiles = [];
  for (let z = 10; z <= 12; z++) {
    const a = tileOf(w, n, z);
    const b = tileOf(e, s, z);
    for (let x = a.x; x <= b.x; x++) {
      for (let y = a.y; y <= b.y; y++) {
        const res = await fetch(`${base}/tiles/kelurahan/${z}/${x}/${y}.mvt`);
        if (res.status === 200) tiles.push({ z, x, y, data: new Uint8Array(await res.arrayBuffer()) });
      }
    }
  }
  assert.ok(tiles.length > 0, 'the kelurahan layer has tiles over its bounds');
  const archive = writePmtiles(tiles, { minZoom: 10, maxZoom: 12, bounds: tj.bounds, metadata: { vector_layers: [{ id: 'kelurahan', fields: { code: 'String' } }] } });
  writeFileSync(join(dir, 'bandung.pmtiles'), archive);
  return tiles.length;
}

/** Every http(s) request of the context goes through here; any to another host is refused and kept. */
function guard(outside) {
  return async (context) => {
    await context.route('**/*', (route) => {
      const u = new URL(route.request().url());
      if ((u.protocol === 'http:' || u.protocol === 'https:') && !LOCAL.has(u.hostname)) {
        outside.push(u.href);
        return route.abort();
      }
      return route.continue();
    });
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sigap-basemap-'));
  world = await startWorld({ env: { SIGAP_BASEMAP_DIR: dir, SIGAP_BASEMAP_TILES: 'pmtiles://bandung', SIGAP_BASEMAP_ATTRIBUTION: CREDIT } });
  tileCount = await buildArchive(world.base);
});
after(async () => {
  await world?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('basemap', () => {
  test('the map draws the local PMTiles basemap under its layers, credited, and nothing leaves the machine', async () => {
    const outside = [];
    const archive = [];
    const { context, page } = await openApp(world.browser, world.base, {
      setup: async (ctx, p) => {
        await guard(outside)(ctx);
        p.on('response', (r) => { if (r.url().includes('/basemap/')) archive.push(r.status()); });
      },
    });
    await page.waitForFunction(() => window.sigap.map.querySourceFeatures('basemap', { sourceLayer: 'kelurahan' }).length > 0, null, { timeout: 15000 });
    const got = await page.evaluate(() => {
      const map = window.sigap.map;
      const ids = map.getStyle().layers.map((l) => l.id);
      return {
        ids,
        drawn: map.queryRenderedFeatures({ layers: ids.filter((id) => id.startsWith('basemap-')) }).length,
        sigapDrawn: map.queryRenderedFeatures({ layers: ['kel-fill'] }).length,
        attribution: document.querySelector('.maplibregl-ctrl-attrib')?.textContent || '',
        noteHidden: document.querySelector('.basemap-note')?.hidden,
      };
    });
    const firstBasemap = got.ids.findIndex((id) => id.startsWith('basemap-'));
    assert.ok(firstBasemap > 0 && firstBasemap < got.ids.indexOf('kel-fill'), `basemap under SIGAP's layers: ${got.ids}`);
    assert.ok(got.drawn > 0, 'basemap features are drawn');
    assert.ok(got.sigapDrawn > 0, 'SIGAP kelurahan are drawn over it');
    assert.ok(got.attribution.includes(CREDIT), `attribution shows the basemap credit: ${got.attribution}`);
    assert.equal(got.noteHidden, true, 'no failure line');
    assert.ok(archive.includes(206), `the archive is read with range requests: ${archive}`);
    assert.deepEqual(outside, [], 'no request leaves the machine');
    // The anonymous account check answers 401 by design; nothing else may go wrong.
    assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
    console.log(`basemap archive: ${tileCount} tiles; ${archive.length} archive requests, statuses ${[...new Set(archive)]}`);
    await page.screenshot({ path: join(tmpdir(), 'sigap-basemap-pmtiles.png') });
    await context.close();
  });

  test('a style basemap reading the same archive is drawn under SIGAP\'s layers', async () => {
    const outside = [];
    const styleUrl = `${world.base}/test-style.json`;
    const style = {
      version: 8,
      sources: { kota: { type: 'vector', url: `pmtiles://${world.base}/basemap/bandung.pmtiles`, attribution: 'Gaya uji' } },
      layers: [{ id: 'batas', type: 'line', source: 'kota', 'source-layer': 'kelurahan', paint: { 'line-color': '#888888' } }],
    };
    const { context, page } = await openApp(world.browser, world.base, {
      query: { basemap: styleUrl },
      setup: async (ctx) => {
        await guard(outside)(ctx);
        // Registered last, so it answers before the guard passes the request on.
        await ctx.route(styleUrl, (route) => route.fulfill({ contentType: 'application/json', body: JSON.stringify(style) }));
      },
    });
    await page.waitForFunction(() => window.sigap.map.queryRenderedFeatures({ layers: ['basemap-batas'] }).length > 0, null, { timeout: 15000 });
    const got = await page.evaluate(() => ({
      ids: window.sigap.map.getStyle().layers.map((l) => l.id),
      attribution: document.querySelector('.maplibregl-ctrl-attrib')?.textContent || '',
    }));
    assert.ok(got.ids.indexOf('basemap-batas') < got.ids.indexOf('kel-fill'), `${got.ids}`);
    assert.ok(got.attribution.includes('Gaya uji') && got.attribution.includes(CREDIT), got.attribution);
    assert.deepEqual(outside, [], 'no request leaves the machine');
    assert.deepEqual(page.errors.filter((e) => !e.includes('401')), []);
    await context.close();
  });

  for (const [what, basemap] of [
    ['an unreachable raster tile server', 'http://127.0.0.1:9/{z}/{x}/{y}.png'],
    ['a missing PMTiles archive', 'pmtiles://not-there'],
  ]) {
    test(`with ${what} the map still works and says so in one quiet line`, async () => {
      const outside = [];
      const { context, page } = await openApp(world.browser, world.base, { query: { basemap }, setup: guard(outside) });
      await page.waitForFunction(() => document.querySelector('.basemap-note')?.hidden === false, null, { timeout: 15000 });
      const notes = await page.$$eval('.basemap-note', (els) => els.filter((e) => !e.hidden).map((e) => e.textContent));
      assert.deepEqual(notes, [strings('id')['map.basemap_failed']]);
      await page.waitForFunction(() => window.sigap.map.queryRenderedFeatures({ layers: ['kel-fill'] }).length > 0, null, { timeout: 15000 });
      await page.selectOption('#lang', 'en');
      await page.waitForFunction((want) => document.querySelector('.basemap-note')?.textContent === want, strings('en')['map.basemap_failed']);
      assert.deepEqual(outside, [], 'no request leaves the machine');
      await context.close();
    });
  }
});
