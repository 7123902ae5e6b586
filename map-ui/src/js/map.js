// The map: one MapLibre instance, our vector tiles (/tiles/{layer}) as the only required sources,
// a basemap under them (basemap.js: what the server's /config.json or ?basemap=… names), and the
// always-visible legend.
import * as maplibregl from '../vendor/maplibre-gl.mjs';
import { t } from './i18n.js';
import { STATUS_COLOURS, FACILITY_COLOURS, NO_DATA } from './scales.js';
import { loadBasemap, watchBasemap } from './basemap.js';

const BANDUNG = { center: [107.61, -6.91], zoom: 11.3 };

function statusColour() {
  const e = ['match', ['get', 'status']];
  for (const [k, v] of Object.entries(STATUS_COLOURS)) e.push(k, v);
  e.push('#999999');
  return e;
}

function facilityColour() {
  const e = ['match', ['get', 'category']];
  for (const [k, v] of Object.entries(FACILITY_COLOURS)) e.push(k, v);
  e.push('#999999');
  return e;
}

// One vector source per layer (/tiles/{layer}/…), not the combined /tiles/sigap tiles: MapLibre
// asks only for the tiles of sources with a visible layer, so the first screen moves the
// kelurahan, kecamatan and coverage tiles (about 30 KB on a phone) and not the proposals,
// facilities and gap layers hidden under them (about 80 KB more).
const TILE_LAYERS = ['kelurahan', 'kecamatan', 'coverage', 'gap_kelurahan', 'gap_cells', 'facilities', 'proposals'];

function tileUrl(layer, version) {
  // Absolute (the workers need it), and our own template so refresh() can add a version.
  return `${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt${version ? `?v=${version}` : ''}`;
}

