// SIGAP's service worker, served from the site root (scope '/') and revalidated on every update
// check; build.mjs writes it to dist/sw.js with the current asset directory and file list. It keeps:
// - the app shell (index.html, our modules, i18n, the style, MapLibre, the manifest and icons) in
//   a cache named for the build, filled at install from the HTTP cache the first visit just filled;
// - the vector tiles the resident looked at, network first, at most TILE_BUDGET_BYTES (oldest
//   evicted), so the map the resident last saw still draws offline;
// - public JSON (TileJSON, /config.json, OGC items, the latest gap run), network first, at most
//   DATA_BUDGET_BYTES.
// It never caches /api (authenticated or per-user answers, the live event stream) beyond the one
// public gap summary, nor anything but GET. Sending the outbox lives in js/outbox.js.
import { flush, SYNC_TAG } from './__ASSET_DIR__/js/outbox.js';

const VERSION = '__VERSION__';
const ASSET_DIR = '/__ASSET_DIR__/';
const SHELL = __SHELL__;
const SHELL_CACHE = `sigap-shell-${VERSION}`;
const TILE_CACHE = 'sigap-tiles';
const DATA_CACHE = 'sigap-data';
// Storage budget, 30 MB in all (docs/map.md): the shell is about 2 MB (decoded), tiles at most
// 24 MB, public JSON at most 4 MB; past its budget a cache loses its oldest entries.
const TILE_BUDGET_BYTES = 24 * 1024 * 1024;
const DATA_BUDGET_BYTES = 4 * 1024 * 1024;
const TRIM_EVERY = 20;
const SIZE_HEADER = 'x-sigap-bytes';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // The page loaded these a moment ago, so they come from the HTTP cache, not the network.
    await cache.addAll(['/', ...SHELL]);
    // The new version takes over at once: the outbox lives in IndexedDB, which no version drops,
    // and every page names its own content-hashed assets.
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    // Older shells go, but only after this one is complete; tiles and data are kept.
    for (const name of await caches.keys()) {
      if (name.startsWith('sigap-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'version') event.source?.postMessage({ type: 'version', version: VERSION });
  if (event.data?.type === 'flush') event.waitUntil(flush().catch(() => null));
});

// Background Sync: the browser wakes us when the connection is back, even with no page open.
self.addEventListener('sync', (event) => {
  if (event.tag === SYNC_TAG) {
    event.waitUntil(flush().then((sent) => {
      // Still unreachable: a rejected promise asks the browser to try again later.
      if (sent.some((i) => i.offline || i.retry)) throw new Error('outbox not sent yet');
    }));
  }
});

const PUBLIC_JSON = [/^\/tiles\/[^/]+\.json$/, /^\/config\.json$/, /^\/ogc\//, /^\/api\/analysis\/gap\/latest$/];

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  // An event stream stays a live connection; nothing else under /api is cached either.
  if ((req.headers.get('accept') || '').includes('text/event-stream') || path.endsWith('/events')) return;
  if (req.mode === 'navigate') return event.respondWith(page(req));
  // MapLibre's worker script stays with the browser's HTTP cache (immutable for a year): Chromium
  // keeps a worker script where a service worker's fetch does not find it, so caching it here
  // would download it a second time, and as the full brotli copy (119 KB), not the 30 KB delta
  // the browser gets by itself (Compression Dictionary Transport, src/api/static_files.rs).
  if (req.destination === 'worker') return;
  if (path.startsWith('/a/')) return event.respondWith(asset(req));
  if (path.startsWith('/tiles/') && /\.(mvt|pbf|png|jpg|webp)$/.test(path)) return event.respondWith(tile(req));
  if (PUBLIC_JSON.some((re) => re.test(path))) return event.respondWith(networkFirst(req, DATA_CACHE));
});

function offline() {
  return new Response(JSON.stringify({ type: 'about:blank', title: 'Offline', status: 503, detail: 'Tidak ada koneksi / No connection' }), { status: 503, headers: { 'Content-Type': 'application/problem+json' } });
}

