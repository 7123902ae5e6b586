// Builds map-ui/dist, which `sigap serve` serves at / (SIGAP_STATIC_DIR): copies src/ as it is
// (plain ES modules, no bundler), MapLibre's ES module build and the PMTiles reader from
// node_modules into dist/vendor,
// checks that every string key used exists in both i18n files, and prints the size budget.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import { iconPng } from './icons.mjs';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
const maplibre = join(root, 'node_modules', 'maplibre-gl', 'dist');
const JS_BUDGET_GZIP = 60 * 1024;

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}

// Strings: both languages carry the same keys, and every key the code names exists.
const langs = Object.fromEntries(['id', 'en'].map((l) => [l, JSON.parse(readFileSync(join(src, 'i18n', `${l}.json`), 'utf8'))]));
const missingEn = Object.keys(langs.id).filter((k) => !(k in langs.en));
const missingId = Object.keys(langs.en).filter((k) => !(k in langs.id));
if (missingEn.length || missingId.length) fail(`i18n keys differ: only in id ${missingEn}, only in en ${missingId}`);
const used = new Set();
for (const f of walk(src).filter((p) => /\.(js|html)$/.test(p))) {
  const text = readFileSync(f, 'utf8');
  for (const m of text.matchAll(/\bt\('([a-z_]+\.[a-z0-9_.]+)'/g)) used.add(m[1]);
  for (const m of text.matchAll(/data-i18n(?:-label|-title|-placeholder)?="([^"]+)"/g)) used.add(m[1]);
}
const unknown = [...used].filter((k) => !(k in langs.id));
if (unknown.length) fail(`i18n keys used but not defined: ${unknown.join(', ')}`);

if (!existsSync(join(maplibre, 'maplibre-gl.mjs'))) fail('maplibre-gl is not installed: run `npm ci` first');
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'vendor'), { recursive: true });
// The service worker is written to the root after hashing (its scope is '/').
cpSync(src, dist, { recursive: true, filter: (f) => f !== join(src, 'sw.js') });
mkdirSync(join(dist, 'icons'));
writeFileSync(join(dist, 'icons', 'icon-192.png'), iconPng(192));
writeFileSync(join(dist, 'icons', 'icon-512.png'), iconPng(512));
writeFileSync(join(dist, 'icons', 'icon-maskable-512.png'), iconPng(512, { maskable: true }));
// The main module loads its worker from the same directory (new URL(..., import.meta.url)).
for (const f of ['maplibre-gl.mjs', 'maplibre-gl-worker.mjs', 'maplibre-gl.css']) cpSync(join(maplibre, f), join(dist, 'vendor', f));
cpSync(join(root, 'node_modules', 'maplibre-gl', 'LICENSE.txt'), join(dist, 'vendor', 'maplibre-gl.LICENSE.txt'));
// The PMTiles reader (loaded only for a PMTiles basemap) imports fflate by its bare name, which a
// browser without a bundler cannot resolve: point it at the copy beside it.
const pmtiles = join(root, 'node_modules', 'pmtiles');
const pmtilesEsm = readFileSync(join(pmtiles, 'dist', 'esm', 'index.js'), 'utf8');
if (!/from\s*"fflate"/.test(pmtilesEsm)) fail('pmtiles no longer imports "fflate" as expected: check build.mjs');
writeFileSync(join(dist, 'vendor', 'pmtiles.mjs'), pmtilesEsm.replace(/from\s*"fflate"/g, 'from"./fflate.mjs"').replace(/\/\/# sourceMappingURL=.*$/m, ''));
cpSync(join(root, 'node_modules', 'fflate', 'esm', 'browser.js'), join(dist, 'vendor', 'fflate.mjs'));
cpSync(join(root, 'node_modules', 'fflate', 'LICENSE'), join(dist, 'vendor', 'fflate.LICENSE.txt'));

// What the first screen needs is announced up front, so the browser fetches it in parallel
// instead of discovering it import by import (first render time, docs/map.md): the shell
// (main.js and its static imports), the map with MapLibre, and the default view; other views
// load when shown (dynamic import). MapLibre's worker is not preloaded: it is asked for once the
// main module has arrived, which lets it come as a small delta against that module (below).
const ours = walk(join(dist, 'js'));
function staticGraph(roots) {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    if (!f.endsWith('.js')) return;
    for (const m of readFileSync(f, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s*'(\.{1,2}\/[^']+)'/gm)) visit(join(dirname(f), m[1]));
  };
  roots.forEach(visit);
  return [...seen];
}
const firstScreen = staticGraph(['js/main.js', 'js/map.js', 'js/views/coverage.js'].map((f) => join(dist, f)));
const missing = firstScreen.filter((f) => !existsSync(f));
if (missing.length) fail(`modules imported but missing: ${missing.join(', ')}`);
const preloads = firstScreen.map((f) => f.slice(dist.length + 1))
  .sort((x, y) => (x.startsWith('vendor/') ? -1 : y.startsWith('vendor/') ? 1 : x.localeCompare(y)))
  .map((f) => `<link rel="modulepreload" href="${f}">`).join('\n');
const indexPath = join(dist, 'index.html');
writeFileSync(indexPath, readFileSync(indexPath, 'utf8').replace('<!-- build: preloads -->', preloads));
// Content-hashed assets: everything but index.html moves under a/<hash of all of it>/, which the
// server sends with `Cache-Control: immutable` for a year; index.html (revalidated each visit)
// names the current directory, so a new build is picked up at once and an unchanged one is never
// fetched again. Modules import each other and load i18n relative to themselves, so the move
// changes nothing inside them.
const assetFiles = walk(dist).filter((f) => f !== indexPath).sort();
const digest = createHash('sha256');
for (const f of assetFiles) {
  digest.update(f.slice(dist.length));
  digest.update(readFileSync(f));
}
const assetDir = `a/${digest.digest('hex').slice(0, 12)}`;
mkdirSync(join(dist, assetDir), { recursive: true });
for (const n of readdirSync(dist)) {
  if (n !== 'index.html' && n !== 'a') renameSync(join(dist, n), join(dist, assetDir, n));
}
writeFileSync(indexPath, readFileSync(indexPath, 'utf8').replace(/(href|src)="(?!\/|#|https?:)([^"]+)"/g, `$1="${assetDir}/$2"`));
// The service worker at the root, not hashed (browsers revalidate it): it names this build's
// directory and the app shell it keeps offline (everything but the PMTiles reader, which only a
// PMTiles basemap loads, the licence texts, and MapLibre's worker, left to the HTTP cache: sw.js).
const shell = walk(join(dist, assetDir)).map((f) => f.slice(dist.length)).filter((f) => !/LICENSE|pmtiles|fflate|maplibre-gl-worker/.test(f)).sort();
const swPath = join(dist, 'sw.js');
writeFileSync(swPath, readFileSync(join(src, 'sw.js'), 'utf8')
  .replaceAll('__ASSET_DIR__', assetDir)
  .replace('__VERSION__', assetDir.slice(2))
  .replace('__SHELL__', JSON.stringify(shell)));
// Precompressed copies beside every text asset, at the highest levels (the server picks one by
// Accept-Encoding, so nothing is compressed per request).
let shipped = { raw: 0, br: 0 };
for (const f of walk(dist).filter((p) => /\.(m?js|css|json|html|txt)$/.test(p))) {
  const body = readFileSync(f);
  const br = brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } });
  writeFileSync(`${f}.br`, br);
  writeFileSync(`${f}.gz`, gzipSync(body, { level: 9 }));
  shipped = { raw: shipped.raw + body.length, br: shipped.br + br.length };
}
// MapLibre's worker (520 KB) repeats most of its main module (1.1 MB): sent as a delta against
// it, it moves about 30 KB instead of 119 KB as brotli. Compression Dictionary Transport (RFC
// 9842): the server marks the main module `Use-As-Dictionary` for the worker's path; a browser
// that kept it asks for the worker with `Available-Dictionary: <its SHA-256>` and gets this
// `dcz` copy (a zstd frame with the main module as its raw dictionary, after the dcz magic and
// the dictionary's hash), src/api/static_files.rs. Others get the brotli copy as before.
const vendorDir = join(dist, assetDir, 'vendor');
const dictionary = readFileSync(join(vendorDir, 'maplibre-gl.mjs'));
if (!dictionary.includes('maplibre-gl-worker.mjs')) fail('maplibre-gl.mjs no longer names maplibre-gl-worker.mjs: check the worker delta in build.mjs');
let delta = null;
try {
  delta = execFileSync('zstd', ['-q', '-19', '--patch-from', join(vendorDir, 'maplibre-gl.mjs'), '-c', join(vendorDir, 'maplibre-gl-worker.mjs')], { maxBuffer: 8 << 20 });
} catch (e) {
  console.warn(`build: no worker delta (zstd: ${e.code || e.message}); browsers get the brotli copy`);
}
if (delta) {
  const magic = Buffer.from([0x5e, 0x2a, 0x4d, 0x18, 0x20, 0x00, 0x00, 0x00]);
  writeFileSync(join(vendorDir, 'maplibre-gl-worker.mjs.dcz'), Buffer.concat([magic, createHash('sha256').update(dictionary).digest(), delta]));
}

// Our own JavaScript: the modules and the service worker.
const ownJs = [...ours.map((f) => join(dist, assetDir, f.slice(dist.length + 1))), swPath];
const raw = ownJs.reduce((n, f) => n + statSync(f).size, 0);
const gz = ownJs.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`build: ${ours.length} modules and a service worker of our own JavaScript, ${kb(raw)} raw, ${kb(gz)} gzipped (budget ${kb(JS_BUDGET_GZIP)}), ${used.size} i18n keys used`);
if (gz > JS_BUDGET_GZIP) fail('our own JavaScript is over its 60 KB gzipped budget');
console.log(`build: wrote ${dist} (assets under ${assetDir}/; text assets ${kb(shipped.raw)}, ${kb(shipped.br)} as brotli; MapLibre's worker ${delta ? kb(delta.length + 40) : 'not'} as a delta)`);