async function tileSources() {
  // The combined TileJSON (preloaded by index.html) gives the zooms, bounds and credits of all.
  const tj = await fetch('/tiles/sigap.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);
  const sources = {};
  for (const layer of TILE_LAYERS) {
    const src = {
      type: 'vector',
      tiles: [tileUrl(layer)],
      minzoom: tj?.minzoom ?? 0,
      // Beyond z16 MapLibre over-zooms the z16 tiles: no need to ask the server for deeper ones.
      maxzoom: Math.min(tj?.maxzoom ?? 14, 16),
    };
    if (Array.isArray(tj?.bounds)) src.bounds = tj.bounds;
    sources[layer] = src;
  }
  // Where the data comes from and its licences (boundaries, OpenStreetMap facilities): the
  // attribution control shows it, from the kelurahan source that is always drawn.
  if (tj?.attribution) sources.kelurahan.attribution = tj.attribution;
  return { sources, tj };
}

/** The coverage layers' filter: areas active on `s.date`, of a program and partner type if given. */
export function coverageFilter(s) {
  const f = ['all',
    ['<=', ['to-string', ['coalesce', ['get', 'valid_from'], '']], s.date],
    ['>=', ['to-string', ['coalesce', ['get', 'valid_to'], '9999-12-31']], s.date]];
  if (s.programType) f.push(['==', ['get', 'program_type'], s.programType]);
  if (s.partnerType) f.push(['==', ['get', 'partner_type'], s.partnerType]);
  return f;
}

export async function createMap(container) {
  const [{ sources: ours, tj }, base] = await Promise.all([tileSources(), loadBasemap(maplibregl)]);
  const sources = { ...ours, pins: { type: 'geojson', data: { type: 'FeatureCollection', features: [] } } };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': '#f2efe9' } }];
  // The basemap goes first: every SIGAP layer draws over it.
  Object.assign(sources, base.sources);
  layers.push(...base.layers);
  const S = (layer) => ({ source: layer, 'source-layer': layer });
  const activeToday = coverageFilter({ date: new Date().toISOString().slice(0, 10) });
  layers.push(
    { id: 'kel-fill', type: 'fill', ...S('kelurahan'), paint: { 'fill-color': NO_DATA, 'fill-opacity': 0.75 } },
    { id: 'gap-fill', type: 'fill', ...S('gap_kelurahan'), layout: { visibility: 'none' }, paint: { 'fill-color': NO_DATA, 'fill-opacity': 0.75 } },
    { id: 'gap-cells', type: 'fill', ...S('gap_cells'), layout: { visibility: 'none' }, paint: { 'fill-color': NO_DATA, 'fill-opacity': 0.6, 'fill-outline-color': '#ffffff' } },
    // The coverage view's first filter (active today) and visibility from the start: changing a
    // layer after its tiles were asked for has them parsed a second time, on the first screen.
    { id: 'coverage-fill', type: 'fill', ...S('coverage'), filter: activeToday, layout: { visibility: 'visible' }, paint: { 'fill-color': '#ffffff', 'fill-opacity': 0.18 } },
    { id: 'coverage-line', type: 'line', ...S('coverage'), filter: activeToday, layout: { visibility: 'visible' }, paint: { 'line-color': '#ffffff', 'line-width': 1.2, 'line-dasharray': [2, 1] } },
    { id: 'kel-line', type: 'line', ...S('kelurahan'), paint: { 'line-color': '#ffffff', 'line-width': 0.6, 'line-opacity': 0.8 } },
    { id: 'kec-line', type: 'line', ...S('kecamatan'), paint: { 'line-color': '#222222', 'line-width': 1.8 } },
    { id: 'kel-selected', type: 'line', ...S('kelurahan'), filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#ff2d55', 'line-width': 3 } },
    { id: 'facilities', type: 'circle', ...S('facilities'), layout: { visibility: 'none' }, paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 11, 2.5, 16, 6], 'circle-color': facilityColour(), 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
    { id: 'proposals', type: 'circle', ...S('proposals'), layout: { visibility: 'none' }, paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 10, 3, 15, 7], 'circle-color': statusColour(), 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1 } },
    { id: 'pins', type: 'circle', source: 'pins', paint: { 'circle-radius': ['coalesce', ['get', 'radius'], 9], 'circle-color': ['coalesce', ['get', 'colour'], '#ff2d55'], 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 } },
  );
  const opts = {
    container,
    style: { version: 8, sources, layers, ...base.style },
    ...BANDUNG,
    attributionControl: false,
    cooperativeGestures: false,
    keyboard: true,
    maxPitch: 0,
  };
  if (Array.isArray(tj?.bounds)) opts.bounds = tj.bounds;
  const map = new maplibregl.Map(opts);
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  // The attribution carries the sample-data note (real boundaries, fictional programs) beside
  // the sources of the tiles; rebuilt on a language switch.
  let attribution = null;
  map.setNote = () => {
    if (attribution) map.removeControl(attribution);
    attribution = new maplibregl.AttributionControl({ compact: false, customAttribution: [...base.attribution, t('map.approx_note')] });
    map.addControl(attribution, 'bottom-right');
    map.getCanvas().setAttribute('aria-label', t('map.label'));
    basemapNote.update();
  };
  const basemapNote = watchBasemap(map, container.parentElement || container, base);
  map.setNote();
  let version = 0;
  map.sigapRefresh = () => {
    version += 1;
    for (const layer of TILE_LAYERS) map.getSource(layer).setTiles([tileUrl(layer, version)]);
  };
  // Views other than the coverage map draw kelurahan in one quiet colour, so the legend holds.
  map.neutral = () => {
    map.setPaintProperty('kel-fill', 'fill-color', '#e6e1d6');
    map.setLayoutProperty('gap-fill', 'visibility', 'none');
    for (const id of ['gap-cells', 'coverage-fill', 'coverage-line', 'facilities']) map.setLayoutProperty(id, 'visibility', 'none');
    for (const id of ['kel-line']) map.setPaintProperty(id, 'line-color', '#9a9a9a');
  };
  map.setPins = (features) => map.getSource('pins').setData({ type: 'FeatureCollection', features });
  return map;
}

export { maplibregl };
