// Installable and offline: the Usulan Warga view opens without a connection from what the service
// worker kept (app shell, style, tiles), a proposal pinned offline with a photo waits in the
// IndexedDB outbox and arrives exactly once, with its photo made small on the phone, when the
// connection returns; a waiting item the resident deletes is never sent; and a new service worker
// version keeps what is waiting. Checked through the API. The server serves a copy of dist/, so
// the update test can publish a new service worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STAFF, openApp, pixelOverKelurahan, settled, startWorld, uiRoot } from './harness.mjs';

let world;
let staticDir;
before(async () => {
  staticDir = mkdtempSync(join(tmpdir(), 'sigap-pwa-'));
  cpSync(join(uiRoot, 'dist'), staticDir, { recursive: true });
  world = await startWorld({ env: { SIGAP_STATIC_DIR: staticDir } });
});
after(async () => {
  await world?.stop();
  if (staticDir) rmSync(staticDir, { recursive: true, force: true });
});

/** Runs `fn(request)` with a moderator's session (a new proposal and its photo are not public yet). */
async function asModerator(fn) {
  const ctx = await world.browser.newContext();
  try {
    const login = await ctx.request.post(`${world.base}/api/auth/login`, { data: { username: STAFF.moderator.username, password: STAFF.moderator.password } });
    assert.equal(login.status(), 200);
    return await fn(ctx.request);
  } finally {
    await ctx.close();
  }
}

/** The proposals (any status) a moderator sees with this title, through the API. */
async function proposalsTitled(title) {
  return asModerator(async (request) => {
    const q = await request.get(`${world.base}/api/moderation/queue`);
    assert.equal(q.status(), 200, await q.text());
    const body = await q.json();
    const list = Array.isArray(body) ? body : (body.proposals || body.items || body.features || []);
    return list.filter((p) => (p.title ?? p.properties?.title) === title);
  });
}

/** The version the controlling service worker says it is. */
function swVersion(page) {
  return page.evaluate(() => new Promise((resolve) => {
    navigator.serviceWorker.addEventListener('message', (e) => { if (e.data?.type === 'version') resolve(e.data.version); }, { once: true });
    navigator.serviceWorker.controller.postMessage({ type: 'version' });
  }));
}

/** Opens the app on the proposals view and waits until the service worker controls the page. */
async function openControlled() {
  const opened = await openApp(world.browser, world.base, { viewport: { width: 360, height: 640 }, hash: '#usulan' });
  await opened.page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 30000 });
  return opened;
}

async function reloadReady(page) {
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
}

/** Pins a point over a kelurahan and fills the form. */
async function pinAndDescribe(page, title) {
  await page.click('#pin-btn');
  const at = await pixelOverKelurahan(page);
  assert.ok(at, 'a kelurahan is drawn to pin on');
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('#proposal-form:not([hidden])');
  await page.selectOption('#proposal-form [name=category]', 'drainase');
  await page.fill('#proposal-form [name=title]', title);
  await page.fill('#proposal-form [name=description]', 'Saluran tersumbat sampah, air meluap ke jalan setiap hujan.');
}

