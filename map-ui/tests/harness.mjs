// The browser tests' world: a fresh database with the Bandung sample and staff accounts, the real
// `sigap serve` on a free port serving dist/, and Debian's Chromium driven by playwright-core.
// Everything is torn down (server stopped, database dropped) when the tests end. The server draws
// no basemap unless a test names one: no test reaches past this machine.
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const uiRoot = resolve(here, '..');
export const repoRoot = resolve(uiRoot, '..');
export const screenshots = join(repoRoot, 'docs', 'screenshots');
const sigapBin = join(repoRoot, 'target', 'debug', 'sigap');
const socket = '/var/run/postgresql';

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

function psql(sql) {
  execFileSync('psql', ['-h', socket, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** Runs the sigap CLI against the test database; `input` goes to its stdin. */
function sigap(env, args, input) {
  return execFileSync(sigapBin, args, { env, input, cwd: repoRoot, encoding: 'utf8', stdio: ['pipe', 'pipe', 'inherit'] });
}

export const STAFF = {
  moderator: { username: 'e2e_moderator', password: 'moderator-e2e-pass-1', role: 'moderator' },
  official: { username: 'e2e_official', password: 'official-e2e-pass-1', role: 'official' },
  planner: { username: 'e2e_planner', password: 'planner-e2e-pass-1', role: 'planner' },
  // Staff of a sample partner (trusted, as every imported partner is).
  mitra: { username: 'e2e_mitra', password: 'mitra-e2e-pass-1', role: 'mitra', partner: 'diskopukm' },
};

/** `env` adds to or overrides the server's environment (e.g. a basemap for the basemap tests). */
export async function startWorld({ env: extraEnv = {} } = {}) {
  const db = `sigap_e2e_${process.pid}`;
  psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  psql(`CREATE DATABASE ${db}`);
  const port = await freePort();
  const env = { ...process.env, DATABASE_URL: `dbname=${db} host=${socket}`, SIGAP_ADDR: `127.0.0.1:${port}`, SIGAP_STATIC_DIR: join(uiRoot, 'dist'), SIGAP_LOG: 'warn', SIGAP_BASEMAP_TILES: 'none', ...extraEnv };
  let server;
  let browser;
  const stop = async () => {
    await browser?.close().catch(() => {});
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  };
  try {
    sigap(env, ['migrate']);
    sigap(env, ['sample', 'load', '--dir', process.env.SIGAP_SAMPLE_DIR || join(repoRoot, 'sample-layers')]);
    // `sample load` ends with the default gap run (choropleth, cells, the panel's gap components).
    for (const u of Object.values(STAFF)) {
      const partner = u.partner ? ['--partner', u.partner] : [];
      sigap(env, ['user', 'add', '--role', u.role, ...partner, '--password-stdin', u.username], `${u.password}\n`);
    }
    server = spawn(sigapBin, ['serve'], { env, cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(base, server);
    browser = await chromium.launch({ executablePath: process.env.SIGAP_CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS });
    mkdirSync(screenshots, { recursive: true });
    return { base, browser, db, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Waits until /readyz answers 200 (the server is listening and migrated), or the server dies. */
async function waitReady(base, server) {
  let died = null;
  server.once('exit', (code) => { died = code; });
  for (;;) {
    if (died !== null) throw new Error(`sigap serve exited with ${died}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A page on the app, with console errors collected for the assertions' messages. `query` adds URL
 * parameters; `setup(context, page)` runs before the page opens (e.g. to route requests).
 */
export async function openApp(browser, base, { viewport = { width: 1280, height: 800 }, hash = '', lang, query = {}, setup } = {}) {
  const context = await browser.newContext({ viewport, locale: 'id-ID' });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await setup?.(context, page);
  const params = new URLSearchParams({ ...(lang ? { lang } : {}), ...query }).toString();
  await page.goto(`${base}/${params ? `?${params}` : ''}${hash}`);
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: 30000 });
  return { context, page };
}

/** Logs in through the app's own dialog. */
export async function login(page, { username, password }) {
  await page.click('#auth-btn');
  await page.fill('#auth-form [name=username]', username);
  await page.fill('#auth-form [name=password]', password);
  await page.click('#auth-submit');
  await page.waitForFunction((u) => window.sigap.user?.username === u, username);
}

/** A screen pixel (page coordinates) over a rendered kelurahan, near the map's centre. */
export async function pixelOverKelurahan(page) {
  return page.evaluate(() => {
    const map = window.sigap.map;
    const c = map.getCanvas();
    const r = c.getBoundingClientRect();
    const w = c.clientWidth;
    const hgt = c.clientHeight;
    for (let ring = 0; ring < 20; ring++) {
      for (let k = 0; k < 8; k++) {
        const a = (k / 8) * 2 * Math.PI;
        const x = w / 2 + Math.cos(a) * ring * 12;
        const y = hgt / 2 + Math.sin(a) * ring * 12;
        const f = map.queryRenderedFeatures([x, y], { layers: ['kel-fill'] });
        if (f.length) return { x: r.left + x, y: r.top + y, code: f[0].properties.code };
      }
    }
    return null;
  });
}

/** Distinct values of `prop` among the features drawn in map layer `layer`, as sorted strings. */
export function rendered(page, layer, prop) {
  return page.evaluate(([l, p]) => [...new Set(window.sigap.map.queryRenderedFeatures({ layers: [l] })
    .map((f) => String(f.properties[p])))].sort(), [layer, prop]);
}

/** Waits (up to 10 s) until `rendered(page, layer, prop)` equals `want`, then returns what is drawn. */
export async function renderedWhenSettled(page, layer, prop, want) {
  await page.waitForFunction(([l, p, w]) => JSON.stringify([...new Set(window.sigap.map.queryRenderedFeatures({ layers: [l] })
    .map((f) => String(f.properties[p])))].sort()) === w, [layer, prop, JSON.stringify(want)], { timeout: 10000 }).catch(() => {});
  return rendered(page, layer, prop);
}

/** Waits until the map has loaded its style and tiles and stands still. */
export function settled(page) {
  return page.waitForFunction(() => {
    const m = window.sigap.map;
    return m.loaded() && m.areTilesLoaded() && !m.isMoving();
  });
}

/**
 * Follows the feed link `selector` on the page: fetches it as the page would and parses it with
 * the browser's XML parser. Returns the link's type, the response's content type, whether it
 * parsed, the root's name and namespace, the feed's title and its entries' titles.
 */
export async function atomFeedAt(page, selector) {
  return page.evaluate(async (sel) => {
    const a = document.querySelector(sel);
    const res = await fetch(a.href);
    const doc = new DOMParser().parseFromString(await res.text(), 'application/xml');
    const root = doc.documentElement;
    const ATOM = 'http://www.w3.org/2005/Atom';
    const child = (el, name) => [...el.children].find((c) => c.namespaceURI === ATOM && c.localName === name);
    return {
      href: a.getAttribute('href'),
      linkType: a.type,
      status: res.status,
      contentType: res.headers.get('content-type'),
      parsed: doc.getElementsByTagName('parsererror').length === 0,
      root: root.localName,
      ns: root.namespaceURI,
      title: child(root, 'title')?.textContent ?? null,
      entries: [...root.children].filter((c) => c.namespaceURI === ATOM && c.localName === 'entry').map((e) => child(e, 'title')?.textContent ?? ''),
    };
  }, selector);
}
