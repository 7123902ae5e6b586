// End-to-end: the real server on a fresh database with the Bandung sample, driven through the
// real map in Chromium. Run by `npm test` (after `cargo build` and `npm run build`).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { STAFF, atomFeedAt, login, openApp, pixelOverKelurahan, renderedWhenSettled, screenshots, settled, startWorld } from './harness.mjs';

let world;
// Carried from the resident's submission to the moderator and the supporter.
const submitted = { title: `Drainase tersumbat di gang ${process.pid}`, code: null, id: null, lngLat: null };

before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

async function renderedKelurahan(page) {
  return page.evaluate(() => {
    const feats = window.sigap.map.queryRenderedFeatures({ layers: ['kel-fill'] });
    return { count: feats.length, codes: [...new Set(feats.map((f) => f.properties.code))], layers: [...new Set(feats.map((f) => f.sourceLayer))] };
  });
}

describe('map', () => {
  test('the map loads and draws kelurahan from our vector tiles', async () => {
    const { context, page } = await openApp(world.browser, world.base);
    const ms = await page.evaluate(() => window.sigap.firstRender);
    const fromNav = await page.evaluate(() => window.sigap.firstRenderSinceNavigationMs);
    console.log(`first map render (kelurahan drawn): ${Math.round(ms)} ms from map creation, ${Math.round(fromNav)} ms from navigation start`);
    const r = await renderedKelurahan(page);
    assert.ok(r.codes.length >= 20, `expected many kelurahan drawn, got ${r.codes.length}: ${page.errors}`);
    assert.deepEqual(r.layers, ['kelurahan']);
    for (const c of r.codes) assert.match(c, /^32\.73\.\d{2}\.\d{4}$/);
    // Its panel: indicators in Indonesian number format, from the OGC items endpoint.
    const code = r.codes[0];
    await page.selectOption('select[name=kelurahan]', code);
    await page.waitForSelector('#kel-title');
    const kel = await fetch(`${world.base}/ogc/collections/kelurahan/items/${code}?f=json`).then((x) => x.json());
    const pop = new Intl.NumberFormat('id-ID').format(kel.properties.population);
    assert.ok((await page.textContent('#kel-detail')).includes(pop), `panel shows population ${pop}`);
    // Its Atom feeds, and its kecamatan's: links that give feeds naming the place.
    const kelFeed = await atomFeedAt(page, '#kel-feed');
    assert.equal(kelFeed.href, `/feeds/kelurahan/${code}.atom`);
    for (const [f, name] of [[kelFeed, kel.properties.name], [await atomFeedAt(page, '#kec-feed'), kel.properties.kecamatan_name]]) {
      assert.equal(f.linkType, 'application/atom+xml');
      assert.equal(f.status, 200);
      assert.match(f.contentType, /^application\/atom\+xml/);
      assert.ok(f.parsed && f.root === 'feed' && f.ns === 'http://www.w3.org/2005/Atom', JSON.stringify(f));
      assert.ok(f.title.includes(name), `feed title "${f.title}" names ${name}`);
    }
    assert.ok((await page.textContent('#kec-feed')).includes(kel.properties.kecamatan_name));
    // The as-of date: the coverage drawn is exactly the coverage active on that day.
    const cov = await fetch(`${world.base}/ogc/collections/coverage/items?f=json&limit=1000`).then((x) => x.json());
    const starts = cov.features.map((f) => f.properties.valid_from).sort();
    const asOf = starts[Math.floor(starts.length / 2)];
    const active = (f, d) => f.properties.valid_from <= d && (!f.properties.valid_to || f.properties.valid_to >= d);
    const expected = cov.features.filter((f) => active(f, asOf)).map((f) => String(f.properties.id ?? f.id)).sort();
    assert.ok(expected.length > 0 && expected.length < cov.features.length, 'the sample has coverage both in and out of that date');
    await page.evaluate(() => window.sigap.map.jumpTo({ center: [107.61, -6.91], zoom: 11.3 }));
    await page.evaluate((days) => {
      const s = document.querySelector('input[name=as_of]');
      s.value = String(days);
      s.dispatchEvent(new Event('input'));
    }, Math.round((Date.parse(asOf) - Date.parse(starts[0])) / 86400000));
    assert.ok((await page.textContent('#as-of-out')).length > 0);
    assert.deepEqual(await renderedWhenSettled(page, 'coverage-fill', 'id', expected), expected, `coverage drawn on ${asOf}`);
    // The program type filter narrows it further.
    await page.selectOption('select[name=program_type]', 'pendampingan');
    const mentoring = cov.features.filter((f) => active(f, asOf) && f.properties.program_type === 'pendampingan').map((f) => String(f.properties.id ?? f.id)).sort();
    assert.deepEqual(await renderedWhenSettled(page, 'coverage-fill', 'id', mentoring), mentoring, `mentoring drawn on ${asOf}`);
    await page.selectOption('select[name=program_type]', '');
    // The screenshot shows the whole city with the panel open.
    await settled(page);
    await page.screenshot({ path: join(screenshots, 'peta-cakupan.png') });
    await context.close();
  });

  test('switching language changes the labels', async () => {
    const { context, page } = await openApp(world.browser, world.base);
    assert.equal((await page.textContent('#nav-cakupan')).trim(), 'Peta Cakupan');
    assert.equal(await page.getAttribute('html', 'lang'), 'id');
    await page.selectOption('#lang', 'en');
    await page.waitForFunction(() => document.querySelector('#nav-cakupan').textContent.trim() === 'Coverage map');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal((await page.textContent('#auth-btn')).trim(), 'Log in');
    assert.ok((await page.textContent('.approx')).includes('real boundaries') && (await page.textContent('.approx')).includes('fictional'));
    await page.screenshot({ path: join(screenshots, 'coverage-map-en.png') });
    await page.selectOption('#lang', 'id');
    await page.waitForFunction(() => document.querySelector('#nav-cakupan').textContent.trim() === 'Peta Cakupan');
    await context.close();
  });

  test('a resident pins a proposal and sees its tracking code', async () => {
    const { context, page } = await openApp(world.browser, world.base, { hash: '#usulan' });
    await page.click('#pin-btn');
    const px = await pixelOverKelurahan(page);
    assert.ok(px, 'a kelurahan is drawn near the centre');
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('#proposal-form:not([hidden])');
    await page.selectOption('#proposal-form [name=category]', 'drainase');
    await page.fill('#proposal-form [name=title]', submitted.title);
    await page.fill('#proposal-form [name=description]', 'Saluran air tersumbat sampah, banjir setiap hujan.');
    await page.fill('#proposal-form [name=estimated_cost_idr]', '1250000');
    // A photo makes the form send multipart; the server re-encodes it.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await page.setInputFiles('#proposal-form [name=photo]', { name: 'foto.png', mimeType: 'image/png', buffer: png });
    await page.waitForSelector('#nearby h3');
    // The submission carries an Idempotency-Key, so a retry after a lost answer cannot double it.
    const sent = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/proposals');
    await page.click('#send-btn');
    assert.match((await sent).headers()['idempotency-key'] || '', /^[0-9a-f-]{32,36}$/);
    await page.waitForSelector('#tracking-code');
    submitted.code = (await page.textContent('#tracking-code')).trim();
    assert.ok(submitted.code.length >= 6, `tracking code ${submitted.code}`);
    const tracked = await fetch(`${world.base}/api/proposals/track/${submitted.code}`).then((x) => x.json());
    assert.equal(tracked.title, submitted.title);
    assert.equal(tracked.status, 'diajukan');
    assert.equal(tracked.has_photo, true);
    assert.equal(tracked.estimated_cost_idr, 1250000);
    submitted.id = tracked.id;
    submitted.lngLat = await page.evaluate(({ x, y }) => {
      const r = window.sigap.map.getCanvas().getBoundingClientRect();
      const ll = window.sigap.map.unproject([x - r.left, y - r.top]);
      return [ll.lng, ll.lat];
    }, px);
    await page.screenshot({ path: join(screenshots, 'usulan-warga.png') });
    await context.close();
  });

  test('a moderator approves it, and it then appears on the public map', async () => {
    assert.ok(submitted.id, 'the proposal was submitted');
    const mod = await openApp(world.browser, world.base);
    await login(mod.page, STAFF.moderator);
    await mod.page.click('#nav-moderasi');
    await mod.page.click(`#mod-queue button[data-id="${submitted.id}"]`);
    await mod.page.waitForSelector('#approve-btn');
    await mod.page.screenshot({ path: join(screenshots, 'moderasi.png') });
    await mod.page.click('#approve-btn');
    await mod.page.waitForFunction((id) => !document.querySelector(`#mod-queue button[data-id="${id}"]`), submitted.id);
    await mod.context.close();

    const pub = await openApp(world.browser, world.base, { hash: '#usulan' });
    await pub.page.evaluate((c) => window.sigap.map.jumpTo({ center: c, zoom: 16 }), submitted.lngLat);
    await pub.page.waitForFunction((title) => window.sigap.map.queryRenderedFeatures({ layers: ['proposals'] })
      .some((f) => f.properties.title === title && f.properties.status === 'diverifikasi'), submitted.title, { timeout: 20000 });
    await pub.context.close();
  });

  test('a resident supports it', async () => {
    const { context, page } = await openApp(world.browser, world.base, { hash: '#usulan' });
    await page.click('#auth-btn');
    await page.click('#auth-switch');
    await page.fill('#auth-form [name=username]', `warga${process.pid}`);
    await page.fill('#auth-form [name=password]', 'warga-e2e-pass-1');
    await page.fill('#auth-form [name=display_name]', 'Warga Uji');
    await page.click('#auth-submit');
    await page.waitForFunction(() => window.sigap.user?.role === 'resident');
    await page.evaluate((c) => window.sigap.map.jumpTo({ center: c, zoom: 16 }), submitted.lngLat);
    const px = await page.waitForFunction((title) => {
      const map = window.sigap.map;
      const f = map.queryRenderedFeatures({ layers: ['proposals'] }).find((x) => x.properties.title === title);
      if (!f) return null;
      const p = map.project(f.geometry.coordinates);
      const r = map.getCanvas().getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y };
    }, submitted.title, { timeout: 20000 }).then((h) => h.jsonValue());
    await page.mouse.click(px.x, px.y);
    await page.waitForSelector('#support-btn');
    assert.equal((await page.textContent('.prop-title')).trim(), submitted.title);
    assert.ok((await page.textContent('#proposal-detail')).includes('Rp 1.250.000'), 'money in Indonesian format');
    await page.click('#support-btn');
    await page.waitForFunction(() => document.querySelector('#support-btn').getAttribute('aria-pressed') === 'true');
    assert.match(await page.textContent('.support-count'), /^1 dukungan$/);
    const after = await fetch(`${world.base}/api/proposals/${submitted.id}`).then((x) => x.json());
    assert.equal(after.support_count, 1);
    await context.close();
  });

  test('an official runs a scenario and sees the results table', async () => {
    const { context, page } = await openApp(world.browser, world.base);
    await login(page, STAFF.official);
    await page.click('#nav-anggaran');
    await page.waitForSelector('#ranking tbody tr');
    // A ranking row flies the map to its proposal.
    const first = page.locator('#ranking tbody tr').first();
    const id = Number(await first.getAttribute('data-id'));
    await first.click();
    assert.equal(await first.getAttribute('aria-selected'), 'true');
    const prop = await fetch(`${world.base}/api/proposals/${id}`).then((x) => x.json());
    await page.waitForFunction(([lon, lat]) => {
      const c = window.sigap.map.getCenter();
      return Math.abs(c.lng - lon) < 1e-4 && Math.abs(c.lat - lat) < 1e-4;
    }, [prop.lon, prop.lat]);
    const run = async (name, budget) => {
      await page.fill('#scenario-form [name=name]', name);
      await page.fill('#scenario-form [name=budget_idr]', String(budget));
      await page.fill('#scenario-form [name=kecamatan_cap_share]', '25');
      await page.click('#run-btn');
      await page.waitForFunction((n) => document.querySelector('#results-title')?.textContent.includes(n), name);
    };
    await run('Skenario A', 5_000_000_000);
    const funded = await page.locator('#results-table tbody tr').count();
    assert.ok(funded > 0, 'some proposals are funded');
    assert.ok((await page.textContent('#budget-results')).includes('Rp 5.000.000.000'), 'the budget in Indonesian format');
    assert.ok(await page.locator('#equity-chart > div').count() > 0, 'per-kecamatan bars against need');
    await run('Skenario B', 1_000_000_000);
    assert.ok(await page.locator('#results-table tbody tr').count() <= funded, 'a smaller budget funds no more');
    await page.click('#compare-btn');
    await page.waitForSelector('#budget-compare table');
    assert.ok((await page.textContent('#budget-compare')).includes('Skenario A'));
    await page.evaluate(() => {
      document.querySelector('#results-title').scrollIntoView();
      window.sigap.map.jumpTo({ center: [107.61, -6.91], zoom: 11.3 });
    });
    await settled(page);
    await page.screenshot({ path: join(screenshots, 'anggaran.png') });
    await context.close();
  });

  test('at 360×640 the main controls can be reached', async () => {
    const { context, page } = await openApp(world.browser, world.base, { viewport: { width: 360, height: 640 } });
    const controls = ['#nav-cakupan', '#nav-usulan', '#lang', '#auth-btn', 'select[name=metric]', 'input[name=as_of]', '.legend'];
    for (const sel of controls) {
      const box = await page.locator(sel).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 360 && box.width > 0, `${sel} is on screen: ${JSON.stringify(box)}`);
    }
    await page.screenshot({ path: join(screenshots, 'ponsel-360x640.png') });
    // Keyboard: Tab reaches the navigation, the language, the login and the first filter.
    const reached = new Set();
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement?.getAttribute('name') || document.activeElement?.id || ''));
    }
    for (const id of ['nav-cakupan', 'nav-usulan', 'lang', 'auth-btn', 'metric']) assert.ok(reached.has(id), `Tab reaches ${id}: ${[...reached]}`);
    await page.evaluate(() => window.sigap.firstRender);
    const r = await renderedKelurahan(page);
    assert.ok(r.count > 0, 'the map draws kelurahan on a phone too');
    await context.close();
  });
});

