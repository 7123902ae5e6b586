// Following by email from the tracking page, in Chromium against the real server (no SMTP here:
// the confirmation waits in the outbox; tests/suite/follow.rs checks the mails themselves).
// The link `#usulan/KODE` (feeds, follower mails) opens the tracking page; "Ikuti" answers a bad
// address with the server's own message and marks the field, and a good one with the same
// message whether or not the address already follows.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { STAFF, atomFeedAt, login, openApp, screenshots, startWorld } from './harness.mjs';

let world;

before(async () => {
  world = await startWorld();
});
after(async () => {
  await world?.stop();
});

function sql(query) {
  return execFileSync('psql', ['-h', '/var/run/postgresql', '-d', world.db, '-tAc', query], { encoding: 'utf8' }).trim();
}

describe('follow by email', () => {
  test('the tracking page subscribes an address, and staff see the count', async () => {
    const res = await fetch(`${world.base}/api/proposals`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ lon: 107.6098, lat: -6.9147, category: 'penerangan_jalan', title: `Lampu jalan mati ${process.pid}`, description: 'Gelap setiap malam' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const created = await res.json();
    const code = created.tracking_code;

    const { context, page } = await openApp(world.browser, world.base, { hash: `#usulan/${code}` });
    await page.waitForSelector('#follow-form');
    assert.equal((await page.textContent('.prop-title')).trim(), `Lampu jalan mati ${process.pid}`);
    assert.equal(await page.inputValue('#follow-form [name=lang]'), 'id', 'the page language by default');
    // The same proposal as an Atom feed: the link gives a feed that parses and names it.
    const feed = await atomFeedAt(page, '#proposal-feed');
    assert.equal(feed.href, `/feeds/usulan/${code}.atom`);
    assert.equal(feed.linkType, 'application/atom+xml');
    assert.equal(feed.status, 200);
    assert.match(feed.contentType, /^application\/atom\+xml/);
    assert.ok(feed.parsed && feed.root === 'feed' && feed.ns === 'http://www.w3.org/2005/Atom', JSON.stringify(feed));
    assert.ok(feed.title.includes(code) && feed.title.includes(`Lampu jalan mati ${process.pid}`), feed.title);
    assert.ok(feed.entries.length >= 1 && feed.entries.every((e) => e.includes(`Lampu jalan mati ${process.pid}`)), JSON.stringify(feed.entries));
    assert.equal((await page.textContent('#proposal-feed')).trim(), 'Umpan Atom usulan ini');

    await page.fill('#follow-form [name=email]', 'bukan-email');
    await page.click('#follow-btn');
    await page.waitForSelector('#follow-msg.error');
    assert.match(await page.textContent('#follow-msg'), /email tidak valid/i);
    assert.equal(await page.getAttribute('#follow-form [name=email]', 'aria-invalid'), 'true');
    assert.equal(sql('SELECT count(*) FROM proposal_follower'), '0', 'a refused address is not stored');

    await page.fill('#follow-form [name=email]', 'warga.e2e@contoh.id');
    await page.selectOption('#follow-form [name=lang]', 'en');
    const sent = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith(`/api/proposals/${code}/followers`));
    await page.click('#follow-btn');
    assert.deepEqual(JSON.parse((await sent).postData()), { email: 'warga.e2e@contoh.id', lang: 'en' });
    await page.waitForSelector('#follow-msg.ok');
    const first = await page.textContent('#follow-msg');
    assert.match(first, /email konfirmasi/);
    assert.equal(await page.getAttribute('#follow-form [name=email]', 'aria-invalid'), null);
    await page.screenshot({ path: join(screenshots, 'ikuti.png') });

    // The same address again: the same words (the page never tells who already follows).
    await page.fill('#follow-form [name=email]', 'warga.e2e@contoh.id');
    await page.click('#follow-btn');
    await page.waitForFunction((t) => document.querySelector('#follow-msg.ok')?.textContent === t, first);
    assert.equal(sql("SELECT count(*) || ' ' || min(lang) FROM proposal_follower"), '1 en');
    assert.equal(sql("SELECT count(*) FROM mail_outbox WHERE kind = 'confirm' AND sent_at IS NULL"), '1', 'held without SMTP');
    // No script error (answers such as the 422 above are logged by the browser, not errors).
    assert.deepEqual(page.errors.filter((e) => !e.startsWith('Failed to load resource')), []);
    await context.close();

    // A moderator sees how many follow (confirmed ones), never who.
    sql('UPDATE proposal_follower SET confirmed_at = now()');
    const mod = await openApp(world.browser, world.base);
    await login(mod.page, STAFF.moderator);
    await mod.page.click('#nav-moderasi');
    await mod.page.click(`#mod-queue button[data-id="${created.id}"]`);
    await mod.page.waitForSelector('#mod-followers');
    assert.equal((await mod.page.textContent('#mod-followers')).trim(), 'Pengikut email: 1');
    assert.ok(!(await mod.page.content()).includes('warga.e2e'), 'no address on the page');
    await mod.context.close();
  });
});