// Navigations: the network's index.html (it names the newest assets), else the cached shell.
async function page(req) {
  try {
    return await fetch(req);
  } catch {
    return (await caches.match('/', { cacheName: SHELL_CACHE })) || (await caches.match('/')) || offline();
  }
}

// Content-hashed assets never change: any cache that has one answers (whatever encoding the
// request would have asked for: the stored copy is decoded).
async function asset(req) {
  const hit = await caches.match(req, { ignoreVary: true, ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok && new URL(req.url).pathname.startsWith(ASSET_DIR)) {
    const cache = await caches.open(SHELL_CACHE);
    await cache.put(req, res.clone());
  }
  return res;
}

// Only a 200 is kept: an empty tile is a 204, which cannot be rebuilt with a body (and costs
// nothing to ask again).
function cacheable(res) {
  const cc = res.headers.get('cache-control') || '';
  return res.status === 200 && res.type === 'basic' && !/no-store|private/.test(cc);
}

const budgets = { [TILE_CACHE]: TILE_BUDGET_BYTES, [DATA_CACHE]: DATA_BUDGET_BYTES };
const putsSinceTrim = { [TILE_CACHE]: 0, [DATA_CACHE]: 0 };

/**
 * Stores `res` (decoded) in `cacheName` with its size in a header, so the budget is kept without
 * reading bodies; one copy per tile (a newer `?v=` replaces the older); every TRIM_EVERY stores
 * the oldest entries go until the rest fit the budget.
 */
async function store(cacheName, req, res) {
  const body = await res.arrayBuffer();
  const headers = new Headers(res.headers);
  headers.set(SIZE_HEADER, String(body.byteLength));
  // The stored copy is decoded: its encoding headers no longer apply.
  headers.delete('content-encoding');
  headers.delete('content-length');
  const stored = new Response(body, { status: res.status, statusText: res.statusText, headers });
  const cache = await caches.open(cacheName);
  for (const old of await cache.keys(req, { ignoreSearch: cacheName === TILE_CACHE })) await cache.delete(old);
  await cache.put(req, stored.clone());
  if (++putsSinceTrim[cacheName] >= TRIM_EVERY) {
    putsSinceTrim[cacheName] = 0;
    await trim(cacheName);
  }
  return stored;
}

async function networkFirst(req, cacheName) {
  try {
    const res = await fetch(req);
    return cacheable(res) ? await store(cacheName, req, res) : res;
  } catch {
    return (await caches.match(req, { cacheName })) || (await sameShape(req, cacheName)) || offline();
  }
}

// Offline, another query of the same path will do (another bbox or page), but only one with the
// same `skipGeometry`: a list without shapes must never stand in for shapes, nor the reverse.
async function sameShape(req, cacheName) {
  const skip = new URL(req.url).searchParams.get('skipGeometry') === 'true';
  const cache = await caches.open(cacheName);
  for (const key of await cache.keys(req, { ignoreSearch: true })) {
    if ((new URL(key.url).searchParams.get('skipGeometry') === 'true') === skip) return cache.match(key);
  }
  return undefined;
}

// Tiles: the network's (they change when proposals and coverage change); offline, any version of
// the same tile, or an empty one (nothing drawn there rather than an error).
async function tile(req) {
  let res;
  try {
    res = await fetch(req);
  } catch {
    return (await caches.match(req, { cacheName: TILE_CACHE, ignoreSearch: true })) || new Response(null, { status: 204 });
  }
  return cacheable(res) ? store(TILE_CACHE, req, res) : res;
}

/** Deletes the oldest entries until the rest fit the cache's budget (keys come in insertion order). */
async function trim(cacheName) {
  const cache = await caches.open(cacheName);
  const keys = await cache.keys();
  const sizes = [];
  for (const k of keys) {
    const r = await cache.match(k);
    sizes.push(Number(r?.headers.get(SIZE_HEADER)) || 0);
  }
  let total = sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; i < keys.length && total > budgets[cacheName]; i++) {
    await cache.delete(keys[i]);
    total -= sizes[i];
  }
}