describe('real ground', () => {
  test('real boundaries with their sources, the default gap run dated, and OSM facilities', async () => {
    const { context, page } = await openApp(world.browser, world.base);
    await page.evaluate(() => window.sigap.firstRender);
    await settled(page);
    // The attribution control names where the boundaries and facilities come from.
    const attribution = await page.textContent('.maplibregl-ctrl-attrib');
    assert.ok(attribution.includes('wilayah_boundaries') && attribution.includes('MIT'), attribution);
    assert.ok(attribution.includes('OpenStreetMap contributors') && attribution.includes('ODbL'), attribution);
    // The gap choropleth needs no command: `sample load` ran the default analysis; its date shows.
    const gap = await fetch(`${world.base}/ogc/collections/gap_kelurahan/items?f=json&limit=1`).then((x) => x.json());
    assert.equal(gap.numberMatched, 151);
    const asOf = gap.features[0].properties.as_of;
    const shown = new Intl.DateTimeFormat('id-ID', { dateStyle: 'medium' }).format(new Date(asOf));
    await page.waitForFunction((d) => document.querySelector('#panel [role=status]')?.textContent.includes(d), shown, { timeout: 10000 })
      .catch(() => {});
    const status = await page.evaluate(() => document.querySelector('#panel [role=status]')?.textContent ?? '');
    assert.ok(status.includes(`Analisis celah per ${shown}`), `the gap run's date ${shown} is shown: ${status}`);
    // Facilities: off by default, drawn from our tiles when switched on.
    const hospital = await fetch(`${world.base}/ogc/collections/facilities/items?f=json&category=hospital&limit=1`).then((x) => x.json());
    const [lon, lat] = hospital.features[0].geometry.coordinates;
    await page.evaluate(([x, y]) => window.sigap.map.jumpTo({ center: [x, y], zoom: 15 }), [lon, lat]);
    await page.check('input[name=showFacilities]');
    await settled(page);
    await page.waitForFunction(() => window.sigap.map.queryRenderedFeatures({ layers: ['facilities'] }).length > 0, null, { timeout: 10000 })
      .catch(() => {});
    const cats = await page.evaluate(() => [...new Set(window.sigap.map.queryRenderedFeatures({ layers: ['facilities'] }).map((f) => f.properties.category))]);
    assert.ok(cats.includes('hospital'), `facilities drawn around a hospital: ${cats}`);
    assert.ok((await page.textContent('.legend')).includes('Rumah sakit'));
    await context.close();
  });
});
