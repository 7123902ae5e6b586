// The basemap under SIGAP's layers, as the server's /config.json names it (SIGAP_BASEMAP_*), or
// ?basemap=… for a try-out (what SIGAP_BASEMAP_TILES takes, or a style URL): raster XYZ tiles, a PMTiles archive
// read with the PMTiles protocol (its reader is loaded only then), or a MapLibre style. A basemap
// that cannot load never stops the map: it is left out or stays empty, and one quiet line says so.
import { t } from './i18n.js';

const NONE = { sources: {}, layers: [], style: {}, attribution: [], failed: false };
const RASTER_MAXZOOM = 19;
let protocol = null;

async function serverConfig() {
  try {
    // Preloaded by index.html; the server marks it no-cache, so it is never stale.
    const r = await fetch('/config.json');
    return r.ok ? await r.json() : {};
  } catch {
    return {};
  }
}

// ?basemap=none | pmtiles://NAME | pmtiles://URL | a {z}/{x}/{y} raster template | a style URL.
function fromQuery(q) {
  if (q === 'none') return null;
  if (q.startsWith('pmtiles://')) {
    const rest = q.slice('pmtiles://'.length);
    return { type: 'pmtiles', url: rest.includes('://') ? rest : `/basemap/${rest.replace(/\.pmtiles$/, '')}.pmtiles` };
  }
  return q.includes('{z}') ? { type: 'raster', tiles: q } : { type: 'style', url: q };
}

function raster(tiles, attribution) {
  return {
    ...NONE,
    sources: { basemap: { type: 'raster', tiles: [tiles], tileSize: 256, maxzoom: RASTER_MAXZOOM, attribution } },
    layers: [{ id: 'basemap', type: 'raster', source: 'basemap' }],
  };
}

// An archive of vector tiles comes with no style of its own: each of its layers is drawn plainly,
// water blue, green areas green, roads white, everything else in quiet greys.
function plainLayers(id) {
  const src = { source: 'basemap', 'source-layer': id };
  const water = /water|ocean|river|lake/i.test(id);
  const green = /park|green|wood|forest|landcover|landuse/i.test(id);
  const road = /road|street|highway|transport/i.test(id);
  const out = [];
  if (!road) out.push({ id: `basemap-${id}-fill`, type: 'fill', ...src, paint: { 'fill-color': water ? '#aad3df' : green ? '#dfe9d2' : '#ebe7df' } });
  out.push({
    id: `basemap-${id}-line`,
    type: 'line',
    ...src,
    paint: road
      ? { 'line-color': '#ffffff', 'line-width': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 16, 6] }
      : { 'line-color': water ? '#8fc1d4' : '#c8c2b6', 'line-width': 0.6 },
  });
  return out;
}

/** Registers the pmtiles:// protocol once, loading the reader on first use. */
async function pmtilesProtocol(maplibregl) {
  const mod = await import('../vendor/pmtiles.mjs');
  if (!protocol) {
    protocol = new mod.Protocol();
    maplibregl.addProtocol('pmtiles', protocol.tile);
  }
  return mod;
}

async function pmtiles(maplibregl, url, attribution) {
  const { PMTiles } = await pmtilesProtocol(maplibregl);
  const archive = new PMTiles(url);
  protocol.add(archive);
  const h = await archive.getHeader();
  // Tiles straight from the archive (not its TileJSON), so the attribution here is the one shown.
  const src = { tiles: [`pmtiles://${url}/{z}/{x}/{y}`], minzoom: h.minZoom, maxzoom: h.maxZoom, attribution };
  if (h.minLon < h.maxLon && h.minLat < h.maxLat) src.bounds = [h.minLon, h.minLat, h.maxLon, h.maxLat];
  if (h.tileType === 1) {
    const meta = await archive.getMetadata().catch(() => ({}));
    const ids = (meta?.vector_layers || []).map((l) => l.id).filter(Boolean);
    return { ...NONE, sources: { basemap: { type: 'vector', ...src } }, layers: ids.flatMap(plainLayers) };
  }
  return { ...NONE, sources: { basemap: { type: 'raster', tileSize: 256, ...src } }, layers: [{ id: 'basemap', type: 'raster', source: 'basemap' }] };
}

// A relative URL in a style is relative to the style; `{z}` and friends must survive resolving.
function resolve(u, base) {
  if (typeof u !== 'string' || /^[a-z][a-z0-9+.-]*:/i.test(u)) return u;
  return new URL(u, base).href.replace(/%7B/gi, '{').replace(/%7D/gi, '}');
}

async function style(maplibregl, url, attribution) {
  const base = new URL(url, location.href).href;
  const res = await fetch(base);
  if (!res.ok) throw new Error(`basemap style: HTTP ${res.status}`);
  const s = await res.json();
  const name = (id) => `basemap-${id}`;
  const sources = {};
  for (const [id, src] of Object.entries(s.sources || {})) {
    const copy = { ...src };
    if (copy.url) copy.url = resolve(copy.url, base);
    if (Array.isArray(copy.tiles)) copy.tiles = copy.tiles.map((u) => resolve(u, base));
    sources[name(id)] = copy;
  }
  // A style of a self-hosted archive names it as pmtiles://https://…/basemap/NAME.pmtiles.
  if (Object.values(sources).some((src) => [src.url, ...(src.tiles || [])].some((u) => String(u).startsWith('pmtiles://')))) await pmtilesProtocol(maplibregl);
  const layers = (s.layers || []).map((l) => (l.source ? { ...l, id: name(l.id), source: name(l.source) } : { ...l, id: name(l.id) }));
  const extra = {};
  if (s.glyphs) extra.glyphs = resolve(s.glyphs, base);
  if (s.sprite) extra.sprite = typeof s.sprite === 'string' ? resolve(s.sprite, base) : s.sprite.map((sp) => ({ ...sp, url: resolve(sp.url, base) }));
  return { ...NONE, sources, layers, style: extra, attribution: attribution ? [attribution] : [] };
}

/** The basemap's sources, layers (drawn first), style extras (glyphs, sprite) and credits. */
export async function loadBasemap(maplibregl) {
  const q = new URLSearchParams(location.search).get('basemap');
  const cfg = await serverConfig();
  const b = q ? fromQuery(q) : cfg.basemap;
  if (!b?.type) return NONE;
  const attribution = b.attribution ?? cfg.basemap?.attribution ?? '';
  try {
    if (b.type === 'raster') return raster(b.tiles, attribution);
    if (b.type === 'pmtiles') return await pmtiles(maplibregl, new URL(b.url, location.href).href, attribution);
    if (b.type === 'style') return await style(maplibregl, b.url, attribution);
  } catch (e) {
    console.warn('basemap could not be loaded:', e);
    return { ...NONE, failed: true };
  }
  return NONE;
}

/**
 * Shows one quiet line once the basemap fails (nothing to load, or its tiles erroring); other map
 * errors go to the console as MapLibre would log them without this listener.
 */
export function watchBasemap(map, parent, base) {
  const ids = new Set(Object.keys(base.sources));
  let failed = base.failed;
  const note = document.createElement('p');
  note.className = 'basemap-note';
  note.setAttribute('role', 'status');
  parent.append(note);
  const update = () => {
    note.hidden = !failed;
    note.textContent = failed ? t('map.basemap_failed') : '';
  };
  map.on('error', (e) => {
    if (e.sourceId && ids.has(e.sourceId)) {
      if (!failed) console.warn('basemap tiles could not be loaded:', e.error?.message || e.error);
      failed = true;
      update();
      return;
    }
    console.error(e.error || e);
  });
  update();
  return { update, failed: () => failed };
}
