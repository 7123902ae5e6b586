// Program Mitra in the browser: a partner's staff creates a program, draws a coverage polygon on
// the real map, uploads a file with a rejected feature and reads the per-feature report before
// confirming, edits a coverage period's dates, enters a progress report and sees reach against
// plan; a planner sees the follow-up list; the printable kelurahan profile, printed to PDF by the
// browser, says what was entered (checked with pdftotext). Screenshots for docs/partners.md.
// Run: cargo build && cd map-ui && npm run build && node --test tests/partners.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAFF, login, openApp, pixelOverKelurahan, screenshots, settled, startWorld } from './harness.mjs';

let world;
const code = `mitra-e2e-${process.pid}`;
const name = `Pelatihan usaha e2e ${process.pid}`;
// Carried from the report to the profile.
let reportedKelurahan = null;

before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

/** The coverage features of the program, as the API returns them to the signed-in page. */
function coverageOf(page) {
  return page.evaluate(async (c) => (await (await fetch(`/api/coverage?program=${c}`)).json()).features, code);
}

describe('program mitra', () => {
  test('a partner creates a program, draws and uploads coverage, and reports progress', async () => {
    const { context, page } = await openApp(world.browser, world.base, { viewport: { width: 1400, height: 900 } });
    await login(page, STAFF.mitra);
    await page.evaluate(() => { location.hash = 'mitra'; });
    await page.waitForSelector('#mitra-new-program');

    // A new program.
    await page.click('#mitra-new-program');
    await page.fill('#program-form [name=name]', name);
    await page.fill('#program-form [name=code]', code);
    await page.selectOption('#program-form [name=type]', 'pelatihan_kerja');
    await page.fill('#program-form [name=start_date]', '2025-01-01');
    await page.fill('#program-form [name=end_date]', '2025-06-30');
    await page.fill('#program-form [name=planned_beneficiaries]', '120');
    await page.click('#program-save');
    await page.waitForSelector(`#mitra-programs li.selected button[data-code="${code}"]`);
    await page.waitForSelector('#draw-start');

    // Draw a polygon: four clicks around a kelurahan near the map's centre.
    await settled(page);
    const at = await pixelOverKelurahan(page);
    assert.ok(at, 'a kelurahan is on screen');
    await page.click('#draw-start');
    for (const [dx, dy] of [[-40, -30], [40, -30], [40, 30], [-40, 30]]) await page.mouse.click(at.x + dx, at.y + dy);
    assert.match(await page.textContent('#draw-count'), /4/);
    await page.fill('#cov-code', `${code}-gambar`);
    await page.click('#draw-save');
    await page.waitForSelector(`#coverage-list li[data-code="${code}-gambar"]`);
    const drawn = await coverageOf(page);
    assert.equal(drawn.length, 1);
    assert.equal(drawn[0].properties.approved, true, 'a trusted partner publishes at once');
    assert.ok(drawn[0].properties.area_km2 > 0);
    // The drawn polygon holds the kelurahan point the clicks surrounded.
    const inside = await page.evaluate(([p, f]) => {
      const [lon, lat] = window.sigap.map.unproject([p.x - window.sigap.map.getCanvas().getBoundingClientRect().left, p.y - window.sigap.map.getCanvas().getBoundingClientRect().top]).toArray();
      const ring = f.geometry.coordinates[0][0];
      let c = false;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) c = !c;
      }
      return c;
    }, [at, drawn[0]]);
    assert.ok(inside, 'the saved polygon is where it was drawn');

    // Upload a file with one good feature and one outside the region: the report comes first.
    const [lon, lat] = drawn[0].geometry.coordinates[0][0][0];
    const sq = (x, y, d) => ({ type: 'Polygon', coordinates: [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]] });
    const file = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: `${code}-berkas` }, geometry: sq(lon + 0.01, lat, 0.004) },
        { type: 'Feature', properties: { code: `${code}-jakarta` }, geometry: sq(106.8, -6.2, 0.01) },
      ],
    };
    await page.setInputFiles('#upload-file', { name: 'cakupan.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) });
    await page.click('#upload-check');
    await page.waitForSelector('#upload-summary');
    assert.match(await page.textContent('#upload-summary'), /2.*1.*1/);
    const rejected = await page.$$eval('#upload-report tr.rejected', (rows) => rows.map((r) => r.textContent));
    assert.equal(rejected.length, 1);
    assert.match(rejected[0], /^2.*outside the region/);
    assert.equal((await coverageOf(page)).length, 1, 'the preview wrote nothing');
    // The screenshot: the drawn polygon on the map, the file's report beside it.
    await page.evaluate(() => document.querySelector('#upload-report').scrollIntoView({ block: 'center' }));
    await settled(page);
    await page.screenshot({ path: join(screenshots, 'program-mitra.png') });
    await page.click('#upload-confirm');
    await page.waitForSelector('#upload-done');
    const codes = (await coverageOf(page)).map((f) => f.properties.code).sort();
    assert.deepEqual(codes, [`${code}-berkas`, `${code}-gambar`]);

    // Edit the dates of a coverage period.
    const item = `#coverage-list li[data-code="${code}-berkas"]`;
    await page.fill(`${item} [name=valid_from]`, '2025-02-01');
    await page.fill(`${item} [name=valid_to]`, '2025-05-31');
    await page.click(`${item} .save-dates`);
    await page.waitForFunction(async (c) => {
      const f = await (await fetch(`/api/coverage/${c}`)).json();
      return f.properties.valid_from === '2025-02-01' && f.properties.valid_to === '2025-05-31';
    }, `${code}-berkas`);

    // A progress report for the kelurahan the polygon was drawn in.
    reportedKelurahan = at.code;
    await page.selectOption('#progress-form [name=kelurahan_code]', at.code);
    await page.selectOption('#progress-form [name=period]', 'quarter');
    await page.fill('#progress-form [name=period_month]', '2025-05');
    await page.fill('#progress-form [name=participants]', '48');
    await page.fill('#progress-form [name=participants_women]', '30');
    await page.fill('#progress-form [name=ukm_assisted]', '12');
    await page.fill('#progress-form [name=mentoring_sessions]', '0');
    await page.click('#progress-save');
    await page.waitForSelector('#progress-list li[data-id]');
    const report = await page.evaluate(async (c) => (await (await fetch(`/api/progress?program=${c}`)).json()).reports, code);
    assert.equal(report.length, 1);
    assert.equal(report[0].period_start, '2025-04-01', 'a quarter starts on its first day');
    assert.equal(report[0].participants, 48);
    assert.equal(report[0].participants_women, 30);
    // Reach against plan: 48 of 120 on this program's row.
    await page.waitForFunction((n) => [...document.querySelectorAll('#reach-table tr')].some((r) => r.textContent.includes(n) && r.textContent.includes('40')), name);

    // A bad report names the field, in the user's language.
    await page.fill('#progress-form [name=participants]', '5');
    await page.fill('#progress-form [name=participants_women]', '9');
    await page.fill('#progress-form [name=period_month]', '2025-07');
    await page.click('#progress-save');
    await page.waitForFunction(() => document.querySelector('#progress-error').textContent.length > 0);
    assert.match(await page.textContent('#progress-error'), /participants_women|perempuan/i);

    assert.deepEqual(page.errors.filter((e) => !/status of 4\d\d/.test(e)), []);
    await context.close();
  });

  test('a planner picks any partner and sees the follow-up list', async () => {
    const { context, page } = await openApp(world.browser, world.base);
    await login(page, STAFF.planner);
    await page.evaluate(() => { location.hash = 'mitra'; });
    await page.waitForSelector('#mitra-partner');
    await page.waitForSelector('#mitra-followup h3');
    // The sample's trainings that ended without mentoring are listed, each with its partner.
    const followup = await page.evaluate(async () => (await (await fetch('/api/followup')).json()).programs.length);
    const shown = await page.$$eval('#followup-list li', (li) => li.length).catch(() => 0);
    assert.equal(shown, followup);
    await page.selectOption('#mitra-partner', 'diskopukm');
    await page.waitForSelector(`#mitra-programs button[data-code="${code}"]`);
    await context.close();
  });

  test('the kelurahan profile prints to PDF and says what was entered', async () => {
    assert.ok(reportedKelurahan, 'the first test reported in a kelurahan');
    const { context, page } = await openApp(world.browser, world.base, { viewport: { width: 900, height: 1200 } });
    await page.goto(`${world.base}/profil/kelurahan/${reportedKelurahan}`);
    await page.waitForSelector('h1');
    const title = await page.textContent('h1');
    assert.match(title, /^Profil Kelurahan /);
    await page.screenshot({ path: join(screenshots, 'profil-kelurahan.png'), fullPage: false });
    await page.emulateMedia({ media: 'print' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
    assert.equal(pdf.subarray(0, 4).toString(), '%PDF');
    const dir = mkdtempSync(join(tmpdir(), 'sigap-profil-'));
    const file = join(dir, 'profil.pdf');
    writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' }).split(/\s+/).join(' ');
    assert.ok(text.includes(title.trim()), `the title in:\n${text}`);
    assert.ok(text.includes(name), 'the program entered in the browser');
    assert.ok(text.includes('Dinas Koperasi dan UKM'), 'its partner');
    assert.ok(text.includes('Skor kesenjangan'), 'the gap score section');
    assert.ok(text.includes('Tindak lanjut'), 'the follow-up section');
    const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
    assert.match(info, /\(A4\)/);
    await context.close();
  });
});