/** A 3200×2400 JPEG of noise (large and hard to compress) carrying an EXIF segment with a GPS tag. */
async function bigPhotoWithExif(page) {
  const bytes = await page.evaluate(async () => {
    const c = new OffscreenCanvas(3200, 2400);
    const ctx = c.getContext('2d');
    const img = ctx.createImageData(3200, 2400);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 2654435761) >>> 24;
    ctx.putImageData(img, 0, 0);
    const blob = await c.convertToBlob({ type: 'image/jpeg', quality: 0.95 });
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  const jpeg = Buffer.from(bytes);
  // APP1 "Exif\0\0" with a little-endian TIFF header and one IFD entry (GPSInfo pointer, 0x8825).
  const tiff = Buffer.from([0x49, 0x49, 0x2a, 0x00, 0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x25, 0x88, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}

/** The outbox's items as the page's own module reads them (photo as size and bytes' traits). */
function outboxItems(page) {
  return page.evaluate(async () => {
    const main = document.querySelector('script[type=module]').src;
    const ob = await import(new URL('outbox.js', main).href);
    return Promise.all((await ob.list()).map(async (i) => {
      let photo = null;
      if (i.photo) {
        const b = new Uint8Array(await i.photo.arrayBuffer());
        const bmp = await createImageBitmap(i.photo);
        photo = { bytes: b.length, type: i.photo.type, width: bmp.width, height: bmp.height, exif: new TextDecoder('latin1').decode(b).includes('Exif\0') };
      }
      return { key: i.key, state: i.state, title: i.fields.title, tracking_code: i.tracking_code, photo };
    }));
  });
}

describe('offline (PWA)', () => {
  test('pinned offline with a photo, the proposal arrives exactly once with its photo when back online', async () => {
    const { context, page } = await openControlled();
    // Once controlled, a reload lets the service worker keep the tiles the resident looks at.
    await reloadReady(page);
    await settled(page);
    const photo = await bigPhotoWithExif(page);
    assert.ok(photo.length > 400 * 1024, `the test photo is big (${photo.length} B)`);

    await context.setOffline(true);
    // The app opens offline, on the proposals view, and draws the cached map.
    await reloadReady(page);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    await settled(page);
    const drawn = await page.evaluate(() => window.sigap.map.queryRenderedFeatures({ layers: ['kel-fill'] }).length);
    assert.ok(drawn > 0, `the cached tiles draw kelurahan offline: ${page.errors}`);
    assert.ok(await page.isVisible('#pin-btn'));

    const title = `Banjir di gang luring ${process.pid}`;
    await pinAndDescribe(page, title);
    await page.setInputFiles('#proposal-form [name=photo]', { name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo });
    await page.click('#send-btn');
    await page.waitForSelector('#outbox .outbox-waiting');
    assert.match(await page.textContent('#outbox .outbox-waiting'), /Menunggu/);
    const [queued] = await outboxItems(page);
    assert.equal(queued.state, 'waiting');
    assert.ok(queued.photo.bytes <= 400 * 1024, `photo ${queued.photo.bytes} B`);
    assert.ok(Math.max(queued.photo.width, queued.photo.height) <= 1600, `photo ${queued.photo.width}×${queued.photo.height}`);
    assert.equal(queued.photo.type, 'image/jpeg');
    assert.equal(queued.photo.exif, false, 'no EXIF left in the resized photo');
    assert.equal((await proposalsTitled(title)).length, 0, 'nothing reached the server while offline');

    // Back online: the `online` event (or Background Sync) sends it.
    await context.setOffline(false);
    await page.waitForSelector('#outbox .outbox-sent', { timeout: 30000 });
    const code = (await page.textContent('#outbox .outbox-sent .code')).trim();
    assert.match(code, /\S{4,}/);
    assert.match(await page.textContent('#outbox .outbox-sent'), /Terkirim/);

    // Another chance to send (a reopen) sends nothing more.
    await reloadReady(page);
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    const found = await proposalsTitled(title);
    assert.equal(found.length, 1, 'exactly one proposal');
    const tracked = await fetch(`${world.base}/api/proposals/track/${encodeURIComponent(code)}`).then((r) => r.json());
    assert.equal(tracked.title, title);
    assert.ok(tracked.photo_url, 'the proposal has its photo');
    const stored = await asModerator(async (request) => {
      const img = await request.get(`${world.base}${tracked.photo_url}`);
      assert.equal(img.status(), 200);
      return img.body();
    });
    // Its size as stored shows the phone resized it (the server re-encodes but never resizes).
    const dims = await page.evaluate(async (b) => {
      const bmp = await createImageBitmap(new Blob([new Uint8Array(b)]));
      return [bmp.width, bmp.height];
    }, Array.from(stored));
    assert.ok(Math.max(...dims) <= 1600 && Math.max(...dims) >= 800, `stored photo ${dims.join('×')}`);
    await context.close();
  });

  test('a new service worker version keeps the outbox, and the waiting item is sent once', async () => {
    const { context, page } = await openControlled();
    const v1 = await swVersion(page);
    // The server cannot be reached for submissions: the proposal waits in the outbox.
    const block = (route) => (route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.fallback());
    await context.route('**/api/proposals', block);
    await page.route('**/api/proposals', block);
    const title = `Lampu jalan mati menunggu pembaruan ${process.pid}`;
    await pinAndDescribe(page, title);
    await page.click('#send-btn');
    await page.waitForSelector('#outbox .outbox-waiting');
    const [before] = await outboxItems(page);
    assert.equal(before.state, 'waiting');
    // A second one the resident thinks better of: deleting a waiting item means it is never sent.
    const dropped = `Usulan yang dihapus ${process.pid}`;
    await pinAndDescribe(page, dropped);
    await page.click('#send-btn');
    await page.waitForFunction(() => document.querySelectorAll('#outbox .outbox-waiting').length === 2);
    await page.click(`#outbox li:has-text("${dropped}") button`);
    await page.waitForFunction(() => document.querySelectorAll('#outbox .outbox-waiting').length === 1);
    assert.deepEqual((await outboxItems(page)).map((i) => i.title), [title]);

    // A new version of the app publishes a new service worker.
    const sw = join(staticDir, 'sw.js');
    writeFileSync(sw, readFileSync(sw, 'utf8').replace(`const VERSION = '${v1}'`, `const VERSION = '${v1}-2'`));
    rmSync(`${sw}.br`, { force: true });
    rmSync(`${sw}.gz`, { force: true });
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      const changed = new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      await reg.update();
      await changed;
    });
    assert.equal(await swVersion(page), `${v1}-2`, 'the new service worker controls the page');
    // Its activation drops the old shell (and only that).
    await page.waitForFunction((v) => caches.keys().then((k) => k.includes(`sigap-shell-${v}-2`) && !k.includes(`sigap-shell-${v}`)), v1, { timeout: 30000 });

    // The outbox survived the update, on screen and in IndexedDB.
    await reloadReady(page);
    await page.waitForSelector('#outbox .outbox-waiting');
    assert.deepEqual((await outboxItems(page)).map((i) => [i.key, i.state]), [[before.key, 'waiting']]);
    assert.equal((await proposalsTitled(title)).length, 0);

    // The connection is back: the next open sends it, once.
    await context.unroute('**/api/proposals', block);
    await page.unroute('**/api/proposals', block);
    await reloadReady(page);
    await page.waitForSelector('#outbox .outbox-sent', { timeout: 30000 });
    assert.equal((await proposalsTitled(title)).length, 1, 'exactly one proposal');
    assert.equal((await proposalsTitled(dropped)).length, 0, 'the deleted one was never sent');
    await context.close();
  });
});
